-- Alerts: scored events above a member's review threshold, with their reasons
-- and an analyst's label. Times are unix microseconds in UTC.

-- +goose Up
CREATE TABLE alerts (
	id         TEXT PRIMARY KEY,
	member_id  TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	event_id   TEXT NOT NULL,
	kind       TEXT NOT NULL,
	time       INTEGER NOT NULL, -- the event's time
	score      REAL NOT NULL,
	decision   TEXT NOT NULL CHECK (decision IN ('allow', 'review', 'block')),
	reasons    TEXT NOT NULL, -- JSON array of reasons
	entities   TEXT NOT NULL, -- JSON object, role → entity ID
	amount     REAL NOT NULL,
	country    TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	label      TEXT NOT NULL CHECK (label IN ('', 'fraud', 'legit')), -- '': not labeled
	labeled_by TEXT NOT NULL,
	labeled_at INTEGER,
	UNIQUE (id, member_id) -- lets alert_entities check that the alert is the member's
) STRICT;
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
	alert_id   TEXT NOT NULL,
	member_id  TEXT NOT NULL,
	role       TEXT NOT NULL,
	entity_id  TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (alert_id, role),
	FOREIGN KEY (alert_id, member_id) REFERENCES alerts (id, member_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX alert_entities_lookup ON alert_entities (member_id, role, entity_id, created_at DESC, alert_id DESC);

-- +goose Down
DROP TABLE alert_entities;
DROP TABLE alerts;
