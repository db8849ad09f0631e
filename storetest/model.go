package storetest

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlstore"
)

// runModels runs the ModelService contract, each subtest on a fresh store.
func runModels(t *testing.T, open Open) {
	contract{
		{"Models", testModels},
		{"ModelRejects", testModelRejects},
		{"ModelStatus", testModelStatus},
		{"ModelCrossMember", testModelCrossMember},
		{"AlertFeatures", testAlertFeatures},
		{"AlertFeaturesCrossMember", testAlertFeaturesCrossMember},
		{"ModelCascadeDelete", testModelCascadeDelete},
		{"ModelContextCanceled", testModelContextCanceled},
	}.run(t, open)
}

// newModel returns a valid candidate of kind with some bytes.
func newModel(kind string, data ...byte) *occsimore.ModelVersion {
	if len(data) == 0 {
		data = []byte{'O', 'C', 'G', 'B', 0, 0xff}
	}
	return &occsimore.ModelVersion{
		Kind:         kind,
		Algorithm:    "gbdt",
		FeatureNames: []string{"score", "card.amount.z_7d", "ünïcode"},
		Metrics:      occsimore.ModelMetrics{AUC: 0.91, AP: 0.1 + 0.2, CPK: 0.4, K: 100, TrainRows: 1000, TrainFrauds: 9, HoldoutRows: 250, HoldoutFrauds: 3, Trees: 42},
		Review:       0.5,
		Block:        0.9,
		Source:       "transactions.csv",
		Data:         data,
	}
}

func createModel(t *testing.T, db *sqlstore.DB, memberID string, m *occsimore.ModelVersion) *occsimore.ModelVersion {
	t.Helper()
	if err := db.CreateModel(t.Context(), memberID, m); err != nil {
		t.Fatalf("CreateModel(%s): %v", m.Kind, err)
	}
	return m
}

// nanEqual makes NaN metrics compare equal.
var nanEqual = cmpopts.EquateNaNs()

func testModels(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	now := time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.UTC)
	db.Now = func() time.Time { return now }
	a := createMember(t, db, "alpha", false)

	m1 := createModel(t, db, a.ID, newModel("card.tx", 1, 2, 3))
	m2 := createModel(t, db, a.ID, newModel("card.tx", 4, 5))
	undefined := newModel("auth.login")
	undefined.Metrics.AUC, undefined.Metrics.CPK = math.NaN(), math.NaN() // a holdout without frauds
	l1 := createModel(t, db, a.ID, undefined)

	for _, c := range []struct {
		m       *occsimore.ModelVersion
		version int
	}{{m1, 1}, {m2, 2}, {l1, 1}} {
		if got, want := c.m.Version, c.version; got != want {
			t.Fatalf("%s model version = %d, want %d", c.m.Kind, got, want)
		}
		if !strings.HasPrefix(c.m.ID, "mdl_") || c.m.MemberID != a.ID || c.m.Status != occsimore.ModelCandidate {
			t.Fatalf("created model = %+v, want an mdl_ ID, member %s, status candidate", c.m, a.ID)
		}
		if got, want := c.m.CreatedAt, now.Truncate(time.Microsecond); !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("CreatedAt = %v, want %v in UTC", got, want)
		}
		got, err := db.FindModel(ctx, a.ID, c.m.ID)
		if err != nil {
			t.Fatalf("FindModel: %v", err)
		}
		if diff := gocmp.Diff(c.m, got, nanEqual); diff != "" {
			t.Fatalf("FindModel mismatch (-want +got):\n%s", diff)
		}
		byVersion, err := db.FindModelVersion(ctx, a.ID, c.m.Kind, c.version)
		if err != nil {
			t.Fatalf("FindModelVersion: %v", err)
		}
		if diff := gocmp.Diff(c.m, byVersion, nanEqual); diff != "" {
			t.Fatalf("FindModelVersion mismatch (-want +got):\n%s", diff)
		}
	}
	if !math.IsNaN(l1.Metrics.AUC) {
		t.Fatal("the NaN AUC was changed by CreateModel")
	}

	_, err := db.FindModelVersion(ctx, a.ID, "card.tx", 7)
	wantCode(t, "FindModelVersion(7)", err, occsimore.ENOTFOUND)
	if msg := occsimore.ErrorMessage(err); !strings.Contains(msg, "7") || !strings.Contains(msg, "card.tx") {
		t.Fatalf("unknown version error %q does not name version 7 of card.tx", msg)
	}
	_, err = db.FindModel(ctx, a.ID, "mdl_unknown")
	wantCode(t, "FindModel(unknown)", err, occsimore.ENOTFOUND)

	list, err := db.ListModels(ctx, a.ID, occsimore.ModelFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// The list is newest first and carries no model bytes; all three share
	// one creation time, so the ID breaks the tie.
	want := []*occsimore.ModelVersion{m1, m2, l1}
	slices.SortFunc(want, func(x, y *occsimore.ModelVersion) int { return strings.Compare(y.ID, x.ID) })
	if diff := gocmp.Diff(want, list, nanEqual, cmpopts.IgnoreFields(occsimore.ModelVersion{}, "Data")); diff != "" {
		t.Fatalf("ListModels mismatch (-want +got):\n%s", diff)
	}
	for _, m := range list {
		if m.Data != nil {
			t.Fatalf("ListModels returned the bytes of %s", m.ID)
		}
	}
	cards, err := db.ListModels(ctx, a.ID, occsimore.ModelFilter{Kind: "card.tx"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(cards), 2; got != want {
		t.Fatalf("ListModels(kind card.tx) = %d models, want %d", got, want)
	}
	_, err = db.ListModels(ctx, a.ID, occsimore.ModelFilter{Status: "live"})
	wantField(t, "ListModels(status live)", err, "status")
}

func testModelRejects(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	for _, c := range []struct {
		name  string
		edit  func(m *occsimore.ModelVersion)
		field string
	}{
		{"bad kind", func(m *occsimore.ModelVersion) { m.Kind = "Card TX" }, "kind"},
		{"not a candidate", func(m *occsimore.ModelVersion) { m.Status = occsimore.ModelPromoted }, "status"},
		{"no features", func(m *occsimore.ModelVersion) { m.FeatureNames = nil }, "feature_names"},
		{"no data", func(m *occsimore.ModelVersion) { m.Data = nil }, "data"},
		{"review above block", func(m *occsimore.ModelVersion) { m.Review, m.Block = 0.9, 0.5 }, "review"},
		{"block above one", func(m *occsimore.ModelVersion) { m.Block = 1.5 }, "review"},
		{"no algorithm", func(m *occsimore.ModelVersion) { m.Algorithm = "" }, "algorithm"},
	} {
		m := newModel("card.tx")
		c.edit(m)
		wantField(t, c.name, db.CreateModel(t.Context(), a.ID, m), c.field)
	}
	err := db.CreateModel(t.Context(), "mem_unknown", newModel("card.tx"))
	wantCode(t, "CreateModel(unknown member)", err, occsimore.ENOTFOUND)
	list, err := db.ListModels(t.Context(), a.ID, occsimore.ModelFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Fatalf("rejected models were stored: %d", len(list))
	}
	// A given ID is kept, and given twice it conflicts.
	m := newModel("card.tx")
	m.ID = "mdl_given"
	createModel(t, db, a.ID, m)
	dup := newModel("card.tx")
	dup.ID = "mdl_given"
	wantCode(t, "CreateModel(duplicate ID)", db.CreateModel(t.Context(), a.ID, dup), occsimore.ECONFLICT)
}

func testModelStatus(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	b := createMember(t, db, "bravo", false)
	v := make([]*occsimore.ModelVersion, 5)
	for i := range v {
		v[i] = createModel(t, db, a.ID, newModel("card.tx"))
	}
	login := createModel(t, db, a.ID, newModel("auth.login"))
	other := createModel(t, db, b.ID, newModel("card.tx"))

	set := func(m *occsimore.ModelVersion, s occsimore.ModelStatus, at time.Time) *occsimore.ModelVersion {
		t.Helper()
		got, err := db.SetModelStatus(ctx, m.MemberID, m.ID, s, at)
		if err != nil {
			t.Fatalf("SetModelStatus(v%d, %s): %v", m.Version, s, err)
		}
		if got.Status != s || got.ID != m.ID {
			t.Fatalf("SetModelStatus(v%d, %s) returned %s with status %s", m.Version, s, got.ID, got.Status)
		}
		return got
	}
	status := func(m *occsimore.ModelVersion) occsimore.ModelStatus {
		t.Helper()
		got, err := db.FindModel(ctx, m.MemberID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}

	p := set(v[0], occsimore.ModelPromoted, t0)
	if !p.PromotedAt.Equal(t0) {
		t.Fatalf("PromotedAt = %v, want %v", p.PromotedAt, t0)
	}
	set(login, occsimore.ModelPromoted, t0)
	set(other, occsimore.ModelPromoted, t0)
	// Promoting v2 retires v1 of the same member and kind only.
	set(v[1], occsimore.ModelPromoted, t0.Add(time.Hour))
	if got, want := status(v[0]), occsimore.ModelRetired; got != want {
		t.Fatalf("v1 after promoting v2 = %s, want %s", got, want)
	}
	if status(login) != occsimore.ModelPromoted || status(other) != occsimore.ModelPromoted {
		t.Fatal("promoting v2 of card.tx of alpha changed another kind's or member's promoted model")
	}
	// Shadowing v4 returns shadow v3 to candidate.
	set(v[2], occsimore.ModelShadow, t0)
	set(v[3], occsimore.ModelShadow, t0)
	if got, want := status(v[2]), occsimore.ModelCandidate; got != want {
		t.Fatalf("v3 after shadowing v4 = %s, want %s", got, want)
	}
	// Setting the status a model has changes nothing.
	again := set(v[3], occsimore.ModelShadow, t0.Add(time.Hour))
	if !again.UpdatedAt.Equal(t0) {
		t.Fatalf("re-shadowing v4 moved UpdatedAt to %v", again.UpdatedAt)
	}

	active, err := db.ActiveModels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range active {
		if m.Data != nil {
			t.Fatalf("ActiveModels returned the bytes of %s", m.ID)
		}
		got = append(got, m.MemberID+"/"+m.Kind+"/"+string(m.Status)+"/"+m.ID)
	}
	want := []string{
		a.ID + "/card.tx/promoted/" + v[1].ID, a.ID + "/card.tx/shadow/" + v[3].ID,
		a.ID + "/auth.login/promoted/" + login.ID, b.ID + "/card.tx/promoted/" + other.ID,
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("ActiveModels =\n%v\nwant\n%v", got, want)
	}

	// A shadow promoted stops being the shadow; a retired model can be
	// promoted back (a rollback).
	set(v[3], occsimore.ModelPromoted, t0.Add(2*time.Hour))
	if got, want := status(v[1]), occsimore.ModelRetired; got != want {
		t.Fatalf("v2 after promoting v4 = %s, want %s", got, want)
	}
	set(v[0], occsimore.ModelPromoted, t0.Add(3*time.Hour))
	if got, want := status(v[3]), occsimore.ModelRetired; got != want {
		t.Fatalf("v4 after rolling back to v1 = %s, want %s", got, want)
	}
	set(v[4], occsimore.ModelRetired, t0)

	_, err = db.SetModelStatus(ctx, a.ID, v[4].ID, "live", t0)
	wantField(t, "SetModelStatus(live)", err, "status")
	_, err = db.SetModelStatus(ctx, a.ID, "mdl_unknown", occsimore.ModelPromoted, t0)
	wantCode(t, "SetModelStatus(unknown)", err, occsimore.ENOTFOUND)
}

func testModelCrossMember(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	b := createMember(t, db, "bravo", false)
	m := createModel(t, db, a.ID, newModel("card.tx"))
	mb := createModel(t, db, b.ID, newModel("card.tx"))
	if got, want := mb.Version, 1; got != want {
		t.Fatalf("bravo's first model is version %d, want %d: versions count per member", got, want)
	}

	_, err := db.FindModel(ctx, b.ID, m.ID)
	wantCode(t, "FindModel(other member)", err, occsimore.ENOTFOUND)
	_, err = db.SetModelStatus(ctx, b.ID, m.ID, occsimore.ModelPromoted, t0)
	wantCode(t, "SetModelStatus(other member)", err, occsimore.ENOTFOUND)
	list, err := db.ListModels(ctx, b.ID, occsimore.ModelFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != mb.ID {
		t.Fatalf("ListModels(bravo) = %v, want only bravo's model", list)
	}
	got, err := db.FindModel(ctx, a.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != occsimore.ModelCandidate {
		t.Fatalf("alpha's model is %s after bravo tried to promote it", got.Status)
	}
}

func testAlertFeatures(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	alerts := make([]*occsimore.Alert, 4)
	for i := range alerts {
		alerts[i] = newAlert("card.tx", occsimore.DecisionReview, 5, t0.Add(time.Duration(i)*time.Minute), map[string]string{"card": "c1"})
		alerts[i].Time = t0.Add(time.Duration(3-i) * time.Hour) // event times in reverse order of creation
	}
	login := newAlert("auth.login", occsimore.DecisionReview, 5, t0, map[string]string{"user": "u1"})
	createAlerts(t, db, a.ID, append(slices.Clone(alerts), login)...)

	nan := float32(math.NaN())
	rows := make([]*occsimore.AlertFeatures, len(alerts))
	for i, al := range alerts {
		rows[i] = &occsimore.AlertFeatures{AlertID: al.ID, Kind: "card.tx", Time: al.Time, Entity: "c1",
			FeatureSet: "f00d", Features: []float32{float32(i), nan, -1.5e-7}}
	}
	rows[1].ModelID, rows[1].ModelScore = "mdl_live", 0.75
	rows[2].ShadowID, rows[2].ShadowScore = "mdl_shadow", 0
	loginRow := &occsimore.AlertFeatures{AlertID: login.ID, Kind: "auth.login", Time: login.Time, Entity: "u1",
		FeatureSet: "beef", Features: []float32{1}}
	if err := db.SaveAlertFeatures(ctx, a.ID, append(slices.Clone(rows), loginRow)); err != nil {
		t.Fatalf("SaveAlertFeatures: %v", err)
	}

	// Nothing is labelled yet: no training row.
	got, err := db.ListTrainingRows(ctx, a.ID, "card.tx", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("ListTrainingRows before labels = %d rows, want 0", len(got))
	}
	for i, l := range []occsimore.Label{occsimore.LabelFraud, occsimore.LabelLegit, occsimore.LabelFraud} {
		if _, err := db.LabelAlert(ctx, a.ID, alerts[i].ID, l, "usr_x", t0); err != nil {
			t.Fatal(err)
		}
		rows[i].Label = l
	}
	if _, err := db.LabelAlert(ctx, a.ID, login.ID, occsimore.LabelFraud, "usr_x", t0); err != nil {
		t.Fatal(err)
	}
	got, err = db.ListTrainingRows(ctx, a.ID, "card.tx", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// Oldest event first: alert 2, 1, 0 (alert 3 has no label).
	want := []*occsimore.AlertFeatures{rows[2], rows[1], rows[0]}
	for _, w := range want {
		w.Time = w.Time.UTC()
	}
	if diff := gocmp.Diff(want, got, cmpopts.EquateNaNs()); diff != "" {
		t.Fatalf("ListTrainingRows mismatch (-want +got):\n%s", diff)
	}
	// Bounds are on the event's time: since inclusive, until exclusive.
	got, err = db.ListTrainingRows(ctx, a.ID, "card.tx", alerts[1].Time, alerts[0].Time)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].AlertID != alerts[1].ID {
		t.Fatalf("ListTrainingRows(since alert 1, until alert 0) = %v, want alert 1 only", got)
	}

	// Saving an alert's features twice conflicts and stores nothing of the
	// batch.
	err = db.SaveAlertFeatures(ctx, a.ID, []*occsimore.AlertFeatures{rows[3], rows[0]})
	wantCode(t, "SaveAlertFeatures(twice)", err, occsimore.ECONFLICT)
	for _, c := range []struct {
		name  string
		row   *occsimore.AlertFeatures
		field string
	}{
		{"no alert", &occsimore.AlertFeatures{Time: t0, Features: []float32{1}}, "alert_id"},
		{"no time", &occsimore.AlertFeatures{AlertID: alerts[3].ID, Features: []float32{1}}, "time"},
		{"no features", &occsimore.AlertFeatures{AlertID: alerts[3].ID, Time: t0}, "features"},
	} {
		wantField(t, c.name, db.SaveAlertFeatures(ctx, a.ID, []*occsimore.AlertFeatures{c.row}), c.field)
	}
	err = db.SaveAlertFeatures(ctx, a.ID, []*occsimore.AlertFeatures{{AlertID: "alr_unknown", Time: t0, Features: []float32{1}}})
	wantCode(t, "SaveAlertFeatures(unknown alert)", err, occsimore.ENOTFOUND)
}

func testAlertFeaturesCrossMember(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	b := createMember(t, db, "bravo", false)
	al := newAlert("card.tx", occsimore.DecisionReview, 5, t0, map[string]string{"card": "c1"})
	createAlerts(t, db, a.ID, al)
	if _, err := db.LabelAlert(ctx, a.ID, al.ID, occsimore.LabelFraud, "usr_x", t0); err != nil {
		t.Fatal(err)
	}
	row := &occsimore.AlertFeatures{AlertID: al.ID, Kind: "card.tx", Time: al.Time, Features: []float32{1}}
	err := db.SaveAlertFeatures(ctx, b.ID, []*occsimore.AlertFeatures{row})
	wantCode(t, "SaveAlertFeatures(other member's alert)", err, occsimore.ENOTFOUND)
	if err := db.SaveAlertFeatures(ctx, a.ID, []*occsimore.AlertFeatures{row}); err != nil {
		t.Fatal(err)
	}
	got, err := db.ListTrainingRows(ctx, b.ID, "card.tx", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("bravo sees %d of alpha's training rows", len(got))
	}
}

func testModelCascadeDelete(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	createModel(t, db, a.ID, newModel("card.tx"))
	al := newAlert("card.tx", occsimore.DecisionReview, 5, t0, nil)
	createAlerts(t, db, a.ID, al)
	if err := db.SaveAlertFeatures(ctx, a.ID, []*occsimore.AlertFeatures{{AlertID: al.ID, Time: t0, Features: []float32{1}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, db.Rebind(`DELETE FROM members WHERE id = ?`), a.ID); err != nil {
		t.Fatalf("delete member: %v", err)
	}
	for _, table := range []string{"models", "alert_features"} {
		if got := countRows(t, db, table, a.ID); got != 0 {
			t.Fatalf("%s rows of a deleted member = %d, want 0", table, got)
		}
	}
}

func testModelContextCanceled(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	m := createModel(t, db, a.ID, newModel("card.tx"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"CreateModel": func() error { return db.CreateModel(ctx, a.ID, newModel("card.tx")) },
		"FindModel":   func() error { _, err := db.FindModel(ctx, a.ID, m.ID); return err },
		"ListModels":  func() error { _, err := db.ListModels(ctx, a.ID, occsimore.ModelFilter{}); return err },
		"SetModelStatus": func() error {
			_, err := db.SetModelStatus(ctx, a.ID, m.ID, occsimore.ModelPromoted, t0)
			return err
		},
		"ActiveModels": func() error { _, err := db.ActiveModels(ctx); return err },
		"ListTrainingRows": func() error {
			_, err := db.ListTrainingRows(ctx, a.ID, "card.tx", time.Time{}, time.Time{})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: error %v, want context.Canceled", name, err)
		}
	}
	got, err := db.FindModel(t.Context(), a.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != occsimore.ModelCandidate {
		t.Fatalf("model promoted despite a canceled context")
	}
}
