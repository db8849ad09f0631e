package remediation

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/occsimore/occsimore"
)

// WriteText writes each distinct value of rs on its own line: addresses and
// ranges first, in address order, then user names in byte order. It is the
// format of most blocklist consumers (ipset restore, fail2ban, proxies).
func WriteText(w io.Writer, rs []*occsimore.Remediation) error {
	bw := bufio.NewWriter(w)
	var last *occsimore.Remediation
	for _, r := range sorted(rs) {
		if last != nil && r.Scope == last.Scope && r.Value == last.Value {
			continue
		}
		last = r
		bw.WriteString(r.Value)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write text export: %w", err)
	}
	return nil
}

// WriteJSON writes rs as one JSON array, by ID, one remediation a line.
func WriteJSON(w io.Writer, rs []*occsimore.Remediation) error {
	byID := slices.Clone(rs)
	slices.SortFunc(byID, func(a, b *occsimore.Remediation) int { return cmp.Compare(a.ID, b.ID) })
	bw := bufio.NewWriter(w)
	bw.WriteByte('[')
	for i, r := range byID {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("write json export: %w", err)
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
		bw.Write(b)
	}
	bw.WriteString("\n]\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write json export: %w", err)
	}
	return nil
}

// NFTOptions names what the nftables script defines.
type NFTOptions struct {
	Family string // "inet" (default), "ip", "ip6", "bridge" or "netdev"
	Table  string // default "occsimore"
	Set4   string // the IPv4 set; default "blocklist4"
	Set6   string // the IPv6 set; default "blocklist6"
	// MaxTimeout caps each element's timeout (default 365 days), so that a
	// remediation far in the future still fits the kernel's timer; the
	// export is meant to be reloaded periodically anyway.
	MaxTimeout time.Duration
}

func (o NFTOptions) withDefaults() NFTOptions {
	o.Family = cmp.Or(o.Family, "inet")
	o.Table = cmp.Or(o.Table, "occsimore")
	o.Set4 = cmp.Or(o.Set4, "blocklist4")
	o.Set6 = cmp.Or(o.Set6, "blocklist6")
	o.MaxTimeout = cmp.Or(o.MaxTimeout, 365*24*time.Hour)
	return o
}

func (o NFTOptions) validate() error {
	switch o.Family {
	case "inet", "ip", "ip6", "bridge", "netdev":
	default:
		return occsimore.FieldErrorf("family", "nftables family %q is not inet, ip, ip6, bridge or netdev", o.Family)
	}
	for field, name := range map[string]string{"table": o.Table, "set4": o.Set4, "set6": o.Set6} {
		if !nftName(name) {
			return occsimore.FieldErrorf(field, "nftables name %q must be letters, digits and _, starting with a letter, at most 64 bytes", name)
		}
	}
	if o.Set4 == o.Set6 {
		return occsimore.FieldErrorf("set6", "the IPv4 and IPv6 sets need different names")
	}
	if o.MaxTimeout < time.Second {
		return occsimore.FieldErrorf("max_timeout", "max timeout must be at least a second")
	}
	return nil
}

// nftName reports whether s is an identifier nft accepts without quotes and
// that is not one of its keywords we might collide with.
func nftName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, c := range []byte(s) {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c != '_' && (c < '0' || c > '9')) {
			return false
		}
	}
	return true
}

// elementsPerLine bounds one "add element" statement, to keep lines short
// enough for tools that read the script.
const elementsPerLine = 64

// WriteNFTables writes an nft script (apply with `nft -f FILE`) that
// defines a table with an IPv4 and an IPv6 set if they do not exist, flushes
// both, and adds the ip and range remediations of rs in force at now, each
// with its remaining time as the element's timeout. Ranges are intervals.
// User remediations have no place in a firewall and are left out, and so
// are ranges wider than MinRangeBits4/MinRangeBits6 unless forced.
//
// A range and an address or range inside it would be conflicting intervals,
// so only the outermost is kept, with its own timeout; reloading the export
// (it flushes first) brings back an inner one that outlives it.
func WriteNFTables(w io.Writer, rs []*occsimore.Remediation, now time.Time, opt NFTOptions) error {
	opt = opt.withDefaults()
	if err := opt.validate(); err != nil {
		return err
	}
	v4, v6 := nftElements(rs, now, opt.MaxTimeout)
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "#!/usr/sbin/nft -f\n# occsimore decisions in force at %s: %d IPv4 and %d IPv6 elements.\n",
		now.UTC().Format(time.RFC3339), len(v4), len(v6))
	fmt.Fprintf(bw, "table %s %s {\n", opt.Family, opt.Table)
	for _, set := range []struct{ name, typ string }{{opt.Set4, "ipv4_addr"}, {opt.Set6, "ipv6_addr"}} {
		fmt.Fprintf(bw, "\tset %s {\n\t\ttype %s\n\t\tflags interval, timeout\n\t}\n", set.name, set.typ)
	}
	bw.WriteString("}\n")
	fmt.Fprintf(bw, "flush set %s %s %s\n", opt.Family, opt.Table, opt.Set4)
	fmt.Fprintf(bw, "flush set %s %s %s\n", opt.Family, opt.Table, opt.Set6)
	for _, set := range []struct {
		name  string
		elems []nftElement
	}{{opt.Set4, v4}, {opt.Set6, v6}} {
		for chunk := range slices.Chunk(set.elems, elementsPerLine) {
			fmt.Fprintf(bw, "add element %s %s %s { ", opt.Family, opt.Table, set.name)
			for i, e := range chunk {
				if i > 0 {
					bw.WriteString(", ")
				}
				bw.WriteString(e.String())
			}
			bw.WriteString(" }\n")
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write nftables export: %w", err)
	}
	return nil
}

// nftElement is one set element: an address (a full-length prefix) or a range.
type nftElement struct {
	prefix  netip.Prefix
	timeout time.Duration
}

func (e nftElement) String() string {
	v := e.prefix.String()
	if e.prefix.IsSingleIP() {
		v = e.prefix.Addr().String()
	}
	return v + " timeout " + strconv.FormatInt(int64(e.timeout/time.Second), 10) + "s"
}

// nftElements returns the IPv4 and IPv6 elements for the remediations of rs
// in force at now, in address order, without nesting: one per prefix, with
// the longest timeout among its remediations.
func nftElements(rs []*occsimore.Remediation, now time.Time, maxTimeout time.Duration) (v4, v6 []nftElement) {
	longest := make(map[netip.Prefix]time.Duration)
	for _, r := range rs {
		var p netip.Prefix
		switch r.Scope {
		case occsimore.ScopeIP:
			a, err := netip.ParseAddr(r.Value)
			if err != nil || a.Zone() != "" {
				continue // the store only holds canonical values; be safe anyway
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		case occsimore.ScopeRange:
			var err error
			if p, err = netip.ParsePrefix(r.Value); err != nil {
				continue
			}
			p = p.Masked()
			// A range wider than the bounds (0.0.0.0/0 blocks everyone)
			// reaches the firewall only when an admin forced it.
			if r.Origin != OriginForced && TooWide(r.Scope, p.String()) {
				continue
			}
		default:
			continue
		}
		d := min(Remaining(r, now), maxTimeout)
		if d <= 0 {
			continue
		}
		longest[p] = max(longest[p], d)
	}
	prefixes := make([]netip.Prefix, 0, len(longest))
	for p := range longest {
		prefixes = append(prefixes, p)
	}
	// By address, shorter prefixes first: a prefix comes before every prefix
	// it contains, so one pass keeps the outermost.
	slices.SortFunc(prefixes, func(a, b netip.Prefix) int {
		return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
	})
	var outer4, outer6 netip.Prefix
	for _, p := range prefixes {
		outer, out := &outer4, &v4
		if p.Addr().Is6() {
			outer, out = &outer6, &v6
		}
		if outer.IsValid() && outer.Contains(p.Addr()) {
			continue
		}
		*outer = p
		*out = append(*out, nftElement{prefix: p, timeout: longest[p]})
	}
	return v4, v6
}

// sorted returns rs ordered for the text export: ip and range values by
// address then length, then users by name.
func sorted(rs []*occsimore.Remediation) []*occsimore.Remediation {
	type keyed struct {
		r      *occsimore.Remediation
		prefix netip.Prefix // invalid for users
	}
	ks := make([]keyed, len(rs))
	for i, r := range rs {
		ks[i].r = r
		switch r.Scope {
		case occsimore.ScopeIP:
			if a, err := netip.ParseAddr(r.Value); err == nil {
				ks[i].prefix = netip.PrefixFrom(a, a.BitLen())
			}
		case occsimore.ScopeRange:
			ks[i].prefix, _ = netip.ParsePrefix(r.Value)
		}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		switch av, bv := a.prefix.IsValid(), b.prefix.IsValid(); {
		case av && bv:
			return cmp.Or(a.prefix.Addr().Compare(b.prefix.Addr()), cmp.Compare(a.prefix.Bits(), b.prefix.Bits()),
				cmp.Compare(a.r.Scope, b.r.Scope))
		case av != bv:
			if av {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.r.Scope, b.r.Scope), cmp.Compare(a.r.Value, b.r.Value))
	})
	out := make([]*occsimore.Remediation, len(ks))
	for i, k := range ks {
		out[i] = k.r
	}
	return out
}
