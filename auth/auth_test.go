package auth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
)

// cheap keeps tests fast; the format and algorithm are the same.
var cheap = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32}

func TestPasswordRoundTrip(t *testing.T) {
	h, err := auth.HashPassword("correct horse battery", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.VerifyPassword("correct horse battery", h); err != nil {
		t.Fatalf("verify right password: %v", err)
	}
	if err := auth.VerifyPassword("correct horse batterz", h); !errors.Is(err, auth.ErrMismatch) {
		t.Fatalf("verify wrong password: got %v, want ErrMismatch", err)
	}
	h2, _ := auth.HashPassword("correct horse battery", cheap)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestPasswordTooShort(t *testing.T) {
	_, err := auth.HashPassword("short", cheap)
	if got, want := occsimore.ErrorField(err), "password"; got != want {
		t.Fatalf("field = %q, want %q (err %v)", got, want, err)
	}
}

func TestVerifyRejectsGarbage(t *testing.T) {
	for _, h := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "plain"} {
		if err := auth.VerifyPassword("whatever-password", h); err == nil {
			t.Errorf("VerifyPassword(%q) accepted a malformed hash", h)
		}
	}
}

func TestTokenLifecycle(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tok, bearer := auth.NewToken("mem_a", "ci", occsimore.RoleIngest, now, time.Hour)
	id, secret, err := auth.ParseBearer(bearer)
	if err != nil {
		t.Fatal(err)
	}
	if id != tok.ID {
		t.Fatalf("id = %q, want %q", id, tok.ID)
	}
	if err := auth.CheckToken(tok, secret, now); err != nil {
		t.Fatalf("fresh token rejected: %v", err)
	}
	if err := auth.CheckToken(tok, secret+"x", now); occsimore.ErrorCode(err) != occsimore.EUNAUTHORIZED {
		t.Fatalf("wrong secret: got %v", err)
	}
	if err := auth.CheckToken(tok, secret, now.Add(2*time.Hour)); occsimore.ErrorCode(err) != occsimore.EUNAUTHORIZED {
		t.Fatalf("expired token accepted: %v", err)
	}
	tok.RevokedAt = now
	if err := auth.CheckToken(tok, secret, now); occsimore.ErrorCode(err) != occsimore.EUNAUTHORIZED {
		t.Fatalf("revoked token accepted: %v", err)
	}
}

func TestParseBearerMalformed(t *testing.T) {
	for _, b := range []string{"", "occ_", "Bearer x", "occ_tok_abc", "occ_.secret", "occ_xyz.secret"} {
		if _, _, err := auth.ParseBearer(b); occsimore.ErrorCode(err) != occsimore.EUNAUTHORIZED {
			t.Errorf("ParseBearer(%q) = %v, want unauthorized", b, err)
		}
	}
}

func FuzzParseBearer(f *testing.F) {
	f.Add("occ_tok_abc.secret")
	f.Add("occ_")
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, err := auth.ParseBearer(s)
		if err == nil && (id == "" || secret == "") {
			t.Fatalf("accepted %q with empty part", s)
		}
	})
}

func FuzzVerifyPassword(f *testing.F) {
	f.Add("$argon2id$v=19$m=16,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5")
	f.Fuzz(func(t *testing.T, phc string) {
		_ = auth.VerifyPassword("password-password", phc) // must not panic or hang
	})
}
