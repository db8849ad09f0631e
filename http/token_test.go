package http_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

type createdToken struct {
	occsimore.Token
	Secret string `json:"secret"`
}

func TestTokens(t *testing.T) {
	f := newFixture(t)
	var made createdToken
	f.run([]scenario{
		{name: "create", method: "POST", path: "/v1/tokens", bearer: f.bankAdmin,
			body: `{"name":"ci","role":"ingest","expires_in":3600}`, status: http.StatusCreated,
			check: func(t *testing.T, r response) {
				r.decode(t, &made)
				if got, want := made.MemberID, f.bank.ID; got != want {
					t.Errorf("member = %q, want %q", got, want)
				}
				if got, want := made.ExpiresAt, f.clock.Now().Add(time.Hour); !got.Equal(want) {
					t.Errorf("expires = %v, want %v", got, want)
				}
				if !strings.HasPrefix(made.Secret, "occ_"+made.ID+".") {
					t.Errorf("secret %q is not this token's bearer string", made.Secret)
				}
				if got, want := r.header.Get("Location"), "/v1/tokens/"+made.ID; got != want {
					t.Errorf("Location = %q, want %q", got, want)
				}
			}},
		{name: "create without expiry", method: "POST", path: "/v1/tokens", bearer: f.bankAdmin,
			body: `{"name":"forever","role":"reader"}`, status: http.StatusCreated,
			check: func(t *testing.T, r response) {
				var tok createdToken
				r.decode(t, &tok)
				if !tok.ExpiresAt.IsZero() {
					t.Errorf("expires = %v, want never", tok.ExpiresAt)
				}
			}},
		{name: "bad role", method: "POST", path: "/v1/tokens", bearer: f.bankAdmin,
			body: `{"name":"x","role":"root"}`, status: http.StatusBadRequest, code: occsimore.EINVALID, field: "role"},
		{name: "missing name", method: "POST", path: "/v1/tokens", bearer: f.bankAdmin,
			body: `{"role":"reader"}`, status: http.StatusBadRequest, code: occsimore.EINVALID, field: "name"},
		{name: "negative expiry", method: "POST", path: "/v1/tokens", bearer: f.bankAdmin,
			body: `{"name":"x","role":"reader","expires_in":-1}`, status: http.StatusBadRequest, code: occsimore.EINVALID, field: "expires_in"},
		{name: "huge expiry", method: "POST", path: "/v1/tokens", bearer: f.bankAdmin,
			body: `{"name":"x","role":"reader","expires_in":9223372036854775807}`, status: http.StatusBadRequest, code: occsimore.EINVALID, field: "expires_in"},
		{name: "expiry as string", method: "POST", path: "/v1/tokens", bearer: f.bankAdmin,
			body: `{"name":"x","role":"reader","expires_in":"1h"}`, status: http.StatusBadRequest, code: occsimore.EINVALID, field: "expires_in"},
		{name: "malformed JSON names the field", method: "POST", path: "/v1/tokens", bearer: f.bankAdmin,
			body: `{"name":"x","role": reader}`, status: http.StatusBadRequest, code: occsimore.EINVALID, field: "role"},
		{name: "unknown field", method: "POST", path: "/v1/tokens", bearer: f.bankAdmin,
			body: `{"name":"x","role":"reader","member_id":"` + f.pharma.ID + `"}`, status: http.StatusBadRequest, code: occsimore.EINVALID, field: "member_id"},
		{name: "two values", method: "POST", path: "/v1/tokens", bearer: f.bankAdmin,
			body: `{"name":"x","role":"reader"} {}`, status: http.StatusBadRequest, code: occsimore.EINVALID},
		{name: "empty body", method: "POST", path: "/v1/tokens", bearer: f.bankAdmin,
			status: http.StatusBadRequest, code: occsimore.EINVALID},
		{name: "oversized body", method: "POST", path: "/v1/tokens", bearer: f.bankAdmin,
			body: `{"name":"` + strings.Repeat("x", 1<<20) + `","role":"reader"}`, status: http.StatusRequestEntityTooLarge, code: occsimore.ETOOLARGE},
		{name: "reader may not create", method: "POST", path: "/v1/tokens", bearer: f.bankReader,
			body: `{"name":"x","role":"admin"}`, status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "list", method: "GET", path: "/v1/tokens", bearer: f.bankAdmin, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var body struct{ Tokens []occsimore.Token }
				r.decode(t, &body)
				var names []string
				for _, tok := range body.Tokens {
					if tok.MemberID != f.bank.ID {
						t.Errorf("listed token %s of member %s", tok.ID, tok.MemberID)
					}
					names = append(names, tok.Name)
				}
				if !slices.Contains(names, "ci") || !slices.Contains(names, "forever") {
					t.Errorf("names = %v, want the created ci and forever", names)
				}
				if strings.Contains(string(r.body), `"hash"`) || strings.Contains(string(r.body), `"secret"`) {
					t.Errorf("list exposes secret material: %s", r.body)
				}
			}},
	})
	f.run([]scenario{
		{name: "get", method: "GET", path: "/v1/tokens/" + made.ID, bearer: f.bankAdmin, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var tok occsimore.Token
				r.decode(t, &tok)
				if got, want := tok.Name, "ci"; got != want {
					t.Errorf("name = %q, want %q", got, want)
				}
			}},
		{name: "the new token works", method: "GET", path: "/v1/me", bearer: made.Secret, status: http.StatusOK},
		{name: "get another member's", method: "GET", path: "/v1/tokens/" + f.pharmaToken.ID, bearer: f.bankAdmin,
			status: http.StatusNotFound, code: occsimore.ENOTFOUND},
		{name: "get missing", method: "GET", path: "/v1/tokens/tok_missing", bearer: f.bankAdmin,
			status: http.StatusNotFound, code: occsimore.ENOTFOUND},
		{name: "revoke", method: "DELETE", path: "/v1/tokens/" + made.ID, bearer: f.bankAdmin, status: http.StatusNoContent},
		{name: "revoke again", method: "DELETE", path: "/v1/tokens/" + made.ID, bearer: f.bankAdmin, status: http.StatusNoContent},
		{name: "the revoked token fails", method: "GET", path: "/v1/me", bearer: made.Secret,
			status: http.StatusUnauthorized, code: occsimore.EUNAUTHORIZED},
		{name: "revoke another member's", method: "DELETE", path: "/v1/tokens/" + f.pharmaToken.ID, bearer: f.bankAdmin,
			status: http.StatusNotFound, code: occsimore.ENOTFOUND},
		{name: "revoke missing", method: "DELETE", path: "/v1/tokens/tok_missing", bearer: f.bankAdmin,
			status: http.StatusNotFound, code: occsimore.ENOTFOUND},
	})
	got, err := f.db.FindToken(context.Background(), f.bank.ID, made.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := got.RevokedAt, f.clock.Now(); !got.Equal(want) {
		t.Errorf("revoked at %v, want %v", got, want)
	}
}
