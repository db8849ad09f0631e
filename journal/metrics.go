package journal

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the journal's latency histograms. They are unlabelled: one
// journal per process. Observing one is a few atomic adds, no allocation.
type metrics struct {
	append prometheus.Histogram
	sync   prometheus.Histogram
}

// latencyBuckets go from 50µs (a write to the page cache) to 2.5s (a disk
// that stalls), finer below 10ms where fdatasync usually lands.
var latencyBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

func newMetrics() metrics {
	return metrics{
		append: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "occsimore_journal_append_duration_seconds",
			Help: "Time from a journal append to its acknowledgement (written, and synced when journal_sync_interval is 0s).",
			// Buckets as sync: an append at 0s waits for its group's sync.
			Buckets: latencyBuckets,
		}),
		sync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "occsimore_journal_sync_duration_seconds",
			Help:    "Time an fdatasync (or fsync) of the active journal segment took.",
			Buckets: latencyBuckets,
		}),
	}
}

// Collector returns the journal's metrics for a Prometheus registry:
// append and sync latency, in seconds.
func (j *Journal) Collector() prometheus.Collector {
	return collectors{j.metrics.append, j.metrics.sync}
}

type collectors []prometheus.Collector

func (cs collectors) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range cs {
		c.Describe(ch)
	}
}

func (cs collectors) Collect(ch chan<- prometheus.Metric) {
	for _, c := range cs {
		c.Collect(ch)
	}
}

func since(start time.Time) float64 { return time.Since(start).Seconds() }
