package http

import (
	"fmt"
	"net/http"

	"github.com/occsimore/occsimore"
)

type usersResponse struct {
	Users []*occsimore.User `json:"users"`
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	us, err := s.Users.ListUsers(r.Context(), p.Member.ID)
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	if us == nil {
		us = []*occsimore.User{}
	}
	s.writeJSON(w, r, http.StatusOK, usersResponse{Users: us})
	return nil
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	u, err := s.Users.FindUser(r.Context(), p.Member.ID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("find user: %w", hideNotFound(err, "user"))
	}
	s.writeJSON(w, r, http.StatusOK, u)
	return nil
}

type createUserRequest struct {
	Email    string         `json:"email"`
	Name     string         `json:"name"`
	Role     occsimore.Role `json:"role"`
	Password string         `json:"password"`
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	var req createUserRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	u := &occsimore.User{Email: req.Email, Name: req.Name, Role: req.Role}
	if err := u.Validate(); err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(r.Context(), req.Password, u.Email, u.Name)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	u.PasswordHash = hash
	if err := s.Users.CreateUser(r.Context(), p.Member.ID, u); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	w.Header().Set("Location", "/v1/users/"+u.ID)
	s.writeJSON(w, r, http.StatusCreated, u)
	return nil
}

type setPasswordRequest struct {
	Password string `json:"password"`
}

// mayManageUser reports whether p may change user id's credentials: an
// admin (a token counts as its member's admin if its role is admin), or the
// user itself when signed in.
func mayManageUser(p *occsimore.Principal, id string) bool {
	return p.Can(occsimore.PermManage) || (p.UserID != "" && p.UserID == id)
}

// handleSetPassword replaces a user's password.
func (s *Server) handleSetPassword(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	id := r.PathValue("id")
	// Refuse before looking anything up, so the answer says nothing about id.
	if !mayManageUser(p, id) {
		return occsimore.Errorf(occsimore.EFORBIDDEN, "role %s may not change another user's password", p.Role)
	}
	var req setPasswordRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	// Look the user up first: hashing is deliberately expensive.
	u, err := s.Users.FindUser(r.Context(), p.Member.ID, id)
	if err != nil {
		return fmt.Errorf("find user: %w", hideNotFound(err, "user"))
	}
	hash, err := s.Hasher.Hash(r.Context(), req.Password, u.Email, u.Name)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	if err := s.Users.SetPassword(r.Context(), p.Member.ID, id, hash); err != nil {
		return fmt.Errorf("set password: %w", hideNotFound(err, "user"))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
