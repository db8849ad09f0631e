package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
)

// form keeps what a user typed and the errors about it, so that a rejected
// form comes back filled in with each message next to its field.
type form struct {
	Values  map[string]string
	Errors  map[string]string // by field name
	Message string            // about the form as a whole
}

func newForm(r *http.Request, fields ...string) *form {
	f := &form{Values: make(map[string]string, len(fields)), Errors: make(map[string]string)}
	for _, k := range fields {
		f.Values[k] = strings.TrimSpace(r.PostForm.Get(k))
	}
	return f
}

// Get returns the value typed in field k.
func (f *form) Get(k string) string {
	if f == nil {
		return ""
	}
	return f.Values[k]
}

// Err returns the error about field k, if any.
func (f *form) Err(k string) string {
	if f == nil {
		return ""
	}
	return f.Errors[k]
}

// Failed reports whether the form has any error.
func (f *form) Failed() bool { return f != nil && (len(f.Errors) > 0 || f.Message != "") }

// add records err against its field, or against the whole form. fallback is
// the field a field-less error of this kind is about (such as a conflict).
func (f *form) add(err error, fallback string) {
	field := occsimore.ErrorField(err)
	if field == "" {
		field = fallback
	}
	if _, ok := f.Values[field]; ok || field == "password" {
		if f.Errors[field] == "" {
			f.Errors[field] = occsimore.ErrorMessage(err)
		}
		return
	}
	f.Message = occsimore.ErrorMessage(err)
}

// expiry is a choice of token lifetime.
type expiry struct {
	Value string
	Label string
	ttl   time.Duration
}

var expiries = []expiry{
	{Value: "", Label: "Never"},
	{Value: "7d", Label: "7 days", ttl: 7 * 24 * time.Hour},
	{Value: "30d", Label: "30 days", ttl: 30 * 24 * time.Hour},
	{Value: "90d", Label: "90 days", ttl: 90 * 24 * time.Hour},
	{Value: "365d", Label: "1 year", ttl: 365 * 24 * time.Hour},
}

// tokenRow is a token with its state at render time.
type tokenRow struct {
	*occsimore.Token
	Status string // active, revoked or expired
}

// membersView is the data of the Members page.
type membersView struct {
	Member        *occsimore.Member
	CanManage     bool // admin of this member
	OperatorAdmin bool // admin of an operator member: sees and adds members
	Members       []*occsimore.Member
	Users         []*occsimore.User
	Tokens        []tokenRow
	Notice        string

	Sectors    []string
	UserRoles  []occsimore.Role
	TokenRoles []occsimore.Role
	Expiries   []expiry

	MemberForm *form
	UserForm   *form
	TokenForm  *form
}

// notices are the confirmations a redirect may ask for by key, so that no
// text from the URL reaches the page.
var notices = map[string]string{
	"member-added":  "Member added.",
	"user-added":    "User added.",
	"token-revoked": "Token revoked.",
}

func (c *Console) membersPage(w http.ResponseWriter, r *http.Request) {
	v := &membersView{Notice: notices[r.URL.Query().Get("done")]}
	c.renderMembers(w, r, http.StatusOK, v)
}

// renderMembers loads the member's users and tokens into v and renders it.
// Every store call is scoped to the session's member.
func (c *Console) renderMembers(w http.ResponseWriter, r *http.Request, status int, v *membersView) {
	ctx := r.Context()
	p := occsimore.PrincipalFromContext(ctx)
	v.Member = p.Member
	v.CanManage = p.Can(occsimore.PermManage)
	v.OperatorAdmin = v.CanManage && p.Member.Operator
	v.Sectors = occsimore.Sectors
	// Least privilege first, so that it is the default choice.
	v.UserRoles = []occsimore.Role{occsimore.RoleReader, occsimore.RoleAnalyst, occsimore.RoleAdmin}
	v.TokenRoles = []occsimore.Role{occsimore.RoleIngest, occsimore.RoleReader, occsimore.RoleAnalyst, occsimore.RoleAdmin}
	v.Expiries = expiries
	for _, f := range []**form{&v.MemberForm, &v.UserForm, &v.TokenForm} {
		if *f == nil {
			*f = &form{}
		}
	}

	var err error
	if v.OperatorAdmin {
		if v.Members, err = c.members.ListMembers(ctx, p.Member); err != nil {
			c.Error(w, r, err)
			return
		}
	}
	if v.Users, err = c.users.ListUsers(ctx, p.Member.ID); err != nil {
		c.Error(w, r, err)
		return
	}
	tokens, err := c.tokens.ListTokens(ctx, p.Member.ID)
	if err != nil {
		c.Error(w, r, err)
		return
	}
	now := c.now()
	for _, t := range tokens {
		row := tokenRow{Token: t, Status: "active"}
		switch {
		case !t.RevokedAt.IsZero():
			row.Status = "revoked"
		case !t.Active(now):
			row.Status = "expired"
		}
		v.Tokens = append(v.Tokens, row)
	}
	c.RenderStatus(w, r, status, "members", v)
}

// manager returns the principal if it may manage users and tokens; otherwise
// it renders 403 and returns nil.
func (c *Console) manager(w http.ResponseWriter, r *http.Request) *occsimore.Principal {
	p := occsimore.PrincipalFromContext(r.Context())
	if !p.Can(occsimore.PermManage) {
		c.Error(w, r, occsimore.Errorf(occsimore.EFORBIDDEN, "only an admin of %s can do this", p.Member.Name))
		return nil
	}
	if err := r.ParseForm(); err != nil {
		c.formError(w, r, err)
		return nil
	}
	return p
}

func (c *Console) createMember(w http.ResponseWriter, r *http.Request) {
	p := c.manager(w, r)
	if p == nil {
		return
	}
	if !p.Member.Operator {
		c.Error(w, r, occsimore.Errorf(occsimore.EFORBIDDEN, "only admins of an operator member can add members"))
		return
	}
	f := newForm(r, "slug", "name", "sector")
	m := &occsimore.Member{Slug: f.Get("slug"), Name: f.Get("name"), Sector: f.Get("sector")}
	if err := m.Validate(); err != nil {
		f.add(err, "")
	} else if err := c.members.CreateMember(r.Context(), m); err != nil {
		if !c.formStoreError(w, r, f, err, "slug") {
			return
		}
	}
	if f.Failed() {
		c.renderMembers(w, r, http.StatusUnprocessableEntity, &membersView{MemberForm: f})
		return
	}
	c.logger.InfoContext(r.Context(), "web: member created", "member", m.ID, "by", p.UserID)
	http.Redirect(w, r, "/members?done=member-added#members", http.StatusSeeOther)
}

func (c *Console) createUser(w http.ResponseWriter, r *http.Request) {
	p := c.manager(w, r)
	if p == nil {
		return
	}
	// The password is never echoed back into the page.
	f := newForm(r, "email", "name", "role")
	u := &occsimore.User{Email: f.Get("email"), Name: f.Get("name"), Role: occsimore.Role(f.Get("role"))}
	if err := u.Validate(); err != nil {
		f.add(err, "")
	}
	hash, err := c.hashPassword(r.Context(), r.PostForm.Get("password"), u.Email, u.Name)
	if occsimore.ErrorCode(err) == occsimore.EINVALID {
		f.add(err, "password")
	} else if err != nil {
		c.Error(w, r, err)
		return
	}
	if !f.Failed() {
		u.PasswordHash = hash
		if err := c.users.CreateUser(r.Context(), p.Member.ID, u); err != nil {
			if occsimore.ErrorCode(err) == occsimore.ECONFLICT {
				err = occsimore.FieldErrorf("email", "a user with email %s already exists", u.Email)
			}
			if !c.formStoreError(w, r, f, err, "email") {
				return
			}
		}
	}
	if f.Failed() {
		c.renderMembers(w, r, http.StatusUnprocessableEntity, &membersView{UserForm: f})
		return
	}
	c.logger.InfoContext(r.Context(), "web: user created", "member", p.Member.ID, "user", u.ID, "by", p.UserID)
	http.Redirect(w, r, "/members?done=user-added#users", http.StatusSeeOther)
}

// tokenCreatedView is the data of the page that shows a new token's secret.
type tokenCreatedView struct {
	Token  *occsimore.Token
	Bearer string
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request) {
	p := c.manager(w, r)
	if p == nil {
		return
	}
	f := newForm(r, "name", "role", "expires")
	var ttl time.Duration
	found := false
	for _, e := range expiries {
		if e.Value == f.Get("expires") {
			ttl, found = e.ttl, true
		}
	}
	if !found {
		f.Errors["expires"] = "choose one of the listed expiries"
	}
	t, bearer := auth.NewToken(p.Member.ID, f.Get("name"), occsimore.Role(f.Get("role")), c.now(), ttl)
	if err := t.Validate(); err != nil {
		f.add(err, "")
	}
	if !f.Failed() {
		if err := c.tokens.CreateToken(r.Context(), p.Member.ID, t); err != nil {
			if !c.formStoreError(w, r, f, err, "name") {
				return
			}
		}
	}
	if f.Failed() {
		c.renderMembers(w, r, http.StatusUnprocessableEntity, &membersView{TokenForm: f})
		return
	}
	c.logger.InfoContext(r.Context(), "web: token created", "member", p.Member.ID, "token", t.ID, "by", p.UserID)
	c.Render(w, r, "token_created", tokenCreatedView{Token: t, Bearer: bearer})
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request) {
	p := c.manager(w, r)
	if p == nil {
		return
	}
	id := r.PathValue("id")
	if err := c.tokens.RevokeToken(r.Context(), p.Member.ID, id, c.now()); err != nil {
		c.Error(w, r, err)
		return
	}
	c.logger.InfoContext(r.Context(), "web: token revoked", "member", p.Member.ID, "token", id, "by", p.UserID)
	http.Redirect(w, r, "/members?done=token-revoked#tokens", http.StatusSeeOther)
}

// formStoreError puts a store's validation or conflict error on the form and
// reports true; any other error is rendered as an error page and reports false.
func (c *Console) formStoreError(w http.ResponseWriter, r *http.Request, f *form, err error, field string) bool {
	switch occsimore.ErrorCode(err) {
	case occsimore.EINVALID, occsimore.ECONFLICT:
		f.add(err, field)
		return true
	}
	c.Error(w, r, err)
	return false
}
