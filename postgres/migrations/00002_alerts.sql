-- Alerts: scored events above a member's review threshold, with their reasons
-- and an analyst's label. Times are unix microseconds in UTC (bigint, as in
-- SQLite). Reasons and entities are JSON kept as text, so that they read back
-- byte for byte as in SQLite.

-- +goose Up
CREATE TABLE alerts (
	id         text COLLATE "C" PRIMARY KEY,
	member_id  text COLLATE "C" NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	event_id   text NOT NULL,
	kind       text COLLATE "C" NOT NULL,
	time       bigint NOT NULL, -- the event's time
	score      double precision NOT NULL,
	decision   text COLLATE "C" NOT NULL CHECK (decision IN ('allow', 'review', 'block')),
	reasons    text NOT NULL, -- JSON array of reasons
	entities   text NOT NULL, -- JSON object, role → entity ID
	amount     double precision NOT NULL,
	country    text NOT NULL,
	created_at bigint NOT NULL,
	label      text COLLATE "C" NOT NULL CHECK (label IN ('', 'fraud', 'legit')), -- '': not labeled
	labeled_by text NOT NULL,
	labeled_at bigint,
	UNIQUE (id, member_id) -- lets alert_entities check that the alert is the member's
);
-- The list is newest first; each filter an analyst uses often has its own
-- index in list order, so that a page reads only the rows it returns.
CREATE INDEX alerts_member_created ON alerts (member_id, created_at DESC, id DESC);
CREATE INDEX alerts_member_label ON alerts (member_id, label, created_at DESC, id DESC);
CREATE INDEX alerts_member_decision ON alerts (member_id, decision, created_at DESC, id DESC);
CREATE INDEX alerts_member_kind ON alerts (member_id, kind, created_at DESC, id DESC);

-- The entities of each alert, one row per role, so that "alerts touching
-- entity X" is an index range. created_at is copied from the alert (it never
-- changes) so that the same index also yields them newest first.
CREATE TABLE alert_entities (
	alert_id   text COLLATE "C" NOT NULL,
	member_id  text COLLATE "C" NOT NULL,
	role       text COLLATE "C" NOT NULL,
	entity_id  text COLLATE "C" NOT NULL,
	created_at bigint NOT NULL,
	PRIMARY KEY (alert_id, role),
	FOREIGN KEY (alert_id, member_id) REFERENCES alerts (id, member_id) ON DELETE CASCADE
);
CREATE INDEX alert_entities_lookup ON alert_entities (member_id, role, entity_id, created_at DESC, alert_id DESC);

-- +goose Down
DROP TABLE alert_entities;
DROP TABLE alerts;
