package sqlite_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlite"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/occsimore/occsimore/storetest"
)

func open(t *testing.T, dir string) *sqlstore.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), dir)
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
	storetest.Run(t, func(t *testing.T) *sqlstore.DB { return open(t, t.TempDir()) })
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	db := open(t, dir)
	if got, want := db.Driver(), "sqlite"; got != want {
		t.Fatalf("Driver() = %q, want %q", got, want)
	}
	for path, want := range map[string]fs.FileMode{
		dir:                                0o700 | fs.ModeDir,
		filepath.Join(dir, "occsimore.db"): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got != want {
			t.Errorf("mode of %s = %v, want %v", path, got, want)
		}
	}
}

// TestReopen checks that data survives closing and reopening, and that
// reopening applies no migration twice.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	m := &occsimore.Member{Slug: "alpha", Name: "Alpha", Sector: "pharma"}
	if err := db.CreateMember(t.Context(), m); err != nil {
		t.Fatalf("CreateMember: %v", err)
	}
	versions := storetest.AppliedVersions(t, db)
	if len(versions) == 0 {
		t.Fatal("no migration recorded after the first Open")
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for range 2 {
		db := open(t, dir)
		got, err := db.FindMemberBySlug(t.Context(), "alpha")
		if err != nil {
			t.Fatalf("FindMemberBySlug after reopen: %v", err)
		}
		if got.ID != m.ID || !got.CreatedAt.Equal(m.CreatedAt) {
			t.Fatalf("after reopen: got %+v, want %+v", got, m)
		}
		if got, want := fmt.Sprint(storetest.AppliedVersions(t, db)), fmt.Sprint(versions); got != want {
			t.Fatalf("applied migrations after reopen = %s, want %s", got, want)
		}
	}
}

// TestPragmasOnEveryConnection holds several pool connections at once, so
// that they are distinct, and checks each one's settings.
func TestPragmasOnEveryConnection(t *testing.T) {
	db := open(t, t.TempDir())
	ctx := t.Context()
	want := map[string]string{
		"journal_mode": "wal",
		"busy_timeout": "5000",
		"foreign_keys": "1",
		"synchronous":  "1", // NORMAL
	}
	for i := range 4 {
		conn, err := db.SQL().Conn(ctx)
		if err != nil {
			t.Fatalf("Conn: %v", err)
		}
		defer conn.Close()
		for pragma, want := range want {
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s: %v", pragma, err)
			}
			if got != want {
				t.Errorf("connection %d: PRAGMA %s = %q, want %q", i, pragma, got, want)
			}
		}
	}
	if got := db.SQL().Stats().OpenConnections; got < 4 {
		t.Fatalf("open connections = %d, want at least 4", got)
	}
}

// TestConcurrentWrites checks that writers from several goroutines wait for
// each other (busy_timeout) instead of failing with SQLITE_BUSY.
func TestConcurrentWrites(t *testing.T) {
	db := open(t, t.TempDir())
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				m := &occsimore.Member{Slug: fmt.Sprintf("m-%d-%d", w, i), Name: "M", Sector: "other"}
				if err := db.CreateMember(context.Background(), m); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("CreateMember: %v", err)
	}
	var n int
	if err := db.SQL().QueryRowContext(t.Context(), `SELECT count(*) FROM members`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if got, want := n, writers*each; got != want {
		t.Fatalf("members = %d, want %d", got, want)
	}
}

// TestPathWithURIChars checks that a data directory with characters special
// in URIs still puts the database at that literal path, and nowhere else.
func TestPathWithURIChars(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "we?ird #dir%20")
	db := open(t, dir)
	if err := db.CreateMember(t.Context(), &occsimore.Member{Slug: "alpha", Name: "A", Sector: "other"}); err != nil {
		t.Fatalf("CreateMember: %v", err)
	}
	// The file is created before SQLite opens it; the WAL file proves SQLite
	// writes to the same path.
	if _, err := os.Stat(filepath.Join(dir, "occsimore.db-wal")); err != nil {
		t.Fatalf("SQLite is not writing at the literal path: %v", err)
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(entries), 1; got != want {
		t.Fatalf("%d entries in %s, want %d (only the data directory)", got, parent, want)
	}
}
