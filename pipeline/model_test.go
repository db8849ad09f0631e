package pipeline_test

import (
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/journal"
	"github.com/occsimore/occsimore/model"
	"github.com/occsimore/occsimore/pipeline"
	"github.com/occsimore/occsimore/sqlite"
	"github.com/occsimore/occsimore/sqlstore"
)

// weekendModel is a GBDT over the features (weekend, amount, a name the
// engine does not have) whose answer is known: fraud exactly on weekends.
// Its inputs are in another order than the engine's, so loading must map
// them by name.
func weekendModel(t *testing.T) *occsimore.ModelVersion {
	t.Helper()
	names := []string{"weekend", "amount", "no.such.feature"}
	r := rand.New(rand.NewPCG(7, 7))
	const n = 2000
	X := model.NewMatrix(n, len(names))
	y := make([]bool, n)
	for i := range n {
		row := X.Row(i)
		y[i] = i%5 == 0
		row[0] = 0
		if y[i] {
			row[0] = 1
		}
		row[1] = float32(10 + r.Float64()*100)
		row[2] = float32(math.NaN())
	}
	cfg := model.DefaultGBDT()
	cfg.Trees, cfg.LearningRate = 40, 0.3
	gb, err := model.TrainGBDT(t.Context(), X, y, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	data, err := gb.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return &occsimore.ModelVersion{Kind: "card.tx", Algorithm: "gbdt", FeatureNames: names,
		Review: 0.5, Block: 0.9, Source: "test", Data: data}
}

type modelEnv struct {
	db     *sqlstore.DB
	p      *pipeline.Pipeline
	member *occsimore.Member
	other  *occsimore.Member
	t      time.Time // the clock of the next event
}

// openModelEnv runs a pipeline over a real SQLite store whose members'
// engine thresholds are out of reach, so that only a model can flag.
func openModelEnv(t *testing.T) *modelEnv {
	t.Helper()
	db, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &modelEnv{db: db, t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} // a Monday
	for _, slug := range []string{"bank", "other"} {
		m := &occsimore.Member{Slug: slug, Name: slug, Sector: "banking"}
		if err := db.CreateMember(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		if slug == "bank" {
			e.member = m
		} else {
			e.other = m
		}
	}
	j, err := journal.Open(t.Context(), t.TempDir(), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	high := behavior.Thresholds{Review: 1e5, Block: 1e5}
	cfg := pipeline.Config{Models: db, MaxFuture: -1,
		Thresholds: map[string]behavior.Thresholds{e.member.ID: high, e.other.ID: high}}
	e.p = pipeline.New(cfg, newEngine(t), j, db, slog.New(slog.DiscardHandler))
	if err := e.p.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	return e
}

// event submits one card transaction of member on the given weekday
// (0 Sunday) and returns its result.
func (e *modelEnv) event(t *testing.T, member *occsimore.Member, weekday time.Weekday) occsimore.Scored {
	t.Helper()
	for e.t.Weekday() != weekday {
		e.t = e.t.Add(time.Hour)
	}
	ev := occsimore.Event{Kind: "card.tx", Time: e.t, Card: "c1", Terminal: "t1", Amount: 30, Country: "FR"}
	e.t = e.t.Add(time.Minute)
	out := make([]occsimore.Scored, 1)
	if err := e.p.Submit(t.Context(), member.ID, []occsimore.Event{ev}, out); err != nil {
		t.Fatal(err)
	}
	if out[0].Err != nil {
		t.Fatal(out[0].Err)
	}
	return out[0]
}

func (e *modelEnv) setStatus(t *testing.T, m *occsimore.ModelVersion, s occsimore.ModelStatus) {
	t.Helper()
	if _, err := e.db.SetModelStatus(t.Context(), m.MemberID, m.ID, s, e.t); err != nil {
		t.Fatal(err)
	}
	if err := e.p.ReloadModels(t.Context()); err != nil {
		t.Fatalf("ReloadModels: %v", err)
	}
}

func TestModelPromotionChangesDecisions(t *testing.T) {
	e := openModelEnv(t)
	m := weekendModel(t)
	if err := e.db.CreateModel(t.Context(), e.member.ID, m); err != nil {
		t.Fatal(err)
	}
	if err := e.p.ReloadModels(t.Context()); err != nil {
		t.Fatal(err)
	}

	// A candidate does nothing.
	s := e.event(t, e.member, time.Saturday)
	if s.Decision != occsimore.DecisionAllow || s.ModelScore != 0 || s.ShadowScore != 0 {
		t.Fatalf("Saturday with a candidate model: %+v, want allow and no model score", s)
	}

	// A shadow scores and never decides.
	e.setStatus(t, m, occsimore.ModelShadow)
	s = e.event(t, e.member, time.Saturday)
	if got, want := s.Decision, occsimore.DecisionAllow; got != want {
		t.Fatalf("Saturday with a shadow model: decision %s, want %s", got, want)
	}
	if s.ShadowScore < 0.9 || s.ShadowVersion != 1 || s.ModelScore != 0 || s.AlertID != "" {
		t.Fatalf("Saturday with a shadow model: %+v, want shadow score >= 0.9 of v1 and no alert", s)
	}
	if w := e.event(t, e.member, time.Wednesday); w.ShadowScore > 0.1 || w.Decision != occsimore.DecisionAllow {
		t.Fatalf("Wednesday with a shadow model: %+v, want a low shadow score", w)
	}
	states := e.p.Models(e.member.ID)
	if len(states) != 1 || states[0].Status != occsimore.ModelShadow || states[0].Scored != 2 || states[0].Block != 1 {
		t.Fatalf("Models() = %+v, want the shadow with 2 scored and 1 would-be block", states)
	}

	// Promoted, the model blocks Saturdays.
	e.setStatus(t, m, occsimore.ModelPromoted)
	s = e.event(t, e.member, time.Saturday)
	if got, want := s.Decision, occsimore.DecisionBlock; got != want {
		t.Fatalf("Saturday with the promoted model: decision %s (%+v), want %s", got, s, want)
	}
	if s.ModelScore < 0.9 || s.ModelVersion != 1 || s.AlertID == "" {
		t.Fatalf("Saturday with the promoted model: %+v, want model score >= 0.9 of v1 and an alert", s)
	}
	if len(s.Reasons) == 0 || s.Reasons[0].Code != "model_high" || !strings.Contains(s.Reasons[0].Text, "v1") {
		t.Fatalf("reasons %+v, want model_high first naming v1", s.Reasons)
	}
	if w := e.event(t, e.member, time.Wednesday); w.Decision != occsimore.DecisionAllow || w.ModelScore > 0.1 {
		t.Fatalf("Wednesday with the promoted model: %+v, want allow", w)
	}
	// Another member's events never meet bank's model.
	if o := e.event(t, e.other, time.Saturday); o.Decision != occsimore.DecisionAllow || o.ModelScore != 0 {
		t.Fatalf("other member's Saturday: %+v, want allow without a model", o)
	}

	// The alert's features were kept; labelled, they are a training row.
	a, err := e.db.FindAlert(t.Context(), e.member.ID, s.AlertID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Decision != occsimore.DecisionBlock {
		t.Fatalf("stored alert decision %s, want block", a.Decision)
	}
	if _, err := e.p.Label(t.Context(), e.member.ID, a.ID, occsimore.LabelFraud, "usr_test"); err != nil {
		t.Fatal(err)
	}
	rows, err := e.db.ListTrainingRows(t.Context(), e.member.ID, "card.tx", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	names := newEngine(t).FeatureNames("card.tx")
	if len(rows) != 1 || rows[0].AlertID != a.ID || rows[0].ModelID != m.ID || rows[0].Entity != "c1" ||
		rows[0].FeatureSet != occsimore.FeatureSetID(names) || len(rows[0].Features) != len(names) {
		t.Fatalf("training rows %+v, want the alert's row with %d features and model %s", rows, len(names), m.ID)
	}
	if got, want := rows[0].Features[2], float32(time.Saturday); got != want { // "weekday"
		t.Fatalf("stored weekday feature %v, want %v", got, want)
	}

	// Retired, it decides nothing again.
	e.setStatus(t, m, occsimore.ModelRetired)
	if s := e.event(t, e.member, time.Saturday); s.Decision != occsimore.DecisionAllow || s.ModelScore != 0 {
		t.Fatalf("Saturday after retiring: %+v, want allow without a model", s)
	}
}

// TestWatchModels checks that a promotion made in the store reaches a
// running pipeline without a call to ReloadModels.
func TestWatchModels(t *testing.T) {
	e := openModelEnv(t)
	m := weekendModel(t)
	if err := e.db.CreateModel(t.Context(), e.member.ID, m); err != nil {
		t.Fatal(err)
	}
	go e.p.WatchModels(t.Context(), time.Millisecond)
	if _, err := e.db.SetModelStatus(t.Context(), e.member.ID, m.ID, occsimore.ModelPromoted, e.t); err != nil {
		t.Fatal(err)
	}
	for len(e.p.Models(e.member.ID)) == 0 {
		if t.Context().Err() != nil {
			t.Fatal("the promoted model was never loaded")
		}
		time.Sleep(time.Millisecond)
	}
	if s := e.event(t, e.member, time.Saturday); s.Decision != occsimore.DecisionBlock {
		t.Fatalf("Saturday after a promotion seen by WatchModels: %+v, want block", s)
	}
}

func TestReloadModelsSkipsBadModel(t *testing.T) {
	e := openModelEnv(t)
	good := weekendModel(t)
	if err := e.db.CreateModel(t.Context(), e.member.ID, good); err != nil {
		t.Fatal(err)
	}
	bad := weekendModel(t)
	bad.Data = []byte("not a model")
	if err := e.db.CreateModel(t.Context(), e.other.ID, bad); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*occsimore.ModelVersion{good, bad} {
		if _, err := e.db.SetModelStatus(t.Context(), m.MemberID, m.ID, occsimore.ModelPromoted, e.t); err != nil {
			t.Fatal(err)
		}
	}
	err := e.p.ReloadModels(t.Context())
	if err == nil || !strings.Contains(err.Error(), bad.ID) {
		t.Fatalf("ReloadModels error %v, want one naming %s", err, bad.ID)
	}
	if s := e.event(t, e.member, time.Saturday); s.Decision != occsimore.DecisionBlock {
		t.Fatalf("the good model was not loaded beside the bad one: %+v", s)
	}
}
