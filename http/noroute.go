package http

import (
	"net/http"
	"strings"

	"github.com/occsimore/occsimore"
)

// handleNoRoute answers a request no route matched: 405 with an Allow header
// if the path has routes for other methods, 404 otherwise. The catch-all
// patterns hide the mux's own 405, so it is worked out here.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	if allow := s.allowedMethods(r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeProblem(w, r, Problem{
			Status: http.StatusMethodNotAllowed,
			Detail: "method " + r.Method + " is not allowed here; allowed: " + strings.Join(allow, ", "),
			Code:   "method_not_allowed",
		})
		return
	}
	Error(w, r, s.logger, occsimore.Errorf(occsimore.ENOTFOUND, "no such route"))
}

// handleConsole serves the console for every path the API does not own.
func (s *Server) handleConsole(w http.ResponseWriter, r *http.Request) {
	if allow := s.allowedMethods(r); len(allow) > 0 {
		s.handleNoRoute(w, r)
		return
	}
	s.Console.ServeHTTP(w, r)
}

var probeMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
}

// allowedMethods lists the methods that a route other than a catch-all
// serves at r's path.
func (s *Server) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range probeMethods {
		if m == r.Method {
			continue
		}
		probe := r.WithContext(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != rootPattern && pattern != apiPattern {
			allow = append(allow, m)
		}
	}
	return allow
}
