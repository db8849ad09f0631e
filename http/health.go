package http

import (
	"net/http"

	"github.com/occsimore/occsimore"
)

// handleHealthz is the liveness probe: the process serves HTTP.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz is the readiness probe: dependencies answer (Ready), and
// shutdown has not begun: a server that is draining its requests takes no
// new traffic.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s.stopping.Load() {
		Error(w, r, s.logger, occsimore.Errorf(occsimore.EUNAVAILABLE, "shutting down"))
		return
	}
	if s.Ready != nil {
		if err := s.Ready(r.Context()); err != nil {
			// The cause may name hosts or paths: log it, do not show it.
			s.logger.WarnContext(r.Context(), "not ready", "err", err)
			Error(w, r, s.logger, occsimore.Errorf(occsimore.EUNAVAILABLE, "not ready"))
			return
		}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ready"})
}
