package journal

import (
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// histograms gathers c and returns its histograms by name.
func histograms(t *testing.T, c prometheus.Collector) map[string]*dto.Histogram {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.Histogram{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf.GetMetric()[0].GetHistogram()
	}
	return out
}

// TestMetrics appends records in both durability modes and finds one
// append observation per acknowledged record and one sync observation per
// sync the journal counted, each taking some time.
func TestMetrics(t *testing.T) {
	for _, interval := range []time.Duration{0, 5 * time.Millisecond} {
		t.Run(interval.String(), func(t *testing.T) {
			j, err := Open(t.Context(), t.TempDir(), Options{SyncInterval: interval})
			if err != nil {
				t.Fatal(err)
			}
			const n = 40
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					if _, err := j.Append(t.Context(), eventsRecord("mem_a", i*3, 3)); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if interval > 0 {
				time.Sleep(4 * interval) // the syncer's ticks
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			_, syncs := j.Stats()
			h := histograms(t, j.Collector())
			app, syn := h["occsimore_journal_append_duration_seconds"], h["occsimore_journal_sync_duration_seconds"]
			if app == nil || syn == nil {
				t.Fatalf("histograms %v", h)
			}
			if app.GetSampleCount() != n || app.GetSampleSum() <= 0 {
				t.Errorf("append: %d observations summing %gs, want %d above 0s", app.GetSampleCount(), app.GetSampleSum(), n)
			}
			if syncs == 0 || syn.GetSampleCount() != syncs || syn.GetSampleSum() <= 0 {
				t.Errorf("sync: %d observations summing %gs, journal counted %d syncs", syn.GetSampleCount(), syn.GetSampleSum(), syncs)
			}
		})
	}
}
