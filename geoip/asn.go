package geoip

import (
	"cmp"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// asnTable maps address ranges to autonomous systems. IPv4 ranges are kept
// apart as uint32 so the common lookup searches a table of 16-byte entries.
type asnTable struct {
	v4   []span[uint32]
	v6   []span[u128]
	orgs []string // organisation names, shared by every range of an AS
}

// span is an inclusive range of addresses and its AS.
type span[K any] struct {
	lo, hi K
	asn    uint32
	org    uint32 // index into asnTable.orgs
}

type u128 struct{ hi, lo uint64 }

func (a u128) dec() u128 {
	if a.lo == 0 {
		return u128{a.hi - 1, ^uint64(0)}
	}
	return u128{a.hi, a.lo - 1}
}

func (a u128) cmp(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

func v4key(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func v6key(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// lookup returns the AS of a (unmapped) address, or zeros.
func (t *asnTable) lookup(a netip.Addr) (uint32, string) {
	if a.Is4() {
		return find(t, t.v4, v4key(a), cmp.Compare[uint32])
	}
	return find(t, t.v6, v6key(a), u128.cmp)
}

// find binary-searches spans sorted by lo and not overlapping.
func find[K any](t *asnTable, spans []span[K], k K, compare func(a, b K) int) (uint32, string) {
	// The first span starting after k; the one before it may hold k.
	i, _ := slices.BinarySearchFunc(spans, k, func(s span[K], k K) int {
		if compare(s.lo, k) <= 0 {
			return -1
		}
		return 1
	})
	if i == 0 {
		return 0, ""
	}
	s := &spans[i-1]
	if compare(k, s.hi) > 0 {
		return 0, ""
	}
	return s.asn, t.orgs[s.org]
}

// loadASN reads the IPv4 and IPv6 CSV files of @ip-location-db/asn.
func loadASN(v4path, v6path string) (*asnTable, error) {
	b := newASNBuilder()
	for _, path := range []string{v4path, v6path} {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		err = b.read(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return b.build(), nil
}

// asnBuilder accumulates CSV rows into an asnTable.
type asnBuilder struct {
	t     asnTable
	orgID map[string]uint32
}

func newASNBuilder() *asnBuilder {
	return &asnBuilder{orgID: make(map[string]uint32)}
}

// read parses rows "first,last,asn,organisation" (RFC 4180 quoting), where
// first and last are addresses of one family, inclusive.
func (b *asnBuilder) read(r io.Reader) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 4
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read asn csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if err := b.add(rec); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
}

func (b *asnBuilder) add(rec []string) error {
	lo, err := netip.ParseAddr(rec[0])
	if err != nil {
		return err
	}
	hi, err := netip.ParseAddr(rec[1])
	if err != nil {
		return err
	}
	// DB.Lookup unmaps addresses, so mapped ranges belong with IPv4.
	lo, hi = lo.Unmap(), hi.Unmap()
	if lo.Is4() != hi.Is4() || lo.Zone() != "" || hi.Zone() != "" {
		return fmt.Errorf("range %s-%s: mixed families or zone", lo, hi)
	}
	if hi.Less(lo) {
		return fmt.Errorf("range %s-%s: end before start", lo, hi)
	}
	asn, err := strconv.ParseUint(rec[2], 10, 32)
	if err != nil {
		return fmt.Errorf("asn %q: %w", rec[2], err)
	}
	org, ok := b.orgID[rec[3]]
	if !ok {
		org = uint32(len(b.t.orgs))
		name := strings.Clone(rec[3]) // rec[3] shares the memory of its whole line
		b.t.orgs = append(b.t.orgs, name)
		b.orgID[name] = org
	}
	if lo.Is4() {
		b.t.v4 = append(b.t.v4, span[uint32]{lo: v4key(lo), hi: v4key(hi), asn: uint32(asn), org: org})
	} else {
		b.t.v6 = append(b.t.v6, span[u128]{lo: v6key(lo), hi: v6key(hi), asn: uint32(asn), org: org})
	}
	return nil
}

// build sorts the ranges and resolves overlaps, which the published files
// have a few of: where two ranges overlap, the one starting later (for
// equal starts, the narrower) wins, and the other is cut short before it.
// A range nested in another thus also hides the outer range's rest: those
// addresses get no AS rather than a wrong one.
func (b *asnBuilder) build() *asnTable {
	t := b.t
	t.v4 = slices.Clip(flatten(t.v4, cmp.Compare[uint32], func(k uint32) uint32 { return k - 1 }))
	t.v6 = slices.Clip(flatten(t.v6, u128.cmp, u128.dec))
	return &t
}

// flatten sorts spans in place and returns them without overlaps. dec is
// only called on a start that is above another start, so it cannot wrap.
func flatten[K any](spans []span[K], compare func(a, b K) int, dec func(K) K) []span[K] {
	slices.SortFunc(spans, func(a, b span[K]) int {
		if c := compare(a.lo, b.lo); c != 0 {
			return c
		}
		return compare(b.hi, a.hi) // wider first, so the narrower wins
	})
	out := spans[:0]
	for _, s := range spans {
		for len(out) > 0 && compare(out[len(out)-1].hi, s.lo) >= 0 {
			last := &out[len(out)-1]
			if compare(last.lo, s.lo) == 0 {
				out = out[:len(out)-1]
				continue
			}
			last.hi = dec(s.lo)
			break
		}
		out = append(out, s)
	}
	return out
}
