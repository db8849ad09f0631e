// Package web is the browser console: server-rendered pages (html/template
// over embed.FS) behind a cookie session, with checksummed static files.
package web

import (
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
	"golang.org/x/time/rate"
)

//go:embed templates static
var files embed.FS

// Config tunes the console. Start from DefaultConfig.
type Config struct {
	// SessionTTL is how long a sign-in lasts.
	SessionTTL time.Duration
	// Argon2 is the cost of password hashes the console creates.
	Argon2 auth.Argon2Params
	// LoginRate bounds sign-in attempts.
	LoginRate LoginRate
	// SignInBudget bounds the password verifications of sign-ins across
	// the console, so that no number of addresses buys more CPU time.
	SignInBudget SignInBudget
	// DeviceKey signs device cookies (HMAC-SHA256). It must outlive
	// restarts, or every browser loses its trust on each; empty makes a
	// random one (tests).
	DeviceKey []byte
	// MaxBodyBytes bounds every request body; forms here are small.
	MaxBodyBytes int64
	// Streams bounds live streams (the alert stream).
	Streams StreamLimits
	// Hasher, if set, runs the console's argon2 work, in slots it shares
	// with the API; nil gives the console its own, at cost Argon2.
	Hasher *auth.Hasher
}

// DefaultConfig returns the production settings.
func DefaultConfig() Config {
	return Config{
		SessionTTL: 12 * time.Hour,
		Argon2:     auth.DefaultArgon2,
		LoginRate: LoginRate{
			PerIP:    Rate{Every: 6 * time.Second, Burst: 10},
			PerPair:  Rate{Every: 30 * time.Second, Burst: 5},
			PerEmail: Rate{Every: 20 * time.Second, Burst: 50},
			// A browser with a device cookie: about one sign-in a minute,
			// with a few at once; five failures lock the cookie out for
			// most of an hour (one more failure per 10 minutes).
			PerDevice:      Rate{Every: time.Minute, Burst: 10},
			DeviceFailures: Rate{Every: 10 * time.Minute, Burst: 5},
		},
		// One argon2id verification at the default cost (64 MiB, 3 passes)
		// takes about 0.2 s of one core: 1 per second for everyone is a
		// tenth of a 2-core machine, and 0.5 per second reserved for
		// browsers with a device cookie another twentieth.
		SignInBudget: SignInBudget{Rate: 1, Burst: 10, DeviceRate: 0.5, DeviceBurst: 5},
		MaxBodyBytes: 64 << 10,
		Streams:      StreamLimits{PerSession: 4, PerMember: 32, Total: 256, WriteTimeout: 10 * time.Second},
	}
}

func (c Config) validate() error {
	switch {
	case c.SessionTTL < time.Minute:
		return occsimore.FieldErrorf("session_ttl", "session TTL must be at least a minute")
	case c.Argon2.Memory < 8 || c.Argon2.Memory > 1<<20 || c.Argon2.Time < 1 || c.Argon2.Time > 16 || c.Argon2.Threads < 1 || c.Argon2.KeyLen < 16 || c.Argon2.KeyLen > 64:
		// The bounds auth.VerifyPassword accepts, so every new hash verifies.
		return occsimore.FieldErrorf("argon2", "argon2 needs memory 8 KiB to 1 GiB, time 1-16, threads ≥1, key 16-64 bytes")
	case c.LoginRate.PerIP.Every <= 0 || c.LoginRate.PerIP.Burst < 1:
		return occsimore.FieldErrorf("login_rate.per_ip", "login rate per IP needs a positive interval and burst")
	case c.LoginRate.PerPair.Every <= 0 || c.LoginRate.PerPair.Burst < 1:
		return occsimore.FieldErrorf("login_rate.per_pair", "login rate per email and IP needs a positive interval and burst")
	case c.LoginRate.PerEmail.Every <= 0 || c.LoginRate.PerEmail.Burst < 1:
		return occsimore.FieldErrorf("login_rate.per_email", "login rate per email needs a positive interval and burst")
	case c.LoginRate.PerDevice.Every <= 0 || c.LoginRate.PerDevice.Burst < 1:
		return occsimore.FieldErrorf("login_rate.per_device", "login rate per device cookie needs a positive interval and burst")
	case c.LoginRate.DeviceFailures.Every <= 0 || c.LoginRate.DeviceFailures.Burst < 1:
		return occsimore.FieldErrorf("login_rate.device_failures", "device cookie lockout needs a positive interval and burst")
	case !(c.SignInBudget.Rate > 0) || c.SignInBudget.Burst < 1:
		return occsimore.FieldErrorf("sign_in_rate", "the sign-in budget needs a positive rate and burst")
	case !(c.SignInBudget.DeviceRate > 0) || c.SignInBudget.DeviceBurst < 1:
		return occsimore.FieldErrorf("device_sign_in_rate", "the device cookie sign-in budget needs a positive rate and burst")
	case c.Streams.PerSession < 1 || c.Streams.PerMember < c.Streams.PerSession || c.Streams.Total < c.Streams.PerMember:
		return occsimore.FieldErrorf("streams", "stream limits need 1 ≤ per session ≤ per member ≤ total")
	case c.Streams.WriteTimeout < 10*time.Millisecond:
		return occsimore.FieldErrorf("streams.write_timeout", "stream write timeout must be at least 10ms")
	case c.MaxBodyBytes < 1024:
		return occsimore.FieldErrorf("max_body_bytes", "max body bytes must be at least 1024")
	}
	return nil
}

// hashWait is how long a sign-in or password change waits for an argon2
// slot before it is told the server is busy.
const hashWait = 10 * time.Second

// navItem is one area of the console in the top navigation.
type navItem struct {
	Label string
	Path  string
	ready bool // a real page is registered; otherwise a placeholder is served
}

// Console serves the web console. Register extra pages with Handle and
// AddNav before calling Handler.
type Console struct {
	cfg     Config
	members occsimore.MemberService
	tokens  occsimore.TokenService
	users   occsimore.UserService
	events  occsimore.EventService  // nil until SetEvents
	alerts  occsimore.AlertService  // nil until SetEvents
	attacks occsimore.AttackService // nil until SetAttacks
	reports occsimore.AttackReportService
	logger  *slog.Logger
	now     func() time.Time

	pages     map[string]*pageTemplate
	assets    *assets
	dummyHash string // verified against when the email is unknown, to equalise timing
	streams   *streams
	heartbeat time.Duration // between stream comments and session checks
	hasher    *auth.Hasher  // bounds concurrent argon2 runs, which take much memory each
	ipLimit   *keyedLimiter
	pairLimit *keyedLimiter // (email, IP)
	mailLimit *keyedLimiter // emails of real accounts only
	devLimit  *keyedLimiter // attempts per device cookie
	devFails  *keyedLimiter // failures per device cookie; empty is locked out
	budget    *rate.Limiter // verifications of all sign-ins
	devBudget *rate.Limiter // reserved for sign-ins with a valid device cookie

	mux       *http.ServeMux
	mu        sync.Mutex // guards nav
	nav       []navItem
	buildOnce sync.Once
	handler   http.Handler
}

// New returns a console over the given stores. now may be nil for time.Now.
func New(cfg Config, members occsimore.MemberService, tokens occsimore.TokenService, users occsimore.UserService, logger *slog.Logger, now func() time.Time) (*Console, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("web config: %w", err)
	}
	if members == nil || tokens == nil || users == nil || logger == nil {
		return nil, errors.New("web: members, tokens, users and logger are required")
	}
	if now == nil {
		now = time.Now
	}
	static, err := loadAssets(files, "static")
	if err != nil {
		return nil, err
	}
	pages, err := loadPages(files, static)
	if err != nil {
		return nil, err
	}
	// Any valid hash at the configured cost will do; its password is random.
	dummy, err := auth.HashPassword(occsimore.NewSecret(32), cfg.Argon2)
	if err != nil {
		return nil, fmt.Errorf("web dummy hash: %w", err)
	}
	c := &Console{
		cfg: cfg, members: members, tokens: tokens, users: users, logger: logger, now: now,
		pages: pages, assets: static, dummyHash: dummy,
		hasher:    cfg.Hasher,
		streams:   newStreams(cfg.Streams),
		heartbeat: streamHeartbeat,
		ipLimit:   newKeyedLimiter(cfg.LoginRate.PerIP),
		pairLimit: newKeyedLimiter(cfg.LoginRate.PerPair),
		mailLimit: newKeyedLimiter(cfg.LoginRate.PerEmail),
		devLimit:  newKeyedLimiter(cfg.LoginRate.PerDevice),
		devFails:  newKeyedLimiter(cfg.LoginRate.DeviceFailures),
		budget:    rate.NewLimiter(rate.Limit(cfg.SignInBudget.Rate), cfg.SignInBudget.Burst),
		devBudget: rate.NewLimiter(rate.Limit(cfg.SignInBudget.DeviceRate), cfg.SignInBudget.DeviceBurst),
		mux:       http.NewServeMux(),
		nav: []navItem{
			{Label: "Alerts", Path: "/alerts"},
			{Label: "Entities", Path: "/entities"},
			{Label: "Attacks", Path: "/attacks"},
			{Label: "Sharing", Path: "/sharing"},
			{Label: "Challenges", Path: "/challenges"},
			{Label: "Members", Path: "/members"},
		},
	}
	if c.hasher == nil {
		// One run at a time: with one lane each, the other cores stay free
		// for everything else.
		c.hasher = auth.NewHasher(cfg.Argon2, 1, hashWait)
	}
	if len(c.cfg.DeviceKey) == 0 {
		c.cfg.DeviceKey = []byte(occsimore.NewSecret(32))
	}
	c.routes()
	return c, nil
}

// routes registers the pages this package owns.
func (c *Console) routes() {
	c.mux.Handle("GET /static/{file}", c.assets)
	c.mux.HandleFunc("GET /login", c.loginPage)
	c.mux.HandleFunc("POST /login", c.login)
	c.mux.HandleFunc("POST /logout", c.logout)

	c.Handle("GET /{$}", http.HandlerFunc(c.home))
	c.Handle("GET /account", http.HandlerFunc(c.accountPage))
	c.Handle("POST /account/password", http.HandlerFunc(c.changePassword))
	c.Handle("GET /members", http.HandlerFunc(c.membersPage))
	c.Handle("POST /members/new", http.HandlerFunc(c.createMember))
	c.Handle("POST /members/users", http.HandlerFunc(c.createUser))
	c.Handle("POST /members/tokens", http.HandlerFunc(c.createToken))
	c.Handle("POST /members/tokens/{id}/revoke", http.HandlerFunc(c.revokeToken))
	// Anything else, for a signed-in user, is a readable 404 page.
	c.mux.Handle("/", c.requireSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.Error(w, r, occsimore.Errorf(occsimore.ENOTFOUND, "there is no page at %s", r.URL.Path))
	})))
}

// Handle registers h for pattern (a ServeMux pattern such as "GET /alerts")
// behind session authentication: h finds the signed-in user's
// *occsimore.Principal in its request context. A pattern whose path is a nav
// area's path ("/alerts") replaces that area's placeholder. Call Handle before
// Handler; state-changing handlers must use POST.
func (c *Console) Handle(pattern string, h http.Handler) {
	c.mu.Lock()
	p := patternPath(pattern)
	for i := range c.nav {
		if c.nav[i].Path == p {
			c.nav[i].ready = true
		}
	}
	c.mu.Unlock()
	c.mux.Handle(pattern, c.requireSession(h))
}

// AddNav appends an area to the navigation. Until a page is registered at
// path with Handle, the area shows a "later release" placeholder.
func (c *Console) AddNav(label, path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nav = append(c.nav, navItem{Label: label, Path: path})
}

// patternPath strips the method and host from a ServeMux pattern.
func patternPath(pattern string) string {
	if _, rest, ok := strings.Cut(pattern, " "); ok {
		pattern = strings.TrimSpace(rest)
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:]
	}
	return pattern
}

// Handler returns the console's handler, with placeholders for areas that
// have no page yet, cross-origin (CSRF) protection, bounded bodies and
// security headers. Later calls return the same handler.
func (c *Console) Handler() http.Handler {
	c.buildOnce.Do(func() {
		c.mu.Lock()
		for _, n := range c.nav {
			if !n.ready {
				c.mux.Handle("GET "+n.Path, c.requireSession(c.placeholder(n.Label)))
			}
		}
		c.mu.Unlock()
		cop := http.NewCrossOriginProtection()
		cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.logger.WarnContext(r.Context(), "web: cross-origin request refused",
				"method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"))
			c.Error(w, r, occsimore.Errorf(occsimore.EFORBIDDEN,
				"this form was submitted from another site, so it was refused"))
		}))
		c.handler = securityHeaders(http.MaxBytesHandler(cop.Handler(c.mux), c.cfg.MaxBodyBytes))
	})
	return c.handler
}

// ServeHTTP makes *Console an http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.Handler().ServeHTTP(w, r) }

// contentSecurityPolicy allows only this origin's own scripts and styles: no
// inline code, no framing, forms post only here.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// home shows the areas of the console and which are available.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	c.Render(w, r, "home", nil)
}

// placeholder is the honest empty state of an area not built yet.
func (c *Console) placeholder(label string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.Render(w, r, "placeholder", label)
	})
}
