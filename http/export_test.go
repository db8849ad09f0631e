package http

// SetOnShutdown registers f to run when a graceful shutdown begins, so tests
// can order events without sleeping.
func SetOnShutdown(s *Server, f func()) { s.OnShutdown(f) }
