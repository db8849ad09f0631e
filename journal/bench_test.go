package journal

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkJournalAppend appends records of 1000 events, from one goroutine
// and from several: the parallel runs show what group commit buys, since
// concurrent appends share an fsync.
func BenchmarkJournalAppend(b *testing.B) {
	rec := eventsRecord("mem_bench", 0, 1000)
	for _, par := range []int{0, 4, 16} {
		name := "serial"
		if par > 0 {
			name = fmt.Sprintf("goroutines=%dxGOMAXPROCS", par)
		}
		b.Run(name, func(b *testing.B) {
			j, err := Open(b.Context(), b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			b.ReportAllocs()
			if par == 0 {
				for b.Loop() {
					if _, err := j.Append(b.Context(), rec); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(par)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := j.Append(b.Context(), rec); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			appends, syncs := j.Stats()
			b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(appends)/float64(max(syncs, 1)), "records/fsync")
		})
	}
}

// BenchmarkJournalAppendOne appends one-event records from one goroutine,
// as single-event POSTs arriving one at a time do: each pays a whole write
// and sync, so ns/op is the durability cost of one answer.
func BenchmarkJournalAppendOne(b *testing.B) {
	rec := eventsRecord("mem_bench", 0, 1)
	j, err := Open(b.Context(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	for b.Loop() {
		if _, err := j.Append(b.Context(), rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJournalAppendPaced appends one-event records at 4,000 a second
// to a fresh journal, so that segments fill, spares are prepared and
// rotations happen as under steady single-event load, and reports the
// quantiles of each append's latency: the tail is what a single-event POST
// pays. Run it with -benchtime 40000x (10 s). It runs in both durability
// modes: synced before each append returns, and synced every 10 ms, where
// an append can still wait for a sync of the page it writes to.
func BenchmarkJournalAppendPaced(b *testing.B) {
	for _, interval := range []time.Duration{0, 10 * time.Millisecond} {
		b.Run("sync_interval="+interval.String(), func(b *testing.B) { benchAppendPaced(b, interval) })
	}
}

func benchAppendPaced(b *testing.B, interval time.Duration) {
	rec := eventsRecord("mem_bench", 0, 1)
	// Records of about 1 KiB, so that 10 s cross several segment sizes.
	rec.Events[0].UserAgent = strings.Repeat("x", 900)
	j, err := Open(b.Context(), b.TempDir(), Options{SyncInterval: interval})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	lat := make([]time.Duration, 0, b.N)
	next := time.Now()
	for b.Loop() {
		next = next.Add(250 * time.Microsecond)
		time.Sleep(time.Until(next))
		start := time.Now()
		if _, err := j.Append(b.Context(), rec); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) }
	b.ReportMetric(q(0.5), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(q(0.999), "p99.9-µs")
	b.ReportMetric(q(1), "max-µs")
}
