package share

import (
	"net/netip"
	"slices"
	"time"

	"github.com/occsimore/occsimore/stix"
)

// Match is what the index knows of a value: the indicators that name it,
// merged (several members may share the same address).
type Match struct {
	Kind       Kind
	Indicators []string // STIX ids
	Sources    []string // source labels (member names or "sector:…")
	TLP        stix.TLP // the strictest of the indicators'
	Confidence int      // the highest
	ValidUntil time.Time
	Sightings  int // total count
	LastSeen   time.Time
}

// Index is the in-memory set of received indicators a member matches its own
// events against. Lookups by address, token MAC or value do not allocate; it
// is built once per refresh and read concurrently without locks.
type Index struct {
	matches []Match
	// IPv4, the common case, is keyed by integers: the runtime's fast map
	// paths, and one word to hash instead of netip.Addr's three.
	ip4      map[uint32]int32
	pfx4     map[uint64]int32 // bits<<32 | network address
	ips      map[netip.Addr]int32
	prefixes map[netip.Prefix]int32
	v4Bits   []int // prefix lengths present, longest first
	v6Bits   []int
	tokens   map[[TokenLen]byte]int32
	values   map[Kind]map[string]int32
}

// NewIndex indexes the indicators valid at now; expired or not yet valid
// ones, and malformed values, are left out.
func NewIndex(inds []Indicator, now time.Time) *Index {
	x := &Index{
		ip4:      map[uint32]int32{},
		pfx4:     map[uint64]int32{},
		ips:      map[netip.Addr]int32{},
		prefixes: map[netip.Prefix]int32{},
		tokens:   map[[TokenLen]byte]int32{},
		values:   map[Kind]map[string]int32{},
	}
	for i := range inds {
		x.add(&inds[i], now)
	}
	slices.SortFunc(x.v4Bits, func(a, b int) int { return b - a })
	slices.SortFunc(x.v6Bits, func(a, b int) int { return b - a })
	return x
}

// Len is the number of distinct values indexed.
func (x *Index) Len() int { return len(x.matches) }

func (x *Index) add(ind *Indicator, now time.Time) {
	if now.Before(ind.ValidFrom) || (!ind.ValidUntil.IsZero() && !now.Before(ind.ValidUntil)) {
		return
	}
	slot := func(get func() (int32, bool), put func(int32)) {
		i, ok := get()
		if !ok {
			i = int32(len(x.matches))
			x.matches = append(x.matches, Match{Kind: ind.Kind})
			put(i)
		}
		m := &x.matches[i]
		m.Indicators = append(m.Indicators, ind.ID)
		if l := ind.Source.Label(); !slices.Contains(m.Sources, l) {
			m.Sources = append(m.Sources, l)
		}
		m.TLP = max(m.TLP, ind.TLP)
		m.Confidence = max(m.Confidence, ind.Confidence)
		if ind.ValidUntil.After(m.ValidUntil) {
			m.ValidUntil = ind.ValidUntil
		}
		for _, s := range ind.Sightings {
			m.Sightings += s.Count
			if s.Last.After(m.LastSeen) {
				m.LastSeen = s.Last
			}
		}
	}
	switch {
	case ind.Kind.CustomerLinked():
		t, err := ParseToken(ind.Value)
		if err != nil {
			return
		}
		slot(func() (int32, bool) { i, ok := x.tokens[t.MAC]; return i, ok }, func(i int32) { x.tokens[t.MAC] = i })
	case ind.Kind == KindIP:
		a, err := netip.ParseAddr(ind.Value)
		if err != nil {
			return
		}
		a = a.Unmap()
		if a.Is4() {
			k := v4(a)
			slot(func() (int32, bool) { i, ok := x.ip4[k]; return i, ok }, func(i int32) { x.ip4[k] = i })
			return
		}
		slot(func() (int32, bool) { i, ok := x.ips[a]; return i, ok }, func(i int32) { x.ips[a] = i })
	case ind.Kind == KindCIDR:
		p, err := netip.ParsePrefix(ind.Value)
		if err != nil {
			return
		}
		p = p.Masked()
		if p.Addr().Is4() {
			if !slices.Contains(x.v4Bits, p.Bits()) {
				x.v4Bits = append(x.v4Bits, p.Bits())
			}
			k := uint64(p.Bits())<<32 | uint64(v4(p.Addr()))
			slot(func() (int32, bool) { i, ok := x.pfx4[k]; return i, ok }, func(i int32) { x.pfx4[k] = i })
			return
		} else if !slices.Contains(x.v6Bits, p.Bits()) {
			x.v6Bits = append(x.v6Bits, p.Bits())
		}
		slot(func() (int32, bool) { i, ok := x.prefixes[p]; return i, ok }, func(i int32) { x.prefixes[p] = i })
	default:
		v, err := NormalizeValue(ind.Kind, ind.Value)
		if err != nil {
			return
		}
		m := x.values[ind.Kind]
		if m == nil {
			m = map[string]int32{}
			x.values[ind.Kind] = m
		}
		slot(func() (int32, bool) { i, ok := m[v]; return i, ok }, func(i int32) { m[v] = i })
	}
}

// LookupIP returns the match for an address: the address itself, else the
// most specific indexed network holding it.
func (x *Index) LookupIP(a netip.Addr) (*Match, bool) {
	a = a.Unmap()
	if a.Is4() {
		k := v4(a)
		if i, ok := x.ip4[k]; ok {
			return &x.matches[i], true
		}
		for _, b := range x.v4Bits {
			if i, ok := x.pfx4[uint64(b)<<32|uint64(k&^(1<<(32-b)-1))]; ok {
				return &x.matches[i], true
			}
		}
		return nil, false
	}
	if i, ok := x.ips[a]; ok {
		return &x.matches[i], true
	}
	for _, b := range x.v6Bits {
		p, err := a.Prefix(b)
		if err != nil {
			continue
		}
		if i, ok := x.prefixes[p]; ok {
			return &x.matches[i], true
		}
	}
	return nil, false
}

func v4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// LookupToken returns the match for a token's MAC (HMAC or OPRF).
func (x *Index) LookupToken(mac *[TokenLen]byte) (*Match, bool) {
	if i, ok := x.tokens[*mac]; ok {
		return &x.matches[i], true
	}
	return nil, false
}

// LookupValue returns the match for a clear value of a kind, already
// normalised by the caller (NormalizeValue).
func (x *Index) LookupValue(k Kind, v string) (*Match, bool) {
	if i, ok := x.values[k][v]; ok {
		return &x.matches[i], true
	}
	return nil, false
}
