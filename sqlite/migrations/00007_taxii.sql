-- TAXII 2.1: collections (one per sharing group), each member's rights on
-- them, the object versions they hold, the statuses of POSTs and where each
-- member's pulls from remote collections stand. Times are unix microseconds.

-- +goose Up
CREATE TABLE taxii_collections (
	id          TEXT PRIMARY KEY,
	title       TEXT NOT NULL,
	description TEXT NOT NULL,
	alias       TEXT NOT NULL,
	created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE taxii_access (
	member_id     TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	collection_id TEXT NOT NULL REFERENCES taxii_collections (id) ON DELETE CASCADE,
	can_read      INTEGER NOT NULL,
	can_write     INTEGER NOT NULL,
	PRIMARY KEY (member_id, collection_id)
) STRICT;

-- seq is the insertion order: pages run by (date_added, seq), so that a
-- next cursor is a position in one index. The marks spare every query a
-- per-row subquery: is_first and is_last mark each object's oldest and
-- newest version, spec_first and spec_last the same among the versions of
-- the same spec_version, and top_spec the versions of the object's latest
-- spec_version (what TAXII answers when match[spec_version] is absent).
CREATE TABLE taxii_objects (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT,
	collection_id TEXT NOT NULL REFERENCES taxii_collections (id) ON DELETE CASCADE,
	object_id     TEXT NOT NULL,
	type          TEXT NOT NULL,
	spec_version  TEXT NOT NULL,
	version       INTEGER NOT NULL,
	date_added    INTEGER NOT NULL,
	added_by      TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	is_first      INTEGER NOT NULL,
	is_last       INTEGER NOT NULL,
	spec_first    INTEGER NOT NULL,
	spec_last     INTEGER NOT NULL,
	top_spec      INTEGER NOT NULL,
	raw           TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX taxii_objects_version ON taxii_objects (collection_id, object_id, version);
CREATE INDEX taxii_objects_page ON taxii_objects (collection_id, date_added, seq);
CREATE INDEX taxii_objects_added_by ON taxii_objects (added_by);

CREATE TABLE taxii_status (
	id            TEXT PRIMARY KEY,
	member_id     TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	collection_id TEXT NOT NULL REFERENCES taxii_collections (id) ON DELETE CASCADE,
	created_at    INTEGER NOT NULL,
	body          TEXT NOT NULL -- the status resource, JSON
) STRICT;
CREATE INDEX taxii_status_member ON taxii_status (member_id, created_at);

-- A pull resumes from next (a cursor of the query that started at
-- added_after) while the remote accepts it, else from last_added, the
-- newest date_added taken.
CREATE TABLE taxii_sync (
	member_id   TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	added_after INTEGER,
	next        TEXT NOT NULL,
	last_added  INTEGER,
	pulled      INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	PRIMARY KEY (member_id, name)
) STRICT;

-- +goose Down
DROP TABLE taxii_sync;
DROP TABLE taxii_status;
DROP TABLE taxii_objects;
DROP TABLE taxii_access;
DROP TABLE taxii_collections;
