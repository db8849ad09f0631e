package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
)

// prodLoginConfig is the production sign-in limits and budget with a cheap
// hash.
func prodLoginConfig() Config {
	cfg := DefaultConfig()
	cfg.Argon2 = cheapArgon2
	cfg.SessionTTL = time.Hour
	return cfg
}

// signIn posts the sign-in form for email from addr with cookies.
func (f *fixture) signIn(t *testing.T, addr, email, password string, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	form := url.Values{"email": {email}, "password": {password}}
	r := request{method: http.MethodPost, path: "/login", remoteAddr: addr, form: form,
		header: map[string]string{"Sec-Fetch-Site": "same-origin"}}
	if len(cookies) > 0 {
		parts := make([]string, len(cookies))
		for i, c := range cookies {
			parts[i] = c.Name + "=" + c.Value
		}
		r.header["Cookie"] = strings.Join(parts, "; ")
	}
	res, _ := f.do(t, r)
	return res
}

func responseCookie(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name && c.Value != "" {
			return c
		}
	}
	return nil
}

// guessFromMany sends n wrong passwords for email, each from an address of
// its own, as a distributed guess does.
func (f *fixture) guessFromMany(t *testing.T, email string, n int) {
	t.Helper()
	for i := range n {
		f.signIn(t, "198.18."+strconv.Itoa(i/250)+"."+strconv.Itoa(i%250+1)+":4000", email, "wrong guess "+strconv.Itoa(i))
	}
}

// TestDeviceCookieExemptsFromPerEmailBound: guesses from many addresses
// exhaust a real user's per-email bound (the budget is made large enough
// for every guess to be verified: guesses it refuses are turned away before
// they count against any bound); the user's
// browser, which signed in before and holds a device cookie, still signs in
// with the right password, while the same sign-in without the cookie is
// refused. Before device cookies the user was locked out (the soak of
// issue 12 saw 46 of 59 sign-ins refused).
func TestDeviceCookieExemptsFromPerEmailBound(t *testing.T) {
	cfg := prodLoginConfig()
	cfg.SignInBudget.Burst = 1000
	f := newFixture(t, cfg)
	const home = "192.0.2.10:5000"
	res := f.signIn(t, home, f.adminA.Email, testPassword)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("first sign-in: status %d", res.StatusCode)
	}
	dev := responseCookie(res, DeviceCookie)
	if dev == nil {
		t.Fatal("a successful sign-in set no device cookie")
	}
	if !dev.Secure || !dev.HttpOnly || dev.SameSite != http.SameSiteStrictMode || dev.Path != "/" || dev.MaxAge <= 0 {
		t.Errorf("device cookie attributes: %+v", dev)
	}

	f.guessFromMany(t, f.adminA.Email, 60) // per-email burst is 50
	f.clock.Advance(time.Second)
	// Without the cookie, from a new address: the per-email bound refuses.
	if res := f.signIn(t, "192.0.2.11:5000", f.adminA.Email, testPassword); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password without a device cookie after 60 guesses: status %d, want 429", res.StatusCode)
	}
	// With it, from home: signed in, and from its reserved budget, which
	// the guesses (over the shared budget's burst of 10) did not spend.
	res = f.signIn(t, home, f.adminA.Email, testPassword, dev)
	if res.StatusCode != http.StatusSeeOther || responseCookie(res, SessionCookie) == nil {
		t.Fatalf("right password with a device cookie after 60 guesses: status %d, want 303 with a session", res.StatusCode)
	}
	next := responseCookie(res, DeviceCookie)
	if next == nil || next.Value == dev.Value {
		t.Fatal("a sign-in with a device cookie did not issue a fresh one")
	}
	// From another address too: the cookie, not the address, is trusted.
	if res := f.signIn(t, "203.0.113.99:5000", f.adminA.Email, testPassword, next); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("device cookie from a new address: status %d, want 303", res.StatusCode)
	}
}

// TestDeviceCookieOnlyForItsUser: a device cookie vouches for the user it was
// issued to, and nothing else: not another email, not a tampered value, not
// a key the server does not hold.
func TestDeviceCookieOnlyForItsUser(t *testing.T) {
	cfg := prodLoginConfig()
	cfg.SignInBudget = SignInBudget{Rate: 1000, Burst: 1000, DeviceRate: 1000, DeviceBurst: 1000} // not under test here
	f := newFixture(t, cfg)
	res := f.signIn(t, "192.0.2.10:5000", f.readerA.Email, testPassword)
	dev := responseCookie(res, DeviceCookie)
	own := responseCookie(f.signIn(t, "192.0.2.10:5000", f.adminA.Email, testPassword), DeviceCookie)
	if dev == nil || own == nil {
		t.Fatal("no device cookie")
	}
	f.guessFromMany(t, f.adminA.Email, 50)
	tampered := *dev
	tampered.Value = strings.Replace(dev.Value, f.readerA.ID, f.adminA.ID, 1)
	foreign := *dev
	other, err := New(cfg, f.db, f.db, f.db, slog.New(slog.NewTextHandler(io.Discard, nil)), f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	other.setDeviceCookie(rec, f.adminA) // signed with another console's key
	foreign.Value = responseCookie(rec.Result(), DeviceCookie).Value
	for name, ck := range map[string]*http.Cookie{"another user's": dev, "tampered": &tampered, "foreign key": &foreign} {
		if res := f.signIn(t, "192.0.2.12:5000", f.adminA.Email, testPassword, ck); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("%s device cookie: status %d, want 429 (the per-email bound applies)", name, res.StatusCode)
		}
	}
	if res := f.signIn(t, "192.0.2.12:5000", f.adminA.Email, testPassword, own); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the user's own device cookie: status %d, want 303", res.StatusCode)
	}
}

// TestDeviceCookieSurvivesRestart: a console started again with the same key
// (web.Config.DeviceKey, kept in a file by the server) trusts the cookies of
// the one before.
func TestDeviceCookieSurvivesRestart(t *testing.T) {
	cfg := prodLoginConfig()
	cfg.SignInBudget.Burst = 1000 // every guess verified, so that it counts against the per-email bound
	cfg.DeviceKey = []byte("0123456789abcdef0123456789abcdef")
	f := newFixture(t, cfg)
	dev := responseCookie(f.signIn(t, "192.0.2.10:5000", f.adminA.Email, testPassword), DeviceCookie)
	f.guessFromMany(t, f.adminA.Email, 50)
	restarted, err := New(cfg, f.db, f.db, f.db, slog.New(slog.NewTextHandler(io.Discard, nil)), f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	f.console, f.handler = restarted, restarted.Handler()
	// The limits start empty after a restart; exhaust the bound again.
	f.guessFromMany(t, f.adminA.Email, 50)
	f.clock.Advance(time.Second)
	if res := f.signIn(t, "192.0.2.11:5000", f.adminA.Email, testPassword); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("without the cookie: status %d, want 429", res.StatusCode)
	}
	if res := f.signIn(t, "192.0.2.10:5000", f.adminA.Email, testPassword, dev); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the previous run's device cookie: status %d, want 303", res.StatusCode)
	}
}

// TestDeviceCookieLimitsAndLockout: a device cookie has its own small limit,
// and one that fails DeviceFailures.Burst times is locked out: its sign-ins
// are untrusted again, under the per-email bound.
func TestDeviceCookieLimitsAndLockout(t *testing.T) {
	cfg := prodLoginConfig()
	cfg.SignInBudget = SignInBudget{Rate: 1000, Burst: 1000, DeviceRate: 1000, DeviceBurst: 1000} // not under test here
	t.Run("lockout", func(t *testing.T) {
		f := newFixture(t, cfg)
		dev := responseCookie(f.signIn(t, "192.0.2.10:5000", f.adminA.Email, testPassword), DeviceCookie)
		f.guessFromMany(t, f.adminA.Email, 50)
		for i := range cfg.LoginRate.DeviceFailures.Burst { // 5
			if res := f.signIn(t, "192.0.2.10:5000", f.adminA.Email, "a wrong password", dev); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("wrong password %d with a device cookie: status %d, want 401", i, res.StatusCode)
			}
		}
		if res := f.signIn(t, "192.0.2.10:5000", f.adminA.Email, testPassword, dev); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("right password with a locked-out device cookie: status %d, want 429", res.StatusCode)
		}
		// Failures refill: one per DeviceFailures.Every.
		f.clock.Advance(cfg.LoginRate.DeviceFailures.Every)
		if res := f.signIn(t, "192.0.2.10:5000", f.adminA.Email, testPassword, dev); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("after the lockout refilled: status %d, want 303", res.StatusCode)
		}
	})
	t.Run("per device", func(t *testing.T) {
		f := newFixture(t, cfg)
		dev := responseCookie(f.signIn(t, "192.0.2.10:5000", f.adminA.Email, testPassword), DeviceCookie)
		// One cookie, presented again and again (each from a fresh address,
		// so that no address bound is met), meets its own limit.
		for i := range cfg.LoginRate.PerDevice.Burst + 1 {
			want := http.StatusSeeOther
			if i == cfg.LoginRate.PerDevice.Burst { // 10
				want = http.StatusTooManyRequests
			}
			if res := f.signIn(t, "192.0.2."+strconv.Itoa(20+i)+":5000", f.adminA.Email, testPassword, dev); res.StatusCode != want {
				t.Fatalf("sign-in %d with one device cookie: status %d, want %d", i, res.StatusCode, want)
			}
		}
	})
}

// TestSignInBudgetRefusesFloodWithoutHashing: sign-ins over the console-wide
// budget are refused at once with 429 and Retry-After, before any argon2
// run, for made-up and real emails alike (the answers do not tell them
// apart). Before the budget every one of a flood from many addresses cost a
// full verification, and the soak's flood held both cores.
func TestSignInBudgetRefusesFloodWithoutHashing(t *testing.T) {
	cfg := prodLoginConfig() // budget: 10 at once, then 1 per second
	f := newFixture(t, cfg)
	runs := f.console.hasher.Runs()
	status := map[int]int{}
	for i := range 200 {
		res := f.signIn(t, "10.9."+strconv.Itoa(i/250)+"."+strconv.Itoa(i%250+1)+":999", "nobody"+strconv.Itoa(i)+"@flood.example", "x")
		status[res.StatusCode]++
	}
	if status[http.StatusUnauthorized] != cfg.SignInBudget.Burst || status[http.StatusTooManyRequests] != 200-cfg.SignInBudget.Burst {
		t.Fatalf("200 made-up sign-ins at one instant from 200 addresses: statuses %v, want %d × 401 and the rest 429", status, cfg.SignInBudget.Burst)
	}
	if got := f.console.hasher.Runs() - runs; got != int64(cfg.SignInBudget.Burst) {
		t.Fatalf("the flood ran %d argon2 verifications, want %d (the budget's burst)", got, cfg.SignInBudget.Burst)
	}

	// Over the budget a real email, right password or not, gets the same
	// answer as a made-up one, and no hashing.
	runs = f.console.hasher.Runs()
	lookups := &countingUsers{UserService: f.console.users}
	f.console.users = lookups
	answer := func(email, password string) (int, string, string) {
		res, body := f.do(t, request{method: http.MethodPost, path: "/login", remoteAddr: "192.0.2.77:1",
			form: url.Values{"email": {email}, "password": {password}}})
		return res.StatusCode, res.Header.Get("Retry-After"), strings.ReplaceAll(body, email, "EMAIL")
	}
	s1, ra1, b1 := answer("nobody@flood.example", "x")
	s2, ra2, b2 := answer(f.adminA.Email, "wrong password")
	s3, ra3, _ := answer(f.readerA.Email, testPassword)
	if s1 != http.StatusTooManyRequests || s2 != s1 || s3 != s1 || ra1 != "1" || ra2 != ra1 || ra3 != ra1 {
		t.Fatalf("over the budget: statuses %d %d %d, Retry-After %q %q %q; want 429 with Retry-After 1 for all", s1, s2, s3, ra1, ra2, ra3)
	}
	if b1 != b2 {
		t.Errorf("over the budget a real email's page differs from a made-up one's")
	}
	if !strings.Contains(b1, "Try again in a few seconds") || !strings.Contains(b1, "<form") {
		t.Errorf("the 429 page is not the readable sign-in page:\n%s", b1)
	}
	if got := f.console.hasher.Runs() - runs; got != 0 {
		t.Errorf("sign-ins over the budget ran %d verifications, want 0", got)
	}
	if lookups.n != 0 {
		t.Errorf("sign-ins over the budget looked up %d emails, want none: a flood must cost no query", lookups.n)
	}
	// The budget refills at its rate.
	f.clock.Advance(time.Second)
	if res := f.signIn(t, "192.0.2.78:1", f.readerA.Email, testPassword); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a second later: status %d, want 303", res.StatusCode)
	}
}

// TestSignInRehashesOldCost: a password hashed at another cost (two lanes, as
// before the default changed) is rehashed at the current cost on a
// successful sign-in, so that its verification time matches the dummy hash
// that unknown emails are checked against.
func TestSignInRehashesOldCost(t *testing.T) {
	f := newFixture(t, testConfig())
	old := cheapArgon2
	old.Threads = 2
	hash, err := auth.HashPassword(testPassword, old)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetPassword(t.Context(), f.adminA.MemberID, f.adminA.ID, hash); err != nil {
		t.Fatal(err)
	}
	f.login(t, f.adminA)
	u, err := f.db.FindUser(t.Context(), f.adminA.MemberID, f.adminA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if auth.NeedsRehash(u.PasswordHash, cheapArgon2) || !strings.Contains(u.PasswordHash, ",p=1$") {
		t.Fatalf("after sign-in the hash is %q, want one at the current cost", u.PasswordHash)
	}
	if err := auth.VerifyPassword(testPassword, u.PasswordHash); err != nil {
		t.Fatalf("the rehashed password does not verify: %v", err)
	}
}

// countingUsers counts the email lookups of sign-ins.
type countingUsers struct {
	occsimore.UserService
	n int
}

func (c *countingUsers) FindUserByEmail(ctx context.Context, email string) (*occsimore.User, error) {
	c.n++
	return c.UserService.FindUserByEmail(ctx, email)
}
