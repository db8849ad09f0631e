package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestChangeOwnPassword: a user changes their own password with the current
// one; every other session ends, this browser stays signed in, and the new
// password is the one that signs in.
func TestChangeOwnPassword(t *testing.T) {
	f := newFixture(t, testConfig())
	phone := f.login(t, f.adminA)
	laptop := f.login(t, f.adminA)
	if res, body := f.get(t, "/account", laptop); res.StatusCode != http.StatusOK || !strings.Contains(body, `action="/account/password"`) {
		t.Fatalf("account page: status %d\n%s", res.StatusCode, body)
	}
	const next = "tram lilac ferry oboe"
	res, _ := f.post(t, "/account/password", url.Values{"current": {testPassword}, "password": {next}}, laptop)
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("change: status %d, want %d", got, want)
	}
	var fresh *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == SessionCookie {
			fresh = c
		}
	}
	if fresh == nil {
		t.Fatal("no fresh session cookie after the change")
	}
	for name, c := range map[string]*http.Cookie{"the phone": phone, "the laptop's old cookie": laptop} {
		if res, _ := f.get(t, "/members", c); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Errorf("%s is still signed in after a password change: status %d", name, res.StatusCode)
		}
	}
	if res, _ := f.get(t, "/members", fresh); res.StatusCode != http.StatusOK {
		t.Errorf("the fresh session does not work: status %d", res.StatusCode)
	}
	if res, _ := f.post(t, "/login", url.Values{"email": {f.adminA.Email}, "password": {testPassword}}, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old password still signs in: status %d", res.StatusCode)
	}
	if res, _ := f.post(t, "/login", url.Values{"email": {f.adminA.Email}, "password": {next}}, nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the new password does not sign in: status %d", res.StatusCode)
	}
}

func TestChangeOwnPasswordRefusals(t *testing.T) {
	cfg := testConfig()
	cfg.LoginRate.PerPair.Burst = 20 // each attempt counts as a sign-in does
	f := newFixture(t, cfg)
	cookie := f.login(t, f.readerA)
	for _, tc := range []struct {
		name           string
		current, next  string
		status         int
		field, message string
	}{
		{"wrong current", "not my password at all", "tram lilac ferry oboe", http.StatusUnprocessableEntity, "pw-current-err", "not your current password"},
		{"blank new", testPassword, "            ", http.StatusUnprocessableEntity, "pw-password-err", "repeats"},
		{"common new", testPassword, "Password2024!", http.StatusUnprocessableEntity, "pw-password-err", "common"},
		{"own name", testPassword, "rui.reader2026", http.StatusUnprocessableEntity, "pw-password-err", "guessable"},
		{"too long", testPassword, strings.Repeat("tram lilac ", 30), http.StatusUnprocessableEntity, "pw-password-err", "at most 256 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := f.post(t, "/account/password", url.Values{"current": {tc.current}, "password": {tc.next}}, cookie)
			if res.StatusCode != tc.status || !strings.Contains(body, tc.field) || !strings.Contains(body, tc.message) {
				t.Fatalf("status %d, want %d with %s saying %q:\n%s", res.StatusCode, tc.status, tc.field, tc.message, body)
			}
		})
	}
	// Still signed in with the old password.
	if res, _ := f.get(t, "/members", cookie); res.StatusCode != http.StatusOK {
		t.Fatalf("a refused change ended the session: status %d", res.StatusCode)
	}
	// A change from another site is refused (CSRF).
	res, _ := f.do(t, request{method: http.MethodPost, path: "/account/password", cookie: cookie,
		form:   url.Values{"current": {testPassword}, "password": {"tram lilac ferry oboe"}},
		header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
	if got, want := res.StatusCode, http.StatusForbidden; got != want {
		t.Fatalf("cross-site change: status %d, want %d", got, want)
	}
}

// TestChangeOwnPasswordLimited: guesses of the current password through a
// session count against the sign-in limits.
func TestChangeOwnPasswordLimited(t *testing.T) {
	f := newFixture(t, testConfig())
	cookie := f.login(t, f.readerA) // one attempt of the pair's five
	for i := range 4 {
		res, _ := f.post(t, "/account/password", url.Values{"current": {"guess number " + string(rune('a'+i))}, "password": {"tram lilac ferry oboe"}}, cookie)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("guess %d: status %d, want 422", i, res.StatusCode)
		}
	}
	res, _ := f.post(t, "/account/password", url.Values{"current": {testPassword}, "password": {"tram lilac ferry oboe"}}, cookie)
	if got, want := res.StatusCode, http.StatusTooManyRequests; got != want {
		t.Fatalf("sixth attempt: status %d, want %d", got, want)
	}
}
