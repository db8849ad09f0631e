package http

import (
	"fmt"
	"net/http"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
)

type membersResponse struct {
	Members []*occsimore.Member `json:"members"`
}

// handleListMembers lists the members the caller may see: itself, or every
// member for an operator.
func (s *Server) handleListMembers(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	ms, err := s.Members.ListMembers(r.Context(), p.Member)
	if err != nil {
		return fmt.Errorf("list members: %w", err)
	}
	if ms == nil {
		ms = []*occsimore.Member{}
	}
	s.writeJSON(w, r, http.StatusOK, membersResponse{Members: ms})
	return nil
}

func (s *Server) handleGetMember(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	m, err := s.Members.FindMember(r.Context(), p.Member, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("find member: %w", hideNotFound(err, "member"))
	}
	s.writeJSON(w, r, http.StatusOK, m)
	return nil
}

type createMemberRequest struct {
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Sector string `json:"sector"`
	// AdminToken asks for an admin token of the new member, returned once.
	AdminToken bool `json:"admin_token"`
}

type createMemberResponse struct {
	Member     *occsimore.Member `json:"member"`
	AdminToken *tokenWithSecret  `json:"admin_token,omitempty"`
}

// handleCreateMember creates a member (operators only; see apiRoutes). The
// new member is never an operator: that is granted locally, with the CLI.
func (s *Server) handleCreateMember(w http.ResponseWriter, r *http.Request) error {
	var req createMemberRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	m := &occsimore.Member{Slug: req.Slug, Name: req.Name, Sector: req.Sector}
	if err := m.Validate(); err != nil {
		return err
	}
	if err := s.Members.CreateMember(r.Context(), m); err != nil {
		return fmt.Errorf("create member: %w", err)
	}
	resp := createMemberResponse{Member: m}
	if req.AdminToken {
		tok, secret := auth.NewToken(m.ID, "initial admin", occsimore.RoleAdmin, s.Now(), 0)
		if err := s.Tokens.CreateToken(r.Context(), m.ID, tok); err != nil {
			return fmt.Errorf("create admin token for new member %s: %w", m.ID, err)
		}
		resp.AdminToken = &tokenWithSecret{Token: tok, Secret: secret}
	}
	w.Header().Set("Location", "/v1/members/"+m.ID)
	s.writeJSON(w, r, http.StatusCreated, resp)
	return nil
}
