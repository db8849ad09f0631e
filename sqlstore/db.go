package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/occsimore/occsimore"
)

// Dialect describes what differs between the databases behind a DB.
type Dialect struct {
	Name string // "sqlite" or "postgres"
	// Numbered placeholders ($1, $2, ...) replace the ? in every query.
	Numbered bool
	// IsUniqueViolation reports whether err is a unique or primary key violation.
	IsUniqueViolation func(err error) bool
	// IsForeignKeyViolation reports whether err is a foreign key violation.
	IsForeignKeyViolation func(err error) bool
}

// DB implements occsimore's member, token and user services on a *sql.DB.
type DB struct {
	db      *sql.DB
	dialect Dialect

	// Now is the clock for the times the store assigns itself, such as
	// CreatedAt. Set it before first use; tests use it to control time.
	Now occsimore.Now

	// stmts caches prepared statements by query text. Parsing dominated the
	// cost of the per-request token lookup before (pprof: SQLite's parser
	// took 22% of the server's CPU at 2,000 requests/s). Query texts come
	// from the code, so the cache is bounded by it; maxStmts guards anyway.
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
}

const maxStmts = 512

var (
	_ occsimore.MemberService = (*DB)(nil)
	_ occsimore.TokenService  = (*DB)(nil)
	_ occsimore.UserService   = (*DB)(nil)
)

// New returns a DB over an open, migrated database.
func New(db *sql.DB, d Dialect) *DB {
	return &DB{db: db, dialect: d, Now: time.Now}
}

// SQL returns the underlying pool, for stores built on the same database.
func (db *DB) SQL() *sql.DB { return db.db }

// Driver returns the dialect name: "sqlite" or "postgres".
func (db *DB) Driver() string { return db.dialect.Name }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.dialect.Name, err)
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() error {
	db.stmtMu.Lock()
	for q, st := range db.stmts {
		st.Close()
		delete(db.stmts, q)
	}
	db.stmtMu.Unlock()
	return db.db.Close()
}

// stmt returns the prepared statement for query, preparing it on first use.
// It returns nil when the statement cannot be prepared or the cache is full;
// callers then run the query unprepared, which reports any error.
func (db *DB) stmt(ctx context.Context, query string) *sql.Stmt {
	db.stmtMu.Lock()
	st, ok := db.stmts[query]
	full := len(db.stmts) >= maxStmts
	db.stmtMu.Unlock()
	if ok || full {
		return st
	}
	st, err := db.db.PrepareContext(ctx, db.Rebind(query))
	if err != nil {
		return nil
	}
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if prev, ok := db.stmts[query]; ok { // prepared concurrently
		st.Close()
		return prev
	}
	if db.stmts == nil {
		db.stmts = make(map[string]*sql.Stmt)
	}
	db.stmts[query] = st
	return st
}

// Rebind rewrites the ? placeholders of query for the dialect, for stores
// built on SQL(). query must contain no other ?, even in a string literal.
func (db *DB) Rebind(query string) string {
	if !db.dialect.Numbered {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := db.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.db.ExecContext(ctx, db.Rebind(query), args...)
}

func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := db.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.db.QueryContext(ctx, db.Rebind(query), args...)
}

func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := db.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.db.QueryRowContext(ctx, db.Rebind(query), args...)
}

// now returns the store's clock reading, normalised like every stored time.
func (db *DB) now() time.Time { return normTime(db.Now()) }

func (db *DB) isUnique(err error) bool {
	return db.dialect.IsUniqueViolation != nil && db.dialect.IsUniqueViolation(err)
}

func (db *DB) isForeignKey(err error) bool {
	return db.dialect.IsForeignKeyViolation != nil && db.dialect.IsForeignKeyViolation(err)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// normTime returns t as it will read back from the database: UTC, truncated
// to the microsecond. The zero time stays zero.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// micros encodes a required time.
func micros(t time.Time) int64 { return t.UnixMicro() }

// nullMicros encodes an optional time: the zero time is NULL.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// fromMicros decodes a required time.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// fromNullMicros decodes an optional time: NULL is the zero time.
func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// rowsAffected reports whether res changed at least one row.
func rowsAffected(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("rows affected: %w", err)
	}
	return n > 0, nil
}

// queryAll runs a query of a listing and scans every row with scan. The
// result is never nil, so that an empty listing encodes as [] in JSON; what
// names the listing in errors ("list alerts").
func queryAll[T any](ctx context.Context, db *DB, what string, scan func(scanner) (*T, error), query string, args ...any) ([]*T, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
