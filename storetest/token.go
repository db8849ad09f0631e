package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlstore"
)

func testTokens(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	// Created out of order, to see ListTokens sort by creation.
	second := createToken(t, db, a.ID, "tok_second", t0.Add(time.Hour))
	first := &occsimore.Token{ID: "tok_first", Name: "collector", Role: occsimore.RoleAdmin,
		Hash: []byte{0, 1, 2, 0xff}, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	if err := db.CreateToken(ctx, a.ID, first); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if got, want := first.MemberID, a.ID; got != want {
		t.Fatalf("MemberID = %q, want %q", got, want)
	}

	got, err := db.FindToken(ctx, a.ID, "tok_first")
	if err != nil {
		t.Fatalf("FindToken: %v", err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Fatalf("FindToken mismatch (-want +got):\n%s", diff)
	}
	if !got.RevokedAt.IsZero() || !got.LastUsedAt.IsZero() {
		t.Fatalf("new token has RevokedAt %v, LastUsedAt %v, want both zero", got.RevokedAt, got.LastUsedAt)
	}
	got, err = db.FindToken(ctx, a.ID, "tok_second")
	if err != nil {
		t.Fatalf("FindToken: %v", err)
	}
	if !got.ExpiresAt.IsZero() {
		t.Fatalf("ExpiresAt = %v, want zero (never) as created", got.ExpiresAt)
	}

	list, err := db.ListTokens(ctx, a.ID)
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if diff := cmp.Diff([]*occsimore.Token{first, second}, list); diff != "" {
		t.Fatalf("ListTokens mismatch (-want +got):\n%s", diff)
	}

	got, err = db.LookupToken(ctx, "tok_first")
	if err != nil {
		t.Fatalf("LookupToken: %v", err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Fatalf("LookupToken mismatch (-want +got):\n%s", diff)
	}
	_, err = db.LookupToken(ctx, "tok_unknown")
	wantCode(t, "LookupToken(unknown)", err, occsimore.ENOTFOUND)
	_, err = db.FindToken(ctx, a.ID, "tok_unknown")
	wantCode(t, "FindToken(unknown)", err, occsimore.ENOTFOUND)

	dup := &occsimore.Token{ID: "tok_first", Name: "again", Role: occsimore.RoleReader, Hash: []byte{9}, CreatedAt: t0}
	wantCode(t, "CreateToken(duplicate ID)", db.CreateToken(ctx, a.ID, dup), occsimore.ECONFLICT)
	orphan := &occsimore.Token{ID: "tok_orphan", Name: "orphan", Role: occsimore.RoleReader, Hash: []byte{9}, CreatedAt: t0}
	wantCode(t, "CreateToken(unknown member)", db.CreateToken(ctx, "mem_unknown", orphan), occsimore.ENOTFOUND)

	none, err := db.ListTokens(ctx, createMember(t, db, "empty", false).ID)
	if err != nil {
		t.Fatalf("ListTokens(empty member): %v", err)
	}
	if none == nil || len(none) != 0 {
		t.Fatalf("ListTokens(empty member) = %#v, want an empty, non-nil slice", none)
	}
}

func testTokenRevoke(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	createToken(t, db, a.ID, "tok_a", t0)

	if err := db.RevokeToken(ctx, a.ID, "tok_a", t0.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	// Idempotent: a second revocation succeeds and keeps the first time.
	if err := db.RevokeToken(ctx, a.ID, "tok_a", t0.Add(2*time.Hour)); err != nil {
		t.Fatalf("RevokeToken again: %v", err)
	}
	got, err := db.FindToken(ctx, a.ID, "tok_a")
	if err != nil {
		t.Fatalf("FindToken: %v", err)
	}
	if got, want := got.RevokedAt, t0.Add(time.Hour); !got.Equal(want) {
		t.Fatalf("RevokedAt = %v, want %v", got, want)
	}
	if got.Active(t0.Add(3 * time.Hour)) {
		t.Fatal("revoked token is still active")
	}
	wantCode(t, "RevokeToken(unknown)", db.RevokeToken(ctx, a.ID, "tok_unknown", t0), occsimore.ENOTFOUND)
}

func testTokenTouch(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	createToken(t, db, a.ID, "tok_a", t0)
	createToken(t, db, a.ID, "tok_b", t0)

	lastUsed := func(id string) time.Time {
		t.Helper()
		tok, err := db.FindToken(ctx, a.ID, id)
		if err != nil {
			t.Fatalf("FindToken: %v", err)
		}
		return tok.LastUsedAt
	}
	touch := func(id string, at time.Time) {
		t.Helper()
		if err := db.TouchToken(ctx, id, at); err != nil {
			t.Fatalf("TouchToken(%s, %v): %v", id, at, err)
		}
	}

	steps := []struct {
		at   time.Duration // after t0
		want time.Duration // expected last use, after t0
	}{
		{10 * time.Second, 10 * time.Second},   // first use is recorded
		{40 * time.Second, 10 * time.Second},   // 30s later: skipped
		{69 * time.Second, 10 * time.Second},   // 59s later: skipped
		{70 * time.Second, 70 * time.Second},   // a minute later: recorded
		{5 * time.Second, 70 * time.Second},    // an earlier time never goes back
		{200 * time.Second, 200 * time.Second}, // recorded
	}
	for _, s := range steps {
		touch("tok_a", t0.Add(s.at))
		if got, want := lastUsed("tok_a"), t0.Add(s.want); !got.Equal(want) {
			t.Fatalf("after touch at +%v: LastUsedAt = %v, want %v", s.at, got, want)
		}
	}
	if got := lastUsed("tok_b"); !got.IsZero() {
		t.Fatalf("touching tok_a changed tok_b: LastUsedAt = %v", got)
	}
	// Touching is bookkeeping after authentication: an unknown ID is no error.
	touch("tok_unknown", t0)
}

// testTokenCrossMember checks that every member-scoped token method treats
// another member's token as missing and leaves it unchanged.
func testTokenCrossMember(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	b := createMember(t, db, "bravo", false)
	op := createMember(t, db, "ops", true)
	tokA := createToken(t, db, a.ID, "tok_a", t0)
	createToken(t, db, b.ID, "tok_b", t0)

	for _, asking := range []*occsimore.Member{b, op} {
		_, err := db.FindToken(ctx, asking.ID, tokA.ID)
		wantCode(t, "FindToken(other member's token) by "+asking.Slug, err, occsimore.ENOTFOUND)
		err = db.RevokeToken(ctx, asking.ID, tokA.ID, t0)
		wantCode(t, "RevokeToken(other member's token) by "+asking.Slug, err, occsimore.ENOTFOUND)
	}
	got, err := db.FindToken(ctx, a.ID, tokA.ID)
	if err != nil {
		t.Fatalf("FindToken by owner: %v", err)
	}
	if diff := cmp.Diff(tokA, got); diff != "" {
		t.Fatalf("token changed by another member (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		member *occsimore.Member
		want   []string
	}{
		{a, []string{"tok_a"}},
		{b, []string{"tok_b"}},
		{op, []string{}},
	} {
		list, err := db.ListTokens(ctx, tc.member.ID)
		if err != nil {
			t.Fatalf("ListTokens(%s): %v", tc.member.Slug, err)
		}
		ids := []string{}
		for _, tok := range list {
			ids = append(ids, tok.ID)
		}
		if diff := cmp.Diff(tc.want, ids); diff != "" {
			t.Fatalf("ListTokens(%s) mismatch (-want +got):\n%s", tc.member.Slug, diff)
		}
	}
}
