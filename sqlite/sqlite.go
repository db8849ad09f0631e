package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/occsimore/occsimore/sqlstore"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// FileName is the database file inside the data directory.
const FileName = "occsimore.db"

//go:embed migrations/*.sql
var migrations embed.FS

// pragmas are applied by the driver to every new pooled connection; a PRAGMA
// run once through the pool would only reach whichever connection ran it.
var pragmas = []string{
	"busy_timeout(5000)",  // wait for a writer instead of failing with SQLITE_BUSY
	"foreign_keys(1)",     // off by default in SQLite, per connection
	"journal_mode(WAL)",   // readers do not block the writer
	"synchronous(NORMAL)", // with WAL: consistent after a crash, fewer fsyncs
}

// dialect is SQLite's sqlstore.Dialect.
var dialect = sqlstore.Dialect{
	Name: "sqlite",
	IsUniqueViolation: func(err error) bool {
		return hasCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	IsForeignKeyViolation: func(err error) bool { return hasCode(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) },
}

// Open opens or creates the store in dataDir (created 0700 if missing) and
// applies any pending migrations.
func Open(ctx context.Context, dataDir string) (*sqlstore.DB, error) {
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	path := filepath.Join(dir, FileName)
	// Create the file owner-only: SQLite would create it world-readable, and
	// gives the -wal and -shm files the database file's mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	f.Close()

	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// SQLite has one writer at a time; a bounded pool keeps a burst of
	// requests queueing in Go instead of opening hundreds of connections
	// that contend for the file lock. WAL readers still run in parallel.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return sqlstore.New(db, dialect), nil
}

// maxConns bounds the connection pool.
const maxConns = 8

// dsn returns a file: URI for path with the connection parameters. The URI
// form escapes any ? or # in the path; SQLite ignores the driver's _ keys.
func dsn(path string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	// Take the write lock at BEGIN, so that a transaction never fails with
	// SQLITE_BUSY when upgrading from read to write.
	q.Set("_txlock", "immediate")
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path), OmitHost: true, RawQuery: q.Encode()}).String()
}

func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// hasCode reports whether err is a SQLite error with one of the extended
// result codes.
func hasCode(err error, codes ...int) bool {
	e, ok := errors.AsType[*sqlite.Error](err)
	if !ok {
		return false
	}
	for _, c := range codes {
		if e.Code() == c {
			return true
		}
	}
	return false
}
