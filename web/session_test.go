package web

import (
	"context"
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

func TestLogin_SetsHardenedSessionCookie(t *testing.T) {
	f := newFixture(t, testConfig())
	res, _ := f.post(t, "/login", url.Values{"email": {f.adminA.Email}, "password": {testPassword}, "next": {"/members"}}, nil)
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if got, want := res.Header.Get("Location"), "/members"; got != want {
		t.Fatalf("Location = %q, want %q", got, want)
	}
	var c *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == SessionCookie {
			c = ck
		}
	}
	if c == nil {
		t.Fatalf("no %s cookie in %v", SessionCookie, res.Header["Set-Cookie"])
	}
	if got, want := c.Name, "__Host-occsimore_session"; got != want {
		t.Errorf("cookie name = %q, want %q", got, want)
	}
	if !c.Secure {
		t.Error("cookie is not Secure")
	}
	if !c.HttpOnly {
		t.Error("cookie is not HttpOnly")
	}
	if got, want := c.SameSite, http.SameSiteLaxMode; got != want {
		t.Errorf("SameSite = %v, want %v", got, want)
	}
	if got, want := c.Path, "/"; got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
	if c.Domain != "" {
		t.Errorf("Domain = %q, want none (a __Host- cookie must not have one)", c.Domain)
	}
	if got, want := c.MaxAge, int(f.cfg.SessionTTL.Seconds()); got != want {
		t.Errorf("MaxAge = %d, want %d", got, want)
	}

	// Only the hash of the cookie is stored, and it names Ana's session.
	s, err := f.db.FindSession(context.Background(), auth.HashSecret(c.Value), f.clock.Now())
	if err != nil {
		t.Fatalf("FindSession: %v", err)
	}
	if got, want := s.UserID, f.adminA.ID; got != want {
		t.Errorf("session user = %q, want %q", got, want)
	}
	if got, want := s.ExpiresAt, f.clock.Now().Add(f.cfg.SessionTTL); !got.Equal(want) {
		t.Errorf("session expires %v, want %v", got, want)
	}

	res, body := f.get(t, "/members", c)
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("GET /members status = %d, want %d", got, want)
	}
	if !strings.Contains(body, "North Bank") || !strings.Contains(body, "Ana Admin") {
		t.Errorf("members page does not show the member and user:\n%s", body)
	}
}

func TestLogin_FailureIsGeneric(t *testing.T) {
	f := newFixture(t, testConfig())
	for _, tc := range []struct{ name, email, password string }{
		{"wrong password", f.adminA.Email, "not the password at all"},
		{"unknown email", "nobody@north.example", testPassword},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := f.post(t, "/login", url.Values{"email": {tc.email}, "password": {tc.password}}, nil)
			if got, want := res.StatusCode, http.StatusUnauthorized; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
			if !strings.Contains(body, badLogin) {
				t.Errorf("body lacks %q:\n%s", badLogin, body)
			}
			if len(res.Cookies()) != 0 {
				t.Errorf("failed login set cookies: %v", res.Cookies())
			}
			// What was typed in the email field comes back.
			if tc.email != "" && !strings.Contains(body, `value="`+tc.email+`"`) {
				t.Errorf("email %q not kept in the form", tc.email)
			}
		})
	}
}

func TestLogin_OpenRedirectRefused(t *testing.T) {
	f := newFixture(t, testConfig())
	res, _ := f.post(t, "/login", url.Values{"email": {f.adminA.Email}, "password": {testPassword}, "next": {"//evil.example/x"}}, nil)
	if got, want := res.Header.Get("Location"), "/"; got != want {
		t.Fatalf("Location = %q, want %q", got, want)
	}
}

func TestLogout_DeletesSession(t *testing.T) {
	f := newFixture(t, testConfig())
	c := f.login(t, f.adminA)
	res, _ := f.post(t, "/logout", nil, c)
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if got, want := res.Header.Get("Location"), "/login"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	cleared := false
	for _, ck := range res.Cookies() {
		cleared = cleared || (ck.Name == SessionCookie && ck.MaxAge < 0)
	}
	if !cleared {
		t.Errorf("logout did not clear the cookie: %v", res.Header["Set-Cookie"])
	}
	_, err := f.db.FindSession(context.Background(), auth.HashSecret(c.Value), f.clock.Now())
	if got, want := occsimore.ErrorCode(err), occsimore.ENOTFOUND; got != want {
		t.Fatalf("FindSession after logout: code %q (%v), want %q", got, err, want)
	}
	// The old cookie no longer opens a page.
	res, _ = f.get(t, "/members", c)
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("GET with old cookie: status %d, want %d", got, want)
	}
}

func TestRequireSession_RedirectsToLogin(t *testing.T) {
	f := newFixture(t, testConfig())
	for _, tc := range []struct{ path, location string }{
		{"/members", "/login?next=%2Fmembers"},
		{"/alerts", "/login?next=%2Falerts"},
		{"/", "/login"},
		{"/no-such-page", "/login?next=%2Fno-such-page"},
	} {
		res, _ := f.get(t, tc.path, nil)
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Errorf("GET %s: status %d, want %d", tc.path, got, want)
		}
		if got, want := res.Header.Get("Location"), tc.location; got != want {
			t.Errorf("GET %s: Location %q, want %q", tc.path, got, want)
		}
	}
	// A forged cookie is no session.
	res, _ := f.get(t, "/members", &http.Cookie{Name: SessionCookie, Value: occsimore.NewSecret(32)})
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Errorf("forged cookie: status %d, want %d", got, want)
	}
}

func TestSession_Expires(t *testing.T) {
	f := newFixture(t, testConfig())
	c := f.login(t, f.adminA)
	f.clock.Advance(f.cfg.SessionTTL + 1)
	res, _ := f.get(t, "/members", c)
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("status = %d, want %d after the TTL", got, want)
	}
}

func TestCrossOriginPost_Refused(t *testing.T) {
	f := newFixture(t, testConfig())
	c := f.login(t, f.adminA)
	form := url.Values{"name": {"forged"}, "role": {"admin"}, "expires": {""}}
	for _, tc := range []struct {
		name   string
		header map[string]string
	}{
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"Origin mismatch", map[string]string{"Origin": "https://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := f.do(t, request{method: http.MethodPost, path: "/members/tokens", form: form, cookie: c, header: tc.header})
			if got, want := res.StatusCode, http.StatusForbidden; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
			if !strings.Contains(body, "submitted from another site") {
				t.Errorf("403 page does not explain itself:\n%s", body)
			}
		})
	}
	tokens, err := f.db.ListTokens(context.Background(), f.memberA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(tokens), 0; got != want {
		t.Fatalf("member A has %d tokens after refused requests, want %d", got, want)
	}
	// Sign-in itself is protected too (login CSRF).
	res, _ := f.do(t, request{method: http.MethodPost, path: "/login",
		form:   url.Values{"email": {f.adminA.Email}, "password": {testPassword}},
		header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
	if got, want := res.StatusCode, http.StatusForbidden; got != want {
		t.Fatalf("cross-site login: status %d, want %d", got, want)
	}
}

func TestLoginRateLimit(t *testing.T) {
	cfg := testConfig()
	cfg.LoginRate.PerIP, cfg.LoginRate.PerPair, cfg.LoginRate.PerEmail = Rate{Every: 1 << 40, Burst: 3}, Rate{Every: 1 << 40, Burst: 4}, Rate{Every: 1 << 40, Burst: 10}

	t.Run("per IP", func(t *testing.T) {
		f := newFixture(t, cfg)
		attempt := func(email, password string) (*http.Response, string) {
			return f.do(t, request{method: http.MethodPost, path: "/login", remoteAddr: "198.51.100.7:4000",
				form: url.Values{"email": {email}, "password": {password}}})
		}
		for i := range 3 {
			res, _ := attempt("guess"+strconv.Itoa(i)+"@north.example", "wrong password!")
			if got, want := res.StatusCode, http.StatusUnauthorized; got != want {
				t.Fatalf("attempt %d: status %d, want %d", i, got, want)
			}
		}
		// Over the limit even the right password is refused, readably.
		res, body := attempt(f.adminA.Email, testPassword)
		if got, want := res.StatusCode, http.StatusTooManyRequests; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if !strings.Contains(body, "Too many sign-in attempts") || !strings.Contains(body, "<form") {
			t.Errorf("429 page is not the readable sign-in page:\n%s", body)
		}
		if res.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After header")
		}
		if len(res.Cookies()) != 0 {
			t.Errorf("rate-limited login set cookies: %v", res.Cookies())
		}
		// Another address is not affected.
		res, _ = f.do(t, request{method: http.MethodPost, path: "/login", remoteAddr: "198.51.100.8:4000",
			form: url.Values{"email": {f.adminA.Email}, "password": {testPassword}}})
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("other IP: status %d, want %d", got, want)
		}
	})

	t.Run("per email and IP", func(t *testing.T) {
		cfg := cfg
		cfg.LoginRate.PerIP.Burst = 100
		f := newFixture(t, cfg)
		for i := range 5 {
			res, _ := f.do(t, request{method: http.MethodPost, path: "/login", remoteAddr: "203.0.113.1:5000",
				form: url.Values{"email": {f.adminA.Email}, "password": {"wrong password!"}}})
			want := http.StatusUnauthorized
			if i == 4 { // PerPair's burst is 4
				want = http.StatusTooManyRequests
			}
			if got := res.StatusCode; got != want {
				t.Fatalf("attempt %d from one IP: status %d, want %d", i, got, want)
			}
		}
	})

	t.Run("per email, higher bound", func(t *testing.T) {
		f := newFixture(t, cfg)
		for i := range 11 {
			res, _ := f.do(t, request{method: http.MethodPost, path: "/login",
				remoteAddr: "203.0.113." + strconv.Itoa(i+1) + ":5000",
				form:       url.Values{"email": {f.adminA.Email}, "password": {"wrong password!"}}})
			want := http.StatusUnauthorized
			if i == 10 { // PerEmail's burst is 10
				want = http.StatusTooManyRequests
			}
			if got := res.StatusCode; got != want {
				t.Fatalf("attempt %d from a new IP: status %d, want %d", i, got, want)
			}
		}
	})
}

// TestLoginNoCheapLockout: five wrong passwords for a user, from addresses
// other than the user's, do not refuse the user's correct sign-in from a new
// address (they did: the per-email bucket held five).
func TestLoginNoCheapLockout(t *testing.T) {
	f := newFixture(t, testConfig()) // production login rates
	for i := range 5 {
		res, _ := f.do(t, request{method: http.MethodPost, path: "/login",
			remoteAddr: "198.51.100." + strconv.Itoa(i%2+1) + ":4000",
			form:       url.Values{"email": {f.adminA.Email}, "password": {"a wrong password " + strconv.Itoa(i)}}})
		if got, want := res.StatusCode, http.StatusUnauthorized; got != want {
			t.Fatalf("wrong attempt %d: status %d, want %d", i, got, want)
		}
	}
	res, body := f.do(t, request{method: http.MethodPost, path: "/login", remoteAddr: "192.0.2.50:4000",
		form: url.Values{"email": {f.adminA.Email}, "password": {testPassword}}})
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("correct sign-in from a new address after 5 wrong elsewhere: status %d, want %d\n%s", got, want, body)
	}
}

// TestLoginFloodOfUnknownEmails: 11,000 sign-ins with distinct made-up
// emails from 1,100 addresses (ten each, within the per-IP burst) used to fill
// the 10,000-entry email limiter and refuse every sign-in for 30 s. A real
// user's sign-in must still succeed. The limiters here hold 1,000 keys and the
// flood is 1,100 emails from 110 addresses, the same overflow at a tenth of
// the run time.
func TestLoginFloodOfUnknownEmails(t *testing.T) {
	f := newFixture(t, testConfig())
	for _, k := range []*keyedLimiter{f.console.ipLimit, f.console.pairLimit, f.console.mailLimit} {
		k.max = 1000
	}
	// The flood goes straight to the handler: a network round trip each
	// would only slow the test.
	h := f.console.Handler()
	for i := range 1100 {
		form := url.Values{"email": {"nobody" + strconv.Itoa(i) + "@flood.example"}, "password": {"x"}}
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = "10.0." + strconv.Itoa(i%110) + ".1:999"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("flood request %d: status %d, want 401", i, w.Code)
		}
	}
	res, body := f.do(t, request{method: http.MethodPost, path: "/login", remoteAddr: "192.0.2.50:4000",
		form: url.Values{"email": {f.adminA.Email}, "password": {testPassword}}})
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("real sign-in after a flood of unknown emails: status %d, want %d\n%s", got, want, body)
	}
	if n := len(f.console.mailLimit.keys); n > 1 {
		t.Errorf("the per-email limiter holds %d keys after a flood of unknown emails, want at most 1", n)
	}
}

// TestLoginLimitsFloodAtFullScale is the flood of the issue at its real size
// against the production bounds: 11,000 distinct made-up emails from 1,100
// addresses, ten each, go through the same admission steps a sign-in takes;
// then a real user, from a new address, is admitted. (The 10,000-key email
// limiter used to fill and refuse every sign-in for 30 s.)
func TestLoginLimitsFloodAtFullScale(t *testing.T) {
	f := newFixture(t, testConfig())
	c, now := f.console, f.clock.Now()
	for i := range 11000 {
		ip := "10." + strconv.Itoa(i%1100/250) + "." + strconv.Itoa(i%1100%250) + ".1"
		if _, ok := c.admitUntrusted(ip, "nobody"+strconv.Itoa(i)+"@flood.example", false, now); !ok || !c.ipLimit.allow(ip, now) {
			t.Fatalf("flood attempt %d from %s refused: each address stays within its burst", i, ip)
		}
		// Unknown emails are never charged to the per-account limiter.
	}
	key := strings.ToLower(f.adminA.Email)
	if !c.ipLimit.allow("192.0.2.50", now) {
		t.Fatal("a real sign-in after the flood was refused by its address's bound")
	}
	if rt, ok := c.admitUntrusted("192.0.2.50", key, true, now); !ok {
		t.Fatalf("a real account was refused after the flood (over %+v)", rt)
	}
}

// TestKeyedLimiterEvictsWhenFull: a full limiter makes room instead of
// refusing every new key.
func TestKeyedLimiterEvictsWhenFull(t *testing.T) {
	k := newKeyedLimiter(Rate{Every: time.Hour, Burst: 2})
	k.max = 100
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		if !k.allow("flood"+strconv.Itoa(i), now) {
			t.Fatalf("new key %d refused", i)
		}
	}
	if n := len(k.keys); n > 100 {
		t.Fatalf("limiter holds %d keys, bound 100", n)
	}
	if !k.allow("real", now) {
		t.Fatal("a new key was refused by a full limiter")
	}
}

func TestClientIP(t *testing.T) {
	for _, tc := range []struct{ remote, want string }{
		{"192.0.2.1:1234", "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.9]:80", "192.0.2.9"},
		{"garbage", "garbage"},
	} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		if got := clientIP(r); got != tc.want {
			t.Errorf("clientIP(%q) = %q, want %q", tc.remote, got, tc.want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/members", "/members"},
		{"/members?x=1#tokens", "/members?x=1#tokens"},
		{"", "/"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"members", "/"},
		{"/\t/evil.example", "/"},
		{"/%zz", "/"},
	} {
		if got := localPath(tc.in); got != tc.want {
			t.Errorf("localPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzLocalPath checks that no input makes the sign-in redirect leave the site.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/members", "//x", "/\\x", "http://x", "/%2f/x", "\t//x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := localPath(next)
		if got != "/" && got != next {
			t.Fatalf("localPath(%q) = %q, want the input or \"/\"", next, got)
		}
		// Read it as a browser does: backslashes are slashes, tabs and
		// newlines vanish.
		seen := strings.NewReplacer("\\", "/", "\t", "", "\n", "", "\r", "").Replace(got)
		u, err := url.Parse(seen)
		if err != nil {
			t.Fatalf("localPath(%q) = %q, which does not parse: %v", next, got, err)
		}
		if u.Host != "" || u.Scheme != "" || !strings.HasPrefix(seen, "/") || strings.HasPrefix(seen, "//") {
			t.Fatalf("localPath(%q) = %q leaves the site", next, got)
		}
	})
}
