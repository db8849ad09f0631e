// Package sqlstore implements occsimore's relational services on
// database/sql, once for both SQLite and PostgreSQL.
//
// The two databases differ only in what a Dialect describes: placeholder
// style and how a constraint violation is reported. Packages sqlite and
// postgres open the database, apply their own migrations and hand the
// *sql.DB to New.
//
// Times are stored as BIGINT unix microseconds in UTC, which orders and
// compares the same way in both databases; they come back as UTC time.Time
// truncated to the microsecond. Absent optional times are NULL.
//
// Tenant isolation lives in the queries: every method that takes a member ID
// puts member_id in its WHERE clause, so another member's object is simply
// not found.
package sqlstore
