package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/internal/apitest"
)

// loadContract loads the OpenAPI document once per test binary.
var loadContract = sync.OnceValues(func() (*apitest.Contract, error) {
	return apitest.Load(occhttp.OpenAPIYAML())
})

// contract returns the loaded document or fails t.
func contract(t testing.TB) *apitest.Contract {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checked returns, for Main.wrap, the check of every exchange with the
// served API against the OpenAPI document: the test's own requests and
// those of the commands it runs (backup, logs push, taxii pull, bench…).
// An exchange that does not conform fails t.
func checked(t testing.TB) func(http.Handler) http.Handler {
	c := contract(t)
	return func(h http.Handler) http.Handler { return c.Handler(t, h) }
}

// violationPrefix starts the lines in which a server run as a child process
// (TestServeChild) reports an exchange that does not conform; startServer
// reads them from its standard error and fails the test.
const violationPrefix = "OPENAPI VIOLATION: "

// lineReporter writes each report as one line, quoted.
type lineReporter struct {
	mu sync.Mutex
	w  io.Writer
}

func (r *lineReporter) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintln(r.w, violationPrefix+strconv.Quote(fmt.Sprintf(format, args...)))
}

// violation returns the report in a line of a child server's standard
// error, if it holds one.
func violation(line string) (string, bool) {
	_, quoted, ok := strings.Cut(line, violationPrefix)
	if !ok {
		return "", false
	}
	msg, err := strconv.Unquote(quoted)
	if err != nil {
		return quoted, true
	}
	return msg, true
}

// TestViolationLines: what a child server reports on its standard error
// comes back whole, newlines included, and other lines are not reports.
func TestViolationLines(t *testing.T) {
	var b strings.Builder
	r := &lineReporter{w: &b}
	r.Errorf("OpenAPI: %s %s → %d: %s", "GET", "/v1/me", 200, "response: line one\nline two")
	fmt.Fprintln(&b, `time=2026-12-07T06:23:08Z level=INFO msg="http request" method=GET`)
	var got []string
	for line := range strings.Lines(b.String()) {
		if v, ok := violation(strings.TrimSuffix(line, "\n")); ok {
			got = append(got, v)
		}
	}
	if want := "OpenAPI: GET /v1/me → 200: response: line one\nline two"; len(got) != 1 || got[0] != want {
		t.Fatalf("read back %q, want [%q]", got, want)
	}
}
