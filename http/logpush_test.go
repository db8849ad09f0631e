package http_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/occsimore/occsimore"
	occhttp "github.com/occsimore/occsimore/http"
)

// fakeIngester records the lines it is given. A line "parses" when it
// contains "Failed password"; a line "explode" fails the call.
type fakeIngester struct {
	mu    sync.Mutex
	calls []ingestCall
}

type ingestCall struct {
	memberID, host string
	lines          []string
}

func (f *fakeIngester) IngestLines(ctx context.Context, memberID, host string, lines [][]byte) (occhttp.LogIngestResult, error) {
	call := ingestCall{memberID: memberID, host: host}
	var res occhttp.LogIngestResult
	for _, l := range lines {
		if string(l) == "explode" {
			return res, errors.New("detector down")
		}
		call.lines = append(call.lines, string(l)) // the slices are only valid during the call
		if strings.Contains(string(l), "Failed password") {
			res.Accepted++
		} else {
			res.Unparsed++
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return res, nil
}

// LogStats counts the member's lines and keeps the unparsed ones as samples.
func (f *fakeIngester) LogStats(ctx context.Context, memberID string) (occsimore.LogStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var st occsimore.LogStats
	for _, c := range f.calls {
		if c.memberID != memberID {
			continue
		}
		for _, l := range c.lines {
			st.Lines++
			if strings.Contains(l, "Failed password") {
				st.Parsed++
			} else {
				st.Unparsed++
				st.Samples = append(st.Samples, occsimore.UnparsedLine{Host: c.host, Line: l, Reason: "no parser matched"})
			}
		}
	}
	return st, nil
}

func (f *fakeIngester) all() []ingestCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

type pushResult struct {
	Lines    int `json:"lines"`
	Accepted int `json:"accepted"`
	Unparsed int `json:"unparsed"`
	TooLong  int `json:"too_long"`
}

func TestPushLogs(t *testing.T) {
	logs := &fakeIngester{}
	f := newFixtureWith(t, withLogs(logs))
	long := strings.Repeat("x", 64<<10+1)
	body := "Failed password for root from 192.0.2.7 port 22 ssh2\r\n\n" +
		"some noise\n" + long + "\n" + strings.Repeat("y", 64<<10) + "\n" +
		"Failed password for invalid user bob from 2001:db8::1 port 22 ssh2" // no final newline

	r := f.do(t, "POST", "/v1/logs?host=web-1", f.bankIngest, body)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var got pushResult
	r.decode(t, &got)
	if want := (pushResult{Lines: 5, Accepted: 2, Unparsed: 2, TooLong: 1}); got != want {
		t.Fatalf("response %+v, want %+v", got, want)
	}
	calls := logs.all()
	if len(calls) != 1 {
		t.Fatalf("%d ingest calls, want 1", len(calls))
	}
	wantLines := []string{"Failed password for root from 192.0.2.7 port 22 ssh2", "some noise", strings.Repeat("y", 64<<10),
		"Failed password for invalid user bob from 2001:db8::1 port 22 ssh2"}
	if c := calls[0]; c.memberID != f.bank.ID || c.host != "web-1" || !slices.Equal(c.lines, wantLines) {
		t.Fatalf("ingested %s/%s %d lines %.80q, want bank/web-1 %.80q", c.memberID, c.host, len(c.lines), c.lines, wantLines)
	}

	// The stats show the member's unparsed lines as samples.
	r = f.do(t, "GET", "/v1/logs/stats", f.bankReader, "")
	if r.status != http.StatusOK {
		t.Fatalf("stats: status %d: %s", r.status, r.body)
	}
	var st occsimore.LogStats
	r.decode(t, &st)
	if st.Lines != 4 || st.Unparsed != 2 || len(st.Samples) != 2 || st.Samples[0].Line != "some noise" || st.Samples[0].Host != "web-1" {
		t.Fatalf("stats %+v", st)
	}
	if r := f.do(t, "GET", "/v1/logs/stats?member=x", f.bankReader, ""); r.status != http.StatusBadRequest {
		t.Fatalf("unknown parameter: status %d", r.status)
	}
}

func TestPushLogsChunks(t *testing.T) {
	logs := &fakeIngester{}
	f := newFixtureWith(t, withLogs(logs))
	var b strings.Builder
	const n = 10_000
	for i := range n {
		fmt.Fprintf(&b, "Failed password for u%d from 192.0.2.1 port 22 ssh2\n", i)
	}
	r := f.do(t, "POST", "/v1/logs", f.bankAdmin, b.String())
	var got pushResult
	r.decode(t, &got)
	if want := (pushResult{Lines: n, Accepted: n}); got != want {
		t.Fatalf("response %+v, want %+v", got, want)
	}
	var all []string
	for _, c := range logs.all() {
		if len(c.lines) > 4096 {
			t.Fatalf("one call got %d lines, over the chunk", len(c.lines))
		}
		if c.host != "" {
			t.Fatalf("host %q without ?host=", c.host)
		}
		all = append(all, c.lines...)
	}
	if len(all) != n || all[0] != "Failed password for u0 from 192.0.2.1 port 22 ssh2" ||
		all[n-1] != fmt.Sprintf("Failed password for u%d from 192.0.2.1 port 22 ssh2", n-1) {
		t.Fatalf("lines not handed on whole and in order: %d lines", len(all))
	}
}

func TestPushLogsErrors(t *testing.T) {
	logs := &fakeIngester{}
	f := newFixtureWith(t, withLogs(logs))
	line := "Failed password for root from 192.0.2.7 port 22 ssh2\n"
	f.run([]scenario{
		{name: "reader may not push", method: "POST", path: "/v1/logs", bearer: f.bankReader, body: line,
			status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "analyst may not push", method: "POST", path: "/v1/logs", bearer: f.bankAnalyst, body: line,
			status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "no token", method: "POST", path: "/v1/logs", body: line, status: http.StatusUnauthorized, code: occsimore.EUNAUTHORIZED},
		{name: "host with a space", method: "POST", path: "/v1/logs?host=a%20b", bearer: f.bankIngest, body: line,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "host"},
		{name: "empty host", method: "POST", path: "/v1/logs?host=", bearer: f.bankIngest, body: line,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "host"},
		{name: "unknown parameter", method: "POST", path: "/v1/logs?hots=a", bearer: f.bankIngest, body: line,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "hots"},
		{name: "ingester failure", method: "POST", path: "/v1/logs", bearer: f.bankIngest, body: "explode\n",
			status: http.StatusInternalServerError, code: occsimore.EINTERNAL},
		{name: "empty body", method: "POST", path: "/v1/logs", bearer: f.bankIngest, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var got pushResult
				r.decode(t, &got)
				if got != (pushResult{}) {
					t.Fatalf("empty body: %+v", got)
				}
			}},
	})
	// Over the body limit: refused, and nothing ingested.
	r := f.do(t, "POST", "/v1/logs", f.bankIngest, strings.Repeat(line, (32<<20)/len(line)+1))
	if got, want := r.status, http.StatusRequestEntityTooLarge; got != want {
		t.Fatalf("oversized body: status %d, want %d", got, want)
	}
	if got, want := r.problem(t).Code, occsimore.ETOOLARGE; got != want {
		t.Fatalf("oversized body: code %q, want %q", got, want)
	}
	if calls := logs.all(); len(calls) != 0 {
		t.Fatalf("lines were ingested by refused requests: %d calls", len(calls))
	}
}

// gatedIngester holds the IngestLines calls of the members in hold until
// release is closed, so that a test controls which pushes are in flight.
type gatedIngester struct {
	fakeIngester
	hold    map[string]bool // read only once requests run
	entered chan struct{}
	release chan struct{}
}

func (g *gatedIngester) IngestLines(ctx context.Context, memberID, host string, lines [][]byte) (occhttp.LogIngestResult, error) {
	if g.hold[memberID] {
		select {
		case g.entered <- struct{}{}:
		case <-g.release: // released already
		}
		<-g.release
	}
	return g.fakeIngester.IngestLines(ctx, memberID, host, lines)
}

// TestPushLogsBytesInFlight checks that POST /v1/logs bodies held at once
// are bounded per member and per server: a push over its member's share gets
// 429, one over the server's 503, both with Retry-After and without reading
// or ingesting anything; a body larger than the smallest limit gets 413; and
// the budget comes back when a push ends.
func TestPushLogsBytesInFlight(t *testing.T) {
	g := &gatedIngester{entered: make(chan struct{}), release: make(chan struct{})}
	f := newFixtureWith(t, func(s *occhttp.Server) {
		s.Logs = g
		s.LogPush = occhttp.LogPushLimits{MaxBytes: 2500, MaxBytesPerMember: 1000, Wait: -1}
	})
	g.hold = map[string]bool{f.bank.ID: true, f.pharma.ID: true}
	body := func(n int) string { return strings.Repeat(strings.Repeat("x", 99)+"\n", n/100) }

	// Two pushes in flight: 800 bytes of bank's and 800 of pharma's.
	type result struct {
		status int
		err    error
	}
	inflight := make(chan result, 2)
	for _, bearer := range []string{f.bankIngest, f.pharmaAdmin} {
		go func() {
			req, _ := http.NewRequest("POST", f.ts.URL+"/v1/logs", strings.NewReader(body(800)))
			req.Header.Set("Authorization", "Bearer "+bearer)
			resp, err := f.ts.Client().Do(req)
			if err != nil {
				inflight <- result{err: err}
				return
			}
			resp.Body.Close()
			inflight <- result{status: resp.StatusCode}
		}()
		<-g.entered
	}

	refused := func(name, bearer string, n, status int, code string) {
		t.Helper()
		r := f.do(t, "POST", "/v1/logs", bearer, body(n))
		if r.status != status || r.problem(t).Code != code {
			t.Fatalf("%s: status %d %s, want %d %s", name, r.status, r.body, status, code)
		}
		if status != http.StatusRequestEntityTooLarge && r.header.Get("Retry-After") == "" {
			t.Fatalf("%s: %d without Retry-After", name, status)
		}
	}
	refused("bank over its share", f.bankIngest, 300, http.StatusTooManyRequests, occsimore.ERATELIMIT)
	_, opsIngest := f.token(f.ops, occsimore.RoleIngest, 0)
	refused("ops over the server's budget", opsIngest, 1000, http.StatusServiceUnavailable, occsimore.EUNAVAILABLE)
	refused("body over the member limit", opsIngest, 1100, http.StatusRequestEntityTooLarge, occsimore.ETOOLARGE)
	// Within what is left (2500 - 1600), ops is served.
	if r := f.do(t, "POST", "/v1/logs", opsIngest, body(800)); r.status != http.StatusOK {
		t.Fatalf("ops within the budget: status %d %s", r.status, r.body)
	}
	close(g.release)
	for range 2 {
		if r := <-inflight; r.err != nil || r.status != http.StatusOK {
			t.Fatalf("push in flight: status %d, err %v", r.status, r.err)
		}
	}
	// Their budget is back: bank may push its whole share again.
	if r := f.do(t, "POST", "/v1/logs", f.bankIngest, body(1000)); r.status != http.StatusOK {
		t.Fatalf("bank after its pushes ended: status %d %s", r.status, r.body)
	}
	var n int
	for _, c := range g.all() {
		n += len(c.lines)
	}
	if want := 8 + 8 + 8 + 10; n != want {
		t.Fatalf("%d lines ingested, want %d: refused pushes must ingest nothing", n, want)
	}
}
