-- Attacks detected in members' logs, the remediations (decisions) bouncers
-- apply, and where each bouncer's last pull of the decision stream left off.
-- Times are unix microseconds in UTC.

-- +goose Up
CREATE TABLE attacks (
	id         TEXT PRIMARY KEY,
	member_id  TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	scenario   TEXT NOT NULL,
	scope      TEXT NOT NULL CHECK (scope IN ('ip', 'range', 'user')),
	source     TEXT NOT NULL,
	host       TEXT NOT NULL,
	country    TEXT NOT NULL,
	asn        INTEGER NOT NULL,
	start_at   INTEGER NOT NULL,
	end_at     INTEGER NOT NULL, -- the attack's time: lists and daily counts use it
	events     INTEGER NOT NULL,
	message    TEXT NOT NULL,
	labels     TEXT NOT NULL, -- JSON object
	created_at INTEGER NOT NULL
) STRICT;
-- Newest first, whole or by scenario or source; the first also serves the
-- daily counts, per member and (through members) per sector.
CREATE INDEX attacks_member_end ON attacks (member_id, end_at DESC, id DESC);
CREATE INDEX attacks_member_scenario ON attacks (member_id, scenario, end_at DESC, id DESC);
CREATE INDEX attacks_member_source ON attacks (member_id, source, end_at DESC, id DESC);

-- created_seq and deleted_seq number each member's creations and deletions
-- in commit order (see remediation_seqs); the bouncer stream reads changes
-- by them, so that no change is missed between two pulls.
CREATE TABLE remediations (
	id          INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
	member_id   TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	action      TEXT NOT NULL CHECK (action IN ('ban', 'captcha', 'alert')),
	scope       TEXT NOT NULL CHECK (scope IN ('ip', 'range', 'user')),
	value       TEXT NOT NULL,
	scenario    TEXT NOT NULL,
	origin      TEXT NOT NULL,
	attack_id   TEXT NOT NULL, -- '': none
	until_at    INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	deleted_at  INTEGER,
	created_seq INTEGER NOT NULL,
	deleted_seq INTEGER,
	UNIQUE (member_id, created_seq)
) STRICT;
CREATE INDEX remediations_member_until ON remediations (member_id, until_at);
CREATE INDEX remediations_member_deleted ON remediations (member_id, deleted_seq) WHERE deleted_seq IS NOT NULL;
CREATE INDEX remediations_member_value ON remediations (member_id, scope, value);

-- The last sequence number given out per member. Taking the next one locks
-- the member's row until commit, so numbers commit in order.
CREATE TABLE remediation_seqs (
	member_id TEXT PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
	seq       INTEGER NOT NULL
) STRICT;

-- Each bouncer's last pull: the sequence number and the time it covered.
CREATE TABLE bouncer_pulls (
	member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	bouncer   TEXT NOT NULL,
	seq       INTEGER NOT NULL,
	pulled_at INTEGER NOT NULL,
	PRIMARY KEY (member_id, bouncer)
) STRICT;

-- +goose Down
DROP TABLE bouncer_pulls;
DROP TABLE remediation_seqs;
DROP TABLE remediations;
DROP TABLE attacks;
