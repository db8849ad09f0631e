package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/postgres"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/occsimore/occsimore/storetest"
)

// serverDSN returns the DSN of the test server, skipping the test when none
// is configured, except in CI, where a missing server must fail the build.
func serverDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("OCCSIMORE_TEST_POSTGRES_DSN")
	if dsn != "" {
		return dsn
	}
	const msg = "OCCSIMORE_TEST_POSTGRES_DSN is not set; start a server with: eval \"$(bash scripts/postgres.sh)\""
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: PostgreSQL tests must not be skipped)")
	}
	t.Skip(msg)
	return ""
}

// freshDatabase creates an empty database with a random name on the test
// server, drops it when the test ends, and returns its DSN.
func freshDatabase(t *testing.T) string {
	t.Helper()
	dsn := serverDSN(t)
	admin, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	defer admin.Close(t.Context())
	b := make([]byte, 8)
	rand.Read(b)
	name := "occsimore_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background() // t.Context() is already canceled here
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return withDatabase(t, dsn, name)
}

// withDatabase returns dsn pointing at database name instead.
func withDatabase(t *testing.T, dsn, name string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("parse DSN: %v", err)
		}
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name // key=value form: the last dbname wins
}

func open(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *sqlstore.DB { return open(t, freshDatabase(t)) })
}

// TestReopen checks that data survives reopening and that reopening, even by
// several processes at once, applies no migration twice.
func TestReopen(t *testing.T) {
	dsn := freshDatabase(t)
	db := open(t, dsn)
	if got, want := db.Driver(), "postgres"; got != want {
		t.Fatalf("Driver() = %q, want %q", got, want)
	}
	m := &occsimore.Member{Slug: "alpha", Name: "Alpha", Sector: "weather"}
	if err := db.CreateMember(t.Context(), m); err != nil {
		t.Fatalf("CreateMember: %v", err)
	}
	want := storetest.AppliedVersions(t, db)
	if len(want) == 0 {
		t.Fatal("no migration recorded after the first Open")
	}

	// Nodes starting together: the advisory lock serialises their migrations.
	const nodes = 3
	dbs := make([]*sqlstore.DB, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { dbs[i], errs[i] = postgres.Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i := range nodes {
		if errs[i] != nil {
			t.Fatalf("concurrent Open %d: %v", i, errs[i])
		}
		defer dbs[i].Close()
		got, err := dbs[i].FindMemberBySlug(t.Context(), "alpha")
		if err != nil {
			t.Fatalf("FindMemberBySlug after reopen: %v", err)
		}
		if got.ID != m.ID {
			t.Fatalf("after reopen: ID %q, want %q", got.ID, m.ID)
		}
	}
	if got := storetest.AppliedVersions(t, db); !slices.Equal(got, want) {
		t.Fatalf("applied migrations after reopen = %v, want %v", got, want)
	}
}

func TestOpenBadDSN(t *testing.T) {
	// A port nothing listens on: Open must fail, not return a dead store.
	db, err := postgres.Open(t.Context(), "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5")
	if err == nil {
		db.Close()
		t.Fatal("Open of an unreachable server succeeded")
	}
}

// TestMissingServer runs this test binary again without a DSN: the contract
// test must skip with a hint, except under CI=true, where it must fail.
func TestMissingServer(t *testing.T) {
	for _, tc := range []struct {
		ci       string
		wantFail bool
	}{
		{"", false},
		{"true", true},
	} {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestContract$", "-test.v")
		cmd.Env = append(os.Environ(), "OCCSIMORE_TEST_POSTGRES_DSN=", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if got := err != nil; got != tc.wantFail {
			t.Fatalf("CI=%q: failed = %v, want %v; output:\n%s", tc.ci, got, tc.wantFail, out)
		}
		if !strings.Contains(string(out), "scripts/postgres.sh") {
			t.Fatalf("CI=%q: output does not point to scripts/postgres.sh:\n%s", tc.ci, out)
		}
		if !tc.wantFail && !strings.Contains(string(out), "--- SKIP: TestContract") {
			t.Fatalf("CI unset: TestContract did not skip:\n%s", out)
		}
	}
}
