-- Models: versioned classifiers per member and event kind, and the feature
-- vectors the engine computed live for alerted events, which become training
-- rows once an analyst labels the alert. Times are unix microseconds in UTC
-- (bigint, as in SQLite).

-- +goose Up
CREATE TABLE models (
	id            text COLLATE "C" PRIMARY KEY,
	member_id     text COLLATE "C" NOT NULL REFERENCES members (id) ON DELETE CASCADE,
	kind          text COLLATE "C" NOT NULL,
	version       bigint NOT NULL CHECK (version > 0),
	status        text COLLATE "C" NOT NULL CHECK (status IN ('candidate', 'shadow', 'promoted', 'retired')),
	algorithm     text NOT NULL,
	feature_names text NOT NULL, -- JSON array
	metrics       text NOT NULL, -- JSON object
	review        double precision NOT NULL,
	block         double precision NOT NULL,
	source        text NOT NULL,
	data          bytea NOT NULL,
	created_at    bigint NOT NULL,
	updated_at    bigint NOT NULL,
	promoted_at   bigint,
	UNIQUE (member_id, kind, version)
);
CREATE INDEX models_member_created ON models (member_id, created_at DESC, id DESC);
-- At most one promoted and one shadow model per member and kind.
CREATE UNIQUE INDEX models_one_promoted ON models (member_id, kind) WHERE status = 'promoted';
CREATE UNIQUE INDEX models_one_shadow ON models (member_id, kind) WHERE status = 'shadow';

CREATE TABLE alert_features (
	alert_id     text COLLATE "C" PRIMARY KEY,
	member_id    text COLLATE "C" NOT NULL,
	kind         text COLLATE "C" NOT NULL,
	time         bigint NOT NULL, -- the event's time
	entity       text NOT NULL,
	feature_set  text NOT NULL,
	features     bytea NOT NULL, -- float32 little-endian
	model_id     text,
	model_score  double precision,
	shadow_id    text,
	shadow_score double precision,
	FOREIGN KEY (alert_id, member_id) REFERENCES alerts (id, member_id) ON DELETE CASCADE
);
CREATE INDEX alert_features_member_kind_time ON alert_features (member_id, kind, time);

-- +goose Down
DROP TABLE alert_features;
DROP TABLE models;
