package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// documentedMetrics reads the metric names of the table in
// docs/operations.md: the rows whose first cell is a name in backquotes.
func documentedMetrics(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([a-z_:][a-z0-9_:]*)` \\| (counter|gauge|histogram) \\|")
	var names []string
	for line := range strings.Lines(string(b)) {
		if m := row.FindStringSubmatch(line); m != nil {
			names = append(names, m[1])
		}
	}
	if len(names) < 20 {
		t.Fatalf("docs/operations.md: %d metrics in the table", len(names))
	}
	return names
}

// scrape GETs /metrics with token and parses the text format.
func scrape(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mfs
}

// sample is the value of the series of family name whose labels include
// every pair of labels ("k=v"), summed over the series that match; ok is
// false when none does. A histogram gives its count.
func sample(mfs map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for _, kv := range labels {
			k, val, _ := strings.Cut(kv, "=")
			if have[k] != val {
				match = false
			}
		}
		if !match {
			continue
		}
		ok = true
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			v += m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			v += m.GetGauge().GetValue()
		case dto.MetricType_HISTOGRAM:
			v += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return v, ok
}

func do(t *testing.T, method, url, token, contentType, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestMetricsAfterAShortRun starts the server on a real SQLite store, with
// the journal synced before every answer. While it recovers its journal,
// /readyz answers 503 and so do events; once recovered it is sent payments
// (some refused: too late, of a kind no spec profiles), a brute force in
// ssh logs with lines no parser takes, and bouncer pulls on both APIs.
// Its /metrics then has every metric of docs/operations.md's table with
// the values the run implies, and every metric the Grafana dashboard
// queries.
func TestMetricsAfterAShortRun(t *testing.T) {
	c := newCLI(t)
	c.env = append(c.env, "OCCSIMORE_SERVER_ADDR=127.0.0.1:0", "OCCSIMORE_LOGS_GEOIP_DIR=",
		"OCCSIMORE_ENGINE_JOURNAL_SYNC_INTERVAL=0s")
	c.mustRun("", "member", "add", "--slug", "ops", "--name", "Ops", "--sector", "other", "--operator")
	c.mustRun("", "member", "add", "--slug", "bank", "--name", "Bank", "--sector", "banking")
	ops, ingest, reader := c.token("ops", "reader"), c.token("bank", "ingest"), c.token("bank", "reader")

	ctx, cancel := context.WithCancel(context.Background())
	listening, release := make(chan string, 1), make(chan struct{})
	ready, done := make(chan string, 1), make(chan error, 1)
	var errb bytes.Buffer
	go func() {
		m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &errb, Environ: c.env,
			recovering: func(u string) { listening <- u; <-release },
			ready:      func(u string) { ready <- u }}
		root := m.rootCommand()
		root.SetArgs([]string{"serve"})
		done <- root.ExecuteContext(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	var url string
	select {
	case url = <-listening:
	case err := <-done:
		t.Fatalf("serve exited early: %v; log: %s", err, errb.String())
	case <-time.After(2 * time.Minute): // a failure guard, not a timing assertion
		t.Fatal("serve did not start listening")
	}

	// Recovering: listening, alive, not ready; events refused as starting.
	if code, _ := do(t, "GET", url+"/healthz", "", "", ""); code != http.StatusOK {
		t.Errorf("healthz while recovering: %d", code)
	}
	if code, body := do(t, "GET", url+"/readyz", "", "", ""); code != http.StatusServiceUnavailable {
		t.Errorf("readyz while recovering: %d %s, want 503", code, body)
	}
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	payment := func(i int, card string, at time.Time, amount float64) string {
		return fmt.Sprintf(`{"id":"ev%d","kind":"card.tx","time":%q,"card":%q,"customer":"cu-%s","terminal":"t%d","merchant":"m%d","amount":%g,"currency":"EUR","country":"FR"}`,
			i, at.Format(time.RFC3339), card, card, i%7, i%3, amount)
	}
	if code, body := do(t, "POST", url+"/v1/events", ingest, "application/json", payment(0, "c0", start, 10)); code != http.StatusServiceUnavailable {
		t.Errorf("an event while recovering: %d %s, want 503", code, body)
	}
	mfs := scrape(t, url, ops)
	if v, ok := sample(mfs, "occsimore_pipeline_ready"); !ok || v != 0 {
		t.Errorf("occsimore_pipeline_ready %g (%v) while recovering", v, ok)
	}
	close(release)
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve exited: %v; log: %s", err, errb.String())
	case <-time.After(2 * time.Minute):
		t.Fatal("serve did not recover")
	}
	if code, body := do(t, "GET", url+"/readyz", "", "", ""); code != http.StatusOK {
		t.Fatalf("readyz once recovered: %d %s", code, body)
	}

	// Payments: 40 cards with habits, a few breaking them, then one too late
	// and two of a kind the engine does not profile.
	var lines []string
	cards := map[string]bool{}
	at := start
	for i := range 600 {
		card := fmt.Sprintf("c%d", i%40)
		amount := 20 + float64(i%9)
		if i > 400 && i%37 == 0 {
			amount = 4000 // a break of habit
		}
		at = at.Add(time.Minute)
		lines = append(lines, payment(i, card, at, amount))
		cards[card] = true
	}
	lines = append(lines, payment(900, "c1", at.Add(-3*time.Hour), 10))
	lines = append(lines, fmt.Sprintf(`{"id":"x1","kind":"x.custom","time":%q}`, at.Format(time.RFC3339)),
		fmt.Sprintf(`{"id":"x2","kind":"x.custom","time":%q}`, at.Format(time.RFC3339)))
	code, body := do(t, "POST", url+"/v1/events:batch", ingest, "application/x-ndjson", strings.Join(lines, "\n")+"\n")
	if code != http.StatusOK {
		t.Fatalf("POST /v1/events:batch: %d %s", code, body)
	}
	want := map[[2]string]float64{} // kind, decision
	alerts := 0.0
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var l struct {
			Line     int
			Decision string
			AlertID  string `json:"alert_id"`
			Error    *struct{ Message string }
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if l.Line == 0 {
			continue // the summary
		}
		kind := "card.tx"
		if strings.Contains(lines[l.Line-1], "x.custom") {
			kind = "other"
		}
		d := l.Decision
		if l.Error != nil {
			d = "refused"
		}
		want[[2]string{kind, d}]++
		if l.AlertID != "" {
			alerts++
		}
	}
	if want[[2]string{"card.tx", "refused"}] != 1 || want[[2]string{"other", "refused"}] != 2 || alerts == 0 {
		t.Fatalf("the run needs refused events and alerts: %v, %g alerts", want, alerts)
	}

	// Logs: a brute force from one address over HTTP push, and two lines no
	// parser takes.
	var push strings.Builder
	now := time.Now()
	for i := range 10 {
		fmt.Fprintf(&push, "%s web-1 sshd[4242]: Failed password for root from 45.30.0.3 port %d ssh2\n",
			now.Add(time.Duration(i-10)*time.Second).Format(time.Stamp), 40000+i)
	}
	push.WriteString("not a log line at all\n\x00\x01\x02\n")
	code, body = do(t, "POST", url+"/v1/logs?host=web-1", ingest, "text/plain", push.String())
	var pushed struct{ Accepted, Unparsed int }
	if json.Unmarshal(body, &pushed); code != http.StatusOK || pushed.Accepted != 10 || pushed.Unparsed != 2 {
		t.Fatalf("POST /v1/logs: %d %s", code, body)
	}
	var attacks struct{ Attacks []struct{ Scenario string } }
	if code := getJSON(t, url+"/v1/attacks", reader, &attacks); code != http.StatusOK || len(attacks.Attacks) == 0 {
		t.Fatalf("GET /v1/attacks: %d, %+v", code, attacks)
	}
	var decisions struct {
		Decisions []struct{ Scenario, Action string }
	}
	if code := getJSON(t, url+"/v1/decisions", reader, &decisions); code != http.StatusOK || len(decisions.Decisions) == 0 {
		t.Fatalf("GET /v1/decisions: %d, %+v", code, decisions)
	}

	// Bouncers: two pulls of occsimore's stream, one of CrowdSec's and one
	// live CrowdSec query, and one refused (no token), which is not counted.
	for _, u := range []string{"/v1/decisions/stream?startup=true", "/v1/decisions/stream"} {
		if code, body := do(t, "GET", url+u, reader, "", ""); code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", u, code, body)
		}
	}
	for _, u := range []string{"/crowdsec/v1/decisions/stream?startup=true", "/crowdsec/v1/decisions?ip=45.30.0.3"} {
		req, _ := http.NewRequest("GET", url+u, nil)
		req.Header.Set("X-Api-Key", reader)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
	}
	if code, _ := do(t, "GET", url+"/v1/decisions/stream", "", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("a pull without a token: %d", code)
	}

	mfs = scrape(t, url, ops)
	t.Logf("events by kind and decision %v, %g alerts, %d attacks, %d decisions", want, alerts, len(attacks.Attacks), len(decisions.Decisions))

	// Every documented metric is there; every occsimore metric is documented.
	documented := map[string]bool{}
	for _, name := range documentedMetrics(t) {
		documented[name] = true
		if mfs[name] == nil {
			t.Errorf("documented metric %s is not in /metrics", name)
		}
	}
	for name := range mfs {
		if strings.HasPrefix(name, "occsimore_") && !documented[name] {
			t.Errorf("metric %s is not in docs/operations.md", name)
		}
	}

	check := func(what string, got float64, ok bool, want func(float64) bool) {
		t.Helper()
		if !ok || !want(got) {
			t.Errorf("%s = %g (present %v)", what, got, ok)
		}
	}
	eq := func(w float64) func(float64) bool { return func(g float64) bool { return g == w } }
	positive := func(g float64) bool { return g > 0 }
	for _, kind := range []string{"card.tx", "other"} {
		for _, d := range []string{"allow", "review", "block", "refused"} {
			v, ok := sample(mfs, "occsimore_events_total", "kind="+kind, "decision="+d)
			check(fmt.Sprintf("events{kind=%s,decision=%s}", kind, d), v, ok, eq(want[[2]string{kind, d}]))
		}
	}
	v, ok := sample(mfs, "occsimore_alerts_total")
	check("alerts", v, ok, eq(alerts))
	v, ok = sample(mfs, "occsimore_profiles", "kind=card.tx", "role=card")
	check("card profiles", v, ok, eq(float64(len(cards))))
	v, ok = sample(mfs, "occsimore_profile_bytes", "kind=card.tx", "role=card")
	check("card profile bytes", v, ok, positive)
	// One append per chunk of the batch; at sync interval 0s, at least one
	// sync per append's group and none without one.
	appends, ok := sample(mfs, "occsimore_journal_append_duration_seconds")
	check("journal appends", appends, ok, positive)
	v, ok = sample(mfs, "occsimore_journal_sync_duration_seconds")
	check("journal syncs", v, ok, func(g float64) bool { return g > 0 && g <= appends })
	for _, h := range []string{"occsimore_journal_append_duration_seconds", "occsimore_journal_sync_duration_seconds"} {
		if s := mfs[h].GetMetric()[0].GetHistogram().GetSampleSum(); !(s > 0) {
			t.Errorf("%s sums %g seconds", h, s)
		}
	}
	v, ok = sample(mfs, "occsimore_checkpoint_age_seconds")
	check("checkpoint age", v, ok, func(g float64) bool { return g >= 0 && g < 3600 && !math.IsInf(g, 0) })
	v, ok = sample(mfs, "occsimore_checkpoint_pending_events")
	check("events to replay", v, ok, eq(float64(len(lines)))) // all journaled: none failed to decode
	v, ok = sample(mfs, "occsimore_pipeline_ready")
	check("pipeline ready", v, ok, eq(1))
	v, ok = sample(mfs, "occsimore_log_lines_total", "parser=sshd", "result=parsed")
	check("sshd lines parsed", v, ok, eq(10))
	v, ok = sample(mfs, "occsimore_log_lines_total", "result=unparsed")
	check("lines unparsed", v, ok, eq(2))
	v, ok = sample(mfs, "occsimore_log_lines_total")
	check("lines", v, ok, eq(12))
	for _, a := range attacks.Attacks {
		n := 0.0
		for _, b := range attacks.Attacks {
			if b.Scenario == a.Scenario {
				n++
			}
		}
		v, ok = sample(mfs, "occsimore_attacks_total", "scenario="+a.Scenario)
		check("attacks of "+a.Scenario, v, ok, eq(n))
	}
	v, ok = sample(mfs, "occsimore_attacks_total")
	check("attacks", v, ok, eq(float64(len(attacks.Attacks))))
	for _, d := range decisions.Decisions {
		v, ok = sample(mfs, "occsimore_decisions_total", "scenario="+d.Scenario, "action="+d.Action)
		check("decisions of "+d.Scenario+" "+d.Action, v, ok, positive)
	}
	v, ok = sample(mfs, "occsimore_bouncer_pulls_total", "api=occsimore")
	check("occsimore pulls", v, ok, eq(2))
	v, ok = sample(mfs, "occsimore_bouncer_pulls_total", "api=crowdsec_stream")
	check("CrowdSec stream pulls", v, ok, eq(1))
	v, ok = sample(mfs, "occsimore_bouncer_pulls_total", "api=crowdsec_live")
	check("CrowdSec live queries", v, ok, eq(1))
	v, ok = sample(mfs, "occsimore_http_requests_total", "route=POST /v1/events:batch", "code=200")
	check("batch requests", v, ok, eq(1))
	v, ok = sample(mfs, "occsimore_http_request_duration_seconds", "route=POST /v1/logs")
	check("log push durations", v, ok, eq(1))
	v, ok = sample(mfs, "occsimore_build_info")
	check("build info", v, ok, eq(1))
	if l := mfs["occsimore_build_info"].GetMetric()[0].GetLabel(); len(l) != 4 {
		t.Errorf("occsimore_build_info labels %v", l)
	}
	v, ok = sample(mfs, "go_build_info")
	check("go build info", v, ok, eq(1))
	v, ok = sample(mfs, "go_sql_max_open_connections", "db_name=sqlite")
	check("pool bound", v, ok, positive)
	v, ok = sample(mfs, "go_sql_open_connections", "db_name=sqlite")
	check("open connections", v, ok, positive)

	t.Run("dashboard", func(t *testing.T) { checkDashboard(t, "../../packaging/grafana/occsimore.json", mfs) })
}

// checkDashboard checks that every metric the dashboard's panels query is
// in mfs: a family, or a histogram's _bucket, _sum or _count series.
func checkDashboard(t *testing.T, path string, mfs map[string]*dto.MetricFamily) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string
		Type    string
		Targets []struct{ Expr string }
		Panels  []json.RawMessage
	}
	var dash struct {
		Panels []panel
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	exprs := 0
	queried := map[string]bool{}
	for _, p := range dash.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs++
			names, err := promqlMetricNames(tg.Expr)
			if err != nil {
				t.Errorf("panel %q: %v", p.Title, err)
				continue
			}
			if len(names) == 0 {
				t.Errorf("panel %q: %q queries no metric", p.Title, tg.Expr)
			}
			for _, n := range names {
				queried[n] = true
				if !inScrape(mfs, n) {
					t.Errorf("panel %q queries %s, which /metrics does not have", p.Title, n)
				}
			}
		}
	}
	if exprs < 20 {
		t.Errorf("%d queries in the dashboard", exprs)
	}
	// The dashboard shows the work: every occsimore metric has a panel.
	for name := range mfs {
		if strings.HasPrefix(name, "occsimore_") && !queried[name] && !queried[name+"_bucket"] && !queried[name+"_count"] {
			t.Errorf("no panel queries %s", name)
		}
	}
}

func inScrape(mfs map[string]*dto.MetricFamily, name string) bool {
	if mfs[name] != nil {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if mf := mfs[base]; mf != nil && (mf.GetType() == dto.MetricType_HISTOGRAM || mf.GetType() == dto.MetricType_SUMMARY && suffix != "_bucket") {
				return true
			}
		}
	}
	return false
}
