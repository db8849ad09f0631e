// Package postgres opens occsimore's PostgreSQL store through pgx's
// database/sql driver and migrates it on open. The services themselves live
// in package sqlstore, shared with the SQLite store.
package postgres
