package http_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	occhttp "github.com/occsimore/occsimore/http"
)

func TestAuthenticationFailures(t *testing.T) {
	f := newFixture(t)
	_, secret, _ := strings.Cut(f.bankAdmin, ".")
	cases := []struct {
		name  string
		authz string // the whole Authorization header
	}{
		{"missing", ""},
		{"basic scheme", "Basic YWxpY2U6cGFzc3dvcmQ="},
		{"no prefix", "Bearer tok_abc.secret"},
		{"malformed", "Bearer occ_garbage"},
		{"unknown id", "Bearer occ_tok_aaaaaaaaaaaaaaaa." + secret},
		{"wrong secret", "Bearer " + f.bankAdmin + "x"},
		{"revoked", "Bearer " + f.bankRevoked},
		{"expired", "Bearer " + f.bankExpired},
	}
	details := make(map[string]string)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.request(t, "GET", "/v1/me", c.authz, "")
			if got, want := r.status, http.StatusUnauthorized; got != want {
				t.Fatalf("status = %d, want %d; body %s", got, want, r.body)
			}
			if got, want := r.header.Get("WWW-Authenticate"), `Bearer realm="occsimore"`; got != want {
				t.Errorf("WWW-Authenticate = %q, want %q", got, want)
			}
			p := r.problem(t)
			if got, want := p.Code, occsimore.EUNAUTHORIZED; got != want {
				t.Errorf("code = %q, want %q", got, want)
			}
			details[p.Detail] = c.name
		})
	}
	if got, want := len(details), 1; got != want {
		t.Errorf("%d distinct failure details %v, want %d: a caller must not tell failures apart", got, details, want)
	}
	// The same tokens, minus the failures, do authenticate.
	if got, want := f.do(t, "GET", "/v1/me", f.bankAdmin, "").status, http.StatusOK; got != want {
		t.Fatalf("valid token: status %d, want %d", got, want)
	}
	if got, want := f.request(t, "GET", "/v1/me", "bearer "+f.bankAdmin, "").status, http.StatusOK; got != want {
		t.Fatalf("lowercase scheme: status %d, want %d (RFC 9110 schemes are case-insensitive)", got, want)
	}
}

func TestMe(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, "GET", "/v1/me", f.bankIngest, "")
	if got, want := r.status, http.StatusOK; got != want {
		t.Fatalf("status = %d, want %d; body %s", got, want, r.body)
	}
	var me struct {
		Member  occsimore.Member `json:"member"`
		Role    occsimore.Role   `json:"role"`
		TokenID string           `json:"token_id"`
	}
	r.decode(t, &me)
	if got, want := me.Member.ID, f.bank.ID; got != want {
		t.Errorf("member = %q, want %q", got, want)
	}
	if got, want := me.Role, occsimore.RoleIngest; got != want {
		t.Errorf("role = %q, want %q", got, want)
	}
	if !strings.HasPrefix(me.TokenID, "tok_") {
		t.Errorf("token_id = %q, want a token ID", me.TokenID)
	}
	if got, want := r.header.Get("Cache-Control"), "no-store"; got != want {
		t.Errorf("Cache-Control = %q, want %q", got, want)
	}
}

func TestTouchTokenOnUse(t *testing.T) {
	f := newFixture(t)
	before, err := f.db.FindToken(context.Background(), f.bank.ID, f.bankAdminToken.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !before.LastUsedAt.IsZero() {
		t.Fatalf("token used before any request: %v", before.LastUsedAt)
	}
	if got, want := f.do(t, "GET", "/v1/me", f.bankAdmin, "").status, http.StatusOK; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	after, err := f.db.FindToken(context.Background(), f.bank.ID, f.bankAdminToken.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := after.LastUsedAt, f.clock.Now(); !got.Equal(want) {
		t.Fatalf("last used = %v, want %v", got, want)
	}
}

func TestAuthFailureRateLimit(t *testing.T) {
	e := newEnv(t, func(c *occhttp.Config) {
		c.AuthFailureBurst = 3
		c.AuthFailureEvery = time.Hour
	}, nil)
	m := e.member("bank", false)
	_, good := e.token(m, occsimore.RoleAdmin, 0)
	for i := range 3 {
		if got, want := e.do(t, "GET", "/v1/me", "occ_tok_nope.nope", "").status, http.StatusUnauthorized; got != want {
			t.Fatalf("failure %d: status %d, want %d", i+1, got, want)
		}
	}
	// The burst is spent: this address is refused before any lookup, even
	// with a good token, until the allowance refills.
	for _, bearer := range []string{"occ_tok_nope.nope", good} {
		r := e.do(t, "GET", "/v1/me", bearer, "")
		if got, want := r.status, http.StatusTooManyRequests; got != want {
			t.Fatalf("status = %d, want %d; body %s", got, want, r.body)
		}
		if got, want := r.problem(t).Code, occsimore.ERATELIMIT; got != want {
			t.Errorf("code = %q, want %q", got, want)
		}
		if r.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	e.clock.Advance(time.Hour)
	if got, want := e.do(t, "GET", "/v1/me", good, "").status, http.StatusOK; got != want {
		t.Fatalf("after refill: status %d, want %d", got, want)
	}
}

func TestRoleChecks(t *testing.T) {
	f := newFixture(t)
	f.run([]scenario{
		{name: "reader lists tokens", method: "GET", path: "/v1/tokens", bearer: f.bankReader,
			status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "analyst creates token", method: "POST", path: "/v1/tokens", bearer: f.bankAnalyst,
			body: `{"name":"x","role":"admin"}`, status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "ingest lists members", method: "GET", path: "/v1/members", bearer: f.bankIngest,
			status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "ingest reads me", method: "GET", path: "/v1/me", bearer: f.bankIngest, status: http.StatusOK},
		{name: "reader lists users", method: "GET", path: "/v1/users", bearer: f.bankReader,
			status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "analyst sets a password", method: "PUT", path: "/v1/users/" + f.alice.ID + "/password", bearer: f.bankAnalyst,
			body: `{"password":"a-new-long-password"}`, status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
	})
}
