package train_test

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/model"
	"github.com/occsimore/occsimore/train"
)

// sliceReader is a LabelledReader over events in memory.
type sliceReader struct {
	evs    []occsimore.Event
	labels []bool
	i      int
}

func (r *sliceReader) Line() int { return r.i }

func (r *sliceReader) Next(ev *occsimore.Event) (bool, error) {
	if r.i >= len(r.evs) {
		return false, io.EOF
	}
	member := ev.MemberID
	*ev = r.evs[r.i]
	ev.MemberID = member
	r.i++
	return r.labels[r.i-1], nil
}

// fraudStream returns card transactions where fraud is a large amount at
// a terminal of its own, so that a model can learn it.
func fraudStream(n int) *sliceReader {
	r := rand.New(rand.NewPCG(3, 3))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sr := &sliceReader{}
	for i := range n {
		fraud := r.IntN(20) == 0
		card := r.IntN(50)
		ev := occsimore.Event{Kind: "card.tx", Time: t0.Add(time.Duration(i) * 7 * time.Minute),
			Card: fmt.Sprintf("card%d", card), Terminal: fmt.Sprintf("t%d", card%7), Amount: 20 + float64(card%5)*10 + r.Float64()*5}
		if fraud {
			ev.Amount *= 8
			ev.Terminal = "t-fraud"
		}
		sr.evs = append(sr.evs, ev)
		sr.labels = append(sr.labels, fraud)
	}
	return sr
}

func TestTrainFromEvents(t *testing.T) {
	t.Parallel()
	cfg := train.DefaultConfig()
	cfg.GBDT.Trees = 60
	ts, err := train.FromEvents(t.Context(), fraudStream(4000), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(ts.Y), 4000; got != want {
		t.Fatalf("%d rows, want %d", got, want)
	}
	mv, err := train.Fit(t.Context(), ts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if mv.Metrics.AUC < 0.8 {
		t.Fatalf("holdout AUC %.3f, want at least 0.8 on a learnable stream", mv.Metrics.AUC)
	}
	if got, want := mv.Metrics.HoldoutRows, 800; got != want {
		t.Fatalf("holdout rows %d, want %d (20%%)", got, want)
	}
	var gb model.GBDT
	if err := gb.UnmarshalBinary(mv.Data); err != nil {
		t.Fatalf("stored model does not decode: %v", err)
	}
	if got, want := gb.NumFeatures(), len(mv.FeatureNames); got != want {
		t.Fatalf("model has %d inputs for %d names", got, want)
	}
}

func TestTrainErrors(t *testing.T) {
	t.Parallel()
	cfg := train.DefaultConfig()

	// Out of time order: the error names the line.
	sr := fraudStream(10)
	sr.evs[6].Time = sr.evs[2].Time
	_, err := train.FromEvents(t.Context(), sr, cfg)
	if occsimore.ErrorCode(err) != occsimore.EINVALID || !strings.Contains(err.Error(), "line 7") {
		t.Fatalf("out-of-order event: error %v, want EINVALID naming line 7", err)
	}
	// A reader error passes through.
	boom := errors.New("boom")
	_, err = train.FromEvents(t.Context(), errReader{boom}, cfg)
	if !errors.Is(err, boom) {
		t.Fatalf("reader error: got %v", err)
	}
	// No fraud in the holdout.
	sr = fraudStream(200)
	for i := range sr.labels {
		sr.labels[i] = i < 50 && i%5 == 0
	}
	ts, err := train.FromEvents(t.Context(), sr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = train.Fit(t.Context(), ts, cfg)
	if occsimore.ErrorCode(err) != occsimore.EINVALID || !strings.Contains(err.Error(), "holdout") {
		t.Fatalf("holdout without fraud: error %v, want EINVALID about the holdout", err)
	}
	cfg.Kind = "no.such.kind"
	_, err = train.FromEvents(t.Context(), fraudStream(1), cfg)
	if got := occsimore.ErrorField(err); got != "kind" {
		t.Fatalf("unknown kind: error %v names %q, want kind", err, got)
	}
}

type errReader struct{ err error }

func (r errReader) Line() int                           { return 1 }
func (r errReader) Next(*occsimore.Event) (bool, error) { return false, r.err }
