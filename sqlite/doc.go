// Package sqlite opens occsimore's embedded store: one SQLite file,
// occsimore.db, in the data directory, driven by the pure-Go modernc.org/sqlite
// and migrated on open. The services themselves live in package sqlstore.
package sqlite
