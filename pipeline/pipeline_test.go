package pipeline_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/journal"
	"github.com/occsimore/occsimore/pipeline"
)

const member = "mem_bank"

// lowThresholds make alerts certain in a few hundred events.
var lowThresholds = map[string]behavior.Thresholds{member: {Review: 3, Block: 1000}}

// journaled returns the events the journal holds, in order.
func journaled(t *testing.T, j *journal.Journal, from uint64) []occsimore.Event {
	t.Helper()
	var evs []occsimore.Event
	err := j.Replay(t.Context(), from, func(seq uint64, rec journal.Record) error {
		evs = append(evs, rec.Events...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestSubmit(t *testing.T) {
	e := open(t, t.TempDir(), pipeline.Config{Thresholds: lowThresholds}, newMemAlerts())
	evs := genEvents(1, member, "e", 400)
	evs[5].ID = ""
	evs[6].MemberID = "mem_other" // a client cannot choose the member
	future := occsimore.Event{ID: "future", Kind: "card.tx", Card: "card01", Time: time.Now().Add(time.Hour)}
	evs = append(evs, future)
	out := submit(t, e.p, member, evs, 50)

	if got := evs[5].ID; !strings.HasPrefix(got, "evt_") || out[5].EventID != got {
		t.Fatalf("assigned ID %q, result ID %q", got, out[5].EventID)
	}
	var refusedEarly, refusedLate, alerts, allowed int
	for i, s := range out {
		ev := &evs[i]
		if got, want := ev.MemberID, member; got != want {
			t.Fatalf("event %d member = %q, want %q", i, got, want)
		}
		switch {
		case ev.Validate() != nil || ev.ID == "future":
			if s.Err == nil {
				t.Fatalf("event %d (%s) was accepted: %+v", i, ev.ID, ev)
			}
			refusedEarly++
		case ev.Card == "card07" && ev.Amount == 12: // genEvents' late events
			if got, want := occsimore.ErrorField(s.Err), "time"; got != want {
				t.Fatalf("late event %d: err %v, want one about %s", i, s.Err, want)
			}
			refusedLate++
		case s.Err != nil:
			t.Fatalf("event %d refused: %v", i, s.Err)
		case s.Decision == occsimore.DecisionAllow:
			if s.Score >= 3 || s.AlertID != "" || s.Reasons != nil {
				t.Fatalf("allowed event %d: %+v", i, s)
			}
			allowed++
		default:
			if s.Score < 3 || s.AlertID == "" || len(s.Reasons) == 0 {
				t.Fatalf("flagged event %d: %+v", i, s)
			}
			a, err := e.alerts.FindAlert(t.Context(), member, s.AlertID)
			if err != nil {
				t.Fatal(err)
			}
			if a.EventID != ev.ID || a.Score != s.Score || a.Decision != s.Decision || a.Kind != ev.Kind || !a.Time.Equal(ev.Time) {
				t.Fatalf("alert %+v does not match event %d result %+v", a, i, s)
			}
			if a.Reasons[0].Text == "" || a.Reasons[0].Code == "" {
				t.Fatalf("alert reason not rendered: %+v", a.Reasons[0])
			}
			if ev.Card != "" && a.Entities["card"] != ev.Card {
				t.Fatalf("alert entities %v miss card %s", a.Entities, ev.Card)
			}
			alerts++
		}
		if s.Err != nil && (s.AlertID != "" || s.Decision != "") {
			t.Fatalf("refused event %d has a result: %+v", i, s)
		}
	}
	if refusedEarly < 2 || refusedLate == 0 || alerts == 0 || allowed == 0 {
		t.Fatalf("generator gave %d invalid, %d late, %d alerts, %d allowed: want some of each", refusedEarly, refusedLate, alerts, allowed)
	}
	if got, want := e.alerts.count(), alerts; got != want {
		t.Fatalf("store holds %d alerts, want %d", got, want)
	}
	// The journal holds every event but the ones refused early, late ones
	// included, with the member set by the server.
	j := journaled(t, e.j, 1)
	if got, want := len(j), len(evs)-refusedEarly; got != want {
		t.Fatalf("journal holds %d events, want %d", got, want)
	}
	for _, ev := range j {
		if ev.MemberID != member {
			t.Fatalf("journaled event %s of member %q", ev.ID, ev.MemberID)
		}
	}
}

func TestSubmitChecks(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(t.Context(), dir, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	p := pipeline.New(pipeline.Config{}, newEngine(t), j, newMemAlerts(), nil)
	evs := genEvents(1, member, "e", 3)
	out := make([]occsimore.Scored, 3)
	if err := p.Submit(t.Context(), member, evs, out); occsimore.ErrorCode(err) != occsimore.EUNAVAILABLE {
		t.Fatalf("submit before recover: %v, want %s", err, occsimore.EUNAVAILABLE)
	}
	if err := p.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := p.Recover(t.Context()); err == nil {
		t.Fatal("second recover succeeded")
	}
	if err := p.Submit(t.Context(), member, evs, out[:2]); err == nil {
		t.Fatal("submit with a short result slice succeeded")
	}
	if err := p.Submit(t.Context(), "", evs, out); occsimore.ErrorCode(err) != occsimore.EINVALID {
		t.Fatalf("submit without member: %v", err)
	}
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := p.Submit(t.Context(), member, evs, out); occsimore.ErrorCode(err) != occsimore.EUNAVAILABLE {
		t.Fatalf("submit after close: %v, want %s", err, occsimore.EUNAVAILABLE)
	}
	if got, want := j.NextSeq(), uint64(1); got != want {
		t.Fatalf("journal NextSeq = %d: refused submits were journaled", got)
	}
}

// TestRecoverMatchesLive runs events and labels through a pipeline with
// automatic checkpoints, stops without a final checkpoint, and recovers a
// fresh engine from snapshot plus journal tail: it must equal the live one,
// and no alert may be created twice.
func TestRecoverMatchesLive(t *testing.T) {
	dir := t.TempDir()
	cfg := pipeline.Config{CheckpointEvery: 150, Thresholds: lowThresholds}
	alerts := newMemAlerts()
	live := open(t, dir, cfg, alerts)
	evs := genEvents(2, member, "e", 900)
	other := genEvents(3, "mem_pharma", "o", 200)
	for i := 0; i < len(evs); i += 100 {
		out := submit(t, live.p, member, evs[i:i+100], 25)
		submit(t, live.p, "mem_pharma", other[i/100*20:i/100*20+20], 20)
		// Label the first alert of each round, alternating verdicts.
		for _, s := range out {
			if s.AlertID != "" {
				l := occsimore.LabelFraud
				if i%200 == 0 {
					l = occsimore.LabelLegit
				}
				if _, err := live.p.Label(t.Context(), member, s.AlertID, l, "analyst"); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
	}
	snapSeq, r, ok, err := live.j.LatestSnapshot()
	if err != nil || !ok {
		t.Fatalf("no automatic checkpoint: ok=%v err=%v", ok, err)
	}
	r.Close()
	if snapSeq >= live.p.Seq() {
		t.Fatalf("snapshot at %d covers everything up to %d: the tail replay is untested", snapSeq, live.p.Seq())
	}
	nAlerts := alerts.count()
	want := stateOf(t, live.eng, member, entities(evs))
	wantOther := stateOf(t, live.eng, "mem_pharma", entities(other))
	if err := live.j.Close(); err != nil {
		t.Fatal(err)
	}

	got := open(t, dir, cfg, alerts)
	if g, w := got.p.Seq(), live.p.Seq(); g != w {
		t.Fatalf("recovered seq %d, want %d", g, w)
	}
	checkState(t, "recovered state", want, stateOf(t, got.eng, member, entities(evs)))
	checkState(t, "recovered state of the second member", wantOther, stateOf(t, got.eng, "mem_pharma", entities(other)))
	if g, w := alerts.count(), nAlerts; g != w {
		t.Fatalf("recover created alerts: %d, had %d", g, w)
	}
	// The per-member thresholds are back after the snapshot: the same
	// events get the same decisions.
	more := genEvents(4, member, "m", 200)
	for i := range more {
		more[i].Time = more[i].Time.Add(30 * 24 * time.Hour)
	}
	outRecovered := submit(t, got.p, member, more, 50)
	// The live engine, never restarted, must judge them identically.
	var res behavior.Result
	for i, s := range outRecovered {
		err := live.eng.Process(&more[i], &res)
		if (err != nil) != (s.Err != nil) {
			t.Fatalf("event %d: live error %v, recovered error %v", i, err, s.Err)
		}
		if err != nil {
			continue
		}
		if res.Score != s.Score || occsimore.Decision(res.Decision.String()) != s.Decision {
			t.Fatalf("event %d: live %g %s, recovered %g %s", i, res.Score, res.Decision, s.Score, s.Decision)
		}
	}
}

// TestConcurrentSubmit submits from many goroutines, for two members, with
// labels: group commit interleaves their records, and the engine must have
// applied them in journal order, as a replay does.
func TestConcurrentSubmit(t *testing.T) {
	dir := t.TempDir()
	cfg := pipeline.Config{CheckpointEvery: -1, Thresholds: lowThresholds}
	live := open(t, dir, cfg, newMemAlerts())
	members := []string{member, "mem_pharma"}
	all := map[string][]occsimore.Event{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 8 {
		m := members[g%2]
		evs := genEvents(uint64(10+g), m, fmt.Sprintf("g%d-", g), 240)
		mu.Lock()
		all[m] = append(all[m], evs...)
		mu.Unlock()
		wg.Go(func() {
			for i := 0; i < len(evs); i += 20 {
				out := make([]occsimore.Scored, 20)
				if err := live.p.Submit(t.Context(), m, evs[i:i+20], out); err != nil {
					t.Errorf("submit: %v", err)
					return
				}
				for _, s := range out {
					if s.AlertID != "" && i%60 == 0 {
						if _, err := live.p.Label(t.Context(), m, s.AlertID, occsimore.LabelFraud, "a"); err != nil {
							t.Errorf("label: %v", err)
						}
						break
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	appends, syncs := live.j.Stats()
	t.Logf("%d records in %d fsyncs", appends, syncs)
	live.j.Close()
	got := open(t, dir, cfg, newMemAlerts())
	for _, m := range members {
		if d := diffState(stateOf(t, live.eng, m, entities(all[m])), stateOf(t, got.eng, m, entities(all[m]))); d != "" {
			t.Fatalf("member %s: replayed state differs from live (-live +replayed):\n%s", m, d)
		}
	}
}

func TestLabel(t *testing.T) {
	// Labels decay from the event's time: label soon after the events.
	now := func() time.Time { return time.Date(2025, 1, 8, 12, 0, 0, 0, time.UTC) }
	e := open(t, t.TempDir(), pipeline.Config{Thresholds: lowThresholds, Now: now}, newMemAlerts())
	evs := genEvents(5, member, "e", 400)
	out := submit(t, e.p, member, evs, 100)
	var alertID string
	var ev occsimore.Event
	for i, s := range out {
		if s.AlertID != "" && evs[i].Terminal != "" {
			alertID, ev = s.AlertID, evs[i]
			break
		}
	}
	if alertID == "" {
		t.Fatal("no card alert to label")
	}
	before, ok := e.p.Entity(member, "terminal", ev.Terminal)
	if !ok || before.Risk == nil {
		t.Fatalf("terminal %s has no risk profile: %+v", ev.Terminal, before)
	}

	if _, err := e.p.Label(t.Context(), member, alertID, "maybe", "ana"); occsimore.ErrorCode(err) != occsimore.EINVALID {
		t.Fatalf("label %q: %v, want %s", "maybe", err, occsimore.EINVALID)
	}
	if _, err := e.p.Label(t.Context(), "mem_other", alertID, occsimore.LabelFraud, "ana"); occsimore.ErrorCode(err) != occsimore.ENOTFOUND {
		t.Fatalf("label of another member's alert: %v, want %s", err, occsimore.ENOTFOUND)
	}
	seq := e.j.NextSeq()
	a, err := e.p.Label(t.Context(), member, alertID, occsimore.LabelFraud, "ana")
	if err != nil {
		t.Fatal(err)
	}
	if a.Label != occsimore.LabelFraud || a.LabeledBy != "ana" || !a.LabeledAt.Equal(now()) {
		t.Fatalf("labelled alert: %+v", a)
	}
	if got, want := e.j.NextSeq(), seq+1; got != want {
		t.Fatalf("journal NextSeq after label = %d, want %d", got, want)
	}
	after, _ := e.p.Entity(member, "terminal", ev.Terminal)
	if got, was := after.Risk.Pending+after.Risk.Labelled, before.Risk.Pending+before.Risk.Labelled; got < was+0.5 {
		t.Fatalf("terminal labels %g after a fraud label, %g before", got, was)
	}
	m, _ := e.p.Entity(member, "merchant", ev.Merchant)
	if m.Risk == nil || m.Risk.Pending+m.Risk.Labelled < 0.5 {
		t.Fatalf("merchant %s did not get the label: %+v", ev.Merchant, m.Risk)
	}

	// The same label again is not counted twice.
	if _, err := e.p.Label(t.Context(), member, alertID, occsimore.LabelFraud, "bob"); err != nil {
		t.Fatal(err)
	}
	if got, want := e.j.NextSeq(), seq+1; got != want {
		t.Fatalf("relabelling journaled again: NextSeq %d, want %d", got, want)
	}
	var labels []journal.Label
	e.j.Replay(t.Context(), 1, func(_ uint64, rec journal.Record) error {
		if rec.Kind == journal.KindLabel {
			labels = append(labels, rec.Label)
		}
		return nil
	})
	if len(labels) != 1 || labels[0].AlertID != alertID || !labels[0].Fraud || !labels[0].EventTime.Equal(ev.Time) {
		t.Fatalf("journaled labels %+v, want one fraud label of %s", labels, alertID)
	}
	if got, want := len(labels[0].Entities), len(a.Entities); got != want {
		t.Fatalf("journaled label has %d entities, alert %d", got, want)
	}
}

func TestSubscribe(t *testing.T) {
	e := open(t, t.TempDir(), pipeline.Config{Thresholds: lowThresholds, SubscriberBuffer: 2}, newMemAlerts())
	slow, cancelSlow := e.p.Subscribe(member)
	other, cancelOther := e.p.Subscribe("mem_other")
	defer cancelOther()
	cancelled, cancel := e.p.Subscribe(member)
	cancel()
	cancel() // idempotent
	if _, ok := <-cancelled; ok {
		t.Fatal("cancelled subscription still open")
	}

	// Nobody reads slow: Submit must still return, with alerts dropped.
	out := submit(t, e.p, member, genEvents(6, member, "e", 400), 400)
	var ids []string
	for _, s := range out {
		if s.AlertID != "" {
			ids = append(ids, s.AlertID)
		}
	}
	if len(ids) < 3 {
		t.Fatalf("%d alerts, want at least 3 to overflow the buffer", len(ids))
	}
	if got, want := len(slow), 2; got != want {
		t.Fatalf("slow subscriber holds %d alerts, want its buffer of %d", got, want)
	}
	for _, want := range ids[:2] {
		if a := <-slow; a.ID != want || a.MemberID != member {
			t.Fatalf("received alert %s of %s, want %s", a.ID, a.MemberID, want)
		}
	}
	if got := len(other); got != 0 {
		t.Fatalf("another member's subscriber received %d alerts", got)
	}
	cancelSlow()
	if _, ok := <-slow; ok {
		t.Fatal("channel open after cancel")
	}
	if err := e.p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-other; ok {
		t.Fatal("Close left a subscription open")
	}
	late, cancelLate := e.p.Subscribe(member)
	defer cancelLate()
	if _, ok := <-late; ok {
		t.Fatal("subscription after Close is open")
	}
}

func TestAlertStoreFailure(t *testing.T) {
	alerts := newMemAlerts()
	e := open(t, t.TempDir(), pipeline.Config{Thresholds: lowThresholds}, alerts)
	boom := errors.New("database is down")
	alerts.fail = boom
	evs := genEvents(7, member, "e", 300)
	out := make([]occsimore.Scored, len(evs))
	err := e.p.Submit(t.Context(), member, evs, out)
	if !errors.Is(err, boom) {
		t.Fatalf("submit with a failing store: %v, want %v", err, boom)
	}
	// The batch is journaled and applied all the same: replay would apply it.
	if got, want := e.p.Seq(), uint64(1); got != want {
		t.Fatalf("seq = %d, want %d", got, want)
	}
	if _, ok := e.p.Entity(member, "card", evs[0].Card); !ok && evs[0].Card != "" {
		t.Fatal("events not applied")
	}
}

func TestCheckpointOnClose(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, pipeline.Config{CheckpointEvery: -1}, newMemAlerts())
	evs := genEvents(8, member, "e", 200)
	submit(t, e.p, member, evs, 50)
	if _, _, ok, _ := e.j.LatestSnapshot(); ok {
		t.Fatal("snapshot written with automatic checkpoints disabled")
	}
	want := stateOf(t, e.eng, member, entities(evs))
	if err := e.p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	seq, r, ok, err := e.j.LatestSnapshot()
	if err != nil || !ok || seq != e.p.Seq() {
		t.Fatalf("after Close: snapshot %d ok=%v err=%v, want one at %d", seq, ok, err, e.p.Seq())
	}
	r.Close()
	e.j.Close()
	got := open(t, dir, pipeline.Config{}, newMemAlerts())
	checkState(t, "state from the final snapshot", want, stateOf(t, got.eng, member, entities(evs)))
}

func TestEndSubscriptions(t *testing.T) {
	e := open(t, t.TempDir(), pipeline.Config{}, newMemAlerts())
	ch, cancel := e.p.Subscribe("mem_a")
	defer cancel()
	e.p.EndSubscriptions()
	if _, ok := <-ch; ok {
		t.Fatal("a subscription is still open after EndSubscriptions")
	}
	later, cancelLater := e.p.Subscribe("mem_a")
	defer cancelLater()
	if _, ok := <-later; ok {
		t.Fatal("a subscription made after EndSubscriptions is open")
	}
	// Ingestion goes on: streams end, events are still accepted.
	evs := genEvents(1, "mem_a", "c", 5)
	if err := e.p.Submit(t.Context(), "mem_a", evs, make([]occsimore.Scored, len(evs))); err != nil {
		t.Fatalf("submit after EndSubscriptions: %v", err)
	}
}
