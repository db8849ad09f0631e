package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlstore"
)

// Open returns an empty, migrated store for one test and arranges for it to
// be closed (and its database removed) when the test ends.
type Open func(t *testing.T) *sqlstore.DB

// Run runs the whole contract, each subtest on a fresh store from open.
func Run(t *testing.T, open Open) {
	contract{
		{"PingDriver", testPingDriver},
		{"Members", testMembers},
		{"MemberVisibility", testMemberVisibility},
		{"Tokens", testTokens},
		{"TokenRevoke", testTokenRevoke},
		{"TokenTouch", testTokenTouch},
		{"TokenCrossMember", testTokenCrossMember},
		{"Users", testUsers},
		{"UserCrossMember", testUserCrossMember},
		{"Sessions", testSessions},
		{"SessionExpiry", testSessionExpiry},
		{"SessionCrossMember", testSessionCrossMember},
		{"SetPasswordEndsSessions", testSetPasswordEndsSessions},
		{"CascadeDelete", testCascadeDelete},
		{"TimePrecision", testTimePrecision},
		{"Clock", testClock},
		{"ContextCanceled", testContextCanceled},
	}.run(t, open)
	runAlerts(t, open)
	runAttacks(t, open)
	runModels(t, open)
	runTAXII(t, open)
}

// contract is a list of named subtests, each run on a fresh store.
type contract []struct {
	name string
	fn   func(*testing.T, *sqlstore.DB)
}

func (c contract) run(t *testing.T, open Open) {
	for _, tt := range c {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// t0 is an arbitrary, fixed instant the tests count from.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testPingDriver(t *testing.T, db *sqlstore.DB) {
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if got := db.Driver(); got != "sqlite" && got != "postgres" {
		t.Fatalf("Driver() = %q, want sqlite or postgres", got)
	}
	if db.SQL() == nil {
		t.Fatal("SQL() = nil")
	}
}

func testContextCanceled(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"Ping":         func() error { return db.Ping(ctx) },
		"CreateMember": func() error { return db.CreateMember(ctx, &occsimore.Member{Slug: "beta", Name: "B", Sector: "other"}) },
		"FindMember":   func() error { _, err := db.FindMember(ctx, a, a.ID); return err },
		"ListMembers":  func() error { _, err := db.ListMembers(ctx, a); return err },
		"ListTokens":   func() error { _, err := db.ListTokens(ctx, a.ID); return err },
		"RevokeToken":  func() error { return db.RevokeToken(ctx, a.ID, "tok_x", t0) },
		"ListUsers":    func() error { _, err := db.ListUsers(ctx, a.ID); return err },
		"FindSession":  func() error { _, err := db.FindSession(ctx, []byte("x"), t0); return err },
		"DeleteExpiredSessions": func() error {
			_, err := db.DeleteExpiredSessions(ctx, t0)
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: error %v, want context.Canceled", name, err)
		}
	}
	// Nothing was written.
	if _, err := db.FindMemberBySlug(t.Context(), "beta"); occsimore.ErrorCode(err) != occsimore.ENOTFOUND {
		t.Fatalf("member created despite canceled context: err = %v", err)
	}
}

// createMember stores a valid member and returns it.
func createMember(t *testing.T, db *sqlstore.DB, slug string, operator bool) *occsimore.Member {
	t.Helper()
	m := &occsimore.Member{Slug: slug, Name: "Member " + slug, Sector: "banking", Operator: operator}
	if err := db.CreateMember(t.Context(), m); err != nil {
		t.Fatalf("CreateMember(%s): %v", slug, err)
	}
	return m
}

// createToken stores a token of member memberID with the given ID.
func createToken(t *testing.T, db *sqlstore.DB, memberID, id string, created time.Time) *occsimore.Token {
	t.Helper()
	h := sha256.Sum256([]byte("secret of " + id))
	tok := &occsimore.Token{ID: id, Name: "token " + id, Role: occsimore.RoleIngest, Hash: h[:], CreatedAt: created}
	if err := db.CreateToken(t.Context(), memberID, tok); err != nil {
		t.Fatalf("CreateToken(%s): %v", id, err)
	}
	return tok
}

// createUser stores a user of member memberID.
func createUser(t *testing.T, db *sqlstore.DB, memberID, email string) *occsimore.User {
	t.Helper()
	u := &occsimore.User{Email: email, Name: "User " + email, Role: occsimore.RoleAnalyst, PasswordHash: "$argon2id$hash-of-" + email}
	if err := db.CreateUser(t.Context(), memberID, u); err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

// wantCode fails the test unless err carries the domain error code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := occsimore.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

// AppliedVersions returns the migration versions goose recorded, in order,
// so that each store's tests can check that reopening migrates nothing twice.
func AppliedVersions(t *testing.T, db *sqlstore.DB) []int64 {
	t.Helper()
	rows, err := db.SQL().QueryContext(t.Context(),
		`SELECT version_id FROM goose_db_version WHERE version_id > 0 ORDER BY id`)
	if err != nil {
		t.Fatalf("query goose_db_version: %v", err)
	}
	defer rows.Close()
	var vs []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}
