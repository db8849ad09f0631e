package http_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/occsimore/occsimore"
)

func TestMembers(t *testing.T) {
	f := newFixture(t)
	var created struct {
		Member     occsimore.Member `json:"member"`
		AdminToken struct {
			occsimore.Token
			Secret string `json:"secret"`
		} `json:"admin_token"`
	}
	listIDs := func(t *testing.T, r response) []string {
		var body struct{ Members []occsimore.Member }
		r.decode(t, &body)
		var ids []string
		for _, m := range body.Members {
			ids = append(ids, m.ID)
		}
		return ids
	}
	f.run([]scenario{
		{name: "operator lists every member", method: "GET", path: "/v1/members", bearer: f.opsReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				if got, want := strings.Join(listIDs(t, r), ","), strings.Join([]string{f.bank.ID, f.ops.ID, f.pharma.ID}, ","); got != want {
					t.Fatalf("ids = %s, want %s (by slug)", got, want)
				}
			}},
		{name: "member lists itself only", method: "GET", path: "/v1/members", bearer: f.bankReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				if got, want := strings.Join(listIDs(t, r), ","), f.bank.ID; got != want {
					t.Fatalf("ids = %s, want %s", got, want)
				}
			}},
		{name: "member reads itself", method: "GET", path: "/v1/members/" + f.bank.ID, bearer: f.bankReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var m occsimore.Member
				r.decode(t, &m)
				if got, want := m.Slug, "bank"; got != want {
					t.Fatalf("slug = %q, want %q", got, want)
				}
			}},
		{name: "operator reads another member", method: "GET", path: "/v1/members/" + f.pharma.ID, bearer: f.opsReader, status: http.StatusOK},
		{name: "member reads another member", method: "GET", path: "/v1/members/" + f.pharma.ID, bearer: f.bankAdmin,
			status: http.StatusNotFound, code: occsimore.ENOTFOUND},
		{name: "missing member", method: "GET", path: "/v1/members/mem_missing", bearer: f.opsAdmin,
			status: http.StatusNotFound, code: occsimore.ENOTFOUND},
		{name: "operator creates member with token", method: "POST", path: "/v1/members", bearer: f.opsAdmin,
			body: `{"slug":"meteo","name":"Weather service","sector":"weather","admin_token":true}`, status: http.StatusCreated,
			check: func(t *testing.T, r response) {
				r.decode(t, &created)
				if got, want := created.Member.Slug, "meteo"; got != want {
					t.Errorf("slug = %q, want %q", got, want)
				}
				if created.Member.Operator {
					t.Error("a member created through the API is an operator")
				}
				if got, want := r.header.Get("Location"), "/v1/members/"+created.Member.ID; got != want {
					t.Errorf("Location = %q, want %q", got, want)
				}
				if got, want := created.AdminToken.Role, occsimore.RoleAdmin; got != want {
					t.Errorf("token role = %q, want %q", got, want)
				}
				if got, want := created.AdminToken.MemberID, created.Member.ID; got != want {
					t.Errorf("token member = %q, want %q", got, want)
				}
			}},
		{name: "operator creates member without token", method: "POST", path: "/v1/members", bearer: f.opsAdmin,
			body: `{"slug":"rail","name":"Rail","sector":"transport"}`, status: http.StatusCreated,
			check: func(t *testing.T, r response) {
				if strings.Contains(string(r.body), "admin_token") {
					t.Fatalf("admin token returned unasked: %s", r.body)
				}
			}},
		{name: "duplicate slug", method: "POST", path: "/v1/members", bearer: f.opsAdmin,
			body: `{"slug":"bank","name":"Another","sector":"banking"}`, status: http.StatusConflict, code: occsimore.ECONFLICT},
		{name: "bad sector", method: "POST", path: "/v1/members", bearer: f.opsAdmin,
			body: `{"slug":"x1","name":"X","sector":"casino"}`, status: http.StatusBadRequest, code: occsimore.EINVALID, field: "sector"},
		{name: "unknown field", method: "POST", path: "/v1/members", bearer: f.opsAdmin,
			body: `{"slug":"x1","name":"X","sector":"banking","operator":true}`, status: http.StatusBadRequest, code: occsimore.EINVALID, field: "operator"},
		{name: "wrong type", method: "POST", path: "/v1/members", bearer: f.opsAdmin,
			body: `{"slug":"x1","name":"X","sector":"banking","admin_token":"yes"}`, status: http.StatusBadRequest, code: occsimore.EINVALID, field: "admin_token"},
		{name: "non-operator admin creates member", method: "POST", path: "/v1/members", bearer: f.bankAdmin,
			body: `{"slug":"x2","name":"X","sector":"banking"}`, status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "operator reader creates member", method: "POST", path: "/v1/members", bearer: f.opsReader,
			body: `{"slug":"x3","name":"X","sector":"banking"}`, status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "oversized body", method: "POST", path: "/v1/members", bearer: f.opsAdmin,
			body:   `{"slug":"x4","name":"` + strings.Repeat("a", 2<<20) + `","sector":"banking"}`,
			status: http.StatusRequestEntityTooLarge, code: occsimore.ETOOLARGE},
	})

	// The returned secret works, once, as the new member's admin.
	r := f.do(t, "GET", "/v1/me", created.AdminToken.Secret, "")
	var me struct {
		Member occsimore.Member `json:"member"`
		Role   occsimore.Role   `json:"role"`
	}
	r.decode(t, &me)
	if got, want := me.Member.ID, created.Member.ID; got != want {
		t.Errorf("new token's member = %q, want %q", got, want)
	}
	if _, err := f.db.FindMemberBySlug(context.Background(), "x2"); occsimore.ErrorCode(err) != occsimore.ENOTFOUND {
		t.Errorf("refused creation stored a member anyway: %v", err)
	}
}
