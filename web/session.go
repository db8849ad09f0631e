package web

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
)

// SessionCookie is the session cookie's name. The __Host- prefix makes the
// browser insist on Secure, Path=/ and no Domain, so no subdomain can set it.
const SessionCookie = "__Host-occsimore_session"

// session is the signed-in user of a request.
type session struct {
	principal *occsimore.Principal
	user      *occsimore.User
	hash      []byte // of the cookie, the session's key in the store
	expires   time.Time
}

type sessionKey struct{}

func sessionFromContext(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	return s
}

// authenticate returns the session named by r's cookie, or nil when there is
// none or it expired. Other failures are errors.
func (c *Console) authenticate(r *http.Request) (*session, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 200 {
		return nil, nil
	}
	return c.loadSession(r.Context(), auth.HashSecret(ck.Value))
}

// loadSession returns the live session with hash, or nil when it ended,
// expired or its user was removed.
func (c *Console) loadSession(ctx context.Context, hash []byte) (*session, error) {
	s, err := c.users.FindSession(ctx, hash, c.now())
	if occsimore.ErrorCode(err) == occsimore.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	u, err := c.users.FindUser(ctx, s.MemberID, s.UserID)
	if occsimore.ErrorCode(err) == occsimore.ENOTFOUND {
		return nil, nil // the user was removed
	} else if err != nil {
		return nil, err
	}
	m, err := c.members.FindMember(ctx, &occsimore.Member{ID: s.MemberID}, s.MemberID)
	if occsimore.ErrorCode(err) == occsimore.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &session{
		principal: &occsimore.Principal{Member: m, Role: u.Role, UserID: u.ID},
		user:      u,
		hash:      hash,
		expires:   s.ExpiresAt,
	}, nil
}

// requireSession sends visitors without a session to the sign-in page and
// puts the session and its *occsimore.Principal in the request context.
func (c *Console) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.authenticate(r)
		if err != nil {
			c.Error(w, r, err)
			return
		}
		if s == nil {
			target := "/login"
			if r.Method == http.MethodGet && r.URL.Path != "/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		ctx := context.WithValue(r.Context(), sessionKey{}, s)
		ctx = occsimore.NewContextWithPrincipal(ctx, s.principal)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// loginView is the data of the sign-in page.
type loginView struct {
	Email   string
	Next    string
	Message string
}

// localPath returns next if it is a path on this site, else "/": a sign-in
// link must not redirect elsewhere.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || len(next) > 2000 {
		return "/"
	}
	// Browsers treat a backslash as a slash and drop tabs and newlines, so
	// "/\\evil" or "/\t/evil" would become "//evil".
	for i := 0; i < len(next); i++ {
		if b := next[i]; b < 0x20 || b == 0x7f || b == '\\' {
			return "/"
		}
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if s, err := c.authenticate(r); err == nil && s != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	c.Render(w, r, "login", loginView{Next: next})
}

// badLogin is the one message for every wrong email or password, so that the
// page does not reveal which emails have accounts.
const badLogin = "email or password is incorrect"

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.formError(w, r, err)
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	v := loginView{Email: email, Next: localPath(r.PostForm.Get("next"))}
	ctx := r.Context()

	now := c.now()
	ip := clientIP(r)
	// The store ignores the case of emails, and so do the limits.
	key := strings.ToLower(email[:min(len(email), 320)]) // bounded: keys are kept
	if !c.ipLimit.allow(ip, now) {
		c.loginLimited(w, r, v, ip, c.cfg.LoginRate.PerIP.Every)
		return
	}
	// Over the budget, a sign-in without a device cookie for this email is
	// refused before anything else: the refusal depends on neither the email
	// nor its account, and a flood then costs no query of the store.
	dev, trusted := c.deviceFor(r, key)
	if !trusted && c.budget.TokensAt(now) < 1 {
		c.overBudget(w, r, v, ip, now)
		return
	}
	u, err := c.users.FindUserByEmail(ctx, email)
	if err != nil && occsimore.ErrorCode(err) != occsimore.ENOTFOUND {
		c.Error(w, r, err)
		return
	}
	// A browser that signed in as this user before, with a cookie not
	// locked out, is trusted: its own limit replaces the per-pair and
	// per-email bounds, which guesses from elsewhere can exhaust.
	trusted = trusted && u != nil && u.ID == dev.userID && !c.devFails.exhausted(dev.nonce, now)
	if trusted {
		if !c.devLimit.allow(dev.nonce, now) {
			c.loginLimited(w, r, v, ip, c.cfg.LoginRate.PerDevice.Every)
			return
		}
	} else if rt, ok := c.admitUntrusted(ip, key, u != nil, now); !ok {
		c.loginLimited(w, r, v, ip, rt.Every)
		return
	}
	// Last, just before the hashing it pays for, the console-wide budget:
	// charged alike for known and unknown emails.
	if !c.admitVerification(trusted, now) {
		c.overBudget(w, r, v, ip, now)
		return
	}
	// An unknown email costs the same time as a known one.
	hash := c.dummyHash
	if u != nil {
		hash = u.PasswordHash
	}
	verr, err := c.verifyPassword(ctx, password, hash)
	if err != nil {
		c.Error(w, r, err)
		return
	}
	if u == nil || verr != nil {
		if trusted {
			c.devFails.allow(dev.nonce, now)
		}
		c.logger.InfoContext(ctx, "web: sign-in failed", "ip", ip)
		v.Message = badLogin
		c.RenderStatus(w, r, http.StatusUnauthorized, "login", v)
		return
	}
	if auth.NeedsRehash(u.PasswordHash, c.hasher.Params()) {
		// A hash at an older cost verifies in other than the dummy's time,
		// which would tell its email from unknown ones. Replacing it ends
		// the user's other sessions once (SetPassword does).
		if h, err := c.hasher.Rehash(ctx, password); err != nil {
			c.logger.WarnContext(ctx, "web: rehash password", "user", u.ID, "err", err)
		} else if err := c.users.SetPassword(ctx, u.MemberID, u.ID, h); err != nil {
			c.logger.WarnContext(ctx, "web: store rehashed password", "user", u.ID, "err", err)
		}
	}

	// A fresh secret on every sign-in; an old session in this browser ends.
	if old, err := r.Cookie(SessionCookie); err == nil && old.Value != "" {
		if err := c.users.DeleteSession(ctx, auth.HashSecret(old.Value)); err != nil {
			c.logger.WarnContext(ctx, "web: delete previous session", "err", err)
		}
	}
	if err := c.startSession(w, r, u); err != nil {
		c.Error(w, r, err)
		return
	}
	c.setDeviceCookie(w, u)
	if n, err := c.users.DeleteExpiredSessions(ctx, now); err != nil {
		c.logger.WarnContext(ctx, "web: delete expired sessions", "err", err)
	} else if n > 0 {
		c.logger.DebugContext(ctx, "web: deleted expired sessions", "count", n)
	}
	c.logger.InfoContext(ctx, "web: signed in", "user", u.ID, "member", u.MemberID, "ip", ip, "device_cookie", trusted)
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
}

// admitVerification takes one password verification from the budget:
// a trusted browser's first from its reserve. It reports whether one was
// left.
func (c *Console) admitVerification(trusted bool, now time.Time) bool {
	return trusted && c.devBudget.AllowN(now, 1) || c.budget.AllowN(now, 1)
}

// overBudget answers a sign-in the budget refuses: 429, with the time until
// the budget has a verification again.
func (c *Console) overBudget(w http.ResponseWriter, r *http.Request, v loginView, ip string, now time.Time) {
	c.logger.WarnContext(r.Context(), "web: sign-in over the verification budget", "ip", ip)
	wait := (1 - c.budget.TokensAt(now)) / float64(c.budget.Limit())
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait)))))
	v.Message = "The server is checking as many sign-ins as it can right now. Try again in a few seconds."
	c.RenderStatus(w, r, http.StatusTooManyRequests, "login", v)
}

// admitUntrusted charges a sign-in for email key from ip that has no trusted
// device cookie to the per-pair bound and, when the email has an account
// (known), the per-email bound. It reports whether the sign-in may go on,
// or else the rate it is over.
func (c *Console) admitUntrusted(ip, key string, known bool, now time.Time) (Rate, bool) {
	if !c.pairLimit.allow(key+"\x00"+ip, now) {
		return c.cfg.LoginRate.PerPair, false
	}
	if known {
		return c.admitAccount(key, now)
	}
	return Rate{}, true
}

// admitAccount charges an attempt on an email that has an account. Only
// real accounts have a per-email bucket, so made-up emails cannot fill this
// limiter.
func (c *Console) admitAccount(key string, now time.Time) (Rate, bool) {
	if !c.mailLimit.allow(key, now) {
		return c.cfg.LoginRate.PerEmail, false
	}
	return Rate{}, true
}

// loginLimited answers a sign-in over one of the limits with the sign-in
// page; every is the limit's refill interval.
func (c *Console) loginLimited(w http.ResponseWriter, r *http.Request, v loginView, ip string, every time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(every.Seconds()))))
	c.logger.WarnContext(r.Context(), "web: sign-in rate limited", "ip", ip)
	v.Message = "Too many sign-in attempts. Wait a minute, then try again."
	c.RenderStatus(w, r, http.StatusTooManyRequests, "login", v)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(SessionCookie); err == nil && ck.Value != "" {
		hash := auth.HashSecret(ck.Value)
		if err := c.users.DeleteSession(r.Context(), hash); err != nil {
			c.Error(w, r, err)
			return
		}
		// Open live streams of this sign-in end with it.
		c.streams.endSession(string(hash))
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// verifyPassword runs auth.VerifyPassword in one of the hasher's slots. It
// returns the verification's result, or an error if no slot came free.
func (c *Console) verifyPassword(ctx context.Context, password, hash string) (result, err error) {
	return c.hasher.Verify(ctx, password, hash)
}

// hashPassword checks a new password against the policy, with the account's
// email and name as context words, and hashes it in one of the hasher's slots.
func (c *Console) hashPassword(ctx context.Context, password string, contextWords ...string) (string, error) {
	return c.hasher.Hash(ctx, password, contextWords...)
}

// clientIP is the peer address, as the /64 network for IPv6 since one client
// commonly holds a whole /64. The console does not trust forwarding headers.
func clientIP(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}

// formError renders a failure to read a form: too large, or malformed.
func (c *Console) formError(w http.ResponseWriter, r *http.Request, err error) {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		c.Error(w, r, occsimore.Errorf(occsimore.ETOOLARGE, "the form is larger than this site accepts"))
		return
	}
	c.Error(w, r, occsimore.Errorf(occsimore.EINVALID, "the form could not be read"))
}
