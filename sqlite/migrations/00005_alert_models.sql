-- The scores the models gave an alert's event: the promoted model's fraud
-- probability and version, the shadow model's, and the online anomaly
-- model's percentile. A zero version means no such model scored it.

-- +goose Up
ALTER TABLE alerts ADD COLUMN model_score REAL NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN model_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN shadow_score REAL NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN shadow_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN anomaly_score REAL NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE alerts DROP COLUMN anomaly_score;
ALTER TABLE alerts DROP COLUMN shadow_version;
ALTER TABLE alerts DROP COLUMN shadow_score;
ALTER TABLE alerts DROP COLUMN model_version;
ALTER TABLE alerts DROP COLUMN model_score;
