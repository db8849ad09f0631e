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
