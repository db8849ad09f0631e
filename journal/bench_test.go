package journal

import (
	"fmt"
	"testing"
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
