-- TAXII 2.1: collections (one per sharing group), each member's rights on
-- them, the object versions they hold, the statuses of POSTs and where each
-- member's pulls from remote collections stand. Times are unix microseconds.

-- +goose Up
CREATE TABLE taxii_collections (
	id          text COLLATE "C" PRIMARY KEY,
	title       text NOT NULL,
	description text NOT NULL,
	alias       text NOT NULL,
	created_at  bigint NOT NULL
);

CREATE TABLE taxii_access (
	member_id     text COLLATE "C" NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	collection_id text COLLATE "C" NOT NULL REFERENCES taxii_collections (id) ON DELETE CASCADE,
	can_read      boolean NOT NULL,
	can_write     boolean NOT NULL,
	PRIMARY KEY (member_id, collection_id)
);

-- seq is the insertion order: pages run by (date_added, seq), so that a
-- next cursor is a position in one index. The marks spare every query a
-- per-row subquery: is_first and is_last mark each object's oldest and
-- newest version, spec_first and spec_last the same among the versions of
-- the same spec_version, and top_spec the versions of the object's latest
-- spec_version (what TAXII answers when match[spec_version] is absent).
CREATE TABLE taxii_objects (
	seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	collection_id text COLLATE "C" NOT NULL REFERENCES taxii_collections (id) ON DELETE CASCADE,
	object_id     text COLLATE "C" NOT NULL,
	type          text COLLATE "C" NOT NULL,
	spec_version  text NOT NULL,
	version       bigint NOT NULL,
	date_added    bigint NOT NULL,
	added_by      text COLLATE "C" NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	is_first      boolean NOT NULL,
	is_last       boolean NOT NULL,
	spec_first    boolean NOT NULL,
	spec_last     boolean NOT NULL,
	top_spec      boolean NOT NULL,
	raw           text NOT NULL
);
CREATE UNIQUE INDEX taxii_objects_version ON taxii_objects (collection_id, object_id, version);
CREATE INDEX taxii_objects_page ON taxii_objects (collection_id, date_added, seq);
CREATE INDEX taxii_objects_added_by ON taxii_objects (added_by);

CREATE TABLE taxii_status (
	id            text COLLATE "C" PRIMARY KEY,
	member_id     text COLLATE "C" NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	collection_id text COLLATE "C" NOT NULL REFERENCES taxii_collections (id) ON DELETE CASCADE,
	created_at    bigint NOT NULL,
	body          text NOT NULL -- the status resource, JSON
);
CREATE INDEX taxii_status_member ON taxii_status (member_id, created_at);

-- A pull resumes from next (a cursor of the query that started at
-- added_after) while the remote accepts it, else from last_added, the
-- newest date_added taken.
CREATE TABLE taxii_sync (
	member_id   text COLLATE "C" NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	name        text NOT NULL,
	added_after bigint,
	next        text NOT NULL,
	last_added  bigint,
	pulled      bigint NOT NULL,
	updated_at  bigint NOT NULL,
	PRIMARY KEY (member_id, name)
);

-- +goose Down
DROP TABLE taxii_sync;
DROP TABLE taxii_status;
DROP TABLE taxii_objects;
DROP TABLE taxii_access;
DROP TABLE taxii_collections;
