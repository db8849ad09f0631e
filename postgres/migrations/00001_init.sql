-- Members, API tokens, console users and their sessions.
-- Times are unix microseconds in UTC (bigint, as in SQLite); NULL means
-- "never" or "not set". Sorted text columns use the "C" collation so that
-- they order bytewise, as SQLite does, whatever the database's locale.

-- +goose Up
CREATE TABLE members (
	id         text COLLATE "C" PRIMARY KEY,
	slug       text COLLATE "C" NOT NULL UNIQUE,
	name       text NOT NULL,
	sector     text NOT NULL,
	operator   boolean NOT NULL DEFAULT false,
	created_at bigint NOT NULL
);

CREATE TABLE tokens (
	id           text COLLATE "C" PRIMARY KEY,
	member_id    text COLLATE "C" NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	name         text NOT NULL,
	role         text NOT NULL,
	hash         bytea NOT NULL,
	created_at   bigint NOT NULL,
	expires_at   bigint,
	revoked_at   bigint,
	last_used_at bigint
);
CREATE INDEX tokens_member_created ON tokens (member_id, created_at);

CREATE TABLE users (
	id            text COLLATE "C" PRIMARY KEY,
	member_id     text COLLATE "C" NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	email         text NOT NULL,
	email_key     text COLLATE "C" NOT NULL UNIQUE, -- lowercased email: the login name
	name          text NOT NULL,
	role          text NOT NULL,
	password_hash text NOT NULL,
	created_at    bigint NOT NULL,
	UNIQUE (id, member_id) -- lets sessions check that the user is the member's
);
CREATE INDEX users_member_email ON users (member_id, email_key);

CREATE TABLE sessions (
	hash       bytea PRIMARY KEY,
	user_id    text COLLATE "C" NOT NULL,
	member_id  text COLLATE "C" NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	created_at bigint NOT NULL,
	expires_at bigint NOT NULL,
	FOREIGN KEY (user_id, member_id) REFERENCES users (id, member_id) ON DELETE CASCADE
);
CREATE INDEX sessions_user ON sessions (user_id, member_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE tokens;
DROP TABLE members;
