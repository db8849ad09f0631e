package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Authenticated is a Route permission that any valid credential satisfies,
// whatever its role. Handlers using it check finer rules themselves.
const Authenticated occsimore.Permission = -1

// Route is an authenticated endpoint. The server authenticates the bearer
// token, checks Perm (and OperatorOnly), bounds the body, and puts the
// occsimore.Principal in the request context before calling Handler.
type Route struct {
	Pattern string // a net/http pattern with a method, e.g. "GET /v1/alerts/{id}"
	Handler http.Handler
	Perm    occsimore.Permission
	// OperatorOnly restricts the route to members that run the platform.
	OperatorOnly bool
	// MaxBodyBytes overrides Config.MaxBodyBytes when positive.
	MaxBodyBytes int64
	// APIKeyHeader also takes the token from an X-Api-Key header, the way
	// CrowdSec bouncers send theirs.
	APIKeyHeader bool
	// WriteError, if set, writes the route's errors instead of Error, for
	// protocols with their own error bodies (TAXII).
	WriteError func(http.ResponseWriter, *http.Request, *slog.Logger, error)
}

// Server is the HTTP API. Set the exported fields, register extra routes with
// AddRoute or Handle, then call Handler or Serve.
type Server struct {
	Members occsimore.MemberService
	Tokens  occsimore.TokenService
	Users   occsimore.UserService
	// Ready reports whether the server can take traffic; nil means always.
	Ready func(context.Context) error
	// Registry receives the request metrics and is served at /metrics. If
	// nil, a registry with the Go and process collectors is created.
	Registry *prometheus.Registry
	Now      func() time.Time
	// Console, if set, serves every path no other route matches.
	Console http.Handler
	// Wrap, if set, wraps the whole handler, outermost. Tests put there the
	// check of every exchange against the OpenAPI document
	// (internal/apitest).
	Wrap func(http.Handler) http.Handler
	// Argon2 is the cost of password hashes set through the API.
	Argon2 auth.Argon2Params
	// Hasher, if set, runs password hashes in slots shared with the console;
	// nil gives the server its own, at cost Argon2.
	Hasher *auth.Hasher
	// Events and Alerts, when both are set, enable the event, entity and
	// alert routes.
	Events occsimore.EventService
	Alerts occsimore.AlertService
	// Models, when set, enables the model routes. ReloadModels, if set, is
	// called after a model's status changes (the pipeline's ReloadModels).
	Models       occsimore.ModelService
	ReloadModels func(context.Context) error
	// Attacks, when set, enables the attack and decision routes.
	Attacks occsimore.AttackService
	// AttackReports, when set, enables the daily attack counts.
	AttackReports occsimore.AttackReportService
	// TAXII, when set, enables the TAXII 2.1 endpoints under /taxii2/.
	TAXII      *TAXIIConfig
	taxiiLimit memberLimit
	// Logs, when set, enables POST /v1/logs.
	Logs LogIngester
	// LogPush bounds the bodies of POST /v1/logs held at once.
	LogPush   LogPushLimits
	logBudget logBudget

	cfg        Config
	logger     *slog.Logger
	failures   *failureLimiter
	touches    touchThrottle
	onShutdown []func()
	stopping   atomic.Bool // shutdown has begun: not ready
	singles    sync.Pool   // *single, for POST /v1/events

	mu     sync.Mutex
	extra  []Route
	built  bool
	once   sync.Once
	err    error // from building the handler
	mux    *http.ServeMux
	routes []Route
	root   http.Handler
}

// NewServer returns a server with production defaults for Now and Argon2.
func NewServer(cfg Config, logger *slog.Logger) *Server {
	return &Server{
		Now:      time.Now,
		Argon2:   auth.DefaultArgon2,
		cfg:      cfg,
		logger:   slog.New(NewContextHandler(logger.Handler())),
		failures: newFailureLimiter(cfg.AuthFailureEvery, cfg.AuthFailureBurst),
	}
}

// AddRoute registers an authenticated route that requires perm. It panics if
// called after the handler is built, like http.ServeMux on a bad pattern.
func (s *Server) AddRoute(pattern string, h http.Handler, perm occsimore.Permission) {
	s.Handle(Route{Pattern: pattern, Handler: h, Perm: perm})
}

// Handle registers an authenticated route with its options.
func (s *Server) Handle(rt Route) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.built {
		panic("http: route " + rt.Pattern + " registered after the handler was built")
	}
	s.extra = append(s.extra, rt)
}

// Routes returns every authenticated route the handler serves, sorted by
// pattern. Tests use it to check that each has an isolation case.
func (s *Server) Routes() []Route {
	s.Handler()
	routes := slices.Clone(s.routes)
	slices.SortFunc(routes, func(a, b Route) int { return strings.Compare(a.Pattern, b.Pattern) })
	return routes
}

// Handler returns the server's root handler, building it on first use. It
// panics if a dependency is missing or a pattern is invalid: both are wiring
// mistakes. Serve reports them as errors instead.
func (s *Server) Handler() http.Handler {
	if err := s.build(); err != nil {
		panic(err)
	}
	return s.root
}

func (s *Server) build() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.built = true
		s.mu.Unlock()
		s.err = s.buildHandler()
	})
	return s.err
}

// Catch-all patterns: a request that lands on one matched no route.
const (
	rootPattern = "/"
	apiPattern  = "/v1/"
)

func (s *Server) buildHandler() (err error) {
	switch {
	case s.Members == nil, s.Tokens == nil, s.Users == nil:
		return errors.New("http: server needs Members, Tokens and Users")
	case (s.Events == nil) != (s.Alerts == nil):
		return errors.New("http: server needs both Events and Alerts, or neither")
	case s.Now == nil:
		return errors.New("http: server needs a clock (Now)")
	case s.logger == nil:
		return errors.New("http: server needs a logger")
	}
	if s.Hasher == nil {
		s.Hasher = auth.NewHasher(s.Argon2, max(2, runtime.GOMAXPROCS(0)), 10*time.Second)
	}
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
		s.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m, err := newMetrics(s.Registry)
	if err != nil {
		return err
	}
	// http.ServeMux panics on invalid or conflicting patterns.
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("http: build routes: %v", v)
		}
	}()
	s.mux = http.NewServeMux()
	s.routes = append(s.apiRoutes(), s.extra...)
	for _, rt := range s.routes {
		if rt.Handler == nil || !strings.Contains(rt.Pattern, " ") {
			return fmt.Errorf("http: route %q needs a method and a handler", rt.Pattern)
		}
		s.mux.Handle(rt.Pattern, s.authenticated(rt))
	}
	public, err := s.publicRoutes()
	if err != nil {
		return err
	}
	for _, rt := range public {
		s.mux.Handle(rt.Pattern, rt.Handler)
	}
	s.mux.HandleFunc(apiPattern, s.handleNoRoute)
	if s.Console != nil {
		s.mux.HandleFunc(rootPattern, s.handleConsole)
	} else {
		s.mux.HandleFunc(rootPattern, s.handleNoRoute)
	}
	s.root = requestID(securityHeaders(s.observe(s.mux, m)))
	if s.Wrap != nil {
		s.root = s.Wrap(s.root)
	}
	return nil
}

// publicRoutes are the routes served without a credential: the probes and
// the OpenAPI document.
func (s *Server) publicRoutes() ([]Route, error) {
	doc, err := newOpenAPIDoc()
	if err != nil {
		return nil, err
	}
	return []Route{
		{Pattern: "GET /healthz", Handler: http.HandlerFunc(s.handleHealthz)},
		{Pattern: "GET /readyz", Handler: http.HandlerFunc(s.handleReadyz)},
		{Pattern: "GET /v1/openapi.json", Handler: doc},
	}, nil
}

// Serve serves HTTP on ln until ctx is cancelled, then shuts down gracefully:
// it stops accepting and lets in-flight requests finish within
// Config.ShutdownTimeout. Request contexts do not derive from ctx, so that
// cancelling it does not abort them.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.cfg.Validate(); err != nil {
		return fmt.Errorf("http: config: %w", err)
	}
	if err := s.build(); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.root,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	for _, f := range s.onShutdown {
		srv.RegisterOnShutdown(f)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("http: serve: %w", err)
	case <-ctx.Done():
	}
	s.stopping.Store(true)
	if d := s.cfg.ShutdownDelay; d > 0 {
		// Readiness fails from now on; keep serving while load balancers
		// notice, so that no client meets a refused connection.
		s.logger.InfoContext(ctx, "http server draining before shutdown", "delay_seconds", d.Seconds())
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case err := <-errc:
			t.Stop()
			return fmt.Errorf("http: serve: %w", err)
		}
	}
	s.logger.InfoContext(ctx, "http server shutting down", "timeout_seconds", s.cfg.ShutdownTimeout.Seconds())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("http: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http: serve: %w", err)
	}
	return nil
}

// OnShutdown registers f to run when a graceful shutdown begins. Long-lived
// responses (server-sent events) use it to end themselves, since Shutdown
// waits for every response to finish and cancels none of them. Call it
// before Serve.
func (s *Server) OnShutdown(f func()) { s.onShutdown = append(s.onShutdown, f) }

// handle adapts a handler that returns an error, writing the error as a
// problem.
func (s *Server) handle(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			Error(w, r, s.logger, err)
		}
	})
}

// writeJSON writes v, or a problem if v cannot be encoded.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	if err := WriteJSON(w, status, v); err != nil {
		Error(w, r, s.logger, err)
	}
}
