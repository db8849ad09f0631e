package web

import (
	"net/http"
	"strings"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
)

// accountView is the data of the account page.
type accountView struct {
	Form   *form
	Notice string
}

// accountPage shows the signed-in user's account and the form to change its
// password.
func (c *Console) accountPage(w http.ResponseWriter, r *http.Request) {
	v := accountView{Form: newForm(r)}
	if r.URL.Query().Get("done") == "password-changed" {
		v.Notice = "Password changed. Every other sign-in of this account has ended."
	}
	c.Render(w, r, "account", v)
}

// changePassword lets signed-in users change their own password, given the
// current one. The store ends every session of the user, and their live
// streams end here; this browser gets a fresh session so that the user stays
// signed in. Attempts count against the sign-in limits, so a stolen session
// cannot guess the current password quickly.
func (c *Console) changePassword(w http.ResponseWriter, r *http.Request) {
	sess := sessionFromContext(r.Context())
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		c.formError(w, r, err)
		return
	}
	f := newForm(r)
	current, next := r.PostForm.Get("current"), r.PostForm.Get("password")
	now, ip := c.now(), clientIP(r)
	key := strings.ToLower(sess.user.Email)
	ok := c.ipLimit.allow(ip, now)
	if ok {
		_, ok = c.admitUntrusted(ip, key, true, now)
	}
	if !ok {
		w.Header().Set("Retry-After", "30")
		f.Message = "Too many attempts. Wait a minute, then try again."
		c.RenderStatus(w, r, http.StatusTooManyRequests, "account", accountView{Form: f})
		return
	}
	// The user may have changed since the page loaded; check the stored hash.
	u, err := c.users.FindUser(ctx, sess.user.MemberID, sess.user.ID)
	if err != nil {
		c.Error(w, r, err)
		return
	}
	verr, err := c.verifyPassword(ctx, current, u.PasswordHash)
	if err != nil {
		c.Error(w, r, err)
		return
	}
	if verr != nil {
		f.Errors["current"] = "This is not your current password."
	} else if current == next {
		f.Errors["password"] = "The new password must differ from the current one."
	}
	if f.Failed() {
		c.RenderStatus(w, r, http.StatusUnprocessableEntity, "account", accountView{Form: f})
		return
	}
	hash, err := c.hashPassword(ctx, next, u.Email, u.Name)
	if occsimore.ErrorCode(err) == occsimore.EINVALID {
		f.add(err, "password")
		c.RenderStatus(w, r, http.StatusUnprocessableEntity, "account", accountView{Form: f})
		return
	} else if err != nil {
		c.Error(w, r, err)
		return
	}
	if err := c.users.SetPassword(ctx, u.MemberID, u.ID, hash); err != nil {
		c.Error(w, r, err)
		return
	}
	c.streams.endUser(u.ID)
	if err := c.startSession(w, r, u); err != nil {
		c.Error(w, r, err)
		return
	}
	c.logger.InfoContext(ctx, "web: password changed", "user", u.ID, "member", u.MemberID, "ip", ip)
	http.Redirect(w, r, "/account?done=password-changed", http.StatusSeeOther)
}

// startSession creates a session for u and sets its cookie.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, u *occsimore.User) error {
	now := c.now()
	secret := occsimore.NewSecret(32)
	s := &occsimore.Session{
		Hash: auth.HashSecret(secret), UserID: u.ID, MemberID: u.MemberID,
		CreatedAt: now.UTC(), ExpiresAt: now.Add(c.cfg.SessionTTL).UTC(),
	}
	if err := c.users.CreateSession(r.Context(), s); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: secret, Path: "/",
		Expires: s.ExpiresAt, MaxAge: int(c.cfg.SessionTTL.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	return nil
}
