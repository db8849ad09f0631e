-- The scores the models gave an alert's event: the promoted model's fraud
-- probability and version, the shadow model's, and the online anomaly
-- model's percentile. A zero version means no such model scored it.

-- +goose Up
ALTER TABLE alerts
	ADD COLUMN model_score double precision NOT NULL DEFAULT 0,
	ADD COLUMN model_version integer NOT NULL DEFAULT 0,
	ADD COLUMN shadow_score double precision NOT NULL DEFAULT 0,
	ADD COLUMN shadow_version integer NOT NULL DEFAULT 0,
	ADD COLUMN anomaly_score double precision NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE alerts
	DROP COLUMN anomaly_score,
	DROP COLUMN shadow_version,
	DROP COLUMN shadow_score,
	DROP COLUMN model_version,
	DROP COLUMN model_score;
