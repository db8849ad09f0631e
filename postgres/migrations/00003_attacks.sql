-- Attacks detected in members' logs, the remediations (decisions) bouncers
-- apply, and where each bouncer's last pull of the decision stream left off.
-- Times are unix microseconds in UTC (bigint, as in SQLite).

-- +goose Up
CREATE TABLE attacks (
	id         text COLLATE "C" PRIMARY KEY,
	member_id  text COLLATE "C" NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	scenario   text COLLATE "C" NOT NULL,
	scope      text COLLATE "C" NOT NULL CHECK (scope IN ('ip', 'range', 'user')),
	source     text COLLATE "C" NOT NULL,
	host       text NOT NULL,
	country    text NOT NULL,
	asn        bigint NOT NULL,
	start_at   bigint NOT NULL,
	end_at     bigint NOT NULL, -- the attack's time: lists and daily counts use it
	events     bigint NOT NULL,
	message    text NOT NULL,
	labels     text NOT NULL, -- JSON object, kept as text to read back byte for byte
	created_at bigint NOT NULL
);
-- Newest first, whole or by scenario or source; the first also serves the
-- daily counts, per member and (through members) per sector.
CREATE INDEX attacks_member_end ON attacks (member_id, end_at DESC, id DESC);
CREATE INDEX attacks_member_scenario ON attacks (member_id, scenario, end_at DESC, id DESC);
CREATE INDEX attacks_member_source ON attacks (member_id, source, end_at DESC, id DESC);

-- created_seq and deleted_seq number each member's creations and deletions
-- in commit order (see remediation_seqs); the bouncer stream reads changes
-- by them, so that no change is missed between two pulls. The identity
-- column alone could not: concurrent transactions commit out of its order.
CREATE TABLE remediations (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	member_id   text COLLATE "C" NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	action      text COLLATE "C" NOT NULL CHECK (action IN ('ban', 'captcha', 'alert')),
	scope       text COLLATE "C" NOT NULL CHECK (scope IN ('ip', 'range', 'user')),
	value       text COLLATE "C" NOT NULL,
	scenario    text COLLATE "C" NOT NULL,
	origin      text COLLATE "C" NOT NULL,
	attack_id   text COLLATE "C" NOT NULL, -- '': none
	until_at    bigint NOT NULL,
	created_at  bigint NOT NULL,
	deleted_at  bigint,
	created_seq bigint NOT NULL,
	deleted_seq bigint,
	UNIQUE (member_id, created_seq)
);
CREATE INDEX remediations_member_until ON remediations (member_id, until_at);
CREATE INDEX remediations_member_deleted ON remediations (member_id, deleted_seq) WHERE deleted_seq IS NOT NULL;
CREATE INDEX remediations_member_value ON remediations (member_id, scope, value);

-- The last sequence number given out per member. Taking the next one locks
-- the member's row until commit, so numbers commit in order.
CREATE TABLE remediation_seqs (
	member_id text COLLATE "C" PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
	seq       bigint NOT NULL
);

-- Each bouncer's last pull: the sequence number and the time it covered.
CREATE TABLE bouncer_pulls (
	member_id text COLLATE "C" NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	bouncer   text COLLATE "C" NOT NULL,
	seq       bigint NOT NULL,
	pulled_at bigint NOT NULL,
	PRIMARY KEY (member_id, bouncer)
);

-- +goose Down
DROP TABLE bouncer_pulls;
DROP TABLE remediation_seqs;
DROP TABLE remediations;
DROP TABLE attacks;
