package storetest

import (
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlstore"
)

// testTimePrecision checks that times come back in UTC, truncated to the
// microsecond, equal to what Create left in the caller's struct.
func testTimePrecision(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	for i, in := range []time.Time{
		time.Date(2026, 3, 1, 17, 30, 0, 123456789, zone), // nanoseconds and an offset
		time.Date(2026, 3, 1, 12, 0, 0, 999, time.UTC),    // under a microsecond
		time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
	} {
		want := in.Truncate(time.Microsecond).UTC()
		id := "tok_" + string(rune('a'+i))
		tok := &occsimore.Token{ID: id, Name: "t", Role: occsimore.RoleReader, Hash: []byte{1}, CreatedAt: in, ExpiresAt: in}
		if err := db.CreateToken(ctx, a.ID, tok); err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
		if err := db.RevokeToken(ctx, a.ID, id, in); err != nil {
			t.Fatalf("RevokeToken: %v", err)
		}
		if err := db.TouchToken(ctx, id, in); err != nil {
			t.Fatalf("TouchToken: %v", err)
		}
		got, err := db.FindToken(ctx, a.ID, id)
		if err != nil {
			t.Fatalf("FindToken: %v", err)
		}
		for name, pair := range map[string][2]time.Time{
			"CreatedAt (caller's struct)": {tok.CreatedAt, want},
			"CreatedAt":                   {got.CreatedAt, want},
			"ExpiresAt":                   {got.ExpiresAt, want},
			"RevokedAt":                   {got.RevokedAt, want},
			"LastUsedAt":                  {got.LastUsedAt, want},
		} {
			if got, want := pair[0], pair[1]; !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("%s for %v = %v, want %v in UTC", name, in, got, want)
			}
		}
	}

	// Ordering works at microsecond resolution: two tokens a microsecond apart.
	createToken(t, db, a.ID, "tok_late", t0.Add(time.Microsecond))
	createToken(t, db, a.ID, "tok_early", t0)
	list, err := db.ListTokens(ctx, a.ID)
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	var ids []string
	for _, tok := range list {
		if tok.ID == "tok_late" || tok.ID == "tok_early" {
			ids = append(ids, tok.ID)
		}
	}
	if got, want := len(ids), 2; got != want || ids[0] != "tok_early" {
		t.Fatalf("ListTokens order = %v, want [tok_early tok_late]", ids)
	}
}

// testClock checks that the times the store assigns come from DB.Now.
func testClock(t *testing.T, db *sqlstore.DB) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)
	db.Now = func() time.Time { return now }
	want := now.Truncate(time.Microsecond)

	m := createMember(t, db, "alpha", false)
	u := createUser(t, db, m.ID, "ana@alpha.example")
	s := &occsimore.Session{Hash: sessionHash("c"), UserID: u.ID, MemberID: m.ID, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateSession(t.Context(), s); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	gotM, err := db.FindMember(t.Context(), m, m.ID)
	if err != nil {
		t.Fatalf("FindMember: %v", err)
	}
	gotU, err := db.FindUser(t.Context(), m.ID, u.ID)
	if err != nil {
		t.Fatalf("FindUser: %v", err)
	}
	gotS, err := db.FindSession(t.Context(), s.Hash, now)
	if err != nil {
		t.Fatalf("FindSession: %v", err)
	}
	for name, got := range map[string]time.Time{
		"member": gotM.CreatedAt, "user": gotU.CreatedAt, "session": gotS.CreatedAt,
	} {
		if !got.Equal(want) {
			t.Errorf("%s CreatedAt = %v, want %v from DB.Now", name, got, want)
		}
	}
}
