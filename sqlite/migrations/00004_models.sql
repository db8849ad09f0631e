-- Models: versioned classifiers per member and event kind, and the feature
-- vectors the engine computed live for alerted events, which become training
-- rows once an analyst labels the alert. Times are unix microseconds in UTC.

-- +goose Up
CREATE TABLE models (
	id            TEXT PRIMARY KEY,
	member_id     TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	kind          TEXT NOT NULL,
	version       INTEGER NOT NULL CHECK (version > 0),
	status        TEXT NOT NULL CHECK (status IN ('candidate', 'shadow', 'promoted', 'retired')),
	algorithm     TEXT NOT NULL,
	feature_names TEXT NOT NULL, -- JSON array
	metrics       TEXT NOT NULL, -- JSON object
	review        REAL NOT NULL,
	block         REAL NOT NULL,
	source        TEXT NOT NULL,
	data          BLOB NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	promoted_at   INTEGER,
	UNIQUE (member_id, kind, version)
) STRICT;
CREATE INDEX models_member_created ON models (member_id, created_at DESC, id DESC);
-- At most one promoted and one shadow model per member and kind.
CREATE UNIQUE INDEX models_one_promoted ON models (member_id, kind) WHERE status = 'promoted';
CREATE UNIQUE INDEX models_one_shadow ON models (member_id, kind) WHERE status = 'shadow';

CREATE TABLE alert_features (
	alert_id     TEXT PRIMARY KEY,
	member_id    TEXT NOT NULL,
	kind         TEXT NOT NULL,
	time         INTEGER NOT NULL, -- the event's time
	entity       TEXT NOT NULL,
	feature_set  TEXT NOT NULL,
	features     BLOB NOT NULL, -- float32 little-endian
	model_id     TEXT,
	model_score  REAL,
	shadow_id    TEXT,
	shadow_score REAL,
	FOREIGN KEY (alert_id, member_id) REFERENCES alerts (id, member_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX alert_features_member_kind_time ON alert_features (member_id, kind, time);

-- +goose Down
DROP TABLE alert_features;
DROP TABLE models;
