package occsimore

import "context"

// Principal is who is calling: a token or a logged-in user, always within one
// member. Handlers read it from the context; only authentication sets it.
type Principal struct {
	Member  *Member
	Role    Role
	TokenID string // set when authenticated by a token
	UserID  string // set when authenticated by a session
}

// Can reports whether the principal's role grants p.
func (p *Principal) Can(perm Permission) bool { return p != nil && p.Role.Can(perm) }

type principalKey struct{}

// NewContextWithPrincipal returns ctx carrying p.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the principal in ctx, or nil.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
