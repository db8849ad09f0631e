package http_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/attackreport"
	"github.com/occsimore/occsimore/auth"
	"github.com/occsimore/occsimore/behavior"
	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/journal"
	"github.com/occsimore/occsimore/pipeline"
	"github.com/occsimore/occsimore/sqlite"
	"github.com/occsimore/occsimore/sqlstore"
)

// cheap keeps password hashing fast in tests; the format is the same.
var cheap = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32}

// clock is a settable clock shared by the server and the store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newPipeline returns a real event pipeline: the behaviour engine, a journal
// in a temporary directory and the SQLite alert store.
func newPipeline(t testing.TB, db *sqlstore.DB, now occsimore.Now) *pipeline.Pipeline {
	t.Helper()
	eng, err := behavior.NewEngine(behavior.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(t.Context(), t.TempDir(), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pl := pipeline.New(pipeline.Config{Now: now}, eng, j, db, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err := pl.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pl.Close(context.Background())
		j.Close()
	})
	return pl
}

// env is a running server over a real SQLite store.
type env struct {
	t     testing.TB
	db    *sqlstore.DB
	pl    *pipeline.Pipeline
	clock *clock
	srv   *occhttp.Server
	ts    *httptest.Server
}

// newEnv starts a server. configure adjusts its config and setup the server
// before its handler is built; either may be nil.
func newEnv(t testing.TB, configure func(*occhttp.Config), setup func(*occhttp.Server)) *env {
	t.Helper()
	db, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &clock{now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	db.Now = clk.Now

	cfg := occhttp.DefaultConfig()
	cfg.AuthFailureBurst = 1000 // scenario tables fail on purpose many times
	if configure != nil {
		configure(&cfg)
	}
	logOpts := &slog.HandlerOptions{}
	if _, ok := t.(*testing.B); ok {
		logOpts.Level = slog.LevelWarn // a line per request would measure the log
	}
	srv := occhttp.NewServer(cfg, slog.New(slog.NewTextHandler(t.Output(), logOpts)))
	srv.Members, srv.Tokens, srv.Users = db, db, db
	srv.Now = clk.Now
	pl := newPipeline(t, db, clk.Now)
	srv.Events, srv.Alerts = pl, db
	srv.Attacks, srv.AttackReports = db, attackreport.New(db, clk.Now)
	srv.Models = db
	srv.Argon2 = cheap
	if setup != nil {
		setup(srv)
	}
	ts := httptest.NewServer(conforming(t, srv)) // every exchange checked against openapi.yaml
	t.Cleanup(ts.Close)
	return &env{t: t, db: db, pl: pl, clock: clk, srv: srv, ts: ts}
}

// member creates a member directly in the store.
func (e *env) member(slug string, operator bool) *occsimore.Member {
	e.t.Helper()
	m := &occsimore.Member{Slug: slug, Name: strings.ToUpper(slug), Sector: "banking", Operator: operator}
	if err := e.db.CreateMember(context.Background(), m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// token creates a token of m directly in the store and returns its bearer
// string.
func (e *env) token(m *occsimore.Member, role occsimore.Role, ttl time.Duration) (*occsimore.Token, string) {
	e.t.Helper()
	tok, bearer := auth.NewToken(m.ID, string(role)+" token", role, e.clock.Now(), ttl)
	if err := e.db.CreateToken(context.Background(), m.ID, tok); err != nil {
		e.t.Fatal(err)
	}
	return tok, bearer
}

// user creates a user of m directly in the store.
func (e *env) user(m *occsimore.Member, email string, role occsimore.Role, password string) *occsimore.User {
	e.t.Helper()
	hash, err := auth.HashPassword(password, cheap)
	if err != nil {
		e.t.Fatal(err)
	}
	u := &occsimore.User{Email: email, Name: email, Role: role, PasswordHash: hash}
	if err := e.db.CreateUser(context.Background(), m.ID, u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with an optional bearer token and body.
func (e *env) do(t *testing.T, method, path, bearer, body string) response {
	t.Helper()
	authz := ""
	if bearer != "" {
		authz = "Bearer " + bearer
	}
	return e.request(t, method, path, authz, body)
}

// request sends a request with an optional Authorization header and body.
func (e *env) request(t *testing.T, method, path, authz, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.roundTrip(t, req)
}

// roundTrip sends req to the test server and reads the whole response.
func (e *env) roundTrip(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// problem decodes r's body as a problem, failing if it is not one.
func (r response) problem(t *testing.T) occhttp.Problem {
	t.Helper()
	if got, want := r.header.Get("Content-Type"), "application/problem+json"; got != want {
		t.Fatalf("Content-Type = %q, want %q (status %d, body %s)", got, want, r.status, r.body)
	}
	var p occhttp.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decode problem %s: %v", r.body, err)
	}
	if p.Status != r.status {
		t.Fatalf("problem status %d, response status %d", p.Status, r.status)
	}
	return p
}

// decode decodes r's JSON body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if got, want := r.header.Get("Content-Type"), "application/json"; got != want {
		t.Fatalf("Content-Type = %q, want %q (status %d, body %s)", got, want, r.status, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// scenario is one request and what must come back.
type scenario struct {
	name         string
	method, path string
	bearer       string
	body         string
	status       int
	code, field  string                     // for problems: the code and field extensions
	check        func(*testing.T, response) // more checks, if any
}

// run runs scenarios in order: some depend on earlier ones' effects.
func (e *env) run(scenarios []scenario) {
	e.t.Helper()
	tt := e.t.(*testing.T) // scenario tables run in tests, not benchmarks
	for _, sc := range scenarios {
		tt.Run(sc.name, func(t *testing.T) {
			r := e.do(t, sc.method, sc.path, sc.bearer, sc.body)
			if r.status != sc.status {
				t.Fatalf("%s %s: status %d, want %d; body %s", sc.method, sc.path, r.status, sc.status, r.body)
			}
			if r.status >= 400 {
				p := r.problem(t)
				if sc.code != "" && p.Code != sc.code {
					t.Errorf("code = %q, want %q (%s)", p.Code, sc.code, p.Detail)
				}
				if p.Field != sc.field {
					t.Errorf("field = %q, want %q (%s)", p.Field, sc.field, p.Detail)
				}
			}
			if sc.check != nil {
				sc.check(t, r)
			}
		})
	}
}

// fixture is a platform with an operator member and two ordinary members.
type fixture struct {
	*env
	ops                   *occsimore.Member
	opsAdmin, opsReader   string
	bank                  *occsimore.Member
	bankAdminToken        *occsimore.Token
	bankAdmin, bankReader string
	bankAnalyst           string
	bankIngest            string
	bankRevoked           string // bearer of a revoked admin token
	bankExpired           string // bearer of an expired admin token
	alice                 *occsimore.User
	pharma                *occsimore.Member
	pharmaAdmin           string
	pharmaToken           *occsimore.Token
	bob                   *occsimore.User
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, nil)
}

// newFixtureWith is newFixture with setup adjusting the server (may be nil).
func newFixtureWith(t *testing.T, setup func(*occhttp.Server)) *fixture {
	t.Helper()
	f := &fixture{env: newEnv(t, nil, setup)}
	ctx := context.Background()
	f.ops = f.member("ops", true)
	_, f.opsAdmin = f.token(f.ops, occsimore.RoleAdmin, 0)
	_, f.opsReader = f.token(f.ops, occsimore.RoleReader, 0)

	f.bank = f.member("bank", false)
	f.bankAdminToken, f.bankAdmin = f.token(f.bank, occsimore.RoleAdmin, 0)
	_, f.bankReader = f.token(f.bank, occsimore.RoleReader, 0)
	_, f.bankAnalyst = f.token(f.bank, occsimore.RoleAnalyst, 0)
	_, f.bankIngest = f.token(f.bank, occsimore.RoleIngest, 0)
	revoked, bearer := f.token(f.bank, occsimore.RoleAdmin, 0)
	if err := f.db.RevokeToken(ctx, f.bank.ID, revoked.ID, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f.bankRevoked = bearer
	_, f.bankExpired = f.token(f.bank, occsimore.RoleAdmin, time.Minute)
	f.alice = f.user(f.bank, "alice@bank.example", occsimore.RoleAnalyst, "alice-password-1")

	f.pharma = f.member("pharma", false)
	f.pharmaToken, f.pharmaAdmin = f.token(f.pharma, occsimore.RoleAdmin, 0)
	f.bob = f.user(f.pharma, "bob@pharma.example", occsimore.RoleAdmin, "bob-password-12")

	// Expire bankExpired; every other token has no expiry.
	f.clock.Advance(time.Hour)
	return f
}
