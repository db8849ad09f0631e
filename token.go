package occsimore

import (
	"context"
	"time"
	"unicode/utf8"
)

// Role is what a token or a user may do within its member.
type Role string

const (
	RoleAdmin   Role = "admin"   // everything within the member, including users and tokens
	RoleAnalyst Role = "analyst" // read, and label alerts
	RoleIngest  Role = "ingest"  // send events and logs, nothing else
	RoleReader  Role = "reader"  // read only
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleAnalyst, RoleIngest, RoleReader}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleAnalyst, RoleIngest, RoleReader:
		return true
	}
	return false
}

// Permission is an action that roles grant.
type Permission int

const (
	PermRead   Permission = iota // read alerts, entities, attacks, indicators
	PermLabel                    // label alerts, manage decisions
	PermIngest                   // send events and log lines
	PermManage                   // manage users and tokens
)

// Can reports whether r grants p.
func (r Role) Can(p Permission) bool {
	switch r {
	case RoleAdmin:
		return true
	case RoleAnalyst:
		return p == PermRead || p == PermLabel
	case RoleReader:
		return p == PermRead
	case RoleIngest:
		return p == PermIngest
	}
	return false
}

// Token is an API credential. Only a hash of its secret is stored; the
// plaintext bearer string is shown once, when the token is created.
type Token struct {
	ID         string    `json:"id"`
	MemberID   string    `json:"member_id"`
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	Hash       []byte    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// Active reports whether t may be used at time now.
func (t *Token) Active(now time.Time) bool {
	if !t.RevokedAt.IsZero() {
		return false
	}
	return t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt)
}

// Validate checks the fields a caller supplies.
func (t *Token) Validate() error {
	switch {
	case t.Name == "" || len(t.Name) > 100:
		return FieldErrorf("name", "name is required and at most 100 characters")
	case !utf8.ValidString(t.Name):
		return FieldErrorf("name", "name is not valid UTF-8")
	case !t.Role.Valid():
		return FieldErrorf("role", "role %q is not one of %v", t.Role, Roles)
	}
	return nil
}

// TokenService stores tokens, always within one member.
type TokenService interface {
	// CreateToken stores t (ID, Hash and CreatedAt already set by the caller).
	CreateToken(ctx context.Context, memberID string, t *Token) error
	FindToken(ctx context.Context, memberID, id string) (*Token, error)
	ListTokens(ctx context.Context, memberID string) ([]*Token, error)
	// RevokeToken is idempotent; a token of another member is ENOTFOUND.
	RevokeToken(ctx context.Context, memberID, id string, at time.Time) error
	// LookupToken finds a token by ID for authentication only: it is the one
	// query that does not know the member yet, and the caller must verify the
	// secret's hash before trusting the result.
	LookupToken(ctx context.Context, id string) (*Token, error)
	// TouchToken records use, at most once a minute per token.
	TouchToken(ctx context.Context, id string, at time.Time) error
}
