package model

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/occsimore/occsimore"
)

// Forged models (issue 13): MarshalBinary encodes whatever trees it is
// given, so a test can build a malformed one, seal it with a valid checksum
// and check that the decoder refuses it, or that what it accepts predicts
// without panicking.

// stump is a tree of one node over feature f, leaves lo and hi.
func stump(f int32, th float32, lo, hi float64) tree {
	return tree{nodes: []treeNode{{feature: f, threshold: th, child: [2]int32{^0, ^1}}}, gains: []float64{1},
		leaves: []float64{lo, hi}}
}

func encode(t *testing.T, m *GBDT) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeForged decodes m's encoding and, if it decodes, checks that it
// predicts, row by row and in a batch, with and without missing values,
// the same either way.
func decodeForged(t *testing.T, m *GBDT) error {
	t.Helper()
	var d GBDT
	if err := d.UnmarshalBinary(encode(t, m)); err != nil {
		return err
	}
	X := NewMatrix(4, d.NumFeatures())
	for j := range X.Cols {
		X.Row(0)[j], X.Row(1)[j], X.Row(2)[j] = -1e30, 1e30, float32(math.NaN())
	}
	batch := d.PredictBatch(X, nil)
	for i := range X.Rows {
		if p := d.Predict(X.Row(i)); p != batch[i] || math.IsNaN(p) {
			t.Errorf("row %d: Predict %v, PredictBatch %v", i, p, batch[i])
		}
	}
	return nil
}

func TestDecodeRejectsForgedTrees(t *testing.T) {
	ok := stump(1, 0.5, -1, 1)
	for _, tc := range []struct {
		name string
		edit func(*tree)
		msg  string // "" if the model is valid
	}{
		{"valid", func(*tree) {}, ""},
		{"last leaf", func(tr *tree) { tr.nodes[0].child[1] = ^int32(1) }, ""},
		{"leaf past the end", func(tr *tree) { tr.nodes[0].child[1] = ^int32(2) }, "bad child"},
		{"leaf far past the end", func(tr *tree) { tr.nodes[0].child[0] = math.MinInt32 }, "bad child"},
		{"node past the end", func(tr *tree) { tr.nodes[0].child[1] = 1 }, "bad child"},
		{"self", func(tr *tree) { tr.nodes[0].child[0] = 0 }, "bad child"},
		{"last feature", func(tr *tree) { tr.nodes[0].feature = 2 }, ""},
		{"feature past the end", func(tr *tree) { tr.nodes[0].feature = 3 }, "bad feature"},
		{"negative feature", func(tr *tree) { tr.nodes[0].feature = -1 }, "bad feature"},
		{"NaN gain", func(tr *tree) { tr.gains[0] = math.NaN() }, "bad feature"},
		{"NaN threshold", func(tr *tree) { tr.nodes[0].threshold = float32(math.NaN()) }, "threshold"},
		{"infinite threshold", func(tr *tree) { tr.nodes[0].threshold = float32(math.Inf(1)) }, ""},
		{"NaN leaf", func(tr *tree) { tr.leaves[1] = math.NaN() }, "not finite"},
		{"infinite leaf", func(tr *tree) { tr.leaves[0] = math.Inf(-1) }, "not finite"},
		{"extra leaf", func(tr *tree) { tr.leaves = append(tr.leaves, 0) }, "bad size"},
		{"missing leaf", func(tr *tree) { tr.leaves = tr.leaves[:1] }, "bad size"},
	} {
		tr := stump(1, 0.5, -1, 1)
		tc.edit(&tr)
		err := decodeForged(t, &GBDT{nfeat: 3, trees: []tree{ok, tr}})
		switch {
		case tc.msg == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.msg != "" && (occsimore.ErrorCode(err) != occsimore.EINVALID || !strings.Contains(err.Error(), tc.msg)):
			t.Errorf("%s: err = %v, want EINVALID mentioning %q", tc.name, err, tc.msg)
		}
	}
}

// TestDecodeWalksForward: a child must come after its parent (so every walk
// ends) and exist; the next node and the last one are both fine.
func TestDecodeWalksForward(t *testing.T) {
	chain := func(c0 int32) tree {
		return tree{
			nodes: []treeNode{
				{feature: 0, child: [2]int32{c0, ^0}},
				{feature: 0, threshold: -1, child: [2]int32{2, ^1}},
				{feature: 0, threshold: -2, child: [2]int32{^2, ^3}},
			},
			gains: []float64{1, 1, 1}, leaves: []float64{1, 2, 3, 4},
		}
	}
	for c0, want := range map[int32]bool{1: true, 2: true, 3: false, 0: false} {
		err := decodeForged(t, &GBDT{nfeat: 1, trees: []tree{chain(c0)}})
		if (err == nil) != want {
			t.Errorf("first child %d: err = %v, want ok %v", c0, err, want)
		}
	}
	// Node 1 pointing back at node 0 (or at itself) would loop.
	for _, back := range []int32{0, 1} {
		tr := chain(1)
		tr.nodes[1].child[1] = back
		if err := decodeForged(t, &GBDT{nfeat: 1, trees: []tree{tr}}); err == nil || !strings.Contains(err.Error(), "node 1: bad child") {
			t.Errorf("node 1 child %d: err = %v, want a bad child of node 1", back, err)
		}
	}
}

func TestDecodeHeader(t *testing.T) {
	leaf := tree{leaves: []float64{0.25}}
	// The smallest model: no tree, 26 bytes.
	small := encode(t, &GBDT{nfeat: 1, base: -2})
	if len(small) != 26 {
		t.Fatalf("a model without trees is %d bytes, want 26", len(small))
	}
	var d GBDT
	if err := d.UnmarshalBinary(small); err != nil || d.NumFeatures() != 1 || d.NumTrees() != 0 {
		t.Fatalf("model without trees: %v, %d features, %d trees", err, d.NumFeatures(), d.NumTrees())
	}
	if got, want := d.Predict([]float32{0}), sigmoid(-2); got != want {
		t.Errorf("model without trees predicts %v, want %v", got, want)
	}
	// Shorter than that, even with a valid checksum, is not a model.
	for n := 4 + 4; n < len(small); n++ {
		err := d.UnmarshalBinary(reseal(small[:n]))
		if occsimore.ErrorCode(err) != occsimore.EINVALID || !strings.Contains(err.Error(), "not a gbdt model") {
			t.Errorf("%d bytes: err = %v, want not a gbdt model", n, err)
		}
	}
	for _, tc := range []struct {
		m   GBDT
		msg string
	}{
		{GBDT{nfeat: maxFeatures}, ""},
		{GBDT{nfeat: maxFeatures + 1}, "features"},
		{GBDT{nfeat: 0}, "features"},
		{GBDT{nfeat: 2, base: math.NaN()}, "base score"},
		{GBDT{nfeat: 2, base: math.Inf(1)}, "base score"},
		{GBDT{nfeat: 2, base: math.Inf(-1)}, "base score"},
		// Single-leaf trees take the fewest bytes a tree can, 16.
		{GBDT{nfeat: 2, trees: []tree{leaf, leaf, leaf}}, ""},
	} {
		err := d.UnmarshalBinary(encode(t, &tc.m))
		switch {
		case tc.msg == "" && err != nil:
			t.Errorf("%d features, base %v: %v", tc.m.nfeat, tc.m.base, err)
		case tc.msg != "" && (occsimore.ErrorCode(err) != occsimore.EINVALID || !strings.Contains(err.Error(), tc.msg)):
			t.Errorf("%d features, base %v: err = %v, want EINVALID mentioning %q", tc.m.nfeat, tc.m.base, err, tc.msg)
		}
	}
	if err := d.UnmarshalBinary(encode(t, &GBDT{nfeat: 2, trees: []tree{leaf, leaf, leaf}})); err != nil ||
		d.Predict([]float32{0, 0}) != sigmoid(0.75) {
		t.Errorf("three single leaves: %v, predicts %v, want %v", err, d.Predict([]float32{0, 0}), sigmoid(0.75))
	}
	// A tree count the input cannot hold is refused before allocating.
	b := encode(t, &GBDT{nfeat: 2, trees: []tree{leaf, leaf}})
	binary.LittleEndian.PutUint32(b[18:], 3)
	if err := d.UnmarshalBinary(reseal(b)); err == nil || !strings.Contains(err.Error(), "3 trees in 32 bytes") {
		t.Errorf("3 trees in the bytes of 2: err = %v", err)
	}
	binary.LittleEndian.PutUint32(b[18:], 1)
	if err := d.UnmarshalBinary(reseal(b)); err == nil || !strings.Contains(err.Error(), "length mismatch") {
		t.Errorf("1 tree and 16 bytes more: err = %v, want length mismatch", err)
	}
	// A trailing byte, or one missing, is a length mismatch or a bad size.
	b = encode(t, &GBDT{nfeat: 2, trees: []tree{stump(0, 0, 1, 2)}})
	long := append(bytes.Clone(b[:len(b)-4]), 0, 0, 0, 0, 0)
	if err := d.UnmarshalBinary(reseal(long)); err == nil || !strings.Contains(err.Error(), "length mismatch") {
		t.Errorf("a byte too many: err = %v, want length mismatch", err)
	}
	short := append(bytes.Clone(b[:len(b)-5]), 0, 0, 0, 0)
	if err := d.UnmarshalBinary(reseal(short)); occsimore.ErrorCode(err) != occsimore.EINVALID ||
		!strings.Contains(err.Error(), "tree 0: bad size") {
		t.Errorf("a byte too few: err = %v, want EINVALID about tree 0's size", err)
	}
	// A node count the rest cannot hold is a bad size too, before reading.
	huge := bytes.Clone(b)
	binary.LittleEndian.PutUint32(huge[22:], 1<<30)
	binary.LittleEndian.PutUint32(huge[26:], 1<<30+1)
	if err := d.UnmarshalBinary(reseal(huge)); err == nil || !strings.Contains(err.Error(), "tree 0: bad size") {
		t.Errorf("2^30 nodes: err = %v, want tree 0's size", err)
	}
	// The flags byte holds one bit.
	for flags, want := range map[byte]bool{0: true, 1: true, 2: false, 255: false} {
		c := bytes.Clone(b)
		c[22+8+16] = flags
		err := d.UnmarshalBinary(reseal(c))
		if (err == nil) != want {
			t.Errorf("flags %d: err = %v, want ok %v", flags, err, want)
		}
		if err == nil && d.trees[0].nodes[0].defaultLeft != (flags == 1) {
			t.Errorf("flags %d: defaultLeft = %v", flags, d.trees[0].nodes[0].defaultLeft)
		}
	}
}

// TestMarshalSizesExactly: the encoder computes the model's size up front,
// so encoding takes one allocation of exactly the bytes it writes.
func TestMarshalSizesExactly(t *testing.T) {
	X, y := xorData(500, 3, 21)
	cfg := DefaultGBDT()
	cfg.Trees, cfg.MaxDepth = 5, 3
	for _, m := range []*GBDT{train(t, X, y, nil, cfg), {nfeat: 1}} {
		b := encode(t, m)
		if cap(b) != len(b) {
			t.Errorf("%d trees: %d bytes in a buffer of %d", m.NumTrees(), len(b), cap(b))
		}
	}
}
