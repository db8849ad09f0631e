package pipeline

import (
	"io/fs"
	"sync/atomic"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/prometheus/client_golang/prometheus"
)

// Decisions of the events counter. refused is an event that was not scored:
// invalid, too far ahead of the clock, too late or of an unknown kind.
const (
	outAllow = iota
	outReview
	outBlock
	outRefused
	nOutcomes
)

var outcomeNames = [nOutcomes]string{"allow", "review", "block", "refused"}

// otherKind labels the events of a kind the engine does not profile. Event
// kinds come from clients, so they are never used as label values as such:
// the label's values are the configured kinds (engine specs) plus this one.
const otherKind = "other"

// metrics are the pipeline's counters. The counters of every kind and
// outcome are resolved once, in newMetrics, so that counting an event is a
// map lookup by kind (no allocation) and an atomic add.
type metrics struct {
	events *prometheus.CounterVec
	alerts *prometheus.CounterVec
	byKind map[string]*kindCounters

	profiles, profileBytes, checkpointAge, pendingEvents, ready *prometheus.Desc

	// checkpointAt is the Unix time, in nanoseconds, of the newest snapshot:
	// written by this process, or loaded by Recover (its file's time).
	checkpointAt atomic.Int64
}

type kindCounters struct {
	events [nOutcomes]prometheus.Counter
	alerts prometheus.Counter
}

func newMetrics(kinds []string) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "occsimore_events_total",
			Help: "Events submitted, by kind (a profiled kind, or other) and decision (allow, review, block, or refused when not scored).",
		}, []string{"kind", "decision"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "occsimore_alerts_total",
			Help: "Alerts raised and stored (events at review or block), by kind.",
		}, []string{"kind"}),
		byKind: make(map[string]*kindCounters, len(kinds)+1),
		profiles: prometheus.NewDesc("occsimore_profiles",
			"Behaviour profiles held, over every member, by kind and role.", []string{"kind", "role"}, nil),
		profileBytes: prometheus.NewDesc("occsimore_profile_bytes",
			"Memory allocated to behaviour profiles (slabs and indexes), over every member, by kind and role.", []string{"kind", "role"}, nil),
		checkpointAge: prometheus.NewDesc("occsimore_checkpoint_age_seconds",
			"Time since the newest engine snapshot was written (since recovery ended when there is none).", nil, nil),
		pendingEvents: prometheus.NewDesc("occsimore_checkpoint_pending_events",
			"Events journaled after the newest snapshot: what a restart replays.", nil, nil),
		ready: prometheus.NewDesc("occsimore_pipeline_ready",
			"1 when the pipeline takes events: recovered from the journal, not failed, not closed.", nil, nil),
	}
	for _, k := range append(kinds, otherKind) {
		kc := &kindCounters{alerts: m.alerts.WithLabelValues(k)}
		for o, name := range outcomeNames {
			kc.events[o] = m.events.WithLabelValues(k, name)
		}
		m.byKind[k] = kc
	}
	return m
}

func (m *metrics) kind(k string) *kindCounters {
	if kc, ok := m.byKind[k]; ok {
		return kc
	}
	return m.byKind[otherKind]
}

// countEvent counts an event of kind k with decision d, or refused if err.
func (m *metrics) countEvent(k string, d occsimore.Decision, err error) {
	o := outRefused
	if err == nil {
		switch d {
		case occsimore.DecisionAllow:
			o = outAllow
		case occsimore.DecisionReview:
			o = outReview
		case occsimore.DecisionBlock:
			o = outBlock
		}
	}
	m.kind(k).events[o].Inc()
}

// Collector returns the pipeline's metrics, and the journal's if it has
// any, for a Prometheus registry. The profile, checkpoint and readiness
// gauges are computed when scraped.
func (p *Pipeline) Collector() prometheus.Collector {
	c := &collector{p: p}
	if jc, ok := p.j.(interface{ Collector() prometheus.Collector }); ok {
		c.journal = jc.Collector()
	}
	return c
}

type collector struct {
	p       *Pipeline
	journal prometheus.Collector
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	m := c.p.metrics
	m.events.Describe(ch)
	m.alerts.Describe(ch)
	for _, d := range []*prometheus.Desc{m.profiles, m.profileBytes, m.checkpointAge, m.pendingEvents, m.ready} {
		ch <- d
	}
	if c.journal != nil {
		c.journal.Describe(ch)
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	p, m := c.p, c.p.metrics
	m.events.Collect(ch)
	m.alerts.Collect(ch)
	for _, st := range p.eng.ProfileStats() {
		ch <- prometheus.MustNewConstMetric(m.profiles, prometheus.GaugeValue, float64(st.Profiles), st.Kind, st.Role)
		ch <- prometheus.MustNewConstMetric(m.profileBytes, prometheus.GaugeValue, float64(st.Bytes), st.Kind, st.Role)
	}
	p.seqMu.Lock()
	pending := p.since
	p.seqMu.Unlock()
	ch <- prometheus.MustNewConstMetric(m.pendingEvents, prometheus.GaugeValue, float64(pending))
	if at := m.checkpointAt.Load(); at != 0 {
		age := p.cfg.Now().Sub(time.Unix(0, at)).Seconds()
		ch <- prometheus.MustNewConstMetric(m.checkpointAge, prometheus.GaugeValue, max(age, 0))
	}
	ready := 0.0
	if p.Ready() == nil {
		ready = 1
	}
	ch <- prometheus.MustNewConstMetric(m.ready, prometheus.GaugeValue, ready)
	if c.journal != nil {
		c.journal.Collect(ch)
	}
}

// snapshotTime is the modification time of a snapshot being read, when
// the journal gives it as a file; zero otherwise.
func snapshotTime(r any) time.Time {
	if f, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := f.Stat(); err == nil {
			return fi.ModTime()
		}
	}
	return time.Time{}
}
