package behavior

import (
	"fmt"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// benchBatchSize is the batch of the ProcessBatch benchmarks. A Result
// takes 1.8 KB: 64 of them (115 KB) stay in a core's L2 cache with the
// profiles; 256 (460 KB) would fill it, and cost more than the pipeline
// saves.
const benchBatchSize = 64

// BenchmarkProcessBatchLean is BenchmarkProcessCardTxLean through
// ProcessBatch in batches of benchBatchSize, over the first 512 event
// templates (in cache, as BenchmarkProcessCardTxLeanHot), the first 4,096
// and all 65,536; an op is one event.
func BenchmarkProcessBatchLean(b *testing.B) {
	evs := leanTemplates(5000, 1<<16)
	for _, n := range []int{512, 4096, 1 << 16} {
		b.Run(fmt.Sprintf("templates=%d", n), func(b *testing.B) {
			benchLeanBatch(b, newLeanEngine(b), evs[:n])
		})
	}
}

// BenchmarkProcessLargeLean is the lean spec over 200,000 cards and 50,400
// terminals, 262,144 event templates: profiles (about 50 MB) and index (7
// MB) far beyond the caches, as with a bank's real population. Process and
// ProcessBatch run the same stream.
func BenchmarkProcessLargeLean(b *testing.B) {
	benchLarge(b, func(tb testing.TB) *Engine { return newLeanEngine(tb) })
}

// BenchmarkProcessLargeMin is BenchmarkProcessLargeLean under the minimal
// spec.
func BenchmarkProcessLargeMin(b *testing.B) {
	benchLarge(b, func(tb testing.TB) *Engine { return newSpecEngine(tb, loadSpecFile(tb, minSpecFile)) })
}

func benchLarge(b *testing.B, newEngine func(testing.TB) *Engine) {
	evs := largeTemplates(200_000, 1<<18)
	b.Run("process", func(b *testing.B) {
		benchLeanWith(b, newEngine(b), evs)
	})
	b.Run("batch", func(b *testing.B) {
		benchLeanBatch(b, newEngine(b), evs)
	})
}

// largeTemplates are leanTemplates of nCards cards whose shops each have 90
// terminals, one per group of cards, so that there are 50,400 terminals.
func largeTemplates(nCards, n int) []occsimore.Event {
	evs := leanTemplates(nCards, n)
	for i := range evs {
		var c int
		fmt.Sscanf(evs[i].Card, "card%d", &c)
		evs[i].Terminal = fmt.Sprintf("%s-%d", evs[i].Terminal, c%90)
	}
	return evs
}

// benchLeanBatch is benchLeanWith through ProcessBatch: the same warm-up
// and labels, then b.N events in batches of benchBatchSize.
func benchLeanBatch(b *testing.B, e *Engine, evs []occsimore.Event) {
	s := &stream{evs: evs, t0: simStart, step: 20 * time.Millisecond}
	warmLean(b, e, s)
	results := make([]Result, benchBatchSize)
	errs := make([]error, benchBatchSize)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	cpu0, cpuOK := cpuTime()
	for done := 0; done < b.N; {
		// Batches stop at the end of the templates, which are stamped in
		// place as the stream would stamp them.
		from := s.i % len(evs)
		n := min(benchBatchSize, b.N-done, len(evs)-from)
		for range n {
			s.next()
		}
		if e.ProcessBatch(evs[from:from+n], results[:n], errs[:n]) != 0 {
			for _, err := range errs[:n] {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		done += n
	}
	cpu1, _ := cpuTime()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	if cpuOK && cpu1 > cpu0 {
		b.ReportMetric(float64(b.N)/(cpu1-cpu0).Seconds(), "cpu-events/s")
	}
	b.ReportMetric(float64(results[0].NFeatures), "features")
}
