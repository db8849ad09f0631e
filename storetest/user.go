package storetest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlstore"
)

func testUsers(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	// Created out of order, to see ListUsers sort by email.
	zoe := createUser(t, db, a.ID, "zoe@alpha.example")
	ana := createUser(t, db, a.ID, "Ana@alpha.example")
	if !strings.HasPrefix(ana.ID, "usr_") || ana.ID == zoe.ID {
		t.Fatalf("IDs %q and %q, want distinct usr_ IDs", ana.ID, zoe.ID)
	}
	if got, want := ana.MemberID, a.ID; got != want {
		t.Fatalf("MemberID = %q, want %q", got, want)
	}

	got, err := db.FindUser(ctx, a.ID, ana.ID)
	if err != nil {
		t.Fatalf("FindUser: %v", err)
	}
	if diff := cmp.Diff(ana, got); diff != "" {
		t.Fatalf("FindUser mismatch (-want +got):\n%s", diff)
	}
	_, err = db.FindUser(ctx, a.ID, "usr_unknown")
	wantCode(t, "FindUser(unknown)", err, occsimore.ENOTFOUND)

	list, err := db.ListUsers(ctx, a.ID)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if diff := cmp.Diff([]*occsimore.User{ana, zoe}, list); diff != "" {
		t.Fatalf("ListUsers mismatch (-want +got):\n%s", diff)
	}

	// Login finds the user whatever the case of the email; the stored email
	// keeps its own.
	for _, email := range []string{"Ana@alpha.example", "ana@alpha.example", "ANA@ALPHA.EXAMPLE"} {
		got, err := db.FindUserByEmail(ctx, email)
		if err != nil {
			t.Fatalf("FindUserByEmail(%s): %v", email, err)
		}
		if diff := cmp.Diff(ana, got); diff != "" {
			t.Fatalf("FindUserByEmail(%s) mismatch (-want +got):\n%s", email, diff)
		}
	}
	_, err = db.FindUserByEmail(ctx, "nobody@alpha.example")
	wantCode(t, "FindUserByEmail(unknown)", err, occsimore.ENOTFOUND)

	if err := db.SetPassword(ctx, a.ID, ana.ID, "$argon2id$new"); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	got, err = db.FindUser(ctx, a.ID, ana.ID)
	if err != nil {
		t.Fatalf("FindUser: %v", err)
	}
	if got, want := got.PasswordHash, "$argon2id$new"; got != want {
		t.Fatalf("PasswordHash = %q, want %q", got, want)
	}
	got, err = db.FindUser(ctx, a.ID, zoe.ID)
	if err != nil {
		t.Fatalf("FindUser: %v", err)
	}
	if got, want := got.PasswordHash, zoe.PasswordHash; got != want {
		t.Fatalf("another user's PasswordHash = %q, want it unchanged %q", got, want)
	}
	wantCode(t, "SetPassword(unknown)", db.SetPassword(ctx, a.ID, "usr_unknown", "x"), occsimore.ENOTFOUND)

	// Emails are unique platform-wide and regardless of case.
	b := createMember(t, db, "bravo", false)
	for _, email := range []string{"zoe@alpha.example", "ZOE@alpha.example"} {
		dup := &occsimore.User{Email: email, Name: "Dup", Role: occsimore.RoleReader}
		wantCode(t, "CreateUser(duplicate "+email+")", db.CreateUser(ctx, b.ID, dup), occsimore.ECONFLICT)
		if dup.ID != "" {
			t.Fatalf("a rejected user got ID %q", dup.ID)
		}
	}
	orphan := &occsimore.User{Email: "orphan@example.org", Name: "Orphan", Role: occsimore.RoleReader}
	wantCode(t, "CreateUser(unknown member)", db.CreateUser(ctx, "mem_unknown", orphan), occsimore.ENOTFOUND)

	none, err := db.ListUsers(ctx, b.ID)
	if err != nil {
		t.Fatalf("ListUsers(empty member): %v", err)
	}
	if none == nil || len(none) != 0 {
		t.Fatalf("ListUsers(empty member) = %#v, want an empty, non-nil slice", none)
	}
}

// testUserCrossMember checks that every member-scoped user method treats
// another member's user as missing and leaves it unchanged.
func testUserCrossMember(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	b := createMember(t, db, "bravo", false)
	op := createMember(t, db, "ops", true)
	ua := createUser(t, db, a.ID, "ana@alpha.example")
	ub := createUser(t, db, b.ID, "bob@bravo.example")

	for _, asking := range []*occsimore.Member{b, op} {
		_, err := db.FindUser(ctx, asking.ID, ua.ID)
		wantCode(t, "FindUser(other member's user) by "+asking.Slug, err, occsimore.ENOTFOUND)
		err = db.SetPassword(ctx, asking.ID, ua.ID, "$argon2id$attacker")
		wantCode(t, "SetPassword(other member's user) by "+asking.Slug, err, occsimore.ENOTFOUND)
	}
	got, err := db.FindUser(ctx, a.ID, ua.ID)
	if err != nil {
		t.Fatalf("FindUser by owner: %v", err)
	}
	if diff := cmp.Diff(ua, got); diff != "" {
		t.Fatalf("user changed by another member (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		member *occsimore.Member
		want   []*occsimore.User
	}{
		{a, []*occsimore.User{ua}},
		{b, []*occsimore.User{ub}},
		{op, []*occsimore.User{}},
	} {
		list, err := db.ListUsers(ctx, tc.member.ID)
		if err != nil {
			t.Fatalf("ListUsers(%s): %v", tc.member.Slug, err)
		}
		if diff := cmp.Diff(tc.want, list); diff != "" {
			t.Fatalf("ListUsers(%s) mismatch (-want +got):\n%s", tc.member.Slug, diff)
		}
	}
}
