package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/model"
)

const chromiumPath = "/usr/bin/chromium"

// newBrowser starts headless Chromium for t, or skips t when it is not
// installed (but fails in CI, where a skip would hide the missing test).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: CI must run the browser test (apt-get install chromium)", chromiumPath)
		}
		t.Skipf("%s is missing; install it with `apt-get install chromium` to run the browser test", chromiumPath)
	}
	// A hung browser fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // tests run as root
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	return bctx
}

// screenshot saves the page as name.png in $OCCSIMORE_SCREENSHOTS, if set,
// for a person to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("OCCSIMORE_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestE2E_TokenLifecycle drives the console in Chromium over a real SQLite
// store: sign in, create a token, use its secret, revoke it.
func TestE2E_TokenLifecycle(t *testing.T) {
	ctx := newBrowser(t)
	f := newFixture(t, testConfig())
	srv := httptest.NewServer(f.handler)
	t.Cleanup(srv.Close)

	// Accept the "Revoke …?" confirmation that app.js asks for.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			if _, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
				return
			}
		}
	}()

	// Sign in; the __Host- cookie must stick on plain http://127.0.0.1.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/members"),
		chromedp.WaitVisible(chromedp.ID("email")),
	); err != nil {
		t.Fatalf("open sign-in page: %v", err)
	}
	screenshot(t, ctx, "login")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("email"), f.adminA.Email),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("tokens-h")),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}

	// Create a token and read the secret shown once.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("token-name"), "e2e-ingest"),
		chromedp.SetValue(chromedp.ID("token-role"), "ingest"),
		chromedp.SetValue(chromedp.ID("token-expires"), "7d"),
		chromedp.Click(chromedp.CSS(`form[action="/members/tokens"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("secret")),
	); err != nil {
		t.Fatalf("create token: %v", err)
	}
	screenshot(t, ctx, "token-created")
	bearer, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("secret")))
	if err != nil {
		t.Fatalf("read secret: %v", err)
	}
	id, secret, err := auth.ParseBearer(bearer)
	if err != nil {
		t.Fatalf("ParseBearer(%q): %v", bearer, err)
	}
	tok, err := f.db.LookupToken(ctx, id)
	if err != nil {
		t.Fatalf("LookupToken: %v", err)
	}
	if err := auth.CheckToken(tok, secret, f.clock.Now()); err != nil {
		t.Fatalf("the shown secret does not authenticate: %v", err)
	}
	if got, want := tok.Name, "e2e-ingest"; got != want {
		t.Errorf("token name = %q, want %q", got, want)
	}

	// Back on the list, the token is there and active.
	row := `tr[data-token-id="` + id + `"]`
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/members#tokens"]`)),
		chromedp.WaitVisible(chromedp.CSS(row)),
	); err != nil {
		t.Fatalf("token not listed: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(row), "data-status"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := status.Value, "active"; got != want {
		t.Fatalf("listed status = %q, want %q", got, want)
	}
	screenshot(t, ctx, "members")

	// Revoke it with its button, through the confirmation.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(row+` button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(row+`[data-status="revoked"]`)),
	); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	screenshot(t, ctx, "members-revoked")
	tok, err = f.db.LookupToken(ctx, id)
	if err != nil {
		t.Fatalf("LookupToken: %v", err)
	}
	if err := auth.CheckToken(tok, secret, f.clock.Now()); err == nil {
		t.Fatal("the revoked token still authenticates")
	}
}

// amountModel is a GBDT over the engine's card.tx feature "amount" that
// gives fraud above 200: the live model at version 1, the shadow at 2.
func amountModel(t *testing.T) *occsimore.ModelVersion {
	t.Helper()
	const n = 400
	X := model.NewMatrix(n, 1)
	y := make([]bool, n)
	for i := range n {
		X.Row(i)[0] = float32(5 * i % 1000)
		y[i] = X.Row(i)[0] > 200
	}
	cfg := model.DefaultGBDT()
	cfg.Trees = 10
	gb, err := model.TrainGBDT(t.Context(), X, y, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	data, err := gb.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return &occsimore.ModelVersion{Kind: "card.tx", Algorithm: "gbdt", FeatureNames: []string{"amount"},
		Review: 0.5, Block: 0.99, Source: "test", Data: data}
}

// TestE2E_LiveAlerts drives the alert queue in Chromium over a real
// pipeline with a live and a shadow model: a new alert appears live, shows
// both models' scores, is labelled, and its card's page shows the heat map.
func TestE2E_LiveAlerts(t *testing.T) {
	f, pl := newEventsFixture(t)
	if err := pl.SetThresholds(f.memberA.ID, behavior.Thresholds{Review: 0.001, Block: 1e6}); err != nil {
		t.Fatalf("set thresholds: %v", err)
	}
	for _, status := range []occsimore.ModelStatus{occsimore.ModelPromoted, occsimore.ModelShadow} {
		m := amountModel(t)
		if err := f.db.CreateModel(t.Context(), f.memberA.ID, m); err != nil {
			t.Fatalf("create model: %v", err)
		}
		if _, err := f.db.SetModelStatus(t.Context(), f.memberA.ID, m.ID, status, f.clock.Now()); err != nil {
			t.Fatalf("set model status: %v", err)
		}
	}
	if err := pl.ReloadModels(t.Context()); err != nil {
		t.Fatalf("reload models: %v", err)
	}
	srv := httptest.NewServer(f.handler)
	t.Cleanup(srv.Close)
	// Started after the server, so the browser, and its alert stream, closes first.
	ctx := newBrowser(t)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/alerts"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), f.adminA.Email),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitReady(chromedp.CSS(`tbody[data-live="open"]`)),
	); err != nil {
		t.Fatalf("open the live queue: %v", err)
	}

	// The stream is open: raise an alert and watch it arrive.
	// Ten habitual payments, then a rupture: 25 times the amount, abroad.
	evs := cardHistory("card-e2e-1", 10, f.clock.Now())
	last := &evs[len(evs)-1]
	last.Amount, last.Country = 500, "BR"
	out := make([]occsimore.Scored, len(evs))
	if err := pl.Submit(t.Context(), f.memberA.ID, evs, out); err != nil {
		t.Fatalf("submit: %v", err)
	}
	id := out[len(out)-1].AlertID
	if id == "" {
		t.Fatal("the last event raised no alert")
	}
	row := `tr.fresh[data-alert-id="` + id + `"]`
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(row))); err != nil {
		t.Fatalf("live alert row: %v", err)
	}
	screenshot(t, ctx, "alerts-live")

	// Open it: it shows what both models gave the event. Then label it
	// fraud.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(row+` td.when a`)),
		chromedp.WaitVisible(chromedp.ID("reasons-h")),
	); err != nil {
		t.Fatalf("open alert: %v", err)
	}
	live, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("model-score")))
	if err != nil {
		t.Fatalf("live model score: %v", err)
	}
	shadow, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("shadow-score")))
	if err != nil {
		t.Fatalf("shadow model score: %v", err)
	}
	s := out[len(out)-1]
	if s.ModelVersion != 1 || s.ShadowVersion != 2 || s.ModelScore < 0.5 {
		t.Fatalf("the rupture's model scores: live v%d %.3f, shadow v%d %.3f; want v1 above 0.5 and v2",
			s.ModelVersion, s.ModelScore, s.ShadowVersion, s.ShadowScore)
	}
	if got, want := live, fmt.Sprintf("%.3f fraud probability", s.ModelScore); got != want {
		t.Errorf("live model score shows %q, want %q", got, want)
	}
	if got, want := shadow, fmt.Sprintf("%.3f fraud probability, recorded only", s.ShadowScore); got != want {
		t.Errorf("shadow model score shows %q, want %q", got, want)
	}
	screenshot(t, ctx, "alert-models")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button[name="label"][value="fraud"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.badge.label-fraud`)),
	); err != nil {
		t.Fatalf("label alert: %v", err)
	}
	screenshot(t, ctx, "alert-labelled")
	a, err := f.db.FindAlert(t.Context(), f.memberA.ID, id)
	if err != nil {
		t.Fatalf("find alert: %v", err)
	}
	if got, want := a.Label, occsimore.LabelFraud; got != want {
		t.Fatalf("stored label = %q, want %q", got, want)
	}

	// Its card's page draws the hour-of-week heat map.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/entities/card/card-e2e-1"]`)),
		chromedp.WaitVisible(chromedp.CSS(`svg.heatmap`)),
	); err != nil {
		t.Fatalf("entity page: %v", err)
	}
	screenshot(t, ctx, "entity")
}
