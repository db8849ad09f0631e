package ship_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/internal/apitest"
	"github.com/occsimore/occsimore/logs/ship"
)

// loadContract loads the server's OpenAPI document once per test binary.
var loadContract = sync.OnceValues(func() (*apitest.Contract, error) {
	return apitest.Load(occhttp.OpenAPIYAML())
})

// conforming wraps a fake of the server so that every request the shipper
// sends it is checked against the OpenAPI document: one that does not
// conform fails t. The fake's answers are the test's, so they are not
// checked; the http package's tests check the server's answers to log
// pushes.
func conforming(t *testing.T, h http.Handler) http.Handler {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return c.Requests(t, h)
}

// server records the lines POSTed to /v1/logs; answer decides each
// request's status.
type server struct {
	mu       sync.Mutex
	lines    []string
	requests int
	sizes    []int
	answer   func(n int, body string) int
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if r.URL.Path != "/v1/logs" || r.Header.Get("Authorization") != "Bearer tok" || r.URL.Query().Get("host") != "web-1" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	code := http.StatusOK
	if s.answer != nil {
		code = s.answer(s.requests, string(body))
	}
	w.WriteHeader(code)
	if code == http.StatusOK {
		s.sizes = append(s.sizes, len(body))
		sc := bufio.NewScanner(strings.NewReader(string(body)))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			s.lines = append(s.lines, sc.Text())
		}
	}
}

func (s *server) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lines)
}

func appendLines(t *testing.T, path string, from, n int) []string {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	w := bufio.NewWriter(f)
	for i := from; i < from+n; i++ {
		l := fmt.Sprintf("line %07d %s", i, strings.Repeat("x", 80))
		out = append(out, l)
		fmt.Fprintln(w, l)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

// run starts a shipper and returns a function that stops it and returns
// its error.
func run(t *testing.T, sh *ship.Shipper, files ...string) func() error {
	if sh.Logger == nil {
		sh.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sh.Run(ctx, files) }()
	return func() error {
		cancel()
		return <-done
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // a failure guard, not a timing assertion
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestShipRetries: while the server fails, lines wait; once it answers,
// every line arrives once, in order.
func TestShipRetries(t *testing.T) {
	srv := &server{answer: func(n int, _ string) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}}
	ts := httptest.NewServer(conforming(t, srv))
	defer ts.Close()
	path := filepath.Join(t.TempDir(), "auth.log")
	want := appendLines(t, path, 0, 100)
	stop := run(t, &ship.Shipper{URL: ts.URL, Token: "tok", Host: "web-1", Every: 20 * time.Millisecond, FromStart: true}, path)
	want = append(want, appendLines(t, path, 100, 50)...)
	waitFor(t, func() bool { return len(srv.got()) >= len(want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := srv.got(); !slices.Equal(got, want) {
		t.Fatalf("server got %d lines, want %d in order", len(got), len(want))
	}
}

// TestShipSplitsLargeBatches: a backlog larger than one request (built up
// while the server was failing) goes in several, each under the server's
// limit, nothing lost and nothing twice.
func TestShipSplitsLargeBatches(t *testing.T) {
	// The server fails until the backlog that grows during the backoffs
	// (1 s, 2 s, …) fills a full-size request, however slow the machine.
	full := false
	srv := &server{answer: func(_ int, body string) int {
		if !full && len(body) < 7<<20 {
			return http.StatusServiceUnavailable
		}
		full = true
		return http.StatusOK
	}}
	ts := httptest.NewServer(conforming(t, srv))
	defer ts.Close()
	path := filepath.Join(t.TempDir(), "access.log")
	want := appendLines(t, path, 0, 120_000) // about 11 MB
	stop := run(t, &ship.Shipper{URL: ts.URL, Token: "tok", Host: "web-1", Every: 20 * time.Millisecond, FromStart: true}, path)
	waitFor(t, func() bool { return len(srv.got()) >= len(want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := srv.got(); !slices.Equal(got, want) {
		t.Fatalf("server got %d lines, want %d in order", len(got), len(want))
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	biggest := slices.Max(srv.sizes)
	if biggest > 8<<20 {
		t.Fatalf("a request of %d bytes, over 8 MiB", biggest)
	}
	if len(srv.sizes) < 2 {
		t.Fatalf("%d accepted requests: the backlog was not split", len(srv.sizes))
	}
}

// TestShipStopMidRequest: a stop while a request is in flight lets it
// finish; its lines are not sent again by the final flush.
func TestShipStopMidRequest(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	held := make(chan struct{}) // the held request has been answered
	srv := &server{}
	first := true
	var once sync.Mutex
	ts := httptest.NewServer(conforming(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Lock()
		hold := first
		first = false
		once.Unlock()
		if hold {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			close(arrived)
			<-release // the shipper is being stopped meanwhile
			defer close(held)
		}
		srv.ServeHTTP(w, r)
	})))
	defer ts.Close()
	path := filepath.Join(t.TempDir(), "auth.log")
	want := appendLines(t, path, 0, 100)
	stop := run(t, &ship.Shipper{URL: ts.URL, Token: "tok", Host: "web-1", Every: 20 * time.Millisecond, FromStart: true}, path)
	<-arrived
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(100 * time.Millisecond) // let the stop reach the shipper first
	close(release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	<-held
	if got := srv.got(); !slices.Equal(got, want) {
		t.Fatalf("server got %d lines, want %d once and in order", len(got), len(want))
	}
}

// TestShipDropsRejectedBatch: a batch the server rejects as bad is not
// retried forever; later lines still arrive.
func TestShipDropsRejectedBatch(t *testing.T) {
	srv := &server{answer: func(_ int, body string) int {
		if strings.Contains(body, "line 0000000") {
			return http.StatusBadRequest
		}
		return http.StatusOK
	}}
	ts := httptest.NewServer(conforming(t, srv))
	defer ts.Close()
	path := filepath.Join(t.TempDir(), "auth.log")
	appendLines(t, path, 0, 5)
	stop := run(t, &ship.Shipper{URL: ts.URL, Token: "tok", Host: "web-1", Every: 20 * time.Millisecond, FromStart: true}, path)
	waitFor(t, func() bool { srv.mu.Lock(); defer srv.mu.Unlock(); return srv.requests >= 1 })
	want := appendLines(t, path, 5, 5)
	waitFor(t, func() bool { return len(srv.got()) >= len(want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := srv.got(); !slices.Equal(got, want) {
		t.Fatalf("server got %q, want only the lines after the rejected batch", got)
	}
}

// TestShipRefusedToken: a refused token stops the shipper.
func TestShipRefusedToken(t *testing.T) {
	srv := &server{}
	ts := httptest.NewServer(conforming(t, srv))
	defer ts.Close()
	path := filepath.Join(t.TempDir(), "auth.log")
	appendLines(t, path, 0, 3)
	sh := &ship.Shipper{URL: ts.URL, Token: "wrong", Host: "web-1", Every: 20 * time.Millisecond, FromStart: true}
	done := make(chan error, 1)
	go func() { done <- sh.Run(context.Background(), []string{path}) }()
	select {
	case err := <-done:
		if !errors.Is(err, ship.ErrRefused) {
			t.Fatalf("Run = %v, want ErrRefused", err)
		}
	case <-time.After(time.Minute): // a failure guard
		t.Fatal("shipper went on with a refused token")
	}
}

// TestShipResumesFromState: lines written while the agent was stopped are
// sent after its restart, and none of those sent before is sent again.
func TestShipResumesFromState(t *testing.T) {
	srv := &server{}
	ts := httptest.NewServer(conforming(t, srv))
	defer ts.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.log")
	stateFile := filepath.Join(dir, "ship.state")
	shipper := func() *ship.Shipper {
		return &ship.Shipper{URL: ts.URL, Token: "tok", Host: "web-1", Every: 20 * time.Millisecond, FromStart: true, StateFile: stateFile}
	}
	want := appendLines(t, path, 0, 100)
	stop := run(t, shipper(), path)
	waitFor(t, func() bool { return len(srv.got()) >= len(want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	want = append(want, appendLines(t, path, 100, 50)...)
	stop = run(t, shipper(), path)
	waitFor(t, func() bool { return len(srv.got()) >= len(want) })
	want = append(want, appendLines(t, path, 150, 10)...) // and following goes on
	waitFor(t, func() bool { return len(srv.got()) >= len(want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := srv.got(); !slices.Equal(got, want) {
		t.Fatalf("server got %d lines, want %d once and in order", len(got), len(want))
	}
}

// TestShipBadStateFile: a state file that is not ours stops the agent with
// an error naming it, rather than resending or skipping lines.
func TestShipBadStateFile(t *testing.T) {
	dir := t.TempDir()
	stateFile := filepath.Join(dir, "ship.state")
	if err := os.WriteFile(stateFile, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	sh := &ship.Shipper{URL: "http://127.0.0.1:1", Token: "tok", StateFile: stateFile}
	err := sh.Run(t.Context(), []string{filepath.Join(dir, "auth.log")})
	if err == nil || !strings.Contains(err.Error(), stateFile) {
		t.Fatalf("Run = %v, want an error naming %s", err, stateFile)
	}
}
