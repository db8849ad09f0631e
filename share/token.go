package share

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
	"time"
)

// Tokens stand for customer-linked identifiers. Two schemes share one text
// form, "<scheme>:<key id>:<base64url of 32 bytes>":
//
//   - "ht1": HMAC-SHA256 under the consortium key (Keyring). Every key holder
//     can compute it, so it protects against outsiders only: a member can
//     enumerate a small identifier space offline (docs/sharing.md).
//   - "op1": the output of the OPRF (RFC 9497) under the OPRF server's key.
//     Nobody but the server can compute it, and the server only obliviously
//     and under a rate limit.
const (
	SchemeHMAC = "ht1"
	SchemeOPRF = "op1"
)

// TokenLen is the length of a token's MAC in bytes.
const TokenLen = 32

// Token is a parsed token: the scheme, the key id and the MAC.
type Token struct {
	Scheme string
	KeyID  string
	MAC    [TokenLen]byte
}

func (t Token) String() string {
	return t.Scheme + ":" + t.KeyID + ":" + base64.RawURLEncoding.EncodeToString(t.MAC[:])
}

// ParseToken reads a token's text form.
func ParseToken(s string) (Token, error) {
	var t Token
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || (scheme != SchemeHMAC && scheme != SchemeOPRF) {
		return t, fmt.Errorf("token %.12q…: scheme is not %s or %s", s, SchemeHMAC, SchemeOPRF)
	}
	kid, mac, ok := strings.Cut(rest, ":")
	if !ok || !validKeyID(kid) {
		return t, fmt.Errorf("token: key id is missing or invalid")
	}
	// The length first: Decode panics on a destination too short for its input.
	if len(mac) != base64.RawURLEncoding.EncodedLen(TokenLen) {
		return t, fmt.Errorf("token: MAC is not %d bytes of unpadded base64url", TokenLen)
	}
	n, err := base64.RawURLEncoding.Strict().Decode(t.MAC[:], []byte(mac))
	if err != nil || n != TokenLen {
		return t, fmt.Errorf("token: MAC is not %d bytes of unpadded base64url", TokenLen)
	}
	t.Scheme, t.KeyID = scheme, kid
	return t, nil
}

// IsToken reports whether s is a well-formed token.
func IsToken(s string) bool {
	_, err := ParseToken(s)
	return err == nil
}

func validKeyID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Key is one consortium HMAC key, in force from NotBefore until the next
// key's NotBefore, and still accepted for Keyring.Overlap after that.
type Key struct {
	ID        string
	Secret    []byte
	NotBefore time.Time
}

// Keyring is the consortium's HMAC keys over time. Rotation adds a key with
// a later NotBefore: from then on tokens are made under it, while tokens
// under the previous key are still accepted (and matched) for Overlap, so
// that indicators shared just before the rotation keep matching.
type Keyring struct {
	keys    []Key // by NotBefore
	Overlap time.Duration
}

// MinSecret is the shortest accepted key: 256 bits, HMAC-SHA256's strength.
const MinSecret = 32

// NewKeyring checks and orders the keys.
func NewKeyring(overlap time.Duration, keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("keyring: no key")
	}
	ks := slices.Clone(keys)
	seen := map[string]bool{}
	for _, k := range ks {
		if !validKeyID(k.ID) {
			return nil, fmt.Errorf("keyring: key id %q must be 1 to 32 characters of A-Z, a-z, 0-9, hyphen, underscore or dot", k.ID)
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("keyring: key id %q appears twice", k.ID)
		}
		seen[k.ID] = true
		if len(k.Secret) < MinSecret {
			return nil, fmt.Errorf("keyring: key %q is %d bytes, want at least %d", k.ID, len(k.Secret), MinSecret)
		}
	}
	slices.SortFunc(ks, func(a, b Key) int { return a.NotBefore.Compare(b.NotBefore) })
	return &Keyring{keys: ks, Overlap: overlap}, nil
}

// current returns the index of the key in force at now, or -1.
func (r *Keyring) current(now time.Time) int {
	i := -1
	for j, k := range r.keys {
		if !k.NotBefore.After(now) {
			i = j
		}
	}
	return i
}

// CurrentKeyID is the id of the key tokens are made under at now.
func (r *Keyring) CurrentKeyID(now time.Time) string {
	if i := r.current(now); i >= 0 {
		return r.keys[i].ID
	}
	return ""
}

// accepted returns the keys whose tokens are accepted at now: the current
// one, and the previous one until Overlap after the current one began.
func (r *Keyring) accepted(now time.Time, fn func(Key)) {
	i := r.current(now)
	if i < 0 {
		return
	}
	fn(r.keys[i])
	if i > 0 && now.Before(r.keys[i].NotBefore.Add(r.Overlap)) {
		fn(r.keys[i-1])
	}
}

// Accepts reports whether a token's key is accepted at now.
func (r *Keyring) Accepts(t Token, now time.Time) bool {
	ok := false
	r.accepted(now, func(k Key) { ok = ok || (t.Scheme == SchemeHMAC && k.ID == t.KeyID) })
	return ok
}

// Token makes the token of a customer-linked identifier under the key in
// force at now. The clear value is normalised first (NormalizeValue).
func (r *Keyring) Token(kind Kind, clear string, now time.Time) (Token, error) {
	i := r.current(now)
	if i < 0 {
		return Token{}, fmt.Errorf("keyring: no key in force at %s", now.UTC().Format(time.RFC3339))
	}
	return r.tokenUnder(r.keys[i], kind, clear)
}

// Tokens returns the tokens of an identifier under every key accepted at
// now (one, or two during an overlap): what a member looks up to match.
func (r *Keyring) Tokens(kind Kind, clear string, now time.Time) ([]Token, error) {
	var out []Token
	var err error
	r.accepted(now, func(k Key) {
		if err != nil {
			return
		}
		var t Token
		t, err = r.tokenUnder(k, kind, clear)
		out = append(out, t)
	})
	return out, err
}

func (r *Keyring) tokenUnder(k Key, kind Kind, clear string) (Token, error) {
	if !kind.CustomerLinked() {
		return Token{}, fmt.Errorf("keyring: %s values travel in clear, not as tokens", kind)
	}
	v, err := NormalizeValue(kind, clear)
	if err != nil {
		return Token{}, err
	}
	m := hmac.New(sha256.New, k.Secret)
	// The kind is bound in, so a terminal id and a merchant id with the same
	// digits give different tokens.
	m.Write([]byte("occsimore/token/v1\x00"))
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(v))
	t := Token{Scheme: SchemeHMAC, KeyID: k.ID}
	m.Sum(t.MAC[:0])
	return t, nil
}

// Hasher makes HMAC token MACs for one goroutine without allocating: the
// matching path computes one per event (the terminal or merchant of a
// payment) before an Index lookup. Not safe for concurrent use; make one per
// goroutine.
type Hasher struct {
	macs   []hash.Hash // one per accepted key, current first
	prefix map[Kind][]byte
	buf    []byte
}

// NewHasher prepares the MACs of the keys accepted at now (the current one,
// and the previous during an overlap). Make a new one after a rotation.
func (r *Keyring) NewHasher(now time.Time) *Hasher {
	h := &Hasher{prefix: map[Kind][]byte{}}
	r.accepted(now, func(k Key) { h.macs = append(h.macs, hmac.New(sha256.New, k.Secret)) })
	for _, k := range Kinds {
		if k.CustomerLinked() {
			h.prefix[k] = []byte("occsimore/token/v1\x00" + string(k) + "\x00")
		}
	}
	return h
}

// Keys is the number of keys the hasher computes MACs under.
func (h *Hasher) Keys() int { return len(h.macs) }

// MAC writes into dst the MAC of an already normalised value (see
// NormalizeValue) under the i-th accepted key (0: the current key). It
// reports false for a kind that is not customer-linked or a key out of range.
func (h *Hasher) MAC(i int, kind Kind, normalized []byte, dst *[TokenLen]byte) bool {
	p, ok := h.prefix[kind]
	if !ok || i < 0 || i >= len(h.macs) {
		return false
	}
	m := h.macs[i]
	m.Reset()
	m.Write(p)
	m.Write(normalized)
	h.buf = m.Sum(h.buf[:0])
	copy(dst[:], h.buf)
	return true
}
