package behavior

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/occsimore/occsimore"
)

// Snapshot format, little-endian:
//
//	magic "OCCBHVR\n", version uint32, hash seed uint64
//	kinds: count, then (name, layout fingerprint) each
//	dictionary attribute names: count, then names
//	tenants: count, then for each: member, dictionary entries, and per kind
//	  watermark, and per role: population, labels, peer groups,
//	  and the profiles of every shard as (entity hash, words)
//	CRC-32C of everything before it
//
// Strings are a uint32 length and bytes. Counts are uint32 except profile
// counts (uint64).
const (
	snapMagic   = "OCCBHVR\n"
	snapVersion = 2 // 2: peerNum.Within
	maxSnapStr  = 1 << 16
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteSnapshot writes every member's profiles and statistics to w. It holds
// the engine's write lock, so the snapshot is a consistent cut: no event is
// half applied, and Process waits until it is done.
func (e *Engine) WriteSnapshot(w io.Writer) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	sw := &snapWriter{w: bufio.NewWriterSize(w, 1<<16)}
	sw.bytes([]byte(snapMagic))
	sw.u32(snapVersion)
	sw.u64(e.seed)
	sw.u32(uint32(len(e.specs)))
	for _, cs := range e.specs {
		sw.str(cs.kind)
		sw.u64(cs.fingerprint)
	}
	sw.u32(uint32(len(e.dictAttr)))
	for _, n := range e.dictAttr {
		sw.str(n)
	}
	tenants := *e.tenants.Load()
	sw.u32(uint32(len(tenants)))
	for _, tn := range tenants {
		sw.str(tn.member)
		sw.u32(uint32(len(tn.dict.m)))
		for k, v := range tn.dict.m {
			sw.u64(k)
			sw.str(v)
		}
		for _, ks := range tn.kinds {
			sw.u64(uint64(ks.watermark.Load()))
			for _, rs := range ks.roles {
				sw.peer(rs.pop)
				sw.labels(&rs.labels)
				sw.u32(uint32(len(rs.groups)))
				for k, g := range rs.groups {
					sw.u64(k)
					sw.peer(g)
				}
				var n uint64
				for i := range rs.shards {
					n += uint64(rs.shards[i].index.n)
				}
				sw.u64(n)
				for i := range rs.shards {
					sh := &rs.shards[i]
					sh.index.each(func(key uint64, slot uint32) {
						sw.u64(key)
						for _, word := range sh.at(slot, rs.layout.stride) {
							sw.u32(word)
						}
					})
				}
			}
		}
	}
	if sw.err != nil {
		return fmt.Errorf("write snapshot: %w", sw.err)
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], sw.crc)
	if _, err := sw.w.Write(b[:]); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := sw.w.Flush(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// ReadSnapshot replaces every member's profiles with those read from r. For
// every kind in the snapshot the engine must have the same profile layout.
// The engine takes the snapshot's hash seed along with its state. Nothing
// changes unless the whole snapshot reads and its checksum matches. Errors
// about the content are EINVALID.
//
// Thresholds are configuration, not learnt state: snapshots do not keep
// them, and members get their Config thresholds back, so call
// SetThresholds after ReadSnapshot.
func (e *Engine) ReadSnapshot(r io.Reader) error {
	sr := &snapReader{r: bufio.NewReaderSize(r, 1<<16)}
	tenants, seed, err := e.readSnapshot(sr)
	if err != nil {
		return err
	}
	want := sr.crc
	var b [4]byte
	if _, err := io.ReadFull(sr.r, b[:]); err != nil {
		return snapErr(fmt.Errorf("checksum: %w", err))
	}
	if got := binary.LittleEndian.Uint32(b[:]); got != want {
		return occsimore.Errorf(occsimore.EINVALID, "snapshot checksum mismatch: the file is corrupt")
	}
	e.mu.Lock()
	e.seed = seed
	e.tenants.Store(&tenants)
	e.mu.Unlock()
	return nil
}

func snapErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return occsimore.Errorf(occsimore.EINVALID, "snapshot is truncated")
	}
	if occsimore.ErrorCode(err) == occsimore.EINVALID {
		return err
	}
	return fmt.Errorf("read snapshot: %w", err)
}

func (e *Engine) readSnapshot(sr *snapReader) (map[string]*tenant, uint64, error) {
	magic := make([]byte, len(snapMagic))
	sr.read(magic)
	if sr.err != nil {
		return nil, 0, snapErr(sr.err)
	}
	if string(magic) != snapMagic {
		return nil, 0, occsimore.Errorf(occsimore.EINVALID, "not a behaviour snapshot")
	}
	if v := sr.u32(); sr.err == nil && v != snapVersion {
		return nil, 0, occsimore.Errorf(occsimore.EINVALID, "snapshot version %d is not supported (want %d)", v, snapVersion)
	}
	seed := sr.u64()
	nk := sr.count(64)
	kindMap := make([]int, 0, nk) // snapshot kind -> engine kind
	for range nk {
		name, fp := sr.str(), sr.u64()
		if sr.err != nil {
			break
		}
		ki := e.spec(name)
		if ki < 0 {
			return nil, 0, occsimore.Errorf(occsimore.EINVALID, "snapshot has kind %q, which this engine does not profile", name)
		}
		if e.specs[ki].fingerprint != fp {
			return nil, 0, occsimore.Errorf(occsimore.EINVALID, "snapshot kind %q has another profile layout than this engine's spec", name)
		}
		kindMap = append(kindMap, ki)
	}
	na := sr.count(1 << 10)
	attrMap := make([]uint64, 0, na) // snapshot dictionary attribute id-1 -> engine id<<32
	for range na {
		name := sr.str()
		id := uint64(0)
		for i, n := range e.dictAttr {
			if n == name {
				id = uint64(i+1) << 32
			}
		}
		attrMap = append(attrMap, id)
	}
	nt := sr.count(1 << 24)
	tenants := make(map[string]*tenant)
	for range nt {
		if sr.err != nil {
			break
		}
		tn := e.newTenant(sr.str())
		if _, dup := tenants[tn.member]; dup || tn.member == "" {
			return nil, 0, occsimore.Errorf(occsimore.EINVALID, "snapshot has member %q twice or empty", tn.member)
		}
		tenants[tn.member] = tn
		nd := sr.count(math.MaxUint32)
		for range nd {
			k, v := sr.u64(), sr.str()
			if sr.err != nil {
				break
			}
			a := k>>32 - 1
			if a >= uint64(len(attrMap)) || attrMap[a] == 0 || len(tn.dict.m) >= tn.dict.max {
				continue
			}
			if tn.dict.m == nil {
				tn.dict.m = make(map[uint64]string)
			}
			tn.dict.m[attrMap[a]|k&0xffffffff] = v
		}
		for _, ki := range kindMap {
			ks := tn.kinds[ki]
			ks.watermark.Store(int64(sr.u64()))
			for _, rs := range ks.roles {
				sr.peer(rs.pop)
				sr.labels(&rs.labels)
				ng := sr.count(uint32(e.cfg.MaxPeerGroups))
				for range ng {
					k := sr.u64()
					g := newPeerStats(rs.layout)
					sr.peer(g)
					if rs.groups == nil {
						rs.groups = make(map[uint64]*peerStats)
					}
					rs.groups[k] = g
				}
				n := sr.u64()
				stride := rs.layout.stride
				for i := uint64(0); i < n && sr.err == nil; i++ {
					key := sr.u64()
					sh := rs.shardOf(key)
					if _, dup := sh.index.get(key); dup {
						return nil, 0, occsimore.Errorf(occsimore.EINVALID, "snapshot has a profile twice")
					}
					p := sh.getOrCreate(key, stride)
					for j := range p {
						p[j] = sr.u32()
					}
				}
			}
		}
	}
	if sr.err != nil {
		return nil, 0, snapErr(sr.err)
	}
	return tenants, seed, nil
}

type snapWriter struct {
	w   *bufio.Writer
	crc uint32
	err error
	b   [8]byte
}

func (s *snapWriter) bytes(b []byte) {
	if s.err != nil {
		return
	}
	s.crc = crc32.Update(s.crc, castagnoli, b)
	_, s.err = s.w.Write(b)
}

func (s *snapWriter) u32(v uint32) {
	binary.LittleEndian.PutUint32(s.b[:4], v)
	s.bytes(s.b[:4])
}

func (s *snapWriter) u64(v uint64) {
	binary.LittleEndian.PutUint64(s.b[:], v)
	s.bytes(s.b[:])
}

func (s *snapWriter) f64(v float64) { s.u64(math.Float64bits(v)) }

func (s *snapWriter) str(v string) {
	if len(v) > maxSnapStr {
		v = v[:maxSnapStr]
	}
	s.u32(uint32(len(v)))
	s.bytes([]byte(v))
}

func (s *snapWriter) num(n *peerNum) {
	s.f64(n.W)
	s.f64(n.Mean)
	s.f64(n.Var)
	s.f64(n.Within)
}

func (s *snapWriter) peer(p *peerStats) {
	s.u64(uint64(p.t0))
	s.u64(p.n)
	for i := range p.num {
		s.num(&p.num[i])
	}
	for i := range p.cat {
		c := &p.cat[i]
		s.f64(c.W)
		s.f64(c.Hist)
		s.f64(c.Novel)
		s.u32(uint32(len(c.keys)))
		for j := range c.keys {
			s.u64(c.keys[j])
			s.f64(c.w[j])
		}
	}
	for _, v := range p.hours {
		s.f64(v)
	}
	for _, v := range p.days {
		s.f64(v)
	}
	s.f64(p.hourTot)
	s.f64(p.hourC)
	s.f64(p.hourS)
	s.f64(p.dayTot)
	for i := range p.vel {
		s.num(&p.vel[i])
	}
	s.num(&p.gap)
}

func (s *snapWriter) labels(l *labelStats) {
	s.u64(uint64(l.t0))
	s.f64(l.F)
	s.f64(l.N)
	s.u32(uint32(len(l.pending)))
	for h, v := range l.pending {
		s.u32(h)
		s.f64(v[0])
		s.f64(v[1])
	}
}

type snapReader struct {
	r   *bufio.Reader
	crc uint32
	err error
	b   [8]byte
}

func (s *snapReader) read(b []byte) {
	if s.err != nil {
		clear(b)
		return
	}
	if _, s.err = io.ReadFull(s.r, b); s.err != nil {
		clear(b)
		return
	}
	s.crc = crc32.Update(s.crc, castagnoli, b)
}

func (s *snapReader) u32() uint32 {
	s.read(s.b[:4])
	return binary.LittleEndian.Uint32(s.b[:4])
}

func (s *snapReader) u64() uint64 {
	s.read(s.b[:])
	return binary.LittleEndian.Uint64(s.b[:])
}

func (s *snapReader) f64() float64 { return math.Float64frombits(s.u64()) }

// count reads a count and fails if it exceeds limit. Callers allocate as
// they read, never up front, so a forged count cannot exhaust memory.
func (s *snapReader) count(limit uint32) uint32 {
	n := s.u32()
	if s.err == nil && n > limit {
		s.err = occsimore.Errorf(occsimore.EINVALID, "snapshot count %d exceeds %d", n, limit)
	}
	if s.err != nil {
		return 0
	}
	return n
}

func (s *snapReader) str() string {
	n := s.count(maxSnapStr)
	if n == 0 {
		return ""
	}
	b := make([]byte, n)
	s.read(b)
	return string(b)
}

func (s *snapReader) num(n *peerNum) {
	n.W, n.Mean, n.Var, n.Within = s.f64(), s.f64(), s.f64(), s.f64()
}

func (s *snapReader) peer(p *peerStats) {
	p.t0 = int64(s.u64())
	p.n = s.u64()
	for i := range p.num {
		s.num(&p.num[i])
	}
	for i := range p.cat {
		c := &p.cat[i]
		c.W, c.Hist, c.Novel = s.f64(), s.f64(), s.f64()
		n := s.count(uint32(cap(c.keys)))
		for range n {
			c.keys = append(c.keys, s.u64())
			c.w = append(c.w, s.f64())
		}
	}
	for i := range p.hours {
		p.hours[i] = s.f64()
	}
	for i := range p.days {
		p.days[i] = s.f64()
	}
	p.hourTot, p.hourC, p.hourS, p.dayTot = s.f64(), s.f64(), s.f64(), s.f64()
	for i := range p.vel {
		s.num(&p.vel[i])
	}
	s.num(&p.gap)
}

func (s *snapReader) labels(l *labelStats) {
	l.t0 = int64(s.u64())
	l.F, l.N = s.f64(), s.f64()
	n := s.count(math.MaxUint32)
	for i := uint32(0); i < n && s.err == nil; i++ {
		h, f, c := s.u32(), s.f64(), s.f64()
		if s.err == nil && h != 0 {
			if l.pending == nil {
				l.pending = make(map[uint32][2]float64)
			}
			l.pending[h] = [2]float64{f, c}
			if l.minPending == 0 || h < l.minPending {
				l.minPending = h
			}
		}
	}
}
