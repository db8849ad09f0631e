package pipeline_test

import (
	"testing"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/pipeline"
)

// ipMatcher matches the events from one address.
type ipMatcher struct{ ip string }

func (m ipMatcher) MatchBatch(_ string, evs []occsimore.Event, dst []occsimore.Reason) int {
	n := 0
	for k := range evs {
		dst[k] = occsimore.Reason{}
		if evs[k].IP == m.ip {
			dst[k] = occsimore.Reason{Code: "shared_indicator", Role: "ip", Text: "seen elsewhere", Score: 0.8}
			n++
		}
	}
	return n
}

// TestMatcherRaisesNeverLowers: the same events through two pipelines, one
// with a matcher: matched events are at least review, with the shared
// reason first and an alert; every other event gets exactly the same
// outcome as without the matcher; a blocked event stays blocked.
func TestMatcherRaisesNeverLowers(t *testing.T) {
	evs := genEvents(3, member, "m", 3000)
	const ip = "10.0.1.2"
	// Low block threshold: some of the address's events are blocked by
	// the engine already.
	thr := map[string]behavior.Thresholds{member: {Review: 1, Block: 2}}
	plain := open(t, t.TempDir(), pipeline.Config{Thresholds: thr}, newMemAlerts())
	matched := open(t, t.TempDir(), pipeline.Config{Thresholds: thr}, newMemAlerts())
	matched.p.SetMatcher(ipMatcher{ip})
	want := submit(t, plain.p, member, append([]occsimore.Event(nil), evs...), 64)
	got := submit(t, matched.p, member, append([]occsimore.Event(nil), evs...), 64)
	n, blocked := 0, 0
	for i := range evs {
		if want[i].Err != nil {
			continue
		}
		if evs[i].IP != ip {
			if got[i].Decision != want[i].Decision || got[i].Score != want[i].Score || len(got[i].Reasons) != len(want[i].Reasons) {
				t.Fatalf("event %d not matched but changed: %+v, want %+v", i, got[i], want[i])
			}
			continue
		}
		n++
		if want[i].Decision == occsimore.DecisionBlock {
			blocked++
			if got[i].Decision != occsimore.DecisionBlock {
				t.Errorf("event %d: blocked without the matcher, %s with it", i, got[i].Decision)
			}
		}
		if got[i].Decision == occsimore.DecisionAllow || len(got[i].Reasons) == 0 || got[i].Reasons[0].Code != "shared_indicator" || got[i].AlertID == "" {
			t.Fatalf("matched event %d: %+v", i, got[i])
		}
		if got[i].Score < want[i].Score || got[i].Score < 0.8 {
			t.Errorf("matched event %d: score %g, was %g", i, got[i].Score, want[i].Score)
		}
	}
	if n == 0 {
		t.Fatal("no event from the matched address")
	}
	t.Logf("%d events matched, %d of them blocked by the engine", n, blocked)
}
