package http_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	occhttp "github.com/occsimore/occsimore/http"
)

func TestPostEvent(t *testing.T) {
	e := newEnv(t, nil, nil)
	m := e.member("bank", false)
	_, ingest := e.token(m, occsimore.RoleIngest, 0)
	_, reader := e.token(m, occsimore.RoleReader, 0)
	good := `{"kind":"card.tx","time":"2026-11-27T09:00:00Z","card":"c1","amount":12.5,"country":"FR"}`
	for _, tc := range []struct {
		name, bearer, body string
		status             int
		field              string
	}{
		{"scored", ingest, good, http.StatusOK, ""},
		{"reader may not ingest", reader, good, http.StatusForbidden, ""},
		{"malformed JSON", ingest, `{"kind":"card.tx",`, http.StatusBadRequest, ""},
		{"wrong type names field", ingest, `{"kind":"card.tx","time":"2026-11-27T09:00:00Z","amount":"lots"}`, http.StatusBadRequest, "amount"},
		{"unknown field named", ingest, `{"kind":"card.tx","time":"2026-11-27T09:00:00Z","amuont":3}`, http.StatusBadRequest, "amuont"},
		{"negative amount", ingest, `{"kind":"card.tx","time":"2026-11-27T09:00:00Z","amount":-3}`, http.StatusBadRequest, "amount"},
		{"future time", ingest, `{"kind":"card.tx","time":"2026-11-28T09:00:00Z","card":"c1","amount":3}`, http.StatusBadRequest, "time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "POST", "/v1/events", tc.bearer, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tc.status, r.body)
			}
			if tc.status == http.StatusOK {
				var sc struct {
					EventID  string  `json:"event_id"`
					Score    float64 `json:"score"`
					Decision string  `json:"decision"`
				}
				if err := json.Unmarshal(r.body, &sc); err != nil || !strings.HasPrefix(sc.EventID, "evt_") || sc.Decision == "" {
					t.Fatalf("scored body %s (%v)", r.body, err)
				}
				return
			}
			if tc.field != "" {
				if got := r.problem(t).Field; got != tc.field {
					t.Fatalf("problem field %q, want %q; body %s", got, tc.field, r.body)
				}
			}
		})
	}
}

// batchLines decodes an NDJSON batch response.
func batchLines(t *testing.T, body []byte) (lines []map[string]any, summary map[string]any) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("response line %q: %v", sc.Text(), err)
		}
		if s, ok := l["summary"].(map[string]any); ok {
			summary = s
			continue
		}
		lines = append(lines, l)
	}
	return lines, summary
}

func TestBatchScoresGoodLinesAndReportsBadOnes(t *testing.T) {
	e := newEnv(t, nil, nil)
	m := e.member("bank", false)
	_, ingest := e.token(m, occsimore.RoleIngest, 0)
	var b strings.Builder
	bad := map[int]string{3: "amount", 7: "kind", 8: "", 12: "country"}
	t0 := e.clock.Now().Add(-48 * time.Hour)
	n := 0
	for line := 1; line <= 15; line++ {
		switch line {
		case 3:
			b.WriteString(`{"kind":"card.tx","time":"2026-11-26T10:00:00Z","card":"c1","amount":-1}` + "\n")
		case 7:
			b.WriteString(`{"kind":"","time":"2026-11-26T10:00:00Z","card":"c1"}` + "\n")
		case 8:
			b.WriteString("not json\n")
		case 12:
			b.WriteString(`{"kind":"card.tx","time":"2026-11-26T10:00:00Z","card":"c1","country":"France"}` + "\n")
		default:
			n++
			fmt.Fprintf(&b, `{"kind":"card.tx","time":%q,"card":"c1","amount":%d,"country":"FR"}`+"\n", t0.Add(time.Duration(n)*time.Hour).Format(time.RFC3339), 10+n)
		}
	}
	r := e.do(t, "POST", "/v1/events:batch", ingest, b.String())
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	lines, summary := batchLines(t, r.body)
	if got, want := len(lines), 15; got != want {
		t.Fatalf("%d response lines, want %d: %s", got, want, r.body)
	}
	for i, l := range lines {
		if got, want := int(l["line"].(float64)), i+1; got != want {
			t.Fatalf("response line %d is about input line %d: out of order", want, got)
		}
		field, isBad := bad[i+1]
		perr, hasErr := l["error"].(map[string]any)
		if isBad != hasErr {
			t.Fatalf("line %d: error %v, want bad=%v", i+1, l["error"], isBad)
		}
		if isBad && field != "" && perr["field"] != field {
			t.Errorf("line %d: field %v, want %s", i+1, perr["field"], field)
		}
	}
	if summary["accepted"].(float64) != 11 || summary["rejected"].(float64) != 4 {
		t.Fatalf("summary %v, want 11 accepted and 4 rejected", summary)
	}
	// Every accepted line reached the card's profile.
	p, ok := e.pl.Entity(m.ID, "card", "c1")
	if !ok || p.Events != 11 {
		t.Fatalf("profile has %d events, want 11", p.Events)
	}
}

func TestBatchBodyLimit(t *testing.T) {
	e := newEnv(t, nil, nil)
	m := e.member("bank", false)
	_, ingest := e.token(m, occsimore.RoleIngest, 0)
	// One line over the per-line limit is reported as that line's error; the
	// next line is still scored.
	long := `{"kind":"card.tx","time":"2026-11-26T10:00:00Z","card":"` + strings.Repeat("x", 70<<10) + `"}`
	ok := `{"kind":"card.tx","time":"2026-11-26T11:00:00Z","card":"c2","amount":1}`
	r := e.do(t, "POST", "/v1/events:batch", ingest, long+"\n"+ok+"\n")
	lines, summary := batchLines(t, r.body)
	if r.status != http.StatusOK || len(lines) != 2 || lines[0]["error"] == nil || lines[1]["error"] != nil {
		t.Fatalf("status %d lines %v", r.status, lines)
	}
	if summary["accepted"].(float64) != 1 {
		t.Fatalf("summary %v", summary)
	}
}

func TestAlertsListGetLabel(t *testing.T) {
	e := newEnv(t, nil, nil)
	m := e.member("bank", false)
	_, analyst := e.token(m, occsimore.RoleAnalyst, 0)
	_, reader := e.token(m, occsimore.RoleReader, 0)
	_, ingest := e.token(m, occsimore.RoleIngest, 0)
	var ids []string
	for i := range 3 {
		a := &occsimore.Alert{EventID: fmt.Sprintf("evt_%d", i), Kind: "card.tx", Time: e.clock.Now(), Score: float64(10 + i),
			Decision: occsimore.DecisionReview, Entities: map[string]string{"card": "c1"}}
		if err := e.db.CreateAlerts(t.Context(), m.ID, []*occsimore.Alert{a}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
		e.clock.Advance(time.Second)
		e.db.Now = e.clock.Now
	}
	var page struct {
		Alerts []occsimore.Alert `json:"alerts"`
		Next   string            `json:"next"`
	}
	r := e.do(t, "GET", "/v1/alerts?limit=2", reader, "")
	if err := json.Unmarshal(r.body, &page); err != nil || r.status != 200 {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	if len(page.Alerts) != 2 || page.Alerts[0].ID != ids[2] || page.Next != ids[1] {
		t.Fatalf("first page %+v, want newest two and a cursor", page)
	}
	r = e.do(t, "GET", "/v1/alerts?limit=2&before="+page.Next, reader, "")
	page.Next = ""
	json.Unmarshal(r.body, &page)
	if len(page.Alerts) != 1 || page.Alerts[0].ID != ids[0] || page.Next != "" {
		t.Fatalf("second page %+v", page)
	}
	if r := e.do(t, "GET", "/v1/alerts?limt=2", reader, ""); r.status != 400 || r.problem(t).Field != "limt" {
		t.Fatalf("unknown parameter: status %d body %s", r.status, r.body)
	}
	for _, limit := range []string{"0", "-1", "501", "ten"} {
		r := e.do(t, "GET", "/v1/alerts?limit="+limit, reader, "")
		if p := r.problem(t); r.status != 400 || p.Field != "limit" || !strings.Contains(p.Detail, "1 to 500") {
			t.Fatalf("limit=%s: status %d body %s, want 400 naming limit and its range", limit, r.status, r.body)
		}
	}
	if r := e.do(t, "GET", "/v1/alerts?since=yesterday", reader, ""); r.status != 400 || r.problem(t).Field != "since" {
		t.Fatalf("bad since: status %d body %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/v1/alerts", ingest, ""); r.status != http.StatusForbidden {
		t.Fatalf("ingest token read alerts: status %d", r.status)
	}

	path := "/v1/alerts/" + ids[0] + "/label"
	if r := e.do(t, "POST", path, reader, `{"label":"fraud"}`); r.status != http.StatusForbidden {
		t.Fatalf("reader labelled: status %d", r.status)
	}
	if r := e.do(t, "POST", path, analyst, `{"label":"maybe"}`); r.status != 400 || r.problem(t).Field != "label" {
		t.Fatalf("bad label: status %d body %s", r.status, r.body)
	}
	r = e.do(t, "POST", path, analyst, `{"label":"fraud"}`)
	var labelled occsimore.Alert
	if err := json.Unmarshal(r.body, &labelled); err != nil || r.status != 200 || labelled.Label != occsimore.LabelFraud || labelled.LabeledBy == "" {
		t.Fatalf("label: status %d body %s", r.status, r.body)
	}
	r = e.do(t, "GET", "/v1/alerts?label=fraud", reader, "")
	json.Unmarshal(r.body, &page)
	if len(page.Alerts) != 1 || page.Alerts[0].ID != ids[0] {
		t.Fatalf("filter by label: %s", r.body)
	}
	if r := e.do(t, "GET", "/v1/entities/card/nobody", reader, ""); r.status != http.StatusNotFound {
		t.Fatalf("unknown entity: status %d", r.status)
	}
}

func TestBatchCSVWithMapping(t *testing.T) {
	e := newEnv(t, nil, nil)
	m := e.member("bank", false)
	_, ingest := e.token(m, occsimore.RoleIngest, 0)
	csv := "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_TIME_SECONDS,TX_TIME_DAYS,TX_FRAUD,TX_FRAUD_SCENARIO\n" +
		"0,2026-11-25 10:00:00,42,7,12.50,0,0,0,0\n" +
		"1,2026-11-25 11:00:00,42,7,ten,0,0,0,0\n" +
		"2,2026-11-25 12:00:00,42,8,13.10,0,0,0,0\n"
	req := func(path, ct string) response {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", e.ts.URL+path, strings.NewReader(csv))
		req.Header.Set("Authorization", "Bearer "+ingest)
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return response{status: resp.StatusCode, header: resp.Header, body: b.Bytes()}
	}
	r := req("/v1/events:batch?mapping=handbook", "text/csv")
	lines, summary := batchLines(t, r.body)
	if r.status != 200 || len(lines) != 3 || summary["accepted"].(float64) != 2 {
		t.Fatalf("status %d lines %v summary %v", r.status, lines, summary)
	}
	if perr, _ := lines[1]["error"].(map[string]any); perr == nil || perr["field"] != "amount" || int(lines[1]["line"].(float64)) != 3 {
		t.Fatalf("bad CSV line: %v", lines[1])
	}
	if p, ok := e.pl.Entity(m.ID, "card", "42"); !ok || p.Events != 2 {
		t.Fatalf("card 42 has %d events, want 2", p.Events)
	}
	if r := req("/v1/events:batch", "text/csv"); r.status != 400 || r.problem(t).Field != "mapping" {
		t.Fatalf("CSV without mapping: %d %s", r.status, r.body)
	}
	if r := req("/v1/events:batch", "application/xml"); r.status != 400 || r.problem(t).Field != "Content-Type" {
		t.Fatalf("XML batch: %d %s", r.status, r.body)
	}
}

func TestProfilesOnlyForOperatorAdmins(t *testing.T) {
	e := newEnv(t, nil, nil)
	ops := e.member("ops", true)
	_, opsAdmin := e.token(ops, occsimore.RoleAdmin, 0)
	_, opsReader := e.token(ops, occsimore.RoleReader, 0)
	bank := e.member("bank", false)
	_, bankAdmin := e.token(bank, occsimore.RoleAdmin, 0)
	for _, tc := range []struct {
		name, bearer string
		status       int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"member admin", bankAdmin, http.StatusForbidden},
		{"operator reader", opsReader, http.StatusForbidden},
		{"operator admin", opsAdmin, http.StatusOK},
	} {
		if got := e.do(t, "GET", "/debug/pprof/heap", tc.bearer, "").status; got != tc.status {
			t.Errorf("%s: GET /debug/pprof/heap = %d, want %d", tc.name, got, tc.status)
		}
	}
}

// TestBatchOrderAcrossChunks sends more lines than one chunk holds, with bad
// lines on and around the chunk boundaries and event IDs that need JSON
// escaping, and checks every line is answered once, in order.
func TestBatchOrderAcrossChunks(t *testing.T) {
	e := newEnv(t, nil, nil)
	m := e.member("bank", false)
	_, ingest := e.token(m, occsimore.RoleIngest, 0)
	const n = 4500
	bad := map[int]bool{1: true, 2000: true, 2001: true, 2002: true, 4001: true, n: true}
	t0 := e.clock.Now().Add(-72 * time.Hour)
	var b strings.Builder
	good := 0
	for line := 1; line <= n; line++ {
		if bad[line] {
			b.WriteString(`{"kind":"card.tx","time":"2026-11-26T10:00:00Z","amount":-1}` + "\n")
			continue
		}
		good++
		id := fmt.Sprintf("e%d", line)
		if line%500 == 0 {
			id = fmt.Sprintf(`e"%d<é>`, line) // escaped on the slow path
		}
		fmt.Fprintf(&b, `{"id":%q,"kind":"card.tx","time":%q,"card":"c%d","amount":%d}`+"\n",
			id, t0.Add(time.Duration(line)*time.Second).Format(time.RFC3339), line%37, 5+line%50)
	}
	r := e.do(t, "POST", "/v1/events:batch", ingest, b.String())
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %.300s", r.status, r.body)
	}
	lines, summary := batchLines(t, r.body)
	if len(lines) != n {
		t.Fatalf("%d response lines, want %d", len(lines), n)
	}
	for i, l := range lines {
		line := i + 1
		if got := int(l["line"].(float64)); got != line {
			t.Fatalf("response %d is about line %d", line, got)
		}
		if _, isErr := l["error"]; isErr != bad[line] {
			t.Fatalf("line %d: error %v, want bad=%v", line, l["error"], bad[line])
		}
		if !bad[line] && line%500 == 0 {
			if got, want := l["event_id"], fmt.Sprintf(`e"%d<é>`, line); got != want {
				t.Fatalf("line %d: event_id %q, want %q", line, got, want)
			}
		}
	}
	if int(summary["accepted"].(float64)) != good || int(summary["rejected"].(float64)) != len(bad) || int(summary["lines"].(float64)) != n {
		t.Fatalf("summary %v, want %d accepted, %d rejected, %d lines", summary, good, len(bad), n)
	}
}

// TestBatchOverLimit: a batch over the body limit used to answer 200 with a
// lone error line, which looked like success. With a known length it is now
// refused with 413 before anything is read; streamed, the response ends with
// a summary that says it stopped and why, and what was acknowledged stays.
func TestBatchOverLimit(t *testing.T) {
	e := newEnv(t, func(c *occhttp.Config) { c.MaxBatchBodyBytes = 8 << 10 }, nil)
	m := e.member("bank", false)
	_, ingest := e.token(m, occsimore.RoleIngest, 0)
	var body strings.Builder
	for i := 0; body.Len() < 40<<10; i++ {
		fmt.Fprintf(&body, `{"kind":"card.tx","time":"2026-11-26T10:%02d:%02dZ","card":"c1","amount":%d}`+"\n", i/60%60, i%60, i+1)
	}

	t.Run("known length", func(t *testing.T) {
		req, err := http.NewRequestWithContext(t.Context(), "POST", e.ts.URL+"/v1/events:batch", strings.NewReader(body.String()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+ingest)
		req.Header.Set("Content-Type", "application/x-ndjson")
		r := e.roundTrip(t, req)
		if p := r.problem(t); r.status != http.StatusRequestEntityTooLarge || p.Code != occsimore.ETOOLARGE {
			t.Fatalf("status %d body %s, want 413 too_large", r.status, r.body)
		}
		if _, ok := e.pl.Entity(m.ID, "card", "c1"); ok {
			t.Fatal("a refused batch changed a profile")
		}
	})

	t.Run("streamed", func(t *testing.T) {
		// A reader of unknown length makes the client send it chunked.
		req, err := http.NewRequestWithContext(t.Context(), "POST", e.ts.URL+"/v1/events:batch", struct{ io.Reader }{strings.NewReader(body.String())})
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+ingest)
		req.Header.Set("Content-Type", "application/x-ndjson")
		r := e.roundTrip(t, req)
		if r.status != http.StatusOK {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
		lines, summary := batchLines(t, r.body)
		if summary == nil {
			t.Fatalf("the response has no summary line:\n%s", r.body)
		}
		last := strings.TrimSpace(string(r.body))
		if !strings.Contains(last[strings.LastIndexByte(last, '\n')+1:], `"summary"`) {
			t.Fatalf("the last line is not the summary:\n%s", last[strings.LastIndexByte(last, '\n')+1:])
		}
		stopped, _ := summary["stopped"].(string)
		if !strings.Contains(stopped, "over the limit") {
			t.Fatalf("summary %v does not say the batch stopped over the limit", summary)
		}
		accepted := 0
		for _, l := range lines {
			if _, isErr := l["error"]; !isErr {
				accepted++
			}
		}
		if accepted == 0 || float64(accepted) != summary["accepted"].(float64) {
			t.Fatalf("%d lines acknowledged, summary %v", accepted, summary)
		}
		p, ok := e.pl.Entity(m.ID, "card", "c1")
		if !ok || int(p.Events) != accepted {
			t.Fatalf("profile has %v events, want the %d acknowledged", p.Events, accepted)
		}
	})
}
