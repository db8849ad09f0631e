package http

import (
	"net/http"

	"github.com/occsimore/occsimore"
)

type meResponse struct {
	Member  *occsimore.Member `json:"member"`
	Role    occsimore.Role    `json:"role"`
	TokenID string            `json:"token_id,omitempty"`
	UserID  string            `json:"user_id,omitempty"`
}

// handleMe describes the caller: its member and role. Any credential may ask.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	s.writeJSON(w, r, http.StatusOK, meResponse{Member: p.Member, Role: p.Role, TokenID: p.TokenID, UserID: p.UserID})
	return nil
}
