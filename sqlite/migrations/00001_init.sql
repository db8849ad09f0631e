-- Members, API tokens, console users and their sessions.
-- Times are unix microseconds in UTC; NULL means "never" or "not set".
-- STRICT tables reject values of the wrong type, as PostgreSQL does.

-- +goose Up
CREATE TABLE members (
	id         TEXT PRIMARY KEY,
	slug       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	sector     TEXT NOT NULL,
	operator   INTEGER NOT NULL DEFAULT 0 CHECK (operator IN (0, 1)),
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE tokens (
	id           TEXT PRIMARY KEY,
	member_id    TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	role         TEXT NOT NULL,
	hash         BLOB NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER,
	revoked_at   INTEGER,
	last_used_at INTEGER
) STRICT;
CREATE INDEX tokens_member_created ON tokens (member_id, created_at);

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	member_id     TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	email         TEXT NOT NULL,
	email_key     TEXT NOT NULL UNIQUE, -- lowercased email: the login name
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL,
	UNIQUE (id, member_id) -- lets sessions check that the user is the member's
) STRICT;
CREATE INDEX users_member_email ON users (member_id, email_key);

CREATE TABLE sessions (
	hash       BLOB PRIMARY KEY,
	user_id    TEXT NOT NULL,
	member_id  TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	FOREIGN KEY (user_id, member_id) REFERENCES users (id, member_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id, member_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE tokens;
DROP TABLE members;
