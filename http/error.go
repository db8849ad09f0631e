package http

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/occsimore/occsimore"
)

// Problem is an RFC 9457 problem details object, with occsimore's code and
// field extensions.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	Code     string `json:"code,omitempty"`
	Field    string `json:"field,omitempty"`
}

// Error writes err as an application/problem+json response. Internal errors
// are logged (with the request's ID when logger's handler is a
// ContextHandler, as the server's is) and answered with a generic detail, so
// their text never reaches the client. logger may be nil.
func Error(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	code := occsimore.ErrorCode(err)
	status := occsimore.HTTPStatus(code)
	if code == occsimore.EINTERNAL && logger != nil {
		logger.ErrorContext(r.Context(), "internal error",
			"err", err, "method", r.Method, "path", r.URL.Path)
	}
	writeProblem(w, r, Problem{
		Status: status,
		Detail: occsimore.ErrorMessage(err),
		Code:   code,
		Field:  occsimore.ErrorField(err),
	})
}

// hideNotFound gives every ENOTFOUND about one kind of object the same
// message, so that another member's object and an absent one are answered
// byte for byte alike whatever the store says.
func hideNotFound(err error, kind string) error {
	if occsimore.ErrorCode(err) == occsimore.ENOTFOUND {
		return occsimore.Errorf(occsimore.ENOTFOUND, "%s not found", kind)
	}
	return err
}

// writeProblem fills in the type, title and instance of p and writes it.
func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	// The code extension tells problems apart, so the type is about:blank and
	// the title is the status phrase, as RFC 9457 section 4.2.1 asks.
	p.Type = "about:blank"
	p.Title = http.StatusText(p.Status)
	p.Instance = r.URL.Path
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Del("Content-Length")
	switch p.Status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="occsimore"`)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if h.Get("Retry-After") == "" {
			h.Set("Retry-After", "1")
		}
	}
	w.WriteHeader(p.Status)
	// Encoding a Problem cannot fail; a write error means the client left.
	_ = json.NewEncoder(w).Encode(p)
}
