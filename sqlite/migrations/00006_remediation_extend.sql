-- One decision of origin logs per scope and value while it is in force:
-- later attacks extend it (ExtendRemediations) instead of adding another.
-- attacks counts the attacks it stands for (0: not counted, manual or shared); updated_seq numbers its last
-- extension, so that the bouncer stream sends it again with its new end.

-- +goose Up
ALTER TABLE remediations ADD COLUMN attacks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE remediations ADD COLUMN updated_seq INTEGER;
CREATE INDEX remediations_member_updated ON remediations (member_id, updated_seq) WHERE updated_seq IS NOT NULL;

-- +goose Down
DROP INDEX remediations_member_updated;
ALTER TABLE remediations DROP COLUMN updated_seq;
ALTER TABLE remediations DROP COLUMN attacks;
