package auth

import (
	"context"
	_ "embed"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/occsimore/occsimore"
)

// MaxPasswordBytes bounds a password. Argon2 reads all of it and the form or
// JSON carrying it is held in memory, so a bound keeps each hash cheap to
// accept; 256 bytes leave room for any passphrase.
const MaxPasswordBytes = 256

// The lists are small and written for this project (no download at run
// time): whole common passwords, and the base words that common passwords
// decorate with digits and symbols ("Password2024!").
var (
	//go:embed weakpasswords.txt
	weakPasswordsText string
	//go:embed weakwords.txt
	weakWordsText string

	weakPasswords = lineSet(weakPasswordsText)
	weakWords     = lineSet(weakWordsText)
)

func lineSet(text string) map[string]bool {
	m := make(map[string]bool)
	for line := range strings.Lines(text) {
		if line = strings.TrimRight(line, "\r\n"); line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}

// keyboardRows are key sequences people type as passwords.
const keyboardRows = "`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./"

// CheckPassword applies the password policy of NIST SP 800-63B §3.1.1.2 to a
// new password: at least occsimore.MinPasswordLength characters (Unicode
// code points), at most MaxPasswordBytes bytes, valid UTF-8, and not a
// common, repetitive, sequential or context-specific password. contextWords
// are words an attacker would try first for this account (its email, its
// name); the service's name is always one. There are no composition rules,
// as the guidance asks.
func CheckPassword(password string, contextWords ...string) error {
	switch {
	case !utf8.ValidString(password):
		return occsimore.FieldErrorf("password", "password is not valid UTF-8")
	case len(password) > MaxPasswordBytes:
		return occsimore.FieldErrorf("password", "password must be at most %d bytes", MaxPasswordBytes)
	case utf8.RuneCountInString(password) < occsimore.MinPasswordLength:
		return occsimore.FieldErrorf("password", "password must be at least %d characters", occsimore.MinPasswordLength)
	}
	lower := strings.ToLower(password)
	if repetitive(lower) {
		return occsimore.FieldErrorf("password", "password repeats a short pattern; choose a longer passphrase")
	}
	if sequential(lower) {
		return occsimore.FieldErrorf("password", "password is a sequence of keys or characters; choose a passphrase")
	}
	ctx := map[string]bool{"occsimore": true}
	for _, w := range contextWords {
		w = strings.ToLower(w)
		if local, _, ok := strings.Cut(w, "@"); ok {
			w = local
		}
		if l := candidates(w)[0]; utf8.RuneCountInString(l) >= 3 {
			ctx[l] = true // "ana.lopez" as "analopez"
		}
		for f := range strings.FieldsFuncSeq(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if utf8.RuneCountInString(f) >= 3 {
				ctx[f] = true
			}
		}
	}
	if weakPasswords[lower] || weakPasswords[strings.Join(strings.Fields(lower), " ")] {
		return occsimore.FieldErrorf("password", "password is on the list of common passwords; choose another")
	}
	for _, c := range candidates(lower) {
		if weakWords[c] || ctx[c] || repeatsWord(c, weakWords) || repeatsWord(c, ctx) {
			return occsimore.FieldErrorf("password", "password is a common or guessable word with digits or symbols; choose another")
		}
	}
	return nil
}

// repetitive reports whether s is a pattern of up to 4 characters repeated,
// such as twelve spaces or "abcabcabcabc".
func repetitive(s string) bool {
	r := []rune(s)
	for p := 1; p <= 4 && p < len(r); p++ {
		same := true
		for i := p; i < len(r); i++ {
			if r[i] != r[i-p] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

// sequential reports whether s runs along the alphabet, the digits (wrapping
// from 9 to 0) or a keyboard row, either way.
func sequential(s string) bool {
	if strings.Contains(keyboardRows, s) || strings.Contains(reverse(keyboardRows), s) {
		return true
	}
	r := []rune(s)
	for _, step := range []rune{1, -1} {
		ok := true
		for i := 1; i < len(r) && ok; i++ {
			d := r[i] - r[i-1]
			wrap := r[i] >= '0' && r[i] <= '9' && r[i-1] >= '0' && r[i-1] <= '9' && d == -9*step
			ok = d == step || wrap
		}
		if ok {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// candidates are the forms of a lower-case password whose base word is
// looked up: its letters alone, and its core without leading and trailing
// digits and symbols with common substitutions undone ("p@ssw0rd2024!").
func candidates(lower string) []string {
	letters := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, lower)
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	core = strings.NewReplacer("@", "a", "4", "a", "3", "e", "1", "i", "!", "i", "0", "o", "$", "s", "5", "s", "7", "t").Replace(core)
	core = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, core)
	return []string{letters, core}
}

// repeatsWord reports whether s is one word of set written two or more times.
func repeatsWord(s string, set map[string]bool) bool {
	for n := 2; n <= 4; n++ {
		if len(s)%n == 0 {
			w := s[:len(s)/n]
			if set[w] && strings.Repeat(w, n) == s {
				return true
			}
		}
	}
	return false
}

// Hasher runs argon2id within a bounded number of slots: each run takes the
// configured memory (64 MiB by default), so unbounded parallel sign-ins or
// password changes could exhaust the machine. A caller that cannot get a slot
// within MaxWait gets EUNAVAILABLE (HTTP 503) rather than queueing forever.
type Hasher struct {
	params  Argon2Params
	slots   chan struct{}
	maxWait time.Duration
	runs    atomic.Int64 // argon2 runs started
}

// NewHasher returns a hasher with the given cost that runs at most slots
// hashes at once; others wait up to maxWait.
func NewHasher(p Argon2Params, slots int, maxWait time.Duration) *Hasher {
	return &Hasher{params: p, slots: make(chan struct{}, max(1, slots)), maxWait: maxWait}
}

// Params returns the cost of new hashes.
func (h *Hasher) Params() Argon2Params { return h.params }

// Runs returns how many argon2 hashes and verifications h has started: the
// work a sign-in budget is there to bound.
func (h *Hasher) Runs() int64 { return h.runs.Load() }

// Acquire takes a slot, waiting up to the hasher's MaxWait or until ctx ends.
// The caller must call release once.
func (h *Hasher) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	default:
	}
	t := time.NewTimer(h.maxWait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-ctx.Done():
	case <-t.C:
	}
	return nil, occsimore.Errorf(occsimore.EUNAVAILABLE, "the server is busy hashing passwords; try again shortly")
}

// Hash checks password against the policy (CheckPassword, with contextWords)
// and returns its hash.
func (h *Hasher) Hash(ctx context.Context, password string, contextWords ...string) (string, error) {
	if err := CheckPassword(password, contextWords...); err != nil {
		return "", err
	}
	release, err := h.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	h.runs.Add(1)
	return hashPassword(password, h.params), nil
}

// Rehash hashes a password that already verified against a hash made at
// another cost (NeedsRehash), without the policy check: the user chose it
// under the policy of its day, and refusing it now would fail their sign-in.
func (h *Hasher) Rehash(ctx context.Context, password string) (string, error) {
	release, err := h.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	h.runs.Add(1)
	return hashPassword(password, h.params), nil
}

// Verify checks password against hash in a slot. It returns the
// verification's result (nil on a match), or err if no slot was free.
func (h *Hasher) Verify(ctx context.Context, password, hash string) (result, err error) {
	if len(password) > MaxPasswordBytes {
		// No stored password is this long; do not spend argon2 on it.
		return ErrMismatch, nil
	}
	release, err := h.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	h.runs.Add(1)
	return VerifyPassword(password, hash), nil
}
