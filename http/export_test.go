package http

// SetOnShutdown registers f to run when a graceful shutdown begins, so tests
// can order events without sleeping.
func SetOnShutdown(s *Server, f func()) { s.OnShutdown(f) }

// PublicPatterns returns the patterns of the routes served without a
// credential, so that the OpenAPI test can check the document covers them.
func PublicPatterns(s *Server) []string {
	routes, err := s.publicRoutes()
	if err != nil {
		panic(err)
	}
	patterns := make([]string, len(routes))
	for i, rt := range routes {
		patterns[i] = rt.Pattern
	}
	return patterns
}
