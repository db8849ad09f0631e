package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
	"github.com/occsimore/occsimore/sqlite"
	"github.com/occsimore/occsimore/sqlstore"
)

// cheapArgon2 keeps tests fast; production cost is in DefaultConfig.
var cheapArgon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}

const testPassword = "correct horse battery"

// clock is a settable test clock, safe for a server's goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a console over a real SQLite store with three members: an
// operator, and members A and B, each with users and a token.
type fixture struct {
	db      *sqlstore.DB
	console *Console
	handler http.Handler
	clock   *clock
	cfg     Config

	operator, memberA, memberB       *occsimore.Member
	opAdmin, adminA, readerA, adminB *occsimore.User
	tokenB                           *occsimore.Token
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Argon2 = cheapArgon2
	cfg.SessionTTL = time.Hour
	// The tests' clock stands still; the budget's own tests set it back.
	cfg.SignInBudget = SignInBudget{Rate: 1000, Burst: 100000, DeviceRate: 1000, DeviceBurst: 100000}
	return cfg
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	return newFixtureWith(t, cfg, nil)
}

// newFixtureWith is newFixture with setup run on the console before its
// handler is built, to add optional areas.
func newFixtureWith(t *testing.T, cfg Config, setup func(*fixture)) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &clock{t: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)}
	db.Now = clk.Now

	f := &fixture{db: db, clock: clk, cfg: cfg}
	f.operator = f.addMember(t, "lab-ops", "Lab Operations", "network", true)
	f.memberA = f.addMember(t, "north-bank", "North Bank", "banking", false)
	f.memberB = f.addMember(t, "meteo", "Weather Service", "weather", false)
	f.opAdmin = f.addUser(t, f.operator, "ops@lab.example", "Olga Ops", occsimore.RoleAdmin)
	f.adminA = f.addUser(t, f.memberA, "ana@north.example", "Ana Admin", occsimore.RoleAdmin)
	f.readerA = f.addUser(t, f.memberA, "rui@north.example", "Rui Reader", occsimore.RoleReader)
	f.adminB = f.addUser(t, f.memberB, "bea@meteo.example", "Bea Admin", occsimore.RoleAdmin)
	f.tokenB, _ = auth.NewToken(f.memberB.ID, "radar-feed", occsimore.RoleIngest, clk.Now(), 0)
	if err := db.CreateToken(ctx, f.memberB.ID, f.tokenB); err != nil {
		t.Fatalf("create token: %v", err)
	}

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.console, err = New(cfg, db, db, db, logger, clk.Now)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if setup != nil {
		setup(f)
	}
	f.handler = f.console.Handler()
	return f
}

func (f *fixture) addMember(t *testing.T, slug, name, sector string, operator bool) *occsimore.Member {
	t.Helper()
	m := &occsimore.Member{Slug: slug, Name: name, Sector: sector, Operator: operator}
	if err := f.db.CreateMember(context.Background(), m); err != nil {
		t.Fatalf("create member %s: %v", slug, err)
	}
	return m
}

func (f *fixture) addUser(t *testing.T, m *occsimore.Member, email, name string, role occsimore.Role) *occsimore.User {
	t.Helper()
	hash, err := auth.HashPassword(testPassword, cheapArgon2)
	if err != nil {
		t.Fatalf("hash password: %v", err)
	}
	u := &occsimore.User{Email: email, Name: name, Role: role, PasswordHash: hash}
	if err := f.db.CreateUser(context.Background(), m.ID, u); err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// request describes one request to the console.
type request struct {
	method, path string
	form         url.Values
	cookie       *http.Cookie
	remoteAddr   string
	header       map[string]string
}

// do serves req and returns the response with its body read.
func (f *fixture) do(t *testing.T, req request) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if req.form != nil {
		body = strings.NewReader(req.form.Encode())
	}
	r := httptest.NewRequest(req.method, req.path, body)
	if req.form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if req.cookie != nil {
		r.AddCookie(req.cookie)
	}
	if req.remoteAddr != "" {
		r.RemoteAddr = req.remoteAddr
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, r)
	res := w.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return res, string(b)
}

// post is a same-origin form POST as a browser sends it.
func (f *fixture) post(t *testing.T, path string, form url.Values, cookie *http.Cookie) (*http.Response, string) {
	t.Helper()
	return f.do(t, request{method: http.MethodPost, path: path, form: form, cookie: cookie,
		header: map[string]string{"Sec-Fetch-Site": "same-origin"}})
}

func (f *fixture) get(t *testing.T, path string, cookie *http.Cookie) (*http.Response, string) {
	t.Helper()
	return f.do(t, request{method: http.MethodGet, path: path, cookie: cookie})
}

// login signs u in and returns the session cookie.
func (f *fixture) login(t *testing.T, u *occsimore.User) *http.Cookie {
	t.Helper()
	res, body := f.post(t, "/login", url.Values{"email": {u.Email}, "password": {testPassword}}, nil)
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("login %s: status %d, want %d; body:\n%s", u.Email, got, want, body)
	}
	for _, c := range res.Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	t.Fatalf("login %s: no %s cookie", u.Email, SessionCookie)
	return nil
}
