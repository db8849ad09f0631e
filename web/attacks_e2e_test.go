package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/occsimore/occsimore"
)

// TestE2E_Attacks signs in with Chromium, opens the Attacks area from the
// navigation, and finds the chart drawn and a seeded attack in the table,
// under the console's real content security policy.
func TestE2E_Attacks(t *testing.T) {
	ctx := newBrowser(t)
	f := attackFixture(t, nil)
	seedDays(t, f, f.memberA, attackHistoryDays, weekly(f, attackHistoryDays))
	a := addAttack(t, f, f.memberA, occsimore.Attack{
		Scenario: "http-bf", Scope: occsimore.ScopeIP, Source: "203.0.113.50", Country: "DE",
		End: f.clock.Now().Add(-10 * time.Minute), Events: 25, Message: "http-bf: 25 failed logins on /login in 40s",
	})
	srv := httptest.NewServer(f.handler)
	t.Cleanup(srv.Close)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), f.readerA.Email),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/attacks"]`)),
		chromedp.Click(chromedp.CSS(`nav a[href="/attacks"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#member-attacks svg.chart`)),
	); err != nil {
		t.Fatalf("open Attacks: %v", err)
	}
	screenshot(t, ctx, "attacks")

	// The chart is laid out: the browser gives it a real size.
	box, err := chromedp.Run(ctx, chromedp.Dimensions(chromedp.CSS(`#member-attacks svg.chart`)))
	if err != nil {
		t.Fatalf("chart box: %v", err)
	}
	if box.Width < 300 || box.Height < 80 {
		t.Fatalf("chart is %v×%v px, want a visible chart", box.Width, box.Height)
	}
	// Its strokes come through as presentation attributes, not blocked styles.
	props, err := chromedp.Run(ctx, chromedp.ComputedStyle(chromedp.CSS(`#member-attacks svg.chart path[stroke="#1F4E79"]`)))
	if err != nil {
		t.Fatalf("history line: %v", err)
	}
	stroke := ""
	for _, p := range props {
		if p.Name == "stroke" {
			stroke = p.Value
		}
	}
	if got, want := stroke, "rgb(31, 78, 121)"; got != want {
		t.Fatalf("history line stroke = %q, want %q", got, want)
	}

	row := `tr[data-attack-id="` + a.ID + `"]`
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(row))); err != nil {
		t.Fatalf("seeded attack row: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(row)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"http-bf", "203.0.113.50", "DE", a.Message} {
		if !strings.Contains(text, want) {
			t.Fatalf("row %q lacks %q", text, want)
		}
	}
}
