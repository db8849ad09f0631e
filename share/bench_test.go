package share

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/occsimore/occsimore/stix"
)

// benchIndex is n received indicators: 70 % attacker IPv4 addresses, 10 %
// networks, 20 % terminal tokens, from several sources; and probes of which
// about one in ten hits, as a member's own events would (most logins and
// payments are not from listed addresses or terminals).
func benchIndex(b *testing.B, n int) (*Index, []netip.Addr, [][TokenLen]byte) {
	b.Helper()
	r := rand.New(rand.NewPCG(uint64(n), 3))
	ring := testRing(b)
	inds := make([]Indicator, 0, n)
	var listedIPs []netip.Addr
	var listedToks [][TokenLen]byte
	for i := range n {
		ind := Indicator{ID: fmt.Sprint(i), Confidence: 60, ValidFrom: now.Add(-time.Hour), TLP: stix.TLPGreen,
			Source: Source{Member: fmt.Sprintf("mem_%d", r.IntN(8))}}
		switch k := r.IntN(10); {
		case k < 7:
			a := netip.AddrFrom4([4]byte{byte(r.IntN(223) + 1), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
			ind.Kind, ind.Value = KindIP, a.String()
			listedIPs = append(listedIPs, a)
		case k < 8:
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(r.IntN(223) + 1), byte(r.IntN(256)), byte(r.IntN(256)), 0}), 24)
			ind.Kind, ind.Value = KindCIDR, p.String()
		default:
			t, _ := ring.Token(KindTerminal, fmt.Sprintf("TERM-%d", i), now)
			ind.Kind, ind.Value = KindTerminal, t.String()
			listedToks = append(listedToks, t.MAC)
		}
		inds = append(inds, ind)
	}
	x := NewIndex(inds, now)
	probes := make([]netip.Addr, 1<<16)
	for i := range probes {
		if r.IntN(10) == 0 {
			probes[i] = listedIPs[r.IntN(len(listedIPs))]
		} else {
			probes[i] = netip.AddrFrom4([4]byte{byte(r.IntN(223) + 1), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		}
	}
	toks := make([][TokenLen]byte, 1<<16)
	for i := range toks {
		if r.IntN(10) == 0 {
			toks[i] = listedToks[r.IntN(len(listedToks))]
		} else {
			t, _ := ring.Token(KindTerminal, fmt.Sprintf("OTHER-%d", i), now)
			toks[i] = t.MAC
		}
	}
	return x, probes, toks
}

// BenchmarkIndexLookup measures local matching on one core (issue 14:
// ≥ 1M lookups/s), beside a crude baseline: a map keyed by the address's
// string form, which is what a first version would write.
func BenchmarkIndexLookup(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		x, probes, toks := benchIndex(b, n)
		strIndex := make(map[string]int, n)
		for k, i := range x.ip4 {
			strIndex[netip.AddrFrom4([4]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}).String()] = int(i)
		}
		b.Run(fmt.Sprintf("ip/indicators=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			hits, i := 0, 0
			c0 := cpuTime()
			for b.Loop() {
				if _, ok := x.LookupIP(probes[i&(len(probes)-1)]); ok {
					hits++
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
			reportPerCPU(b, c0, float64(b.N), "lookups")
			if hits == 0 {
				b.Fatal("no probe hit")
			}
		})
		b.Run(fmt.Sprintf("token/indicators=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			hits, i := 0, 0
			c0 := cpuTime()
			for b.Loop() {
				if _, ok := x.LookupToken(&toks[i&(len(toks)-1)]); ok {
					hits++
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
			reportPerCPU(b, c0, float64(b.N), "lookups")
			if hits == 0 {
				b.Fatal("no probe hit")
			}
		})
		b.Run(fmt.Sprintf("baseline:string-map/indicators=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			hits, i := 0, 0
			c0 := cpuTime()
			for b.Loop() {
				if _, ok := strIndex[probes[i&(len(probes)-1)].String()]; ok {
					hits++
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
			reportPerCPU(b, c0, float64(b.N), "lookups")
			if hits == 0 {
				b.Fatal("no probe hit")
			}
		})
	}
}

// BenchmarkToken is the cost of making a member's own token for an event's
// terminal (HMAC-SHA256), before the index lookup.
func BenchmarkToken(b *testing.B) {
	ring := testRing(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ring.Token(KindTerminal, "TERM-90311", now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOPRFEvaluate is the server's cost per identifier in batches of
// 64, which sizes the OPRF rate limit.
func BenchmarkOPRFEvaluate(b *testing.B) {
	srv, c := testOPRF(b)
	ids := make([]string, 64)
	for i := range ids {
		ids[i] = fmt.Sprintf("4929%012d", i)
	}
	_, req, err := c.Blind(KindCard, ids)
	if err != nil {
		b.Fatal(err)
	}
	c0 := cpuTime()
	for b.Loop() {
		if _, err := srv.Evaluate(req); err != nil {
			b.Fatal(err)
		}
	}
	reportPerCPU(b, c0, float64(b.N)*64, "identifiers")
}

// BenchmarkHasher is the same MAC through a per-goroutine Hasher, the form
// the matching path uses.
func BenchmarkHasher(b *testing.B) {
	h := testRing(b).NewHasher(now)
	v := []byte("TERM-90311")
	var mac [TokenLen]byte
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		h.MAC(0, KindTerminal, v, &mac)
	}
	reportPerCPU(b, c0, float64(b.N), "macs")
}
