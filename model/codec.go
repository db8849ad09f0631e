package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/occsimore/occsimore"
)

// The binary form of a GBDT, little-endian:
//
//	magic "OCGB", version uint16, features uint32, base float64, trees uint32,
//	per tree: nodes uint32, leaves uint32,
//	  per node: feature uint32, threshold float32, left int32, right int32,
//	            flags uint8 (bit 0: NaN goes left), gain float64,
//	  per leaf: value float64,
//	then a CRC-32 (IEEE) of everything before it.
//
// The version lets stored models outlive format changes: a decoder refuses
// versions it does not know rather than misreading them.
const (
	gbdtMagic   = "OCGB"
	gbdtVersion = 1
	nodeSize    = 4 + 4 + 4 + 4 + 1 + 8
	maxFeatures = 1 << 20
)

// MarshalBinary encodes the model in the versioned format above.
func (m *GBDT) MarshalBinary() ([]byte, error) {
	n := 4 + 2 + 4 + 8 + 4
	for _, t := range m.trees {
		n += 8 + len(t.nodes)*nodeSize + len(t.leaves)*8
	}
	b := make([]byte, 0, n+4)
	b = append(b, gbdtMagic...)
	b = binary.LittleEndian.AppendUint16(b, gbdtVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.nfeat))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.base))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m.trees)))
	for _, t := range m.trees {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t.nodes)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t.leaves)))
		for i, nd := range t.nodes {
			b = binary.LittleEndian.AppendUint32(b, uint32(nd.feature))
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(nd.threshold))
			b = binary.LittleEndian.AppendUint32(b, uint32(nd.child[0]))
			b = binary.LittleEndian.AppendUint32(b, uint32(nd.child[1]))
			var flags uint8
			if nd.defaultLeft {
				flags = 1
			}
			b = append(b, flags)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(t.gains[i]))
		}
		for _, v := range t.leaves {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

// ErrGBDTVersion is returned (wrapped) for a model encoded by a format version
// this build does not know.
var ErrGBDTVersion = errors.New("unknown gbdt format version")

// UnmarshalBinary decodes a model written by MarshalBinary. It checks the
// checksum and that every tree is well formed (each walk ends in a leaf that
// exists and reads a feature that exists, and no threshold is NaN), so a
// decoded model can never panic or loop in Predict, and PredictBatch agrees
// with it.
func (m *GBDT) UnmarshalBinary(data []byte) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("decode gbdt: %w", occsimore.Errorf(occsimore.EINVALID, format, args...))
	}
	if len(data) < 4+2+4+8+4+4 || string(data[:4]) != gbdtMagic {
		return bad("not a gbdt model")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if v := binary.LittleEndian.Uint16(body[4:]); v != gbdtVersion {
		return fmt.Errorf("decode gbdt: version %d: %w", v, ErrGBDTVersion)
	}
	if crc32.ChecksumIEEE(body) != sum {
		return bad("checksum mismatch")
	}
	r := reader{b: body[6:]}
	nfeat := int(r.u32())
	base := math.Float64frombits(r.u64())
	ntrees := int(r.u32())
	if nfeat < 1 || nfeat > maxFeatures {
		return bad("%d features", nfeat)
	}
	if math.IsNaN(base) || math.IsInf(base, 0) {
		return bad("base score is not finite")
	}
	// Each tree takes at least 8+8 bytes, so the count is bounded by the
	// input and a forged header cannot make us allocate much.
	if ntrees > len(r.b)/16 {
		return bad("%d trees in %d bytes", ntrees, len(r.b))
	}
	trees := make([]tree, ntrees)
	for ti := range trees {
		nn, nl := int(r.u32()), int(r.u32())
		if r.err || nn > len(r.b)/nodeSize || nl != nn+1 || nl*8 > len(r.b)-nn*nodeSize {
			return bad("tree %d: bad size", ti)
		}
		t := tree{nodes: make([]treeNode, nn), gains: make([]float64, nn), leaves: make([]float64, nl)}
		for i := range t.nodes {
			nd := &t.nodes[i]
			feat := r.u32()
			nd.threshold = math.Float32frombits(r.u32())
			nd.child[0], nd.child[1] = int32(r.u32()), int32(r.u32())
			flags := r.u8()
			t.gains[i] = math.Float64frombits(r.u64())
			if feat >= uint32(nfeat) || flags > 1 || math.IsNaN(t.gains[i]) {
				return bad("tree %d node %d: bad feature or flags", ti, i)
			}
			// A NaN threshold compares false both ways: a walk over the
			// nodes and the flat layout would send rows different ways.
			if nd.threshold != nd.threshold {
				return bad("tree %d node %d: threshold is NaN", ti, i)
			}
			nd.feature, nd.defaultLeft = int32(feat), flags == 1
			for _, c := range []int32{nd.child[0], nd.child[1]} {
				// Children come after their parent: walks only move forward.
				if c >= 0 && (int(c) <= i || int(c) >= nn) || c < 0 && int(^c) >= nl {
					return bad("tree %d node %d: bad child %d", ti, i, c)
				}
			}
		}
		for i := range t.leaves {
			t.leaves[i] = math.Float64frombits(r.u64())
			if math.IsNaN(t.leaves[i]) || math.IsInf(t.leaves[i], 0) {
				return bad("tree %d leaf %d is not finite", ti, i)
			}
		}
		trees[ti] = t
	}
	if r.err || len(r.b) != 0 {
		return bad("length mismatch")
	}
	*m = GBDT{nfeat: nfeat, base: base, trees: trees, flat: newFlatForest(trees)}
	return nil
}

// reader reads little-endian values, recording rather than panicking on a
// short input.
type reader struct {
	b   []byte
	err bool
}

func (r *reader) take(n int) []byte {
	if len(r.b) < n {
		r.err = true
		r.b = nil
		return make([]byte, n)
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8() uint8   { return r.take(1)[0] }
func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.take(4)) }
func (r *reader) u64() uint64 { return binary.LittleEndian.Uint64(r.take(8)) }
