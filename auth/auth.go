// Package auth holds credential primitives: argon2id password hashes and API
// bearer tokens. It is pure logic: callers store and look up what it returns.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
	"golang.org/x/crypto/argon2"
)

// Argon2Params are argon2id cost parameters. The defaults take RFC 9106's
// second recommended option (64 MiB, 3 passes) with one lane: lanes run in
// parallel, so two lanes hold both cores of a 2-core server for the whole
// hash and every other request waits behind it, while the memory and passes
// that make guessing expensive are the same (OWASP's minimum is 19 MiB, 2
// passes, one lane).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
}

// DefaultArgon2 is the cost used for new passwords.
var DefaultArgon2 = Argon2Params{Memory: 64 * 1024, Time: 3, Threads: 1, KeyLen: 32}

// ErrMismatch is returned when a password does not match its hash.
var ErrMismatch = errors.New("auth: password does not match")

// HashPassword checks password against the policy (CheckPassword) and
// returns the PHC string of an argon2id hash of it. Servers hash through a
// Hasher, which bounds concurrent runs.
func HashPassword(password string, p Argon2Params) (string, error) {
	if err := CheckPassword(password); err != nil {
		return "", err
	}
	return hashPassword(password, p), nil
}

func hashPassword(password string, p Argon2Params) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// VerifyPassword checks password against a PHC argon2id hash in constant time.
func VerifyPassword(password, phc string) error {
	parts, p, err := parsePHC(phc)
	if err != nil {
		return err
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("auth: decode salt: %w", err)
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return fmt.Errorf("auth: decode key: bad length or encoding")
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// parsePHC splits a PHC argon2id string and reads its cost, bounded so that a
// corrupt stored hash cannot exhaust memory or panic.
func parsePHC(phc string) ([]string, Argon2Params, error) {
	var p Argon2Params
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return nil, p, fmt.Errorf("auth: unsupported hash format")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return nil, p, fmt.Errorf("auth: unsupported argon2 version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return nil, p, fmt.Errorf("auth: parse argon2 parameters: %w", err)
	}
	if p.Memory < 8 || p.Memory > 1<<20 || p.Time < 1 || p.Time > 16 || p.Threads < 1 {
		return nil, p, fmt.Errorf("auth: argon2 parameters out of range: %s", parts[3])
	}
	return parts, p, nil
}

// NeedsRehash reports whether phc was made at another memory, time or lane
// count than p. Verifying it then costs, and takes, other than a new hash
// does, so a sign-in that checks it against an unknown email's dummy hash at
// p would tell the two apart; the caller rehashes it after a successful
// sign-in. A hash that does not parse needs no rehash (it never verifies).
func NeedsRehash(phc string, p Argon2Params) bool {
	_, got, err := parsePHC(phc)
	return err == nil && (got.Memory != p.Memory || got.Time != p.Time || got.Threads != p.Threads)
}

// tokenPrefix marks occsimore bearer tokens so that secret scanners can find
// leaked ones.
const tokenPrefix = "occ_"

// NewToken returns a new token for memberID and its plaintext bearer string,
// which is shown once and never stored.
func NewToken(memberID, name string, role occsimore.Role, now time.Time, ttl time.Duration) (*occsimore.Token, string) {
	id := occsimore.NewID("tok")
	secret := occsimore.NewSecret(20)
	t := &occsimore.Token{
		ID: id, MemberID: memberID, Name: name, Role: role,
		Hash: HashSecret(secret), CreatedAt: now.UTC(),
	}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl).UTC()
	}
	return t, tokenPrefix + id + "." + secret
}

// ParseBearer splits a bearer string into the token ID and its secret.
func ParseBearer(bearer string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(bearer, tokenPrefix)
	if !ok {
		return "", "", occsimore.Errorf(occsimore.EUNAUTHORIZED, "bearer token must start with %q", tokenPrefix)
	}
	id, secret, ok = strings.Cut(rest, ".")
	if !ok || !strings.HasPrefix(id, "tok_") || len(id) > 40 || secret == "" || len(secret) > 100 {
		return "", "", occsimore.Errorf(occsimore.EUNAUTHORIZED, "bearer token is malformed")
	}
	return id, secret, nil
}

// HashSecret returns the stored form of a high-entropy secret (a token or a
// session cookie). SHA-256 suffices: the secrets carry 160 random bits, so
// there is nothing to brute-force, and a fast hash keeps every request cheap.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// dummyTokenHash stands in for the hash of an unknown token, so that a
// check against nothing does the same work as one against a real token.
var dummyTokenHash = HashSecret("occsimore: no such token")

// CheckToken verifies secret against t in constant time and checks that t is
// active at now. A nil t (an unknown ID) is checked against a dummy hash, so
// that it costs what a wrong secret costs. Every failure is the same
// EUNAUTHORIZED, so a caller cannot tell an unknown token from a revoked one.
func CheckToken(t *occsimore.Token, secret string, now time.Time) error {
	want := dummyTokenHash
	if t != nil {
		want = t.Hash
	}
	ok := subtle.ConstantTimeCompare(HashSecret(secret), want) == 1
	if t == nil || !ok || !t.Active(now) {
		return occsimore.Errorf(occsimore.EUNAUTHORIZED, "the token is unknown, revoked or expired")
	}
	return nil
}

// tokenAuthenticator is a TokenService with its own way to authenticate
// (TokenCache).
type tokenAuthenticator interface {
	AuthenticateToken(ctx context.Context, id, secret string, now time.Time) (*occsimore.Token, error)
}

// AuthenticateToken returns the active token id of ts whose secret is
// secret. An unknown ID and a wrong secret do the same work (one lookup in
// ts, one hash comparison) and fail with the same EUNAUTHORIZED, so neither
// the answer nor its time tells them apart. Store failures are returned as
// they are.
func AuthenticateToken(ctx context.Context, ts occsimore.TokenService, id, secret string, now time.Time) (*occsimore.Token, error) {
	if a, ok := ts.(tokenAuthenticator); ok {
		return a.AuthenticateToken(ctx, id, secret, now)
	}
	return lookupAndCheck(ctx, ts, id, secret, now)
}

func lookupAndCheck(ctx context.Context, ts occsimore.TokenService, id, secret string, now time.Time) (*occsimore.Token, error) {
	tok, err := ts.LookupToken(ctx, id)
	switch occsimore.ErrorCode(err) {
	case "":
	case occsimore.ENOTFOUND:
		tok = nil
	default:
		return nil, fmt.Errorf("look up token: %w", err)
	}
	if err := CheckToken(tok, secret, now); err != nil {
		return nil, err
	}
	return tok, nil
}
