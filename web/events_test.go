package web

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/journal"
	"github.com/occsimore/occsimore/pipeline"
)

// newEventsFixture is a fixture whose console has the Alerts and Entities
// areas over a real pipeline: behaviour engine, journal and the SQLite store.
func newEventsFixture(t *testing.T) (*fixture, *pipeline.Pipeline) {
	t.Helper()
	var pl *pipeline.Pipeline
	f := newFixtureWith(t, testConfig(), func(f *fixture) {
		eng, err := behavior.NewEngine(behavior.DefaultConfig())
		if err != nil {
			t.Fatalf("new engine: %v", err)
		}
		j, err := journal.Open(t.Context(), t.TempDir(), journal.Options{})
		if err != nil {
			t.Fatalf("open journal: %v", err)
		}
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		pl = pipeline.New(pipeline.Config{Now: f.clock.Now, Models: f.db}, eng, j, f.db, logger)
		if err := pl.Recover(t.Context()); err != nil {
			t.Fatalf("recover: %v", err)
		}
		t.Cleanup(func() {
			pl.Close(context.Background())
			j.Close()
		})
		f.console.SetEvents(pl, f.db)
	})
	return f, pl
}

// addAlert stores an alert for m directly, as the pipeline would.
func (f *fixture) addAlert(t *testing.T, m *occsimore.Member, card, reason string, decision occsimore.Decision) *occsimore.Alert {
	t.Helper()
	a := &occsimore.Alert{EventID: occsimore.NewID("evt"), Kind: "card.tx", Time: f.clock.Now(), Score: 14.2, Decision: decision,
		Reasons:  []occsimore.Reason{{Code: "amount_high", Role: "card", Text: reason, Score: 9.5}},
		Entities: map[string]string{"card": card}}
	if err := f.db.CreateAlerts(t.Context(), m.ID, []*occsimore.Alert{a}); err != nil {
		t.Fatalf("create alert: %v", err)
	}
	f.clock.Advance(time.Second) // distinct creation times keep the order stable
	return a
}

// cardHistory is n ordinary purchases of card in France, an hour apart,
// ending just before now.
func cardHistory(card string, n int, now time.Time) []occsimore.Event {
	evs := make([]occsimore.Event, n)
	for i := range evs {
		evs[i] = occsimore.Event{Kind: "card.tx", Time: now.Add(time.Duration(i-n) * time.Hour),
			Card: card, Merchant: "m-bakery", Amount: 20, Currency: "EUR", Country: "FR"}
	}
	return evs
}

func TestAlerts_QueueShowsOwnAlertsWithReasons(t *testing.T) {
	f, _ := newEventsFixture(t)
	older := f.addAlert(t, f.memberA, "card-a1", "amount 412.50 is 7.9σ above this card's usual 48.20", occsimore.DecisionReview)
	newer := f.addAlert(t, f.memberA, "card-a2", "first purchase from BR for this card", occsimore.DecisionBlock)
	other := f.addAlert(t, f.memberB, "card-b1", "secret reason of the weather service", occsimore.DecisionBlock)

	res, body := f.get(t, "/alerts", f.login(t, f.readerA))
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("GET /alerts: status %d, want %d; body:\n%s", got, want, body)
	}
	for _, want := range []string{
		"amount 412.50 is 7.9σ above this card&#39;s usual 48.20",
		"first purchase from BR for this card",
		`href="/entities/card/card-a1"`,
		`<span class="badge decision-block">block</span>`,
		`data-stream="/alerts/stream"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("queue lacks %q", want)
		}
	}
	if strings.Contains(body, other.ID) || strings.Contains(body, "secret reason") {
		t.Error("A's queue shows B's alert")
	}
	if i, j := strings.Index(body, newer.ID), strings.Index(body, older.ID); i < 0 || j < 0 || i > j {
		t.Errorf("newest alert is not first: positions %d and %d", i, j)
	}

	// Filters narrow the queue and turn off live rows.
	_, body = f.get(t, "/alerts?decision=review", f.login(t, f.readerA))
	if !strings.Contains(body, older.ID) || strings.Contains(body, newer.ID) {
		t.Error("decision=review did not select only the review alert")
	}
	if strings.Contains(body, "data-stream") {
		t.Error("a filtered queue subscribes to live rows")
	}
	res, _ = f.get(t, "/alerts?decision=maybe", f.login(t, f.readerA))
	if got, want := res.StatusCode, http.StatusBadRequest; got != want {
		t.Errorf("bad decision filter: status %d, want %d", got, want)
	}
}

func TestAlerts_OlderPages(t *testing.T) {
	f, _ := newEventsFixture(t)
	var ids []string
	for range alertsPageSize + 1 {
		ids = append(ids, f.addAlert(t, f.memberA, "card-a1", "odd amount", occsimore.DecisionReview).ID)
	}
	cookie := f.login(t, f.readerA)
	_, body := f.get(t, "/alerts", cookie)
	want := `href="/alerts?before=` + ids[1] + `"`
	if !strings.Contains(body, want) {
		t.Fatalf("first page lacks older link %s", want)
	}
	if strings.Contains(body, ids[0]) {
		t.Fatal("first page shows the oldest alert, beyond its size")
	}
	_, body = f.get(t, "/alerts?before="+ids[1], cookie)
	if !strings.Contains(body, ids[0]) || strings.Contains(body, ids[1]) {
		t.Fatal("second page does not hold exactly the oldest alert")
	}
	if strings.Contains(body, "Older alerts") {
		t.Error("last page links to older alerts")
	}
}

func TestAlerts_MemberIsolation(t *testing.T) {
	f, _ := newEventsFixture(t)
	b := f.addAlert(t, f.memberB, "card-b1", "secret reason of the weather service", occsimore.DecisionBlock)
	cookie := f.login(t, f.adminA)
	res, body := f.get(t, "/alerts/"+b.ID, cookie)
	if got, want := res.StatusCode, http.StatusNotFound; got != want {
		t.Fatalf("A reads B's alert: status %d, want %d", got, want)
	}
	if strings.Contains(body, "secret reason") {
		t.Fatal("404 page leaks B's alert")
	}
	res, _ = f.post(t, "/alerts/"+b.ID+"/label", url.Values{"label": {"fraud"}}, cookie)
	if got, want := res.StatusCode, http.StatusNotFound; got != want {
		t.Fatalf("A labels B's alert: status %d, want %d", got, want)
	}
	got, err := f.db.FindAlert(t.Context(), f.memberB.ID, b.ID)
	if err != nil {
		t.Fatalf("find B's alert: %v", err)
	}
	if got.Label != occsimore.LabelNone {
		t.Fatalf("B's alert label = %q after A's attempt, want none", got.Label)
	}
}

func TestAlerts_Labelling(t *testing.T) {
	f, _ := newEventsFixture(t)
	a := f.addAlert(t, f.memberA, "card-a1", "amount far above usual", occsimore.DecisionReview)
	path := "/alerts/" + a.ID

	// A reader sees the alert with its reasons but no label buttons, and may not post.
	reader := f.login(t, f.readerA)
	res, body := f.get(t, path, reader)
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("reader GET alert: status %d, want %d", got, want)
	}
	for _, want := range []string{"amount far above usual", "amount_high", `href="/entities/card/card-a1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("alert page lacks %q", want)
		}
	}
	if strings.Contains(body, `name="label"`) {
		t.Error("reader sees label buttons")
	}
	res, _ = f.post(t, path+"/label", url.Values{"label": {"fraud"}}, reader)
	if got, want := res.StatusCode, http.StatusForbidden; got != want {
		t.Fatalf("reader label: status %d, want %d", got, want)
	}

	// The admin (who has PermLabel) labels it; the label is stored.
	admin := f.login(t, f.adminA)
	_, body = f.get(t, path, admin)
	if !strings.Contains(body, `name="label" value="fraud"`) {
		t.Fatal("admin sees no fraud button")
	}
	res, _ = f.post(t, path+"/label", url.Values{"label": {"maybe"}}, admin)
	if got, want := res.StatusCode, http.StatusBadRequest; got != want {
		t.Fatalf("bad label: status %d, want %d", got, want)
	}
	res, _ = f.post(t, path+"/label", url.Values{"label": {"fraud"}}, admin)
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("label: status %d, want %d", got, want)
	}
	if got, want := res.Header.Get("Location"), path+"?done=labelled"; got != want {
		t.Fatalf("label redirect = %q, want %q", got, want)
	}
	stored, err := f.db.FindAlert(t.Context(), f.memberA.ID, a.ID)
	if err != nil {
		t.Fatalf("find alert: %v", err)
	}
	if got, want := stored.Label, occsimore.LabelFraud; got != want {
		t.Fatalf("stored label = %q, want %q", got, want)
	}
	if got, want := stored.LabeledBy, f.adminA.ID; got != want {
		t.Fatalf("labelled by = %q, want %q", got, want)
	}
	_, body = f.get(t, path+"?done=labelled", admin)
	if !strings.Contains(body, `<span class="badge label-fraud">fraud</span>`) || !strings.Contains(body, "Label saved.") {
		t.Fatal("alert page does not show the saved label")
	}
	_, body = f.get(t, "/alerts?label=fraud", reader)
	if !strings.Contains(body, a.ID) {
		t.Fatal("label=fraud filter does not list the labelled alert")
	}
	_, body = f.get(t, "/alerts?label=none", reader)
	if strings.Contains(body, a.ID) {
		t.Fatal("label=none filter lists the labelled alert")
	}
}

// TestAlerts_ModelScores shows the scores the models gave an alert's event,
// and no model section for an alert no model scored.
func TestAlerts_ModelScores(t *testing.T) {
	f, _ := newEventsFixture(t)
	scored := &occsimore.Alert{EventID: "evt-m", Kind: "cloud.api", Time: f.clock.Now(), Score: 3, Decision: occsimore.DecisionReview,
		Entities:   map[string]string{"user": "alice"},
		ModelScore: 0.8, ModelVersion: 3, ShadowScore: 0.25, ShadowVersion: 4, AnomalyScore: 0.999}
	if err := f.db.CreateAlerts(t.Context(), f.memberA.ID, []*occsimore.Alert{scored}); err != nil {
		t.Fatal(err)
	}
	plain := f.addAlert(t, f.memberA, "card-m1", "amount far above usual", occsimore.DecisionReview)
	reader := f.login(t, f.readerA)

	_, body := f.get(t, "/alerts/"+scored.ID, reader)
	for _, want := range []string{
		"Live model v3", `<span class="num">0.800</span>`,
		"Shadow model v4", `<span class="num">0.250</span>`,
		"Anomaly model (HST)", `<span class="num">99.9</span>`, "recent cloud.api events",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("alert page lacks %q", want)
		}
	}
	_, body = f.get(t, "/alerts/"+plain.ID, reader)
	if strings.Contains(body, `id="models-h"`) {
		t.Error("an alert no model scored shows model scores")
	}
}

func TestEntities_ProfilePage(t *testing.T) {
	f, pl := newEventsFixture(t)
	evs := cardHistory("card-hm-1", 30, f.clock.Now())
	out := make([]occsimore.Scored, len(evs))
	if err := pl.Submit(t.Context(), f.memberA.ID, evs, out); err != nil {
		t.Fatalf("submit: %v", err)
	}
	for i, s := range out {
		if s.Err != nil {
			t.Fatalf("event %d refused: %v", i, s.Err)
		}
	}

	cookie := f.login(t, f.readerA)
	res, body := f.get(t, "/entities/card/card-hm-1", cookie)
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("entity page: status %d, want %d; body:\n%s", got, want, body)
	}
	if !strings.Contains(body, `<svg class="heatmap"`) {
		t.Fatal("entity page has no heat map")
	}
	if got, want := strings.Count(body, "fill-opacity="), 7*24; got != want {
		t.Errorf("heat map cells = %d, want %d", got, want)
	}
	// All 30 events came from France: FR is the top country with its full share.
	if !strings.Contains(body, `<th scope="row" class="mono">FR</th>`) {
		t.Error("entity page lacks FR among top values")
	}
	if !strings.Contains(body, "<dd>30</dd>") {
		t.Error("entity page does not show 30 events")
	}

	// The search form leads to the page.
	res, _ = f.get(t, "/entities?role=card&id=card-hm-1", cookie)
	if got, want := res.Header.Get("Location"), "/entities/card/card-hm-1"; got != want {
		t.Errorf("entity search redirect = %q, want %q", got, want)
	}
	// Another member's entity, and an unknown one, are not found.
	res, body = f.get(t, "/entities/card/card-hm-1", f.login(t, f.adminB))
	if got, want := res.StatusCode, http.StatusNotFound; got != want {
		t.Fatalf("B reads A's card: status %d, want %d", got, want)
	}
	if strings.Contains(body, "heatmap") {
		t.Fatal("B's 404 shows A's profile")
	}
	res, _ = f.get(t, "/entities/card/nobody", cookie)
	if got, want := res.StatusCode, http.StatusNotFound; got != want {
		t.Fatalf("unknown entity: status %d, want %d", got, want)
	}
}

func TestAlerts_StreamDeliversNewAlert(t *testing.T) {
	f, pl := newEventsFixture(t)
	// A review threshold this low makes the outlier below an alert for sure.
	if err := pl.SetThresholds(f.memberA.ID, behavior.Thresholds{Review: 0.001, Block: 1e6}); err != nil {
		t.Fatalf("set thresholds: %v", err)
	}
	ts := httptest.NewServer(f.handler)
	defer ts.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/alerts/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(f.login(t, f.readerA))
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("open stream: %v", err)
	}
	defer res.Body.Close()
	if got, want := res.Header.Get("Content-Type"), "text/event-stream"; got != want {
		t.Fatalf("stream content type = %q, want %q", got, want)
	}

	// The headers arrived, so the handler has subscribed: publish now.
	evs := cardHistory("card-live-1", 10, f.clock.Now())
	evs = append(evs, occsimore.Event{Kind: "card.tx", Time: f.clock.Now(), Card: "card-live-1",
		Merchant: "m-jeweller", Amount: 9000, Currency: "EUR", Country: "BR"})
	// B's alerts must not reach A's stream.
	if err := pl.SetThresholds(f.memberB.ID, behavior.Thresholds{Review: 0.001, Block: 1e6}); err != nil {
		t.Fatalf("set thresholds: %v", err)
	}
	bEvs := cardHistory("card-b-live", 10, f.clock.Now())
	bEvs[len(bEvs)-1].Amount, bEvs[len(bEvs)-1].Country = 9000, "BR"
	bOut := make([]occsimore.Scored, len(bEvs))
	if err := pl.Submit(t.Context(), f.memberB.ID, bEvs, bOut); err != nil {
		t.Fatalf("submit B: %v", err)
	}
	if bOut[len(bOut)-1].AlertID == "" {
		t.Fatal("B's outlier raised no alert: the isolation check below would prove nothing")
	}
	out := make([]occsimore.Scored, len(evs))
	if err := pl.Submit(t.Context(), f.memberA.ID, evs, out); err != nil {
		t.Fatalf("submit: %v", err)
	}
	alertID := out[len(out)-1].AlertID
	if alertID == "" {
		t.Fatalf("the outlier raised no alert: %+v", out[len(out)-1])
	}

	// Read events until the outlier's alert arrives.
	sc := bufio.NewScanner(res.Body)
	var id, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			data += strings.TrimPrefix(line, "data: ") + "\n"
		case line == "" && id != "":
			if strings.Contains(data, "card-b-live") {
				t.Fatal("A's stream carried B's alert")
			}
			if id == alertID {
				if !strings.Contains(data, `<tr data-alert-id="`+alertID+`">`) || !strings.Contains(data, `href="/entities/card/card-live-1"`) {
					t.Fatalf("alert event data is not its row:\n%s", data)
				}
				return
			}
			id, data = "", ""
		}
	}
	t.Fatalf("stream ended before alert %s arrived: %v", alertID, sc.Err())
}
