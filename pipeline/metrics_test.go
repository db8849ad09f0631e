package pipeline_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/journal"
	"github.com/occsimore/occsimore/pipeline"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// scrape gathers c and returns each sample's value by name and labels
// ("name{a=x,b=y}", labels in their registry order); a histogram gives its
// count.
func scrape(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			if len(m.GetLabel()) > 0 {
				key += "{"
				for i, l := range m.GetLabel() {
					if i > 0 {
						key += ","
					}
					key += l.GetName() + "=" + l.GetValue()
				}
				key += "}"
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// TestMetrics submits generated events (valid, invalid, too late) and
// events of a kind the engine does not profile, and finds in the
// pipeline's metrics exactly what Submit answered: events by kind and
// decision, alerts by kind, profiles, the checkpoint gauges and readiness.
func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(t.Context(), dir, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	alerts := newMemAlerts()
	p := pipeline.New(pipeline.Config{CheckpointEvery: -1}, newEngine(t), j, alerts, slog.New(slog.DiscardHandler))
	if p.Ready() == nil {
		t.Fatal("ready before Recover")
	}
	if got := scrape(t, p.Collector())["occsimore_pipeline_ready"]; got != 0 {
		t.Errorf("occsimore_pipeline_ready %g before Recover", got)
	}
	if err := p.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := p.Ready(); err != nil {
		t.Fatalf("not ready after Recover: %v", err)
	}

	evs := genEvents(7, "mem_a", "e", 3000)
	last := evs[len(evs)-1].Time
	for i := range 5 {
		evs = append(evs, occsimore.Event{ID: "x" + string(rune('a'+i)), Kind: "x.custom", Time: last})
	}
	out := submit(t, p, "mem_a", evs, 64)

	want := map[string]float64{}
	cards := map[string]bool{}
	for i, s := range out {
		kind := evs[i].Kind
		if kind != "card.tx" && kind != "auth.login" && kind != "cloud.api" {
			kind = "other"
		}
		d := string(s.Decision)
		if s.Err != nil {
			d = "refused"
		} else if evs[i].Kind == "card.tx" {
			cards[evs[i].Card] = true
		}
		want["occsimore_events_total{decision="+d+",kind="+kind+"}"]++
	}
	for _, a := range alerts.alerts {
		want["occsimore_alerts_total{kind="+a.Kind+"}"]++
	}
	got := scrape(t, p.Collector())
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %g, want %g", k, got[k], v)
		}
	}
	if want["occsimore_events_total{decision=refused,kind=other}"] != 5 {
		t.Errorf("the test's other kind: %v", want)
	}
	if len(alerts.alerts) == 0 || want["occsimore_events_total{decision=allow,kind=card.tx}"] == 0 {
		t.Fatalf("the test needs alerts and allowed events: %v", want)
	}
	// Every series of the counters is present from the start (pre-resolved),
	// at zero when nothing was counted.
	for _, k := range []string{"occsimore_events_total{decision=block,kind=cloud.api}", "occsimore_alerts_total{kind=other}"} {
		if _, ok := got[k]; !ok {
			t.Errorf("no series %s", k)
		}
	}
	if n := got["occsimore_profiles{kind=card.tx,role=card}"]; int(n) != len(cards) {
		t.Errorf("card profiles %g, want the %d cards scored", n, len(cards))
	}
	if got["occsimore_profile_bytes{kind=card.tx,role=card}"] <= 0 {
		t.Error("card profiles take no bytes")
	}
	if got["occsimore_pipeline_ready"] != 1 {
		t.Errorf("occsimore_pipeline_ready %g", got["occsimore_pipeline_ready"])
	}
	pending := got["occsimore_checkpoint_pending_events"]
	if pending <= 0 || pending > float64(len(evs)) {
		t.Errorf("pending events %g of %d submitted", pending, len(evs))
	}
	age := got["occsimore_checkpoint_age_seconds"]
	if age < 0 || age > 60 {
		t.Errorf("checkpoint age %gs (since recovery)", age)
	}
	// The journal's histograms come with the pipeline's: one append per batch.
	if got["occsimore_journal_append_duration_seconds"] < float64(len(evs)/64) {
		t.Errorf("journal appends %g", got["occsimore_journal_append_duration_seconds"])
	}

	time.Sleep(20 * time.Millisecond)
	before := scrape(t, p.Collector())["occsimore_checkpoint_age_seconds"]
	if err := p.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	got = scrape(t, p.Collector())
	if got["occsimore_checkpoint_pending_events"] != 0 {
		t.Errorf("pending events %g after a checkpoint", got["occsimore_checkpoint_pending_events"])
	}
	if a := got["occsimore_checkpoint_age_seconds"]; a >= before {
		t.Errorf("checkpoint age %gs after a checkpoint, %gs before", a, before)
	}

	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if p.Ready() == nil || scrape(t, p.Collector())["occsimore_pipeline_ready"] != 0 {
		t.Error("ready after Close")
	}
}

// TestMetricsCheckpointAgeAfterRestart: a restart from a snapshot reports
// the snapshot's age, not zero.
func TestMetricsCheckpointAgeAfterRestart(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, pipeline.Config{CheckpointEvery: -1}, newMemAlerts())
	submit(t, e.p, "mem_a", genEvents(3, "mem_a", "e", 200), 50)
	if err := e.p.Close(t.Context()); err != nil { // writes a snapshot
		t.Fatal(err)
	}
	e.j.Close()
	time.Sleep(1100 * time.Millisecond)
	e2 := open(t, dir, pipeline.Config{CheckpointEvery: -1}, newMemAlerts())
	got := scrape(t, e2.p.Collector())
	if a := got["occsimore_checkpoint_age_seconds"]; a < 1 || a > 60 {
		t.Errorf("checkpoint age %gs after a restart a second after the snapshot", a)
	}
	if got["occsimore_checkpoint_pending_events"] != 0 {
		t.Errorf("pending %g right after a snapshot", got["occsimore_checkpoint_pending_events"])
	}
}
