package http_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
	occhttp "github.com/occsimore/occsimore/http"
)

func TestUsers(t *testing.T) {
	f := newFixture(t)
	var carol occsimore.User
	f.run([]scenario{
		{name: "create", method: "POST", path: "/v1/users", bearer: f.bankAdmin,
			body: `{"email":"carol@bank.example","name":"Carol","role":"reader","password":"carol-password-1"}`, status: http.StatusCreated,
			check: func(t *testing.T, r response) {
				r.decode(t, &carol)
				if got, want := carol.MemberID, f.bank.ID; got != want {
					t.Errorf("member = %q, want %q", got, want)
				}
				if strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), "password") {
					t.Errorf("response exposes the password: %s", r.body)
				}
			}},
		{name: "duplicate email", method: "POST", path: "/v1/users", bearer: f.bankAdmin,
			body:   `{"email":"bob@pharma.example","name":"Bob","role":"reader","password":"bob-password-12"}`,
			status: http.StatusConflict, code: occsimore.ECONFLICT},
		{name: "short password", method: "POST", path: "/v1/users", bearer: f.bankAdmin,
			body:   `{"email":"dan@bank.example","name":"Dan","role":"reader","password":"short"}`,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "password"},
		{name: "blank password", method: "POST", path: "/v1/users", bearer: f.bankAdmin,
			body:   `{"email":"dan@bank.example","name":"Dan","role":"reader","password":"            "}`,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "password"},
		{name: "common password", method: "POST", path: "/v1/users", bearer: f.bankAdmin,
			body:   `{"email":"dan@bank.example","name":"Dan","role":"reader","password":"Password2024!"}`,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "password"},
		{name: "password of the email", method: "POST", path: "/v1/users", bearer: f.bankAdmin,
			body:   `{"email":"dan.kowalski@bank.example","name":"Dan","role":"reader","password":"dankowalski2026"}`,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "password"},
		{name: "over-long password", method: "POST", path: "/v1/users", bearer: f.bankAdmin,
			body:   `{"email":"dan@bank.example","name":"Dan","role":"reader","password":"` + strings.Repeat("tram lilac ", 24) + `"}`,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "password"},
		{name: "bad email", method: "POST", path: "/v1/users", bearer: f.bankAdmin,
			body:   `{"email":"Dan <dan@bank.example>","name":"Dan","role":"reader","password":"dan-password-12"}`,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "email"},
		{name: "ingest role", method: "POST", path: "/v1/users", bearer: f.bankAdmin,
			body:   `{"email":"dan@bank.example","name":"Dan","role":"ingest","password":"dan-password-12"}`,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "role"},
		{name: "unknown field", method: "POST", path: "/v1/users", bearer: f.bankAdmin,
			body:   `{"email":"dan@bank.example","name":"Dan","role":"reader","password":"dan-password-12","admin":true}`,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "admin"},
		{name: "truncated JSON", method: "POST", path: "/v1/users", bearer: f.bankAdmin,
			body: `{"email":"dan@bank.example","name":"Da`, status: http.StatusBadRequest, code: occsimore.EINVALID, field: "name"},
		{name: "list", method: "GET", path: "/v1/users", bearer: f.bankAdmin, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var body struct{ Users []occsimore.User }
				r.decode(t, &body)
				var emails []string
				for _, u := range body.Users {
					emails = append(emails, u.Email)
				}
				if got, want := strings.Join(emails, ","), "alice@bank.example,carol@bank.example"; got != want {
					t.Errorf("emails = %s, want %s", got, want)
				}
			}},
		{name: "get another member's", method: "GET", path: "/v1/users/" + f.bob.ID, bearer: f.bankAdmin,
			status: http.StatusNotFound, code: occsimore.ENOTFOUND},
		{name: "get", method: "GET", path: "/v1/users/" + f.alice.ID, bearer: f.bankAdmin, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var u occsimore.User
				r.decode(t, &u)
				if got, want := u.Email, f.alice.Email; got != want {
					t.Errorf("email = %q, want %q", got, want)
				}
			}},
		{name: "set password", method: "PUT", path: "/v1/users/" + f.alice.ID + "/password", bearer: f.bankAdmin,
			body: `{"password":"alice-new-password"}`, status: http.StatusNoContent},
		{name: "set short password", method: "PUT", path: "/v1/users/" + f.alice.ID + "/password", bearer: f.bankAdmin,
			body: `{"password":"short"}`, status: http.StatusBadRequest, code: occsimore.EINVALID, field: "password"},
		{name: "set blank password", method: "PUT", path: "/v1/users/" + f.alice.ID + "/password", bearer: f.bankAdmin,
			body: `{"password":"            "}`, status: http.StatusBadRequest, code: occsimore.EINVALID, field: "password"},
		{name: "set over-long password", method: "PUT", path: "/v1/users/" + f.alice.ID + "/password", bearer: f.bankAdmin,
			body: `{"password":"` + strings.Repeat("x", 1000) + `yz"}`, status: http.StatusBadRequest, code: occsimore.EINVALID, field: "password"},
		{name: "set password of another member's user", method: "PUT", path: "/v1/users/" + f.bob.ID + "/password", bearer: f.bankAdmin,
			body: `{"password":"taken-over-password"}`, status: http.StatusNotFound, code: occsimore.ENOTFOUND},
		{name: "set password of a missing user", method: "PUT", path: "/v1/users/usr_missing/password", bearer: f.bankAdmin,
			body: `{"password":"taken-over-password"}`, status: http.StatusNotFound, code: occsimore.ENOTFOUND},
	})
	alice, err := f.db.FindUser(context.Background(), f.bank.ID, f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.VerifyPassword("alice-new-password", alice.PasswordHash); err != nil {
		t.Errorf("new password does not verify: %v", err)
	}
	bob, err := f.db.FindUser(context.Background(), f.pharma.ID, f.bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := bob.PasswordHash, f.bob.PasswordHash; got != want {
		t.Error("another member's user's password changed")
	}
}

// TestPasswordHashingBounded: when every argon2 slot is busy, a password
// change waits a bounded time and answers 503 instead of adding one more
// 64 MiB hash to the machine's load.
func TestPasswordHashingBounded(t *testing.T) {
	h := auth.NewHasher(cheap, 1, 10*time.Millisecond)
	f := newFixtureWith(t, func(s *occhttp.Server) { s.Hasher = h })
	release, err := h.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := f.do(t, "PUT", "/v1/users/"+f.alice.ID+"/password", f.bankAdmin, `{"password":"alice-new-password"}`)
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d with every hash slot busy, want 503: %s", r.status, r.body)
	}
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	release()
	r = f.do(t, "PUT", "/v1/users/"+f.alice.ID+"/password", f.bankAdmin, `{"password":"alice-new-password"}`)
	if r.status != http.StatusNoContent {
		t.Fatalf("status %d with a free slot, want 204: %s", r.status, r.body)
	}
}
