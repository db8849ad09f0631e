package misp

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/occsimore/occsimore/share"
	"github.com/occsimore/occsimore/stix"
)

// benchFeed is a feed of 1,000 events of 10 indicators each, the mix a
// member's detections give (attacker IPs and networks, domains, URLs, user
// agents, hashes, terminal and merchant tokens, a behaviour), built through
// the member's policy from values drawn with a fixed seed.
func benchFeed(b *testing.B) []EventInput {
	b.Helper()
	rng := rand.New(rand.NewPCG(14, 2026))
	ring := testRing(b)
	p := &share.Policy{Source: share.Source{Member: "mem_a", Name: "Bank A", Organization: "org_a", Sector: "banking"},
		Granularity: share.GranularityHour, Rules: []share.Rule{{TLP: stix.TLPGreen}}}
	kinds := []share.Kind{share.KindIP, share.KindIP, share.KindIP, share.KindCIDR, share.KindDomain, share.KindURL,
		share.KindUserAgent, share.KindFileHash, share.KindTerminal, share.KindMerchant}
	groups := make([]EventInput, 1000)
	for e := range groups {
		g := &groups[e]
		g.Info = fmt.Sprintf("detections %d", e)
		for i, k := range kinds {
			var v string
			switch k {
			case share.KindIP:
				v = fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(222), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
			case share.KindCIDR:
				v = fmt.Sprintf("%d.%d.%d.0/24", 1+rng.IntN(222), rng.IntN(256), rng.IntN(256))
			case share.KindDomain:
				v = fmt.Sprintf("x%x.example", rng.Uint64())
			case share.KindURL:
				v = fmt.Sprintf("http://x%x.example/login.php?u=%d", rng.Uint32(), rng.IntN(1000))
			case share.KindUserAgent:
				v = fmt.Sprintf("python-requests/2.%d.%d", rng.IntN(40), rng.IntN(10))
			case share.KindFileHash:
				v = fmt.Sprintf("%016x%016x%016x%016x", rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64())
			default:
				v = fmt.Sprintf("T-%08d", rng.IntN(1e8))
			}
			c := &share.Candidate{Origin: share.OriginAttack, Scenario: "ssh-bf", Kind: k, Value: v, Confidence: 70,
				At: now.Add(-time.Duration(i) * time.Minute), Count: 1 + rng.IntN(50),
				Attack: &share.AttackPattern{Name: "Brute Force", Scenario: "ssh-bf", ExternalID: "T1110", Source: "mitre-attack"}}
			if k == share.KindFileHash {
				c.HashAlgo = "SHA-256"
			}
			ind, err := p.Build(c, p.Decide(c, now), ring, now)
			if err != nil {
				b.Fatal(err)
			}
			g.Indicators = append(g.Indicators, ind)
		}
	}
	return groups
}

type discard struct{ bytes int }

func (d *discard) WriteFile(_ string, data []byte) error { d.bytes += len(data); return nil }

func BenchmarkFeedExport(b *testing.B) {
	groups := benchFeed(b)
	var d discard
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := WriteFeed(&d, groups, consortium, ExportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(groups)*b.N)/b.Elapsed().Seconds(), "events/s")
	reportPerCPU(b, cpu0, float64(len(groups)*b.N), "events")
	b.ReportMetric(float64(d.bytes)/float64(len(groups)*b.N), "feed-bytes/event")
}

// eventBytes is the feed's event files, as Import and the peers read them.
func eventBytes(b *testing.B) [][]byte {
	fs := memFS{}
	if _, err := WriteFeed(fs, benchFeed(b), consortium, ExportOptions{}); err != nil {
		b.Fatal(err)
	}
	var out [][]byte
	for _, raw := range eventFiles(fs) {
		out = append(out, raw)
	}
	return out
}

func BenchmarkEventImport(b *testing.B) {
	files := eventBytes(b)
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, raw := range files {
			res, err := Import(raw, share.Source{Member: "peer"})
			if err != nil || len(res.Indicators) != 10 {
				b.Fatal(err, res)
			}
		}
	}
	b.ReportMetric(float64(len(files)*b.N)/b.Elapsed().Seconds(), "events/s")
	reportPerCPU(b, cpu0, float64(len(files)*b.N), "events")
}

// The peers: encoding/json decoding the same bytes into the generic tree
// and into the Event struct, the floor any MISP importer in Go starts from.
func BenchmarkPeerJSONDecodeAny(b *testing.B) {
	files := eventBytes(b)
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, raw := range files {
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(files)*b.N)/b.Elapsed().Seconds(), "events/s")
	reportPerCPU(b, cpu0, float64(len(files)*b.N), "events")
}

func BenchmarkPeerJSONDecodeStruct(b *testing.B) {
	files := eventBytes(b)
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, raw := range files {
			var w struct{ Event Event }
			if err := json.Unmarshal(raw, &w); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(files)*b.N)/b.Elapsed().Seconds(), "events/s")
	reportPerCPU(b, cpu0, float64(len(files)*b.N), "events")
}
