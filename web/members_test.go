package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
)

var bearerRe = regexp.MustCompile(`value="(occ_tok_[a-z2-7]+\.[a-z2-7]+)"`)

func TestMembers_AdminCreatesAndRevokesToken(t *testing.T) {
	f := newFixture(t, testConfig())
	ctx := context.Background()
	c := f.login(t, f.adminA)

	res, body := f.post(t, "/members/tokens", url.Values{"name": {"card-gateway"}, "role": {"ingest"}, "expires": {"30d"}}, c)
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("create: status %d, want %d:\n%s", got, want, body)
	}
	if got, want := res.Header.Get("Cache-Control"), "no-store"; got != want {
		t.Errorf("secret page Cache-Control = %q, want %q", got, want)
	}
	m := bearerRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no bearer token on the page:\n%s", body)
	}
	id, secret, err := auth.ParseBearer(m[1])
	if err != nil {
		t.Fatalf("ParseBearer(%q): %v", m[1], err)
	}
	tok, err := f.db.LookupToken(ctx, id)
	if err != nil {
		t.Fatalf("LookupToken: %v", err)
	}
	if err := auth.CheckToken(tok, secret, f.clock.Now()); err != nil {
		t.Fatalf("CheckToken on the shown secret: %v", err)
	}
	if got, want := tok.MemberID, f.memberA.ID; got != want {
		t.Errorf("token member = %q, want %q", got, want)
	}
	if got, want := tok.Role, occsimore.RoleIngest; got != want {
		t.Errorf("token role = %q, want %q", got, want)
	}
	if got, want := tok.ExpiresAt, f.clock.Now().AddDate(0, 0, 30); !got.Equal(want) {
		t.Errorf("token expires %v, want %v", got, want)
	}

	// Listed, active, and its secret never appears again.
	_, body = f.get(t, "/members", c)
	if !strings.Contains(body, `data-token-id="`+id+`" data-status="active"`) {
		t.Fatalf("token %s not listed as active:\n%s", id, body)
	}
	if strings.Contains(body, secret) {
		t.Fatal("members page shows the token secret")
	}

	res, _ = f.post(t, "/members/tokens/"+id+"/revoke", nil, c)
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("revoke: status %d, want %d", got, want)
	}
	// A browser does not send the #fragment.
	loc, _, _ := strings.Cut(res.Header.Get("Location"), "#")
	_, body = f.get(t, loc, c)
	if !strings.Contains(body, `data-token-id="`+id+`" data-status="revoked"`) {
		t.Fatalf("token %s not listed as revoked:\n%s", id, body)
	}
	if !strings.Contains(body, "Token revoked.") {
		t.Error("no confirmation after revoking")
	}
	tok, err = f.db.LookupToken(ctx, id)
	if err != nil {
		t.Fatalf("LookupToken: %v", err)
	}
	if err := auth.CheckToken(tok, secret, f.clock.Now()); err == nil {
		t.Fatal("revoked token still authenticates")
	}
}

func TestMembers_CannotRevokeAnotherMembersToken(t *testing.T) {
	f := newFixture(t, testConfig())
	c := f.login(t, f.adminA)
	res, body := f.post(t, "/members/tokens/"+f.tokenB.ID+"/revoke", nil, c)
	if got, want := res.StatusCode, http.StatusNotFound; got != want {
		t.Fatalf("status = %d, want %d:\n%s", got, want, body)
	}
	tok, err := f.db.FindToken(context.Background(), f.memberB.ID, f.tokenB.ID)
	if err != nil {
		t.Fatalf("FindToken: %v", err)
	}
	if !tok.Active(f.clock.Now()) {
		t.Fatalf("member B's token was revoked by member A's admin (revoked at %v)", tok.RevokedAt)
	}
	// Nor does A's page show B's token or users.
	_, body = f.get(t, "/members", c)
	for _, s := range []string{f.tokenB.ID, "radar-feed", f.adminB.Email, "Weather Service"} {
		if strings.Contains(body, s) {
			t.Errorf("member A's page shows member B's %q", s)
		}
	}
}

func TestMembers_ReaderIsReadOnly(t *testing.T) {
	f := newFixture(t, testConfig())
	ctx := context.Background()
	tokA, _ := auth.NewToken(f.memberA.ID, "siem-export", occsimore.RoleReader, f.clock.Now(), 0)
	if err := f.db.CreateToken(ctx, f.memberA.ID, tokA); err != nil {
		t.Fatal(err)
	}
	c := f.login(t, f.readerA)

	res, body := f.get(t, "/members", c)
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("GET: status %d, want %d", got, want)
	}
	if !strings.Contains(body, "siem-export") || !strings.Contains(body, "Ana Admin") {
		t.Errorf("reader does not see the member's tokens and users:\n%s", body)
	}
	for _, s := range []string{`action="/members/tokens"`, `action="/members/users`, "/revoke", `action="/members/new`} {
		if strings.Contains(body, s) {
			t.Errorf("reader's page has a form posting to %s", s)
		}
	}

	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/members/tokens", url.Values{"name": {"sneaky"}, "role": {"admin"}, "expires": {""}}},
		{"/members/tokens/" + tokA.ID + "/revoke", nil},
		{"/members/users", url.Values{"email": {"eve@north.example"}, "name": {"Eve"}, "role": {"admin"}, "password": {testPassword}}},
	} {
		res, _ := f.post(t, tc.path, tc.form, c)
		if got, want := res.StatusCode, http.StatusForbidden; got != want {
			t.Errorf("POST %s: status %d, want %d", tc.path, got, want)
		}
	}
	tokens, err := f.db.ListTokens(ctx, f.memberA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(tokens), 1; got != want {
		t.Fatalf("member A has %d tokens, want %d", got, want)
	}
	if !tokens[0].Active(f.clock.Now()) {
		t.Error("reader revoked a token")
	}
	if _, err := f.db.FindUserByEmail(ctx, "eve@north.example"); occsimore.ErrorCode(err) != occsimore.ENOTFOUND {
		t.Errorf("reader created a user (err %v)", err)
	}
}

func TestMembers_AdminAddsUser(t *testing.T) {
	f := newFixture(t, testConfig())
	c := f.login(t, f.adminA)
	res, body := f.post(t, "/members/users", url.Values{
		"email": {"carla@north.example"}, "name": {"Carla Analyst"}, "role": {"analyst"}, "password": {"a long enough password"},
	}, c)
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("status %d, want %d:\n%s", got, want, body)
	}
	u, err := f.db.FindUserByEmail(context.Background(), "carla@north.example")
	if err != nil {
		t.Fatalf("FindUserByEmail: %v", err)
	}
	if got, want := u.MemberID, f.memberA.ID; got != want {
		t.Errorf("user member = %q, want %q", got, want)
	}
	if got, want := u.Role, occsimore.RoleAnalyst; got != want {
		t.Errorf("user role = %q, want %q", got, want)
	}
	if err := auth.VerifyPassword("a long enough password", u.PasswordHash); err != nil {
		t.Errorf("stored hash does not verify: %v", err)
	}
	// And the new user can sign in.
	res, _ = f.post(t, "/login", url.Values{"email": {u.Email}, "password": {"a long enough password"}}, nil)
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("new user login: status %d, want %d", got, want)
	}
}

func TestMembers_ValidationErrorsKeepInput(t *testing.T) {
	f := newFixture(t, testConfig())
	c := f.login(t, f.adminA)
	for _, tc := range []struct {
		name, path string
		form       url.Values
		keep       []string // values that must come back in the form
		message    string   // the error shown
	}{
		{"bad email", "/members/users",
			url.Values{"email": {"not-an-email"}, "name": {"Dora Typed"}, "role": {"reader"}, "password": {testPassword}},
			[]string{`value="not-an-email"`, `value="Dora Typed"`, `<option selected>reader</option>`},
			`email "not-an-email" is not a plain address`},
		{"short password", "/members/users",
			url.Values{"email": {"dora@north.example"}, "name": {"Dora"}, "role": {"reader"}, "password": {"short"}},
			[]string{`value="dora@north.example"`},
			"password must be at least 12 characters"},
		{"blank password", "/members/users",
			url.Values{"email": {"dora@north.example"}, "name": {"Dora"}, "role": {"reader"}, "password": {"            "}},
			[]string{`value="dora@north.example"`},
			"password repeats a short pattern"},
		{"invalid UTF-8 name", "/members/users",
			url.Values{"email": {"dora@north.example"}, "name": {"Dora \xff"}, "role": {"reader"}, "password": {testPassword}},
			[]string{`value="dora@north.example"`},
			"name is not valid UTF-8"},
		{"invalid UTF-8 token name", "/members/tokens",
			url.Values{"name": {"feed \xfe"}, "role": {"reader"}, "expires": {"90d"}},
			[]string{`<option value="90d" selected>`},
			"name is not valid UTF-8"},
		{"duplicate email", "/members/users",
			url.Values{"email": {f.adminB.Email}, "name": {"Copy"}, "role": {"reader"}, "password": {testPassword}},
			[]string{`value="` + f.adminB.Email + `"`},
			"already exists"},
		{"token without name", "/members/tokens",
			url.Values{"name": {""}, "role": {"reader"}, "expires": {"90d"}},
			[]string{`<option value="90d" selected>`},
			"name is required"},
		{"token with unknown expiry", "/members/tokens",
			url.Values{"name": {"odd"}, "role": {"reader"}, "expires": {"3h"}},
			[]string{`value="odd"`},
			"choose one of the listed expiries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := f.post(t, tc.path, tc.form, c)
			if got, want := res.StatusCode, http.StatusUnprocessableEntity; got != want {
				t.Fatalf("status %d, want %d:\n%s", got, want, body)
			}
			if !strings.Contains(html.UnescapeString(body), tc.message) {
				t.Errorf("error %q not shown:\n%s", tc.message, body)
			}
			if !strings.Contains(body, `class="field-error"`) || !strings.Contains(body, `aria-invalid="true"`) {
				t.Error("the error is not attached to its field")
			}
			for _, k := range tc.keep {
				if !strings.Contains(html.UnescapeString(body), k) {
					t.Errorf("typed input %s lost", k)
				}
			}
		})
	}
	tokens, err := f.db.ListTokens(context.Background(), f.memberA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 0 {
		t.Fatalf("invalid forms created %d tokens", len(tokens))
	}
}

func TestMembers_OperatorAdminAddsMember(t *testing.T) {
	f := newFixture(t, testConfig())
	c := f.login(t, f.opAdmin)
	_, body := f.get(t, "/members", c)
	for _, name := range []string{"Lab Operations", "North Bank", "Weather Service"} {
		if !strings.Contains(body, name) {
			t.Errorf("operator admin does not see member %q", name)
		}
	}
	res, body := f.post(t, "/members/new", url.Values{"slug": {"pharma-one"}, "name": {"Pharma One"}, "sector": {"pharma"}}, c)
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("status %d, want %d:\n%s", got, want, body)
	}
	m, err := f.db.FindMemberBySlug(context.Background(), "pharma-one")
	if err != nil {
		t.Fatalf("FindMemberBySlug: %v", err)
	}
	if got, want := m.Sector, "pharma"; got != want {
		t.Errorf("sector = %q, want %q", got, want)
	}
	if m.Operator {
		t.Error("a member added in the console became an operator")
	}

	res, body = f.post(t, "/members/new", url.Values{"slug": {"pharma-one"}, "name": {"Again"}, "sector": {"pharma"}}, c)
	if got, want := res.StatusCode, http.StatusUnprocessableEntity; got != want {
		t.Fatalf("duplicate: status %d, want %d", got, want)
	}
	if !strings.Contains(html.UnescapeString(body), `"pharma-one" already exists`) || !strings.Contains(body, `value="Again"`) {
		t.Errorf("duplicate slug not reported next to the kept form:\n%s", body)
	}
}

func TestMembers_OnlyOperatorAdminsAddMembers(t *testing.T) {
	f := newFixture(t, testConfig())
	c := f.login(t, f.adminA)
	_, body := f.get(t, "/members", c)
	if strings.Contains(body, `action="/members/new`) || strings.Contains(body, "Weather Service") {
		t.Error("a non-operator admin sees the member list or the add-member form")
	}
	res, _ := f.post(t, "/members/new", url.Values{"slug": {"rogue"}, "name": {"Rogue"}, "sector": {"other"}}, c)
	if got, want := res.StatusCode, http.StatusForbidden; got != want {
		t.Fatalf("status %d, want %d", got, want)
	}
	if _, err := f.db.FindMemberBySlug(context.Background(), "rogue"); occsimore.ErrorCode(err) != occsimore.ENOTFOUND {
		t.Fatalf("member was created (err %v)", err)
	}
}
