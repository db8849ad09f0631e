package http

import (
	"cmp"
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
			Route{Pattern: "POST /v1/events:batch", Handler: s.handle(s.handlePostBatch), Perm: occsimore.PermIngest, MaxBodyBytes: cmp.Or(s.cfg.MaxBatchBodyBytes, maxBatchBodyBytes)},
			Route{Pattern: "GET /v1/entities/{role}/{id}", Handler: s.handle(s.handleGetEntity), Perm: occsimore.PermRead},
			Route{Pattern: "GET /v1/alerts", Handler: s.handle(s.handleListAlerts), Perm: occsimore.PermRead},
			Route{Pattern: "GET /v1/alerts/{id}", Handler: s.handle(s.handleGetAlert), Perm: occsimore.PermRead},
			Route{Pattern: "POST /v1/alerts/{id}/label", Handler: s.handle(s.handleLabelAlert), Perm: occsimore.PermLabel},
		)
	}
	if s.Models != nil {
		routes = append(routes,
			Route{Pattern: "GET /v1/models", Handler: s.handle(s.handleListModels), Perm: occsimore.PermRead},
			Route{Pattern: "GET /v1/models/{id}", Handler: s.handle(s.handleGetModel), Perm: occsimore.PermRead},
			// Promotion changes live decisions: admins only.
			Route{Pattern: "POST /v1/models/{id}/status", Handler: s.handle(s.handleSetModelStatus), Perm: occsimore.PermManage},
		)
	}
	if s.Attacks != nil {
		routes = append(routes,
			Route{Pattern: "GET /v1/attacks", Handler: s.handle(s.handleListAttacks), Perm: occsimore.PermRead},
			Route{Pattern: "GET /v1/decisions", Handler: s.handle(s.handleListDecisions), Perm: occsimore.PermRead},
			// Deciding is an analyst's call, as labelling is.
			Route{Pattern: "POST /v1/decisions", Handler: s.handle(s.handleCreateDecision), Perm: occsimore.PermLabel},
			Route{Pattern: "DELETE /v1/decisions/{id}", Handler: s.handle(s.handleDeleteDecision), Perm: occsimore.PermLabel},
			// Bouncers only read: a reader token is enough.
			Route{Pattern: "GET /v1/decisions/stream", Handler: s.handle(s.handleDecisionStream), Perm: occsimore.PermRead},
			Route{Pattern: "GET /v1/decisions/export", Handler: s.handle(s.handleExportDecisions), Perm: occsimore.PermRead},
			// CrowdSec's bouncers, unchanged (crowdsec.go): they send their key as X-Api-Key.
			Route{Pattern: "GET /crowdsec/v1/decisions/stream", Handler: s.handle(s.handleCSStream), Perm: occsimore.PermRead, APIKeyHeader: true},
			Route{Pattern: "GET /crowdsec/v1/decisions", Handler: s.handle(s.handleCSDecisions), Perm: occsimore.PermRead, APIKeyHeader: true},
		)
	}
	if s.AttackReports != nil {
		routes = append(routes, Route{Pattern: "GET /v1/attacks/daily", Handler: s.handle(s.handleAttacksDaily), Perm: occsimore.PermRead})
	}
	if s.Logs != nil {
		routes = append(routes, Route{Pattern: "POST /v1/logs", Handler: s.handle(s.handlePushLogs),
			Perm: occsimore.PermIngest, MaxBodyBytes: maxLogBodyBytes},
			Route{Pattern: "GET /v1/logs/stats", Handler: s.handle(s.handleLogStats), Perm: occsimore.PermRead})
	}
	if s.TAXII != nil {
		routes = append(routes, s.taxiiRoutes()...)
	}
	return routes
}
