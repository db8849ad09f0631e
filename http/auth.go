package http

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
)

// errUnauthorized is the one answer to every failed authentication, so that a
// caller cannot tell a missing, malformed, unknown, revoked or expired token
// apart.
var errUnauthorized = occsimore.Errorf(occsimore.EUNAUTHORIZED, "a valid bearer token is required")

// authenticated wraps rt's handler with authentication, authorization and
// the body limit.
func (s *Server) authenticated(rt Route) http.Handler {
	limit := rt.MaxBodyBytes
	if limit <= 0 {
		limit = s.cfg.MaxBodyBytes
	}
	fail := Error
	if rt.WriteError != nil {
		fail = rt.WriteError
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Responses may carry secrets (a new token); keep them out of caches.
		w.Header().Set("Cache-Control", "no-store")
		p, err := s.authenticate(w, r, rt.APIKeyHeader)
		if err != nil {
			fail(w, r, s.logger, err)
			return
		}
		if rt.OperatorOnly && !p.Member.Operator {
			fail(w, r, s.logger, occsimore.Errorf(occsimore.EFORBIDDEN, "only operator members may do this"))
			return
		}
		if rt.Perm != Authenticated && !p.Can(rt.Perm) {
			fail(w, r, s.logger, occsimore.Errorf(occsimore.EFORBIDDEN, "role %s may not do this", p.Role))
			return
		}
		// A body whose declared length is over the limit is refused before
		// a byte of it is read, so nothing of it is half accepted.
		if r.ContentLength > limit {
			fail(w, r, s.logger, occsimore.Errorf(occsimore.ETOOLARGE,
				"request body of %d bytes is over this endpoint's limit of %d bytes", r.ContentLength, limit))
			return
		}
		r = r.WithContext(occsimore.NewContextWithPrincipal(r.Context(), p))
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		rt.Handler.ServeHTTP(w, r)
	})
}

// authenticate returns the principal of r's bearer token (or, if apiKey,
// of its X-Api-Key header). Failures count
// against the client's IP; once it has none left, requests are refused
// before any lookup.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, apiKey bool) (*occsimore.Principal, error) {
	now := s.Now()
	ip := clientIP(r)
	if wait, blocked := s.failures.blocked(ip, now); blocked {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return nil, occsimore.Errorf(occsimore.ERATELIMIT, "too many failed authentications; retry later")
	}
	header := r.Header.Get("Authorization")
	if key := r.Header.Get("X-Api-Key"); apiKey && header == "" && key != "" {
		header = "Bearer " + key
	}
	p, err := s.principal(r.Context(), header, now)
	if occsimore.ErrorCode(err) == occsimore.EUNAUTHORIZED {
		s.failures.fail(ip, now)
	}
	return p, err
}

// principal resolves an Authorization header to a principal.
func (s *Server) principal(ctx context.Context, header string, now time.Time) (*occsimore.Principal, error) {
	scheme, bearer, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, errUnauthorized
	}
	id, secret, err := auth.ParseBearer(strings.TrimSpace(bearer))
	if err != nil {
		return nil, errUnauthorized
	}
	tok, err := auth.AuthenticateToken(ctx, s.Tokens, id, secret, now)
	switch occsimore.ErrorCode(err) {
	case "":
	case occsimore.EUNAUTHORIZED:
		return nil, errUnauthorized
	default:
		return nil, err
	}
	m, err := s.Members.FindMember(ctx, &occsimore.Member{ID: tok.MemberID}, tok.MemberID)
	switch occsimore.ErrorCode(err) {
	case "":
	case occsimore.ENOTFOUND:
		return nil, errUnauthorized
	default:
		return nil, fmt.Errorf("find token member: %w", err)
	}
	if s.touches.due(tok.ID, now) {
		if err := s.Tokens.TouchToken(ctx, tok.ID, now); err != nil {
			// Last use is informational; a failed update must not refuse service.
			s.logger.WarnContext(ctx, "touch token", "token_id", tok.ID, "err", err)
		}
	}
	return &occsimore.Principal{Member: m, Role: tok.Role, TokenID: tok.ID}, nil
}

// clientIP is the address of the peer. Forwarded headers are not trusted:
// behind a proxy, all clients share the proxy's address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// touchThrottle remembers when each token's last use was written, so that
// only one request a minute per token writes to the store; the store keeps
// the same rule, so this only saves the write attempts.
type touchThrottle struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// due reports whether the token's use at now should be written, and if so
// records it.
func (t *touchThrottle) due(id string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		t.last = make(map[string]time.Time)
	}
	if prev, ok := t.last[id]; ok && now.Sub(prev) < time.Minute && !now.Before(prev) {
		return false
	}
	if len(t.last) > 100_000 { // bound memory under a flood of distinct tokens
		clear(t.last)
	}
	t.last[id] = now
	return true
}
