package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlstore"
)

// sessionHash returns the kind of value the store keeps: a SHA-256 hash,
// which contains zero and high bytes, so it exercises BLOB/BYTEA handling.
func sessionHash(cookie string) []byte {
	h := sha256.Sum256([]byte(cookie))
	return h[:]
}

func createSession(t *testing.T, db *sqlstore.DB, u *occsimore.User, cookie string, expires time.Time) *occsimore.Session {
	t.Helper()
	s := &occsimore.Session{Hash: sessionHash(cookie), UserID: u.ID, MemberID: u.MemberID, CreatedAt: t0, ExpiresAt: expires}
	if err := db.CreateSession(t.Context(), s); err != nil {
		t.Fatalf("CreateSession(%s): %v", cookie, err)
	}
	return s
}

func testSessions(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	u := createUser(t, db, a.ID, "ana@alpha.example")
	s := createSession(t, db, u, "cookie-1", t0.Add(time.Hour))
	other := createSession(t, db, u, "cookie-2", t0.Add(time.Hour))

	got, err := db.FindSession(ctx, sessionHash("cookie-1"), t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("FindSession: %v", err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Fatalf("FindSession mismatch (-want +got):\n%s", diff)
	}
	_, err = db.FindSession(ctx, sessionHash("no such cookie"), t0)
	wantCode(t, "FindSession(unknown)", err, occsimore.ENOTFOUND)

	dup := &occsimore.Session{Hash: sessionHash("cookie-1"), UserID: u.ID, MemberID: a.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	wantCode(t, "CreateSession(duplicate hash)", db.CreateSession(ctx, dup), occsimore.ECONFLICT)
	orphan := &occsimore.Session{Hash: sessionHash("orphan"), UserID: "usr_unknown", MemberID: a.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	wantCode(t, "CreateSession(unknown user)", db.CreateSession(ctx, orphan), occsimore.ENOTFOUND)

	if err := db.DeleteSession(ctx, s.Hash); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	_, err = db.FindSession(ctx, s.Hash, t0)
	wantCode(t, "FindSession(deleted)", err, occsimore.ENOTFOUND)
	if err := db.DeleteSession(ctx, s.Hash); err != nil {
		t.Fatalf("DeleteSession again: %v", err)
	}
	if _, err := db.FindSession(ctx, other.Hash, t0); err != nil {
		t.Fatalf("deleting one session removed another: %v", err)
	}
}

func testSessionExpiry(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	u := createUser(t, db, a.ID, "ana@alpha.example")
	short := createSession(t, db, u, "short", t0.Add(time.Hour))
	long := createSession(t, db, u, "long", t0.Add(2*time.Hour))

	// A session is valid strictly before ExpiresAt, to the microsecond.
	if _, err := db.FindSession(ctx, short.Hash, short.ExpiresAt.Add(-time.Microsecond)); err != nil {
		t.Fatalf("FindSession a microsecond before expiry: %v", err)
	}
	_, err := db.FindSession(ctx, short.Hash, short.ExpiresAt)
	wantCode(t, "FindSession(at expiry)", err, occsimore.ENOTFOUND)

	n, err := db.DeleteExpiredSessions(ctx, short.ExpiresAt.Add(-time.Microsecond))
	if err != nil {
		t.Fatalf("DeleteExpiredSessions: %v", err)
	}
	if got, want := n, int64(0); got != want {
		t.Fatalf("DeleteExpiredSessions before any expiry = %d, want %d", got, want)
	}
	n, err = db.DeleteExpiredSessions(ctx, short.ExpiresAt)
	if err != nil {
		t.Fatalf("DeleteExpiredSessions: %v", err)
	}
	if got, want := n, int64(1); got != want {
		t.Fatalf("DeleteExpiredSessions = %d, want %d", got, want)
	}
	// Gone even when asked about an earlier time: it was deleted, not hidden.
	_, err = db.FindSession(ctx, short.Hash, t0)
	wantCode(t, "FindSession(deleted expired)", err, occsimore.ENOTFOUND)
	if _, err := db.FindSession(ctx, long.Hash, short.ExpiresAt); err != nil {
		t.Fatalf("DeleteExpiredSessions removed an unexpired session: %v", err)
	}
}

// testSessionCrossMember checks that a session cannot tie one member's user
// to another member.
func testSessionCrossMember(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	b := createMember(t, db, "bravo", false)
	u := createUser(t, db, a.ID, "ana@alpha.example")
	s := &occsimore.Session{Hash: sessionHash("mixed"), UserID: u.ID, MemberID: b.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	wantCode(t, "CreateSession(user of another member)", db.CreateSession(t.Context(), s), occsimore.ENOTFOUND)
	_, err := db.FindSession(t.Context(), s.Hash, t0)
	wantCode(t, "FindSession(rejected)", err, occsimore.ENOTFOUND)
}

// testCascadeDelete checks the foreign keys: deleting a member removes its
// tokens, users and sessions, and deleting a user removes its sessions. On
// SQLite this fails unless foreign_keys is on for the connection.
func testCascadeDelete(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	b := createMember(t, db, "bravo", false)
	createToken(t, db, a.ID, "tok_a", t0)
	createToken(t, db, b.ID, "tok_b", t0)
	ua := createUser(t, db, a.ID, "ana@alpha.example")
	ua2 := createUser(t, db, a.ID, "abe@alpha.example")
	ub := createUser(t, db, b.ID, "bob@bravo.example")
	sa := createSession(t, db, ua, "a", t0.Add(time.Hour))
	sa2 := createSession(t, db, ua2, "a2", t0.Add(time.Hour))
	sb := createSession(t, db, ub, "b", t0.Add(time.Hour))

	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := db.SQL().ExecContext(ctx, db.Rebind(query), args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	exec(`DELETE FROM users WHERE id = ?`, ua2.ID)
	_, err := db.FindSession(ctx, sa2.Hash, t0)
	wantCode(t, "FindSession(of deleted user)", err, occsimore.ENOTFOUND)
	if _, err := db.FindSession(ctx, sa.Hash, t0); err != nil {
		t.Fatalf("deleting a user removed another user's session: %v", err)
	}

	exec(`DELETE FROM members WHERE id = ?`, a.ID)
	_, err = db.LookupToken(ctx, "tok_a")
	wantCode(t, "LookupToken(of deleted member)", err, occsimore.ENOTFOUND)
	_, err = db.FindUserByEmail(ctx, ua.Email)
	wantCode(t, "FindUserByEmail(of deleted member)", err, occsimore.ENOTFOUND)
	_, err = db.FindSession(ctx, sa.Hash, t0)
	wantCode(t, "FindSession(of deleted member)", err, occsimore.ENOTFOUND)

	if _, err := db.LookupToken(ctx, "tok_b"); err != nil {
		t.Fatalf("other member's token: %v", err)
	}
	if _, err := db.FindUser(ctx, b.ID, ub.ID); err != nil {
		t.Fatalf("other member's user: %v", err)
	}
	if _, err := db.FindSession(ctx, sb.Hash, t0); err != nil {
		t.Fatalf("other member's session: %v", err)
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&n); err != nil {
		t.Fatalf("count sessions: %v", err)
	}
	if got, want := n, 1; got != want {
		t.Fatalf("sessions left = %d, want %d", got, want)
	}
}

// testSetPasswordEndsSessions: a password change signs the user out
// everywhere, and only that user.
func testSetPasswordEndsSessions(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	u := createUser(t, db, a.ID, "ana@alpha.example")
	v := createUser(t, db, a.ID, "vic@alpha.example")
	createSession(t, db, u, "ana-laptop", t0.Add(time.Hour))
	createSession(t, db, u, "ana-phone", t0.Add(time.Hour))
	createSession(t, db, v, "vic-laptop", t0.Add(time.Hour))

	b := createMember(t, db, "beta", false)
	wantCode(t, "SetPassword(another member)", db.SetPassword(ctx, b.ID, u.ID, "$argon2id$x"), occsimore.ENOTFOUND)
	if _, err := db.FindSession(ctx, sessionHash("ana-laptop"), t0); err != nil {
		t.Fatalf("a refused password change ended a session: %v", err)
	}
	if err := db.SetPassword(ctx, a.ID, u.ID, "$argon2id$new"); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	for _, c := range []string{"ana-laptop", "ana-phone"} {
		_, err := db.FindSession(ctx, sessionHash(c), t0)
		wantCode(t, "FindSession("+c+") after a password change", err, occsimore.ENOTFOUND)
	}
	if _, err := db.FindSession(ctx, sessionHash("vic-laptop"), t0); err != nil {
		t.Fatalf("another user's session ended: %v", err)
	}
}
