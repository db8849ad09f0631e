package http

import (
	"fmt"
	"net/http"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
)

// maxTokenLifetime bounds expires_in, which also keeps the duration from
// overflowing.
const maxTokenLifetime = 10 * 366 * 24 * time.Hour

// tokenWithSecret is a token as returned once, on creation, with its bearer
// string.
type tokenWithSecret struct {
	*occsimore.Token
	Secret string `json:"secret"`
}

type tokensResponse struct {
	Tokens []*occsimore.Token `json:"tokens"`
}

func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	ts, err := s.Tokens.ListTokens(r.Context(), p.Member.ID)
	if err != nil {
		return fmt.Errorf("list tokens: %w", err)
	}
	if ts == nil {
		ts = []*occsimore.Token{}
	}
	s.writeJSON(w, r, http.StatusOK, tokensResponse{Tokens: ts})
	return nil
}

func (s *Server) handleGetToken(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	t, err := s.Tokens.FindToken(r.Context(), p.Member.ID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("find token: %w", hideNotFound(err, "token"))
	}
	s.writeJSON(w, r, http.StatusOK, t)
	return nil
}

type createTokenRequest struct {
	Name string         `json:"name"`
	Role occsimore.Role `json:"role"`
	// ExpiresIn is the lifetime in seconds; 0 means the token never expires.
	ExpiresIn int64 `json:"expires_in"`
}

func (r *createTokenRequest) validate() error {
	if r.ExpiresIn < 0 || r.ExpiresIn > int64(maxTokenLifetime/time.Second) {
		return occsimore.FieldErrorf("expires_in", "expires_in must be between 0 (never) and %d seconds", int64(maxTokenLifetime/time.Second))
	}
	return nil
}

// handleCreateToken creates a token of the caller's member. The bearer
// string is in the response and nowhere else, ever.
func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	var req createTokenRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	tok, secret := auth.NewToken(p.Member.ID, req.Name, req.Role, s.Now(), time.Duration(req.ExpiresIn)*time.Second)
	if err := tok.Validate(); err != nil {
		return err
	}
	if err := s.Tokens.CreateToken(r.Context(), p.Member.ID, tok); err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	w.Header().Set("Location", "/v1/tokens/"+tok.ID)
	s.writeJSON(w, r, http.StatusCreated, tokenWithSecret{Token: tok, Secret: secret})
	return nil
}

// handleRevokeToken revokes a token; revoking twice is not an error.
func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	if err := s.Tokens.RevokeToken(r.Context(), p.Member.ID, r.PathValue("id"), s.Now()); err != nil {
		return fmt.Errorf("revoke token: %w", hideNotFound(err, "token"))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
