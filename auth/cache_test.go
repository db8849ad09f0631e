package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
)

// countingTokens is a TokenService holding one token in memory that counts
// lookups.
type countingTokens struct {
	occsimore.TokenService
	tok     occsimore.Token
	lookups int
}

func (c *countingTokens) LookupToken(_ context.Context, id string) (*occsimore.Token, error) {
	c.lookups++
	if id != c.tok.ID {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "token %s not found", id)
	}
	t := c.tok
	return &t, nil
}

func (c *countingTokens) RevokeToken(_ context.Context, memberID, id string, at time.Time) error {
	if memberID != c.tok.MemberID || id != c.tok.ID {
		return occsimore.Errorf(occsimore.ENOTFOUND, "token %s not found", id)
	}
	c.tok.RevokedAt = at
	return nil
}

func TestTokenCache(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	store := &countingTokens{tok: occsimore.Token{ID: "tok_a", MemberID: "mem_a", Role: occsimore.RoleAdmin}}
	c := auth.NewTokenCache(store, 5*time.Second, func() time.Time { return now })

	for range 3 {
		tok, err := c.LookupToken(ctx, "tok_a")
		if err != nil {
			t.Fatal(err)
		}
		tok.Role = occsimore.RoleReader // a caller's change must not reach the cache
	}
	if got, want := store.lookups, 1; got != want {
		t.Fatalf("store lookups = %d, want %d (later ones cached)", got, want)
	}
	tok, _ := c.LookupToken(ctx, "tok_a")
	if got, want := tok.Role, occsimore.RoleAdmin; got != want {
		t.Fatalf("cached role = %s, want %s", got, want)
	}

	// Unknown IDs are never cached.
	for range 2 {
		if _, err := c.LookupToken(ctx, "tok_zz"); occsimore.ErrorCode(err) != occsimore.ENOTFOUND {
			t.Fatalf("unknown token: err = %v, want ENOTFOUND", err)
		}
	}
	if got, want := store.lookups, 3; got != want {
		t.Fatalf("store lookups = %d, want %d", got, want)
	}

	// Past the TTL the store is asked again.
	now = now.Add(5 * time.Second)
	if _, err := c.LookupToken(ctx, "tok_a"); err != nil {
		t.Fatal(err)
	}
	if got, want := store.lookups, 4; got != want {
		t.Fatalf("store lookups after TTL = %d, want %d", got, want)
	}

	// A revocation through the cache applies at once.
	if err := c.RevokeToken(ctx, "mem_a", "tok_a", now); err != nil {
		t.Fatal(err)
	}
	tok, err := c.LookupToken(ctx, "tok_a")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Active(now) {
		t.Fatal("token still active right after revocation through the cache")
	}
}

func TestTokenCacheDisabled(t *testing.T) {
	store := &countingTokens{tok: occsimore.Token{ID: "tok_a", MemberID: "mem_a"}}
	c := auth.NewTokenCache(store, 0, nil)
	for range 2 {
		if _, err := c.LookupToken(context.Background(), "tok_a"); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := store.lookups, 2; got != want {
		t.Fatalf("store lookups = %d, want %d with ttl 0", got, want)
	}
}

type countingMembers struct {
	occsimore.MemberService
	finds int
}

func (c *countingMembers) FindMember(_ context.Context, asking *occsimore.Member, id string) (*occsimore.Member, error) {
	c.finds++
	if id != "mem_a" || (asking.ID != id && !asking.Operator) {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "member %s not found", id)
	}
	return &occsimore.Member{ID: id, Slug: "alpha"}, nil
}

func TestMemberCache(t *testing.T) {
	ctx := context.Background()
	store := &countingMembers{}
	c := auth.NewMemberCache(store)
	self := &occsimore.Member{ID: "mem_a"}
	for range 3 {
		m, err := c.FindMember(ctx, self, "mem_a")
		if err != nil {
			t.Fatal(err)
		}
		m.Slug = "changed"
	}
	if got, want := store.finds, 1; got != want {
		t.Fatalf("store finds = %d, want %d", got, want)
	}
	if m, _ := c.FindMember(ctx, self, "mem_a"); m.Slug != "alpha" {
		t.Fatalf("cached slug = %q, want alpha", m.Slug)
	}
	// Another member's lookup is never served from the cache: the store's
	// visibility rules apply.
	if _, err := c.FindMember(ctx, &occsimore.Member{ID: "mem_b"}, "mem_a"); occsimore.ErrorCode(err) != occsimore.ENOTFOUND {
		t.Fatalf("other member: err = %v, want ENOTFOUND", err)
	}
	if got, want := store.finds, 2; got != want {
		t.Fatalf("store finds = %d, want %d", got, want)
	}
	// Unknown members are not cached.
	for range 2 {
		if _, err := c.FindMember(ctx, &occsimore.Member{ID: "mem_x"}, "mem_x"); occsimore.ErrorCode(err) != occsimore.ENOTFOUND {
			t.Fatalf("unknown: err = %v", err)
		}
	}
	if got, want := store.finds, 4; got != want {
		t.Fatalf("store finds = %d, want %d", got, want)
	}
}

// TestAuthenticateTokenSameWork: an unknown token ID and a wrong secret for
// a cached token cost the same store lookups (through the cache, a wrong
// secret used to be answered from memory, ~100 µs faster than an unknown ID,
// which told an attacker which IDs exist). A right secret stays cached.
func TestAuthenticateTokenSameWork(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tok, bearer := auth.NewToken("mem_a", "ci", occsimore.RoleAdmin, now, 0)
	id, secret, err := auth.ParseBearer(bearer)
	if err != nil {
		t.Fatal(err)
	}
	for _, cached := range []bool{false, true} {
		store := &countingTokens{tok: *tok}
		var ts occsimore.TokenService = store
		if cached {
			ts = auth.NewTokenCache(store, time.Minute, func() time.Time { return now })
		}
		if _, err := auth.AuthenticateToken(ctx, ts, id, secret, now); err != nil {
			t.Fatalf("right secret: %v", err)
		}
		before := store.lookups
		if _, err := auth.AuthenticateToken(ctx, ts, id, secret, now); err != nil {
			t.Fatalf("right secret again: %v", err)
		}
		if cached && store.lookups != before {
			t.Errorf("a right secret was not answered from the cache")
		}
		before = store.lookups
		_, errWrong := auth.AuthenticateToken(ctx, ts, id, secret+"x", now)
		wrong := store.lookups - before
		before = store.lookups
		_, errUnknown := auth.AuthenticateToken(ctx, ts, "tok_unknown", secret, now)
		unknown := store.lookups - before
		if occsimore.ErrorCode(errWrong) != occsimore.EUNAUTHORIZED || occsimore.ErrorCode(errUnknown) != occsimore.EUNAUTHORIZED {
			t.Fatalf("cached=%v: wrong secret %v, unknown ID %v; want both unauthorized", cached, errWrong, errUnknown)
		}
		if errWrong.Error() != errUnknown.Error() {
			t.Errorf("cached=%v: answers differ: %q and %q", cached, errWrong, errUnknown)
		}
		if wrong != unknown || wrong != 1 {
			t.Errorf("cached=%v: store lookups: wrong secret %d, unknown ID %d; want 1 each", cached, wrong, unknown)
		}
	}
}
