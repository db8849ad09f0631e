package geoip

import (
	"cmp"
	"net/netip"
	"strings"
	"testing"
)

func table(t *testing.T, v4, v6 string) *asnTable {
	t.Helper()
	b := newASNBuilder()
	for _, in := range []string{v4, v6} {
		if err := b.read(strings.NewReader(in)); err != nil {
			t.Fatal(err)
		}
	}
	return b.build()
}

func TestASNTable(t *testing.T) {
	t.Parallel()
	// Out of order on purpose: the files need not be sorted.
	tab := table(t,
		"1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd\n"+
			"1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"+
			"2.26.200.0,2.26.215.255,201907,\"LLC \"\"SPUTNIK\"\"\"\n"+
			"1.0.8.0,1.0.8.0,13335,\"Cloudflare, Inc.\"\n",
		"2001::,2001::ffff:ffff:ffff:ffff:ffff:ffff,6939,Hurricane Electric LLC\n"+
			"2001:200::,2001:200:1b9:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project\n")
	for _, tc := range []struct {
		addr string
		asn  uint32
		org  string
	}{
		{"0.255.255.255", 0, ""},
		{"1.0.0.0", 13335, "Cloudflare, Inc."},
		{"1.0.0.255", 13335, "Cloudflare, Inc."},
		{"1.0.1.0", 0, ""},
		{"1.0.3.255", 0, ""},
		{"1.0.4.0", 38803, "Gtelecom Pty Ltd"},
		{"1.0.7.255", 38803, "Gtelecom Pty Ltd"},
		{"1.0.8.0", 13335, "Cloudflare, Inc."},
		{"1.0.8.1", 0, ""},
		{"2.26.210.1", 201907, `LLC "SPUTNIK"`},
		{"255.255.255.255", 0, ""},
		{"::1", 0, ""},
		{"2001::", 6939, "Hurricane Electric LLC"},
		{"2001::ffff:ffff:ffff:ffff:ffff:ffff", 6939, "Hurricane Electric LLC"},
		{"2001:1::", 0, ""},
		{"2001:200:1b9:ffff::1", 2500, "WIDE Project"},
		{"2001:200:1ba::", 0, ""},
		{"ffff::", 0, ""},
	} {
		asn, org := tab.lookup(netip.MustParseAddr(tc.addr))
		if asn != tc.asn || org != tc.org {
			t.Errorf("lookup(%s) = %d %q, want %d %q", tc.addr, asn, org, tc.asn, tc.org)
		}
	}
	if got, want := len(tab.orgs), 5; got != want {
		t.Errorf("%d organisation names kept, want %d (shared names stored once)", got, want)
	}
}

func TestASNTableEmpty(t *testing.T) {
	t.Parallel()
	tab := table(t, "", "")
	if asn, org := tab.lookup(netip.MustParseAddr("8.8.8.8")); asn != 0 || org != "" {
		t.Fatalf("lookup in an empty table = %d %q", asn, org)
	}
}

func TestASNRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"1.0.0.0,1.0.0.255,13335\n",          // three fields
		"1.0.0.0,1.0.0.255,x,Org\n",          // bad ASN
		"1.0.0.0,1.0.0.255,4294967296,Org\n", // ASN over 32 bits
		"1.0.0.300,1.0.0.255,1,Org\n",        // bad address
		"1.0.0.255,1.0.0.0,1,Org\n",          // end before start
		"1.0.0.0,2001::,1,Org\n",             // mixed families
		"1.0.0.0,1.0.0.255,1,\"Org\n",        // unterminated quote
	} {
		if err := newASNBuilder().read(strings.NewReader(in)); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}

func checkSorted[K any](t *testing.T, spans []span[K], compare func(a, b K) int) {
	t.Helper()
	for i, s := range spans {
		if compare(s.lo, s.hi) > 0 {
			t.Fatalf("span %d ends before it starts: %v", i, s)
		}
		if i > 0 && compare(spans[i-1].hi, s.lo) >= 0 {
			t.Fatalf("spans %d and %d overlap: %v %v", i-1, i, spans[i-1], s)
		}
	}
}

func TestASNOverlaps(t *testing.T) {
	t.Parallel()
	tab := table(t,
		// A partial overlap, as in the published file: the later one wins.
		"214.95.0.0,215.0.255.255,749,DoD\n"+
			"215.0.0.0,215.1.3.255,721,DISA\n"+
			// A nested range, and two ranges with the same start.
			"10.0.0.0,10.255.255.255,1,Outer\n"+
			"10.1.0.0,10.1.255.255,2,Inner\n"+
			"20.0.0.0,20.0.255.255,3,Wide\n"+
			"20.0.0.0,20.0.0.255,4,Narrow\n",
		"2001::,2001::ffff,5,A\n2001::1:0,2001::1:ffff,6,B\n2001::8000,2001::1:ffff,7,C\n")
	checkSorted(t, tab.v4, cmp.Compare[uint32])
	checkSorted(t, tab.v6, u128.cmp)
	for _, tc := range []struct {
		addr string
		asn  uint32
	}{
		{"214.255.255.255", 749},
		{"215.0.0.0", 721},
		{"215.1.3.255", 721},
		{"10.0.255.255", 1},
		{"10.1.0.0", 2},
		{"10.1.255.255", 2},
		{"10.2.0.0", 0}, // the outer range's rest is cut off
		{"20.0.0.255", 4},
		{"20.0.1.0", 0},
		{"2001::7fff", 5},
		{"2001::8000", 7},
		{"2001::ffff", 7},
		{"2001::1:0", 6},
	} {
		if asn, _ := tab.lookup(netip.MustParseAddr(tc.addr)); asn != tc.asn {
			t.Errorf("lookup(%s) = %d, want %d", tc.addr, asn, tc.asn)
		}
	}
}

func TestU128Dec(t *testing.T) {
	t.Parallel()
	if got, want := (u128{1, 0}).dec(), (u128{0, ^uint64(0)}); got != want {
		t.Fatalf("dec = %v, want %v", got, want)
	}
	if got, want := (u128{1, 5}).dec(), (u128{1, 4}); got != want {
		t.Fatalf("dec = %v, want %v", got, want)
	}
}

// FuzzASNCSV checks that any accepted file gives a table of sorted ranges
// without overlaps in which each range's first and last addresses find that
// range's AS.
func FuzzASNCSV(f *testing.F) {
	f.Add("1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n1.0.4.0,1.0.7.255,38803,Gtelecom\n")
	f.Add("2001::,2001::ffff,6939,HE\n::ffff:1.2.3.4,::ffff:1.2.3.5,1,x\n")
	f.Add("1.0.0.0,1.0.0.255,1,a\n1.0.0.255,1.0.1.0,2,b\n")
	f.Fuzz(func(t *testing.T, in string) {
		b := newASNBuilder()
		if err := b.read(strings.NewReader(in)); err != nil {
			return
		}
		tab := b.build()
		checkSorted(t, tab.v4, cmp.Compare[uint32])
		checkSorted(t, tab.v6, u128.cmp)
		for _, s := range tab.v4 {
			for _, k := range []uint32{s.lo, s.hi} {
				a := netip.AddrFrom4([4]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)})
				if asn, org := tab.lookup(a); asn != s.asn || org != tab.orgs[s.org] {
					t.Fatalf("lookup(%s) = %d %q, want %d", a, asn, org, s.asn)
				}
			}
		}
		for _, s := range tab.v6 {
			for _, k := range []u128{s.lo, s.hi} {
				var raw [16]byte
				for i := range 8 {
					raw[i] = byte(k.hi >> (56 - 8*i))
					raw[8+i] = byte(k.lo >> (56 - 8*i))
				}
				a := netip.AddrFrom16(raw)
				if asn, org := tab.lookup(a); asn != s.asn || org != tab.orgs[s.org] {
					t.Fatalf("lookup(%s) = %d %q, want %d", a, asn, org, s.asn)
				}
			}
		}
	})
}
