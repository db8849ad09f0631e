package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
)

// TestCheckPasswordRefusesWeak holds the NIST SP 800-63B policy: every one of
// these was accepted before (twelve spaces among them).
func TestCheckPasswordRefusesWeak(t *testing.T) {
	for _, pw := range []string{
		"            ",                         // twelve spaces
		"aaaaaaaaaaaaaaaa",                     // one character repeated
		"abcabcabcabc",                         // a short pattern repeated
		"123456789012",                         // digits in sequence, wrapping
		"abcdefghijklm",                        // the alphabet
		"qwertyuiop[]",                         // a keyboard row
		"Password2024!",                        // a common word decorated
		"P@ssw0rd12345",                        // with substitutions
		"iloveyou1234",                         // a whole common password
		"passwordpassword",                     // a common word twice
		"Correct Horse Battery Staple",         // famous, so common
		"occsimore-2026!",                      // the service's name
		"elif@rpas",                            // too short (9 characters)
		"ééééééééééé",                          // 11 characters, though 22 bytes
		strings.Repeat("long passphrase ", 17), // 272 bytes
		"valid start \xff\xfe and more",        // not UTF-8
	} {
		err := auth.CheckPassword(pw)
		if occsimore.ErrorCode(err) != occsimore.EINVALID || occsimore.ErrorField(err) != "password" {
			t.Errorf("CheckPassword(%q) = %v, want an invalid password field error", pw, err)
		}
	}
	// Context words: the account's email and name.
	if err := auth.CheckPassword("Ana.Lopez-2026", "ana.lopez@bank.example", "Ana Lopez"); err == nil {
		t.Error("a password made of the user's email was accepted")
	}
}

func TestCheckPasswordAcceptsPassphrases(t *testing.T) {
	for _, pw := range []string{
		"correct horse battery",
		"carol-password-1",
		"tram lilac ferry 42 oboe",
		"ünïcödé pässphrase",
		strings.Repeat("x", 200) + "yz",
		"482915736204", // random digits are not a sequence
	} {
		if err := auth.CheckPassword(pw, "carol@bank.example", "Carol", "1234"); err != nil {
			t.Errorf("CheckPassword(%q) = %v, want nil", pw, err)
		}
	}
	for _, pw := range []string{"tram lilac ferry 42 oboe"} {
		if err := auth.CheckPassword(pw, "carol@bank.example", "Carol"); err != nil {
			t.Errorf("CheckPassword(%q) = %v, want nil", pw, err)
		}
	}
}

func TestHashPasswordAppliesPolicy(t *testing.T) {
	if _, err := auth.HashPassword("            ", cheap); occsimore.ErrorField(err) != "password" {
		t.Fatalf("HashPassword(12 spaces) = %v, want a password field error", err)
	}
	if _, err := auth.HashPassword(strings.Repeat("abcdefghij ", 30), cheap); occsimore.ErrorField(err) != "password" {
		t.Fatalf("HashPassword(330 bytes) = %v, want a password field error", err)
	}
}

// TestHasherBoundsConcurrency: with every slot taken, a hash waits at most
// MaxWait and then fails as unavailable instead of running.
func TestHasherBoundsConcurrency(t *testing.T) {
	h := auth.NewHasher(cheap, 2, 20*time.Millisecond)
	ctx := context.Background()
	var releases []func()
	for range 2 {
		rel, err := h.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, rel)
	}
	if _, err := h.Hash(ctx, "tram lilac ferry oboe"); occsimore.ErrorCode(err) != occsimore.EUNAVAILABLE {
		t.Fatalf("Hash with no free slot = %v, want unavailable", err)
	}
	if _, err := h.Verify(ctx, "tram lilac ferry oboe", "x"); occsimore.ErrorCode(err) != occsimore.EUNAVAILABLE {
		t.Fatalf("Verify with no free slot = %v, want unavailable", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	releases[0]()
	hash, err := h.Hash(ctx, "tram lilac ferry oboe")
	if err != nil {
		t.Fatalf("Hash with a free slot: %v", err)
	}
	if res, err := h.Verify(ctx, "tram lilac ferry oboe", hash); err != nil || res != nil {
		t.Fatalf("Verify = %v, %v", res, err)
	}
	releases[1]()
	// A slot is free, so even an ended context gets it at once.
	if _, err := h.Verify(cctx, "x", hash); err != nil {
		t.Fatalf("Verify with a free slot and ended context: %v", err)
	}
}

func FuzzCheckPassword(f *testing.F) {
	for _, s := range []string{"", "            ", "Password2024!", "correct horse battery", "\xff\xfe", "p@ss"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		err := auth.CheckPassword(pw, "a@b.example")
		if err == nil && (len(pw) > auth.MaxPasswordBytes || len([]rune(pw)) < occsimore.MinPasswordLength) {
			t.Fatalf("CheckPassword(%q) accepted a password outside the length bounds", pw)
		}
	})
}

// TestNeedsRehash: a hash made at another memory, time or lane count needs a
// new one; a hash at the current cost, or one that does not parse, does not.
func TestNeedsRehash(t *testing.T) {
	cur := auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}
	same, err := auth.HashPassword("tram lilac ferry oboe", cur)
	if err != nil {
		t.Fatal(err)
	}
	if auth.NeedsRehash(same, cur) {
		t.Error("a hash at the current cost needs a rehash")
	}
	for _, p := range []auth.Argon2Params{{Memory: 128, Time: 1, Threads: 1, KeyLen: 32}, {Memory: 64, Time: 2, Threads: 1, KeyLen: 32}, {Memory: 64, Time: 1, Threads: 2, KeyLen: 32}} {
		h, err := auth.HashPassword("tram lilac ferry oboe", p)
		if err != nil {
			t.Fatal(err)
		}
		if !auth.NeedsRehash(h, cur) {
			t.Errorf("a hash at %+v does not need a rehash to %+v", p, cur)
		}
	}
	if auth.NeedsRehash("$argon2id$garbage", cur) {
		t.Error("an unparsable hash needs a rehash")
	}
}

// TestHasherCountsRuns: Runs counts every argon2 run a Hasher starts, and no
// refusal (a password over the bound, no free slot).
func TestHasherCountsRuns(t *testing.T) {
	h := auth.NewHasher(cheap, 1, 10*time.Millisecond)
	ctx := context.Background()
	hash, err := h.Hash(ctx, "tram lilac ferry oboe")
	if err != nil {
		t.Fatal(err)
	}
	h.Verify(ctx, "tram lilac ferry oboe", hash)
	h.Verify(ctx, strings.Repeat("x", auth.MaxPasswordBytes+1), hash) // refused without hashing
	if _, err := h.Rehash(ctx, "tram lilac ferry oboe"); err != nil {
		t.Fatal(err)
	}
	if got := h.Runs(); got != 3 {
		t.Errorf("Runs = %d, want 3", got)
	}
	release, err := h.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := h.Verify(ctx, "tram lilac ferry oboe", hash); err == nil {
		t.Fatal("Verify with no free slot succeeded")
	}
	if got := h.Runs(); got != 3 {
		t.Errorf("Runs after a refusal = %d, want 3", got)
	}
}
