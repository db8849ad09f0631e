package pipeline_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/journal"
	"github.com/occsimore/occsimore/pipeline"
)

// TestRecoverSkipsInvalidJournaledEvent writes, as a journal of an older
// release would hold it, a record with an event the live path now refuses
// (a finite amount of 1e160, which made a card's variance NaN and its
// profile unservable), and checks that Recover skips and logs it: the
// profile holds the other events, every value is finite (it encodes as
// JSON), and ingestion carries on.
func TestRecoverSkipsInvalidJournaledEvent(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	tx := func(id string, min int, amount float64) occsimore.Event {
		return occsimore.Event{MemberID: member, ID: id, Kind: "card.tx", Time: t0.Add(time.Duration(min) * time.Minute),
			Card: "c1", Amount: amount, Currency: "EUR", Country: "FR"}
	}
	bad := tx("bad", 2, 1e160)
	if bad.Validate() == nil {
		t.Fatal("an amount of 1e160 validates")
	}
	j, err := journal.Open(t.Context(), dir, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := journal.Record{Kind: journal.KindEvents, MemberID: member,
		Events: []occsimore.Event{tx("a", 0, 20), tx("b", 1, 25), bad, tx("c", 3, 22)}}
	if _, err := j.Append(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append(t.Context(), journal.Record{Kind: journal.KindEvents, MemberID: member, Events: []occsimore.Event{tx("d", 4, 1e300)}}); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	j, err = journal.Open(t.Context(), dir, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	var logs bytes.Buffer
	p := pipeline.New(pipeline.Config{CheckpointEvery: -1}, newEngine(t), j, newMemAlerts(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err := p.Recover(t.Context()); err != nil {
		t.Fatalf("recover: %v", err)
	}
	v, ok := p.Entity(member, "card", "c1")
	if !ok {
		t.Fatal("card c1 has no profile after replay")
	}
	if v.Events != 3 {
		t.Errorf("profile counts %d events, want the 3 valid ones", v.Events)
	}
	if b, err := json.Marshal(v); err != nil {
		t.Fatalf("profile does not encode (a NaN or infinity?): %v", err)
	} else if len(v.Numeric) == 0 || !strings.Contains(string(b), `"mean"`) {
		t.Fatalf("profile has no amount statistics to check: %s", b)
	}
	for _, want := range []string{"journal replay skips an invalid event", "event_id=bad", "field=amount", "event_id=d", "invalid=2"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	out := make([]occsimore.Scored, 1)
	if err := p.Submit(t.Context(), member, []occsimore.Event{tx("e", 5, 24)}, out); err != nil || out[0].Err != nil {
		t.Fatalf("submit after recovery: %v, %v", err, out[0].Err)
	}
	if v, _ := p.Entity(member, "card", "c1"); v.Events != 4 {
		t.Errorf("profile counts %d events after one more, want 4", v.Events)
	}
}
