package http

import (
	"net/http"
	"net/http/pprof"

	"github.com/occsimore/occsimore"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// apiRoutes is the table of the server's own authenticated routes. A route
// added here needs a case in isolation_test.go, which checks completeness.
func (s *Server) apiRoutes() []Route {
	routes := []Route{
		{Pattern: "GET /v1/me", Handler: s.handle(s.handleMe), Perm: Authenticated},

		{Pattern: "GET /v1/members", Handler: s.handle(s.handleListMembers), Perm: occsimore.PermRead},
		{Pattern: "GET /v1/members/{id}", Handler: s.handle(s.handleGetMember), Perm: occsimore.PermRead},
		{Pattern: "POST /v1/members", Handler: s.handle(s.handleCreateMember), Perm: occsimore.PermManage, OperatorOnly: true},

		{Pattern: "GET /v1/tokens", Handler: s.handle(s.handleListTokens), Perm: occsimore.PermManage},
		{Pattern: "POST /v1/tokens", Handler: s.handle(s.handleCreateToken), Perm: occsimore.PermManage},
		{Pattern: "GET /v1/tokens/{id}", Handler: s.handle(s.handleGetToken), Perm: occsimore.PermManage},
		{Pattern: "DELETE /v1/tokens/{id}", Handler: s.handle(s.handleRevokeToken), Perm: occsimore.PermManage},

		{Pattern: "GET /v1/users", Handler: s.handle(s.handleListUsers), Perm: occsimore.PermManage},
		{Pattern: "POST /v1/users", Handler: s.handle(s.handleCreateUser), Perm: occsimore.PermManage},
		{Pattern: "GET /v1/users/{id}", Handler: s.handle(s.handleGetUser), Perm: occsimore.PermManage},
		// Admins, or the user itself: the handler decides.
		{Pattern: "PUT /v1/users/{id}/password", Handler: s.handle(s.handleSetPassword), Perm: Authenticated},

		// Metrics describe the whole platform, so only operators read them.
		{Pattern: "GET /metrics", Handler: promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{
			ErrorLog:      promLogger{s.logger},
			ErrorHandling: promhttp.ContinueOnError,
		}), Perm: occsimore.PermRead, OperatorOnly: true},
	}
	// Profiles expose internals, so only operator admins may take them.
	for _, name := range []string{"profile", "heap", "goroutine", "allocs", "block", "mutex", "trace"} {
		h := pprof.Handler(name)
		switch name {
		case "profile":
			h = http.HandlerFunc(pprof.Profile)
		case "trace":
			h = http.HandlerFunc(pprof.Trace)
		}
		routes = append(routes, Route{Pattern: "GET /debug/pprof/" + name, Handler: h, Perm: occsimore.PermManage, OperatorOnly: true})
	}
	if s.Events != nil {
		routes = append(routes,
			Route{Pattern: "POST /v1/events", Handler: s.handle(s.handlePostEvent), Perm: occsimore.PermIngest},
			Route{Pattern: "POST /v1/events:batch", Handler: s.handle(s.handlePostBatch), Perm: occsimore.PermIngest, MaxBodyBytes: maxBatchBodyBytes},
			Route{Pattern: "GET /v1/entities/{role}/{id}", Handler: s.handle(s.handleGetEntity), Perm: occsimore.PermRead},
			Route{Pattern: "GET /v1/alerts", Handler: s.handle(s.handleListAlerts), Perm: occsimore.PermRead},
			Route{Pattern: "GET /v1/alerts/{id}", Handler: s.handle(s.handleGetAlert), Perm: occsimore.PermRead},
			Route{Pattern: "POST /v1/alerts/{id}/label", Handler: s.handle(s.handleLabelAlert), Perm: occsimore.PermLabel},
		)
	}
	return routes
}
