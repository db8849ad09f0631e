package web

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/attackreport"
	"github.com/occsimore/occsimore/forecast"
)

// attackFixture is a console with the Attacks area over the real store.
func attackFixture(t *testing.T, setup func(*fixture)) *fixture {
	t.Helper()
	return newFixtureWith(t, testConfig(), func(f *fixture) {
		if setup != nil {
			setup(f)
		}
		f.console.SetAttacks(f.db, attackreport.New(f.db, f.clock.Now))
	})
}

// seedDays stores, for each of the n complete days before the fixture's
// today, perDay(i) attacks on m (i = 0 is the oldest day), each ending at
// noon, and returns how many it stored.
func seedDays(t *testing.T, f *fixture, m *occsimore.Member, n int, perDay func(i int) int) int {
	t.Helper()
	today := f.clock.Now().UTC().Truncate(24 * time.Hour)
	var batch []*occsimore.Attack
	for i := range n {
		end := today.AddDate(0, 0, i-n).Add(12 * time.Hour)
		for k := range perDay(i) {
			batch = append(batch, &occsimore.Attack{
				Scenario: "ssh-bf", Scope: occsimore.ScopeIP, Source: fmt.Sprintf("198.51.100.%d", k%250+1),
				Country: "NL", Start: end.Add(-time.Minute), End: end, Events: 6,
				Message: "ssh-bf: 6 failed logins",
			})
		}
	}
	if err := f.db.CreateAttacks(t.Context(), m.ID, batch); err != nil {
		t.Fatalf("seed attacks: %v", err)
	}
	return len(batch)
}

// weekly is a working-week pattern: 30 on weekdays, 10 at weekends, with a
// small deterministic wobble.
func weekly(f *fixture, n int) func(int) int {
	today := f.clock.Now().UTC().Truncate(24 * time.Hour)
	return func(i int) int {
		switch today.AddDate(0, 0, i-n).Weekday() {
		case time.Saturday, time.Sunday:
			return 10 + i%3
		}
		return 30 + i%5
	}
}

// addAttack stores one attack on m that ended at end.
func addAttack(t *testing.T, f *fixture, m *occsimore.Member, a occsimore.Attack) *occsimore.Attack {
	t.Helper()
	if a.Start.IsZero() {
		a.Start = a.End.Add(-30 * time.Second)
	}
	if err := f.db.CreateAttacks(t.Context(), m.ID, []*occsimore.Attack{&a}); err != nil {
		t.Fatalf("create attack: %v", err)
	}
	return &a
}

// section returns the HTML of the element with id, up to the next </section>.
func section(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no element %q in the page", id)
	}
	j := strings.Index(body[i:], "</section>")
	if j < 0 {
		t.Fatalf("element %q is not closed", id)
	}
	return body[i : i+j]
}

var totalRe = regexp.MustCompile(`<dt>Total</dt><dd>(\d+)</dd>`)

func chartTotal(t *testing.T, html string) int {
	t.Helper()
	m := totalRe.FindStringSubmatch(html)
	if m == nil {
		t.Fatal("no total in the chart section")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestAttacksPage(t *testing.T) {
	f := attackFixture(t, nil)
	total := seedDays(t, f, f.memberA, attackHistoryDays, weekly(f, attackHistoryDays))
	latest := addAttack(t, f, f.memberA, occsimore.Attack{
		Scenario: "http-probing", Scope: occsimore.ScopeIP, Source: "203.0.113.77", Country: "BR",
		End: f.clock.Now().Add(-time.Hour), Events: 41, Message: "http-probing: 41 404s in 20s <probe>",
	})
	// An attack older than the window is not counted.
	addAttack(t, f, f.memberA, occsimore.Attack{Scenario: "ssh-bf", Scope: occsimore.ScopeIP, Source: "192.0.2.1",
		End: f.clock.Now().AddDate(0, -6, 0), Events: 5, Message: "old"})

	res, body := f.get(t, "/attacks", f.login(t, f.readerA))
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("status %d, want %d; body:\n%s", got, want, body)
	}
	member := section(t, body, "member-attacks")
	if got, want := chartTotal(t, member), total; got != want {
		t.Fatalf("member total = %d, want %d", got, want)
	}
	if !strings.Contains(member, "<dt>Today so far</dt><dd>1</dd>") {
		t.Fatalf("today's count is not 1:\n%s", member)
	}
	if !strings.Contains(member, `<svg `) || !strings.Contains(member, `class="chart"`) || !strings.Contains(member, `aria-labelledby="member-chart-title"`) {
		t.Fatalf("no labelled chart SVG in the member section:\n%.2000s", member)
	}
	if got, want := strings.Count(member, `<tr><td class="when">`), attackHorizonDays; got != want {
		t.Fatalf("%d forecast rows, want %d", got, want)
	}
	if !strings.Contains(member, "Holt-Winters, period 7") {
		t.Fatalf("eight weeks were not modelled with weekly seasonality:\n%.1500s", member)
	}
	// The content security policy refuses inline styles and scripts.
	for _, bad := range []string{" style=", "\tstyle=", "\nstyle=", "<script>", "<?xml"} {
		if strings.Contains(body, bad) {
			t.Fatalf("the page contains %q", bad)
		}
	}
	if strings.Contains(body, `id="member-rise"`) {
		t.Fatalf("an ordinary week raised a rise alert:\n%s", section(t, body, "member-rise"))
	}
	// The latest attack heads the table, escaped.
	rows := section(t, body, "latest-h")
	first := strings.Index(rows, "data-attack-id=")
	if want := `data-attack-id="` + latest.ID + `"`; first < 0 || !strings.HasPrefix(rows[first:], want) {
		t.Fatalf("the latest attack %s is not first in the table:\n%s", latest.ID, rows)
	}
	if got, want := strings.Count(rows, "data-attack-id="), attacksPageSize; got != want {
		t.Fatalf("%d attacks listed, want a page of %d", got, want)
	}
	for _, want := range []string{"http-probing", "203.0.113.77", "BR", "http-probing: 41 404s in 20s &lt;probe&gt;"} {
		if !strings.Contains(rows, want) {
			t.Fatalf("the table lacks %q:\n%s", want, rows)
		}
	}
	// Banking has only North Bank: its total would be North Bank's own.
	if got := section(t, body, "sector-h"); !strings.Contains(got, `id="sector-too-small"`) {
		t.Fatalf("a one-member sector was shown:\n%s", got)
	}
}

// TestAttacksPageRise: yesterday's surge is announced with the forecast it
// beat.
func TestAttacksPageRise(t *testing.T) {
	f := attackFixture(t, nil)
	base := weekly(f, attackHistoryDays)
	seedDays(t, f, f.memberA, attackHistoryDays, func(i int) int {
		if i == attackHistoryDays-1 {
			return 400
		}
		return base(i)
	})
	_, body := f.get(t, "/attacks", f.login(t, f.adminA))
	i := strings.Index(body, `id="member-rise"`)
	if i < 0 {
		t.Fatal("no rise alert for 400 attacks after weeks of about 30")
	}
	alert := body[i : strings.Index(body[i:], "</p>")+i]
	// 2026-03-13 is the last complete day before the fixture's 14 March.
	if !strings.Contains(alert, "400 attacks on 2026-03-13, above the forecast ") || !strings.Contains(alert, "(95 % bound ") {
		t.Fatalf("rise alert = %q", alert)
	}
	// The alert states what the forecast package computes from the stored days.
	today := f.clock.Now().UTC().Truncate(24 * time.Hour)
	days, err := f.db.AttacksPerDay(t.Context(), f.memberA.ID, today.AddDate(0, 0, -attackHistoryDays), today)
	if err != nil {
		t.Fatal(err)
	}
	r, rose, err := forecast.DetectRise(days, forecast.Coverage)
	if err != nil || !rose {
		t.Fatalf("DetectRise: rose %v, err %v", rose, err)
	}
	if !strings.Contains(alert, r.Message()) {
		t.Fatalf("rise alert %q, want %q", alert, r.Message())
	}
}

// TestAttacksPageTodayRise: today's count so far above today's bound is a
// rise already.
func TestAttacksPageTodayRise(t *testing.T) {
	f := attackFixture(t, nil)
	seedDays(t, f, f.memberA, attackHistoryDays, weekly(f, attackHistoryDays))
	var batch []*occsimore.Attack
	for k := range 200 {
		end := f.clock.Now().Add(-time.Duration(k+1) * time.Minute)
		batch = append(batch, &occsimore.Attack{Scenario: "ssh-bf", Scope: occsimore.ScopeIP, Source: "192.0.2.9",
			Start: end, End: end, Events: 5, Message: "wave"})
	}
	if err := f.db.CreateAttacks(t.Context(), f.memberA.ID, batch); err != nil {
		t.Fatal(err)
	}
	_, body := f.get(t, "/attacks", f.login(t, f.adminA))
	i := strings.Index(body, `id="member-rise"`)
	if i < 0 {
		t.Fatal("no rise alert for 200 attacks this morning on a Saturday")
	}
	if alert := body[i : strings.Index(body[i:], "</p>")+i]; !strings.Contains(alert, "200 attacks on 2026-03-14, above the forecast ") {
		t.Fatalf("rise alert = %q", alert)
	}
}

// TestAttacksPageSector: the sector chart sums the sector's members and
// nothing else, and each member sees only its own attacks.
func TestAttacksPageSector(t *testing.T) {
	var bank2, bank3 *occsimore.Member
	f := attackFixture(t, func(f *fixture) {
		bank2 = f.addMember(t, "south-bank", "South Bank", "banking", false)
		bank3 = f.addMember(t, "east-bank", "East Bank", "banking", false)
	})
	a := seedDays(t, f, f.memberA, 20, func(int) int { return 3 })
	b2 := seedDays(t, f, bank2, attackHistoryDays, func(i int) int { return i % 4 })
	b3 := seedDays(t, f, bank3, 10, func(int) int { return 5 })
	seedDays(t, f, f.memberB, attackHistoryDays, func(int) int { return 7 }) // weather
	secret := addAttack(t, f, bank2, occsimore.Attack{Scenario: "ssh-bf", Scope: occsimore.ScopeUser, Source: "south-admin",
		End: f.clock.Now().Add(-time.Minute), Events: 9, Message: "south bank only"})

	_, body := f.get(t, "/attacks", f.login(t, f.adminA))
	if got, want := chartTotal(t, section(t, body, "member-attacks")), a; got != want {
		t.Fatalf("member total = %d, want %d", got, want)
	}
	sector := section(t, body, "sector-attacks")
	if got, want := chartTotal(t, sector), a+b2+b3; got != want {
		t.Fatalf("sector total = %d, want %d", got, want)
	}
	if !strings.Contains(sector, "Sector banking — all 3 members") || !strings.Contains(sector, "<svg ") {
		t.Fatalf("sector section:\n%.1500s", sector)
	}
	if strings.Contains(body, secret.ID) || strings.Contains(body, "south bank only") || strings.Contains(body, "south-admin") {
		t.Fatal("North Bank sees an attack of South Bank")
	}

	// The weather member sees its own, and a sector of one is withheld.
	_, body = f.get(t, "/attacks", f.login(t, f.adminB))
	if got, want := chartTotal(t, section(t, body, "member-attacks")), 7*attackHistoryDays; got != want {
		t.Fatalf("weather total = %d, want %d", got, want)
	}
	if !strings.Contains(body, `id="sector-too-small"`) || strings.Contains(body, `id="sector-attacks"`) {
		t.Fatal("a one-member sector was shown")
	}
}

func TestAttacksPageEmpty(t *testing.T) {
	f := attackFixture(t, nil)
	res, body := f.get(t, "/attacks", f.login(t, f.readerA))
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("status %d, want %d; body:\n%s", got, want, body)
	}
	member := section(t, body, "member-attacks")
	if chartTotal(t, member) != 0 || !strings.Contains(member, "<svg ") || !strings.Contains(member, "<dd>flat</dd>") {
		t.Fatalf("empty member section:\n%.2000s", member)
	}
	if !strings.Contains(body, `id="no-attacks"`) || strings.Contains(body, `id="member-rise"`) {
		t.Fatal("an empty history is not shown as empty")
	}
}

func TestAttacksPageNeedsSession(t *testing.T) {
	f := attackFixture(t, nil)
	res, _ := f.get(t, "/attacks", nil)
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("status %d, want %d", got, want)
	}
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("redirect to %q, want the sign-in page", loc)
	}
	// Without SetAttacks the area is a placeholder.
	g := newFixture(t, testConfig())
	_, body := g.get(t, "/attacks", g.login(t, g.readerA))
	if strings.Contains(body, `id="member-attacks"`) {
		t.Fatal("the Attacks page is served without an attack service")
	}
}

// TestInlineSVG checks the rewriting of gonum/plot's SVG for the CSP.
func TestInlineSVG(t *testing.T) {
	doc := `<?xml version="1.0"?>
<!-- Generated -->
<svg width="10pt" height="5pt" viewBox="0 0 10 5" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
<g transform="scale(1, -1)"><path d="M0 0L1 1" style="fill:none;stroke-width:2;stroke:#1f4e79;cursor:pointer" onclick="x()"/>
<text x="1" y="2" style="font-family:Liberation Sans;font-variant:normal;font-size:10px">a &lt; b &amp; "c"</text></g></svg>`
	got, err := inlineSVG([]byte(doc), "t-h")
	if err != nil {
		t.Fatal(err)
	}
	want := `<svg viewBox="0 0 10 5" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100%" role="img" aria-labelledby="t-h" class="chart">
<g transform="scale(1, -1)"><path d="M0 0L1 1" fill="none" stroke-width="2" stroke="#1f4e79"></path>
<text x="1" y="2" font-family="&#34;Liberation Sans&#34;, Arial, Helvetica, sans-serif" font-size="10px">a &lt; b &amp; &#34;c&#34;</text></g></svg>`
	if string(got) != want {
		t.Fatalf("inlineSVG =\n%s\nwant\n%s", got, want)
	}
	for name, bad := range map[string]string{
		"script":       `<svg><script>alert(1)</script></svg>`,
		"foreign":      `<svg><foreignObject><div/></foreignObject></svg>`,
		"not svg":      `<html></html>`,
		"two roots":    `<svg></svg><svg></svg>`,
		"unclosed":     `<svg><g>`,
		"empty":        ``,
		"bad xml":      `<svg><g></svg>`,
		"stray text":   `hello`,
		"link element": `<svg><a href="https://example.com">x</a></svg>`,
	} {
		if _, err := inlineSVG([]byte(bad), "x"); err == nil {
			t.Errorf("%s: inlineSVG accepted %q", name, bad)
		}
	}
}

// TestDrawAttackChart draws a real chart and embeds it.
func TestDrawAttackChart(t *testing.T) {
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	days := make([]occsimore.DayCount, 57)
	for i := range days {
		days[i] = occsimore.DayCount{Day: first.AddDate(0, 0, i), Count: 20 + (i%7)*3}
	}
	f, err := attackreport.Forecast(days, attackHorizonDays, true)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := newAttackChart("x", "X", &occsimore.AttackReport{Days: days, Forecast: f})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, d := range days[:56] {
		want += d.Count
	}
	if ch.Total != want || ch.Today != days[56].Count {
		t.Fatalf("total %d, today %d; want %d, %d", ch.Total, ch.Today, want, days[56].Count)
	}
	s := string(ch.SVG)
	if !strings.HasPrefix(s, "<svg ") || !strings.HasSuffix(strings.TrimSpace(s), "</svg>") {
		t.Fatalf("chart is not one svg element: %.200s", s)
	}
	// Monday ticks are labelled.
	if !strings.Contains(s, ">Feb 2<") {
		t.Fatalf("no Monday tick label in the chart")
	}
	assertSafeSVG(t, s)
}

// assertSafeSVG parses s and fails on any element outside svgElements or
// any style, event or link attribute.
func assertSafeSVG(t *testing.T, s string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("output does not parse: %v\n%s", err, s)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if !svgElements[qualified(se.Name)] {
				t.Fatalf("element %q in the output", qualified(se.Name))
			}
			for _, a := range se.Attr {
				n := strings.ToLower(qualified(a.Name))
				if n == "style" || strings.HasPrefix(n, "on") || strings.HasSuffix(n, "href") {
					t.Fatalf("attribute %q in the output", n)
				}
			}
		}
	}
}

// FuzzInlineSVG: whatever the input, the output is either an error or a
// single safe svg element.
func FuzzInlineSVG(f *testing.F) {
	f.Add(`<svg viewBox="0 0 1 1"><g style="fill:red"><text>hi</text></g></svg>`)
	f.Add(`<?xml version="1.0"?><svg><path onload="x" d="M0 0"/></svg>`)
	f.Add(`<svg><script>alert(1)</script></svg>`)
	f.Add(`<svg xmlns:xlink="x"><rect xlink:href="javascript:x" style="stroke:url(javascript:x);;:;fill"/></svg>`)
	f.Fuzz(func(t *testing.T, doc string) {
		out, err := inlineSVG([]byte(doc), "id")
		if err != nil {
			return
		}
		s := string(out)
		if !strings.HasPrefix(s, "<svg") || !strings.HasSuffix(s, "</svg>") {
			t.Fatalf("output is not one svg element: %q", s)
		}
		assertSafeSVG(t, s)
	})
}
