package stix

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchIndicators writes n STIX indicators the way a peer's TAXII feed
// would carry them (issue 14: attacker IPs, domains, URLs and file hashes,
// with markings, confidence and validity), from a seeded generator that
// knows nothing of this package's parser.
func benchIndicators(n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([][]byte, n)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		created := base.Add(time.Duration(r.IntN(30*24*3600)) * time.Second)
		var pattern string
		switch r.IntN(10) {
		case 0, 1, 2, 3, 4, 5:
			pattern = fmt.Sprintf("[ipv4-addr:value = '%d.%d.%d.%d']", r.IntN(223)+1, r.IntN(256), r.IntN(256), r.IntN(256))
		case 6:
			pattern = fmt.Sprintf("[domain-name:value = 'h%x.example.net']", r.Uint64())
		case 7:
			pattern = fmt.Sprintf("[url:value = 'http://h%x.example.net/wp-login.php?u=%d']", r.Uint32(), r.IntN(1000))
		case 8:
			pattern = fmt.Sprintf("[file:hashes.'SHA-256' = '%016x%016x%016x%016x']", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64())
		default:
			pattern = fmt.Sprintf("[network-traffic:dst_ref.value = '%d.%d.%d.%d' AND network-traffic:dst_port = %d] REPEATS %d TIMES WITHIN 600 SECONDS",
				r.IntN(223)+1, r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(65535), r.IntN(20)+2)
		}
		var u [16]byte
		for j := range u {
			u[j] = byte(r.Uint32())
		}
		u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80
		m := map[string]any{
			"type": "indicator", "spec_version": "2.1", "id": "indicator--" + formatUUID(u),
			"created_by_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
			"created":        created.Format(TimestampLayout), "modified": created.Add(time.Hour).Format(TimestampLayout),
			"name": "consortium indicator", "indicator_types": []string{"malicious-activity"},
			"pattern": pattern, "pattern_type": "stix", "pattern_version": "2.1",
			"valid_from":  created.Format(TimestampLayout),
			"valid_until": created.Add(30 * 24 * time.Hour).Format(TimestampLayout),
			"confidence":  r.IntN(101), "labels": []string{"ssh-bf"},
			"object_marking_refs": []string{TLPGreen.MarkingRef()},
		}
		out[i], _ = json.Marshal(m)
	}
	return out
}

// BenchmarkIngestIndicators measures one indicator's decode and
// validation, and beside it encoding/json decoding the same bytes (the peer
// that shows how much of the cost is plain JSON).
func BenchmarkIngestIndicators(b *testing.B) {
	objs := benchIndicators(4096, 7)
	var size int
	for _, o := range objs {
		size += len(o)
	}
	v := testValidator(b)
	run := func(name string, fn func([]byte) error) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(size / len(objs)))
			b.ReportAllocs()
			i := 0
			c0 := cpuTime()
			for b.Loop() {
				if err := fn(objs[i%len(objs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "objects/s")
			reportPerCPU(b, c0, float64(b.N), "objects")
		})
	}
	run("parse+rules", func(o []byte) error { _, err := ParseObject(o); return err })
	run("import-path", func(o []byte) error { _, _, _, err := checkObject(o, v); return err })
	run("parse+rules+schema-always", func(o []byte) error {
		if err := v.Validate(o); err != nil {
			return err
		}
		_, err := ParseObject(o)
		return err
	})
	run("peer:encoding-json-map", func(o []byte) error { var m map[string]any; return json.Unmarshal(o, &m) })
	run("peer:encoding-json-struct", func(o []byte) error {
		var x struct {
			Type, SpecVersion, ID, Created, Modified, Pattern, PatternType, ValidFrom, ValidUntil string
			Confidence                                                                            int
			Labels, ObjectMarkingRefs, IndicatorTypes                                             []string
		}
		return json.Unmarshal(o, &x)
	})
}

// BenchmarkImportBundle imports bundles of 1,000 indicators as a TAXII page
// arrives: with the rules only, and with the validator (the schema for what
// the rules do not cover completely).
func BenchmarkImportBundle(b *testing.B) {
	objs := benchIndicators(1000, 11)
	raw := make([]json.RawMessage, len(objs))
	for i, o := range objs {
		raw[i] = o
	}
	data, _ := json.Marshal(Bundle{Type: "bundle", ID: NewID("bundle"), Objects: raw})
	v := testValidator(b)
	for _, c := range []struct {
		name string
		v    *Validator
	}{{"rules", nil}, {"with-validator", v}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			c0 := cpuTime()
			for b.Loop() {
				res, err := Import(data, c.v)
				if err != nil || len(res.Objects) != 1000 {
					b.Fatalf("%v, %d objects kept", err, len(res.Objects))
				}
			}
			b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "objects/s")
			reportPerCPU(b, c0, float64(b.N)*1000, "objects")
		})
	}
}

func BenchmarkParsePattern(b *testing.B) {
	p := "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 22] REPEATS 5 TIMES WITHIN 600 SECONDS"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePattern(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIngest1M imports one million indicators as 1,000 bundles of
// 1,000 (50 distinct bundles, cycled, so that the input fits in memory),
// with the validator, on one goroutine and on as many as GOMAXPROCS: issue
// 14's "1M STIX indicators in ≤ 20 s". Run with -benchtime 1x.
func BenchmarkIngest1M(b *testing.B) {
	const distinct, perBundle, total = 50, 1000, 1_000_000
	bundles := make([][]byte, distinct)
	for i := range bundles {
		objs := benchIndicators(perBundle, uint64(100+i))
		raw := make([]json.RawMessage, len(objs))
		for j, o := range objs {
			raw[j] = o
		}
		bundles[i], _ = json.Marshal(Bundle{Type: "bundle", ID: NewID("bundle"), Objects: raw})
	}
	v := testValidator(b)
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("goroutines=%d", workers), func(b *testing.B) {
			c0 := cpuTime()
			for b.Loop() {
				next := make(chan []byte)
				var wg sync.WaitGroup
				var kept atomic.Int64
				for range workers {
					wg.Go(func() {
						for data := range next {
							res, err := Import(data, v)
							if err != nil {
								panic(err)
							}
							kept.Add(int64(len(res.Objects)))
						}
					})
				}
				for i := range total / perBundle {
					next <- bundles[i%distinct]
				}
				close(next)
				wg.Wait()
				if kept.Load() != total {
					b.Fatalf("kept %d of %d", kept.Load(), total)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/1M")
			reportPerCPU(b, c0, float64(b.N)*total, "objects")
		})
	}
}
