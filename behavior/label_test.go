package behavior

import (
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// TestDelayedLabels: a replayed label reaches the engine only once the
// label delay has passed, never earlier.
func TestDelayedLabels(t *testing.T) {
	e, err := NewEngine(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	ev := occsimore.Event{MemberID: "mem_a", Kind: "card.tx", Time: t0, Card: "c1", Terminal: "t1", Amount: 30, Country: "FR"}
	var res Result
	if err := e.Process(&ev, &res); err != nil {
		t.Fatal(err)
	}
	risk := func() RiskView {
		t.Helper()
		v, ok := e.ProfileOf("mem_a", "card.tx", "terminal", "t1")
		if !ok || v.Risk == nil {
			t.Fatalf("terminal t1 has no risk view: %+v", v)
		}
		return *v.Risk
	}
	labels := DelayedLabels{Member: "mem_a", LabelDelay: 7 * 24 * time.Hour}
	labels.Add(t0, true, []occsimore.Entity{{Role: "terminal", ID: "t1"}})
	labels.Add(t0, true, nil) // an event without risk entities queues nothing

	if err := labels.Release(e, t0.Add(7*24*time.Hour-time.Second)); err != nil {
		t.Fatal(err)
	}
	if r := risk(); r.Labelled != 0 || r.Pending != 0 {
		t.Fatalf("label reached the engine a second before the delay: %+v", r)
	}
	if err := labels.Release(e, t0.Add(7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if r := risk(); r.Labelled+r.Pending == 0 {
		t.Fatalf("label did not reach the engine once the delay passed: %+v", r)
	}
	if got := len(labels.queue) - labels.head; got != 0 {
		t.Fatalf("%d labels still queued", got)
	}
}
