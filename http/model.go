package http

import (
	"fmt"
	"net/http"

	"github.com/occsimore/occsimore"
)

type modelsResponse struct {
	Models []*occsimore.ModelVersion `json:"models"`
}

// handleListModels lists the member's models, newest first, filtered by
// ?kind= and ?status=.
func (s *Server) handleListModels(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	var f occsimore.ModelFilter
	for key, vals := range r.URL.Query() {
		switch key {
		case "kind":
			f.Kind = vals[0]
		case "status":
			f.Status = occsimore.ModelStatus(vals[0])
		default:
			return occsimore.FieldErrorf(key, "unknown query parameter %q; known: kind, status", key)
		}
	}
	ms, err := s.Models.ListModels(r.Context(), p.Member.ID, f)
	if err != nil {
		return fmt.Errorf("list models: %w", err)
	}
	if ms == nil {
		ms = []*occsimore.ModelVersion{}
	}
	s.writeJSON(w, r, http.StatusOK, modelsResponse{Models: ms})
	return nil
}

func (s *Server) handleGetModel(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	m, err := s.Models.FindModel(r.Context(), p.Member.ID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("find model: %w", hideNotFound(err, "model"))
	}
	s.writeJSON(w, r, http.StatusOK, m)
	return nil
}

type modelStatusRequest struct {
	Status occsimore.ModelStatus `json:"status"`
}

// handleSetModelStatus moves a model to shadow, promoted, retired or back
// to candidate, then asks the pipeline to reload its models so that the
// change applies to the next event rather than at the next poll.
func (s *Server) handleSetModelStatus(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	var req modelStatusRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if !req.Status.Valid() {
		return occsimore.FieldErrorf("status", "status %q must be candidate, shadow, promoted or retired", req.Status)
	}
	m, err := s.Models.SetModelStatus(r.Context(), p.Member.ID, r.PathValue("id"), req.Status, s.Now())
	if err != nil {
		return fmt.Errorf("set model status: %w", hideNotFound(err, "model"))
	}
	if s.ReloadModels != nil {
		// The status is stored: a failed reload is caught up by the next
		// poll, so it is logged rather than failing the request.
		if err := s.ReloadModels(r.Context()); err != nil {
			s.logger.WarnContext(r.Context(), "reload models after a status change", "model", m.ID, "err", err)
		}
	}
	s.writeJSON(w, r, http.StatusOK, m)
	return nil
}
