package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlstore"
)

func testMembers(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	m := &occsimore.Member{Slug: "bank-one", Name: "Bank One", Sector: "banking", Operator: true}
	if err := db.CreateMember(ctx, m); err != nil {
		t.Fatalf("CreateMember: %v", err)
	}
	if !strings.HasPrefix(m.ID, "mem_") {
		t.Fatalf("ID = %q, want a mem_ prefix", m.ID)
	}
	if m.CreatedAt.IsZero() || m.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt = %v, want a UTC time", m.CreatedAt)
	}

	got, err := db.FindMember(ctx, m, m.ID)
	if err != nil {
		t.Fatalf("FindMember: %v", err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Fatalf("FindMember mismatch (-want +got):\n%s", diff)
	}
	got, err = db.FindMemberBySlug(ctx, "bank-one")
	if err != nil {
		t.Fatalf("FindMemberBySlug: %v", err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Fatalf("FindMemberBySlug mismatch (-want +got):\n%s", diff)
	}

	_, err = db.FindMemberBySlug(ctx, "nobody")
	wantCode(t, "FindMemberBySlug(unknown)", err, occsimore.ENOTFOUND)
	_, err = db.FindMember(ctx, m, "mem_unknown")
	wantCode(t, "FindMember(unknown)", err, occsimore.ENOTFOUND)

	dup := &occsimore.Member{Slug: "bank-one", Name: "Impostor", Sector: "other"}
	wantCode(t, "CreateMember(duplicate slug)", db.CreateMember(ctx, dup), occsimore.ECONFLICT)
	if dup.ID != "" {
		t.Fatalf("a rejected member got ID %q", dup.ID)
	}
	got, err = db.FindMemberBySlug(ctx, "bank-one")
	if err != nil {
		t.Fatalf("FindMemberBySlug after conflict: %v", err)
	}
	if got, want := got.Name, "Bank One"; got != want {
		t.Fatalf("Name after conflict = %q, want %q", got, want)
	}

	other := &occsimore.Member{Slug: "another", Name: "Another", Sector: "pharma"}
	if err := db.CreateMember(ctx, other); err != nil {
		t.Fatalf("CreateMember: %v", err)
	}
	all, err := db.AllMembers(ctx)
	if err != nil {
		t.Fatalf("AllMembers: %v", err)
	}
	if got, want := len(all), 2; got != want || all[0].Slug != "another" || all[1].Slug != "bank-one" {
		t.Fatalf("AllMembers = %d members %v, want both by slug", got, all)
	}
}

func testMemberVisibility(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	// Created out of slug order, to see ListMembers sort.
	b := createMember(t, db, "bravo", false)
	op := createMember(t, db, "ops", true)
	a := createMember(t, db, "alpha", false)

	for _, tc := range []struct {
		asking *occsimore.Member
		id     string
		ok     bool
	}{
		{a, a.ID, true},
		{a, b.ID, false},
		{a, op.ID, false},
		{b, a.ID, false},
		{op, a.ID, true},
		{op, b.ID, true},
		{op, op.ID, true},
		{nil, a.ID, false},
	} {
		_, err := db.FindMember(ctx, tc.asking, tc.id)
		if tc.ok && err != nil {
			t.Errorf("FindMember(%v, %s): %v, want it visible", slug(tc.asking), tc.id, err)
		}
		if !tc.ok && occsimore.ErrorCode(err) != occsimore.ENOTFOUND {
			t.Errorf("FindMember(%v, %s): error %v, want ENOTFOUND", slug(tc.asking), tc.id, err)
		}
	}

	// The operator flag is read from the database, not from the caller's copy.
	forged := *a
	forged.Operator = true
	_, err := db.FindMember(ctx, &forged, b.ID)
	wantCode(t, "FindMember(forged operator)", err, occsimore.ENOTFOUND)

	for _, tc := range []struct {
		asking *occsimore.Member
		want   []string
	}{
		{a, []string{"alpha"}},
		{b, []string{"bravo"}},
		{&forged, []string{"alpha"}},
		{op, []string{"alpha", "bravo", "ops"}},
		{nil, []string{}},
	} {
		list, err := db.ListMembers(ctx, tc.asking)
		if err != nil {
			t.Fatalf("ListMembers(%s): %v", slug(tc.asking), err)
		}
		got := []string{}
		for _, m := range list {
			got = append(got, m.Slug)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ListMembers(%s) = %v, want %v", slug(tc.asking), got, tc.want)
		}
	}
	list, err := db.ListMembers(ctx, op)
	if err != nil {
		t.Fatalf("ListMembers: %v", err)
	}
	if diff := cmp.Diff([]*occsimore.Member{a, b, op}, list); diff != "" {
		t.Fatalf("ListMembers(operator) mismatch (-want +got):\n%s", diff)
	}
}

func slug(m *occsimore.Member) string {
	if m == nil {
		return "<nil>"
	}
	return m.Slug
}
