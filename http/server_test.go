package http_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/occsimore/occsimore"
	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/sqlite"
)

func TestGracefulShutdown(t *testing.T) {
	db, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	started, release, shuttingDown := make(chan struct{}), make(chan struct{}), make(chan struct{})
	srv := occhttp.NewServer(occhttp.DefaultConfig(), slog.New(slog.NewTextHandler(t.Output(), nil)))
	srv.Members, srv.Tokens, srv.Users = db, db, db
	srv.Console = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})
	occhttp.SetOnShutdown(srv, func() { close(shuttingDown) })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- result{status: resp.StatusCode, body: string(b), err: err}
	}()

	<-started
	cancel()
	<-shuttingDown
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v while a request was in flight", err)
	default:
	}
	// New connections are refused once shutdown has begun.
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Error("a new request was served during shutdown")
	}
	close(release)
	res := <-done
	if res.err != nil {
		t.Fatalf("in-flight request failed: %v", res.err)
	}
	if got, want := res.status, http.StatusOK; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	if got, want := res.body, "finished"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v, want nil after a clean shutdown", err)
	}
}

func TestServeRejectsBadConfig(t *testing.T) {
	cfg := occhttp.DefaultConfig()
	cfg.MaxBodyBytes = 0
	srv := occhttp.NewServer(cfg, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := srv.Serve(t.Context(), ln); occsimore.ErrorField(err) != "max_body_bytes" {
		t.Fatalf("Serve = %v, want an error about max_body_bytes", err)
	}
}

func TestServeNeedsStores(t *testing.T) {
	srv := occhttp.NewServer(occhttp.DefaultConfig(), slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := srv.Serve(t.Context(), ln); err == nil || !strings.Contains(err.Error(), "Members") {
		t.Fatalf("Serve without stores = %v, want an error naming them", err)
	}
}

func TestAddRouteAfterBuildPanics(t *testing.T) {
	e := newEnv(t, nil, nil)
	defer func() {
		if recover() == nil {
			t.Fatal("AddRoute after Handler did not panic")
		}
	}()
	e.srv.AddRoute("GET /v1/late", http.NotFoundHandler(), occsimore.PermRead)
}

func TestAddedRoute(t *testing.T) {
	e := newEnv(t, nil, func(s *occhttp.Server) {
		s.AddRoute("POST /v1/echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in struct {
				Text string `json:"text"`
			}
			if err := occhttp.Decode(r, &in); err != nil {
				occhttp.Error(w, r, nil, err)
				return
			}
			p := occsimore.PrincipalFromContext(r.Context())
			occhttp.WriteJSON(w, http.StatusOK, map[string]string{"text": in.Text, "member": p.Member.Slug})
		}), occsimore.PermIngest)
		s.Handle(occhttp.Route{Pattern: "POST /v1/small", Perm: occsimore.PermIngest, MaxBodyBytes: 16,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var in map[string]any
				if err := occhttp.Decode(r, &in); err != nil {
					occhttp.Error(w, r, nil, err)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})})
	})
	m := e.member("bank", false)
	_, ingest := e.token(m, occsimore.RoleIngest, 0)
	_, reader := e.token(m, occsimore.RoleReader, 0)
	e.run([]scenario{
		{name: "authorised", method: "POST", path: "/v1/echo", bearer: ingest, body: `{"text":"hi"}`, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				if got, want := string(r.body), `{"member":"bank","text":"hi"}`+"\n"; got != want {
					t.Errorf("body = %s, want %s", got, want)
				}
			}},
		{name: "no token", method: "POST", path: "/v1/echo", body: `{"text":"hi"}`, status: http.StatusUnauthorized, code: occsimore.EUNAUTHORIZED},
		{name: "wrong role", method: "POST", path: "/v1/echo", bearer: reader, body: `{"text":"hi"}`, status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "own body limit", method: "POST", path: "/v1/small", bearer: ingest, body: `{"text":"far more than sixteen bytes"}`,
			status: http.StatusRequestEntityTooLarge, code: occsimore.ETOOLARGE},
		{name: "within own limit", method: "POST", path: "/v1/small", bearer: ingest, body: `{"a":1}`, status: http.StatusNoContent},
	})
	var patterns []string
	for _, rt := range e.srv.Routes() {
		patterns = append(patterns, rt.Pattern)
	}
	if got := strings.Join(patterns, "\n"); !strings.Contains(got, "POST /v1/echo") || !strings.Contains(got, "POST /v1/small") {
		t.Errorf("Routes() misses added routes:\n%s", got)
	}
}

func TestNoRoute(t *testing.T) {
	e := newEnv(t, nil, nil)
	m := e.member("bank", false)
	_, admin := e.token(m, occsimore.RoleAdmin, 0)
	e.run([]scenario{
		{name: "unknown API path", method: "GET", path: "/v1/nothing", bearer: admin, status: http.StatusNotFound, code: occsimore.ENOTFOUND},
		{name: "unknown path", method: "GET", path: "/nothing", status: http.StatusNotFound, code: occsimore.ENOTFOUND},
		{name: "wrong method", method: "PATCH", path: "/v1/tokens", bearer: admin, status: http.StatusMethodNotAllowed,
			code: "method_not_allowed", check: func(t *testing.T, r response) {
				if got, want := r.header.Get("Allow"), "GET, HEAD, POST"; got != want {
					t.Errorf("Allow = %q, want %q", got, want)
				}
			}},
		{name: "wrong method on object", method: "POST", path: "/v1/tokens/tok_x", status: http.StatusMethodNotAllowed,
			code: "method_not_allowed", check: func(t *testing.T, r response) {
				if got, want := r.header.Get("Allow"), "GET, HEAD, DELETE"; got != want {
					t.Errorf("Allow = %q, want %q", got, want)
				}
			}},
		{name: "wrong method on healthz", method: "POST", path: "/healthz", status: http.StatusMethodNotAllowed, code: "method_not_allowed"},
	})
}

func TestConsoleMount(t *testing.T) {
	e := newEnv(t, nil, func(s *occhttp.Server) {
		s.Console = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'self'")
			io.WriteString(w, "console "+r.URL.Path)
		})
	})
	r := e.do(t, "GET", "/alerts", "", "")
	if got, want := string(r.body), "console /alerts"; got != want {
		t.Fatalf("body = %q, want %q", got, want)
	}
	if got, want := r.header.Get("Content-Security-Policy"), "default-src 'self'"; got != want {
		t.Errorf("console CSP = %q, want its own %q", got, want)
	}
	// The API keeps its own 404 and 405 under the console.
	if got, want := e.do(t, "GET", "/v1/nothing", "", "").status, http.StatusNotFound; got != want {
		t.Errorf("/v1/nothing: status %d, want %d", got, want)
	}
	r = e.do(t, "DELETE", "/healthz", "", "")
	if got, want := r.status, http.StatusMethodNotAllowed; got != want {
		t.Errorf("DELETE /healthz: status %d, want %d", got, want)
	}
	r.problem(t)
}

func TestPanicRecovery(t *testing.T) {
	e := newEnv(t, nil, func(s *occhttp.Server) {
		s.AddRoute("GET /v1/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic("secret detail")
		}), occsimore.PermRead)
		s.AddRoute("GET /v1/boom-late", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, "partial")
			http.NewResponseController(w).Flush()
			panic("after the header")
		}), occsimore.PermRead)
	})
	m := e.member("bank", false)
	_, reader := e.token(m, occsimore.RoleReader, 0)
	r := e.do(t, "GET", "/v1/boom", reader, "")
	if got, want := r.status, http.StatusInternalServerError; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if p := r.problem(t); p.Code != occsimore.EINTERNAL || strings.Contains(p.Detail, "secret") {
		t.Errorf("problem = %+v, want an internal error without the panic's text", p)
	}
	// Once the header is out, the connection is cut so that the client
	// cannot take the truncated body for a whole one.
	req, err := http.NewRequestWithContext(t.Context(), "GET", e.ts.URL+"/v1/boom-late", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+reader)
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Error("a response cut short by a panic read as complete")
	}
	// The server still serves.
	if got, want := e.do(t, "GET", "/healthz", "", "").status, http.StatusOK; got != want {
		t.Fatalf("after panic: status %d, want %d", got, want)
	}
}

func TestInternalErrorHidden(t *testing.T) {
	e := newEnv(t, nil, nil)
	m := e.member("bank", false)
	_, admin := e.token(m, occsimore.RoleAdmin, 0)
	e.db.Close() // every query now fails inside the store
	r := e.do(t, "GET", "/v1/me", admin, "")
	if got, want := r.status, http.StatusInternalServerError; got != want {
		t.Fatalf("status = %d, want %d; body %s", got, want, r.body)
	}
	p := r.problem(t)
	if got, want := p.Detail, "internal error"; got != want {
		t.Errorf("detail = %q, want %q", got, want)
	}
	if strings.Contains(string(r.body), "sql") {
		t.Errorf("body leaks the cause: %s", r.body)
	}
}

func TestHealth(t *testing.T) {
	var ready error
	e := newEnv(t, nil, func(s *occhttp.Server) {
		s.Ready = func(context.Context) error { return ready }
	})
	r := e.do(t, "GET", "/healthz", "", "")
	if got, want := string(r.body), `{"status":"ok"}`+"\n"; r.status != http.StatusOK || got != want {
		t.Fatalf("healthz: %d %s, want 200 %s", r.status, got, want)
	}
	if got, want := e.do(t, "GET", "/readyz", "", "").status, http.StatusOK; got != want {
		t.Fatalf("readyz: status %d, want %d", got, want)
	}
	ready = errors.New("database /secret/path is locked")
	r = e.do(t, "GET", "/readyz", "", "")
	if got, want := r.status, http.StatusServiceUnavailable; got != want {
		t.Fatalf("readyz when not ready: status %d, want %d", got, want)
	}
	if p := r.problem(t); p.Code != occsimore.EUNAVAILABLE || strings.Contains(p.Detail, "secret") {
		t.Errorf("problem = %+v, want unavailable without the cause", p)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	f.do(t, "GET", "/v1/tokens/"+f.bankAdminToken.ID, f.bankAdmin, "")
	f.do(t, "GET", "/v1/tokens/tok_nothere", f.bankAdmin, "")
	f.do(t, "GET", "/no/such/path", "", "")
	f.run([]scenario{
		{name: "no token", method: "GET", path: "/metrics", status: http.StatusUnauthorized, code: occsimore.EUNAUTHORIZED},
		{name: "non-operator admin", method: "GET", path: "/metrics", bearer: f.bankAdmin, status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "operator ingest token", method: "GET", path: "/metrics", bearer: ingestOf(t, f), status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "operator reader", method: "GET", path: "/metrics", bearer: f.opsReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				body := string(r.body)
				for _, want := range []string{
					`occsimore_http_requests_total{code="200",route="GET /v1/tokens/{id}"} 1`,
					`occsimore_http_requests_total{code="404",route="GET /v1/tokens/{id}"} 1`,
					`occsimore_http_requests_total{code="404",route="/"} 1`,
					`occsimore_http_request_duration_seconds_count{route="GET /v1/tokens/{id}"} 2`,
					`go_goroutines`,
				} {
					if !strings.Contains(body, want) {
						t.Errorf("metrics lack %s", want)
					}
				}
				// Raw paths must never become labels.
				for _, bad := range []string{f.bankAdminToken.ID, "tok_nothere", "/no/such/path"} {
					if strings.Contains(body, bad) {
						t.Errorf("metrics contain the raw path part %q", bad)
					}
				}
			}},
	})
}

func ingestOf(t *testing.T, f *fixture) string {
	t.Helper()
	_, bearer := f.token(f.ops, occsimore.RoleIngest, 0)
	return bearer
}

func TestSecurityHeadersAndRequestID(t *testing.T) {
	e := newEnv(t, nil, nil)
	for _, path := range []string{"/healthz", "/v1/me", "/nothing"} {
		r := e.do(t, "GET", path, "", "")
		for k, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
		} {
			if got := r.header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP = %q, want default-src 'none'", path, csp)
		}
		if !strings.HasPrefix(r.header.Get("X-Request-Id"), "req_") {
			t.Errorf("%s: X-Request-ID = %q, want a generated ID", path, r.header.Get("X-Request-Id"))
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), "GET", e.ts.URL+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	for id, keep := range map[string]bool{"edge-1234.abc": true, "bad id\twith tab": false, strings.Repeat("a", 65): false} {
		req.Header.Set("X-Request-ID", id)
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Request-ID") == id; got != keep {
			t.Errorf("incoming request ID %q kept = %v, want %v", id, got, keep)
		}
	}
}
