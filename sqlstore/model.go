package sqlstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
)

var _ occsimore.ModelService = (*DB)(nil)

// Limits on what CreateModel stores.
const (
	MaxModelBytes    = 64 << 20
	MaxModelFeatures = 4096
)

const modelColumns = `id, member_id, kind, version, status, algorithm, feature_names, metrics,
	review, block, source, created_at, updated_at, promoted_at`

// validateModel checks what the store and the pipeline rely on.
func validateModel(m *occsimore.ModelVersion) error {
	switch {
	case m == nil:
		return occsimore.Errorf(occsimore.EINVALID, "model is nil")
	case !occsimore.ValidName(m.Kind):
		return occsimore.FieldErrorf("kind", "kind %q is not a valid event kind", m.Kind)
	case m.Status != "" && m.Status != occsimore.ModelCandidate:
		return occsimore.FieldErrorf("status", "a new model is a candidate, not %q", m.Status)
	case m.Algorithm == "":
		return occsimore.FieldErrorf("algorithm", "algorithm is required")
	case len(m.FeatureNames) == 0 || len(m.FeatureNames) > MaxModelFeatures:
		return occsimore.FieldErrorf("feature_names", "a model needs 1 to %d feature names, not %d", MaxModelFeatures, len(m.FeatureNames))
	case len(m.Data) == 0 || len(m.Data) > MaxModelBytes:
		return occsimore.FieldErrorf("data", "model data must be 1 to %d bytes, not %d", MaxModelBytes, len(m.Data))
	case !(m.Review > 0 && m.Review <= m.Block && m.Block <= 1):
		return occsimore.FieldErrorf("review", "model thresholds need 0 < review (%g) <= block (%g) <= 1", m.Review, m.Block)
	}
	for _, f := range []float64{m.Metrics.AUC, m.Metrics.AP, m.Metrics.CPK} {
		if math.IsInf(f, 0) {
			return occsimore.FieldErrorf("metrics", "metrics must not be infinite")
		}
	}
	return nil
}

// metricsJSON encodes metrics with NaN (an undefined metric: a holdout
// with one class) as null, which JSON has and NaN has not.
func metricsJSON(m occsimore.ModelMetrics) (string, error) {
	type wire struct {
		AUC           *float64 `json:"auc_roc"`
		AP            *float64 `json:"average_precision"`
		CPK           *float64 `json:"card_precision_at_k"`
		K             int      `json:"k"`
		TrainRows     int      `json:"train_rows"`
		TrainFrauds   int      `json:"train_frauds"`
		HoldoutRows   int      `json:"holdout_rows"`
		HoldoutFrauds int      `json:"holdout_frauds"`
		Trees         int      `json:"trees"`
	}
	num := func(f float64) *float64 {
		if math.IsNaN(f) {
			return nil
		}
		return &f
	}
	b, err := json.Marshal(wire{num(m.AUC), num(m.AP), num(m.CPK), m.K, m.TrainRows, m.TrainFrauds,
		m.HoldoutRows, m.HoldoutFrauds, m.Trees})
	return string(b), err
}

func parseMetrics(s string) (occsimore.ModelMetrics, error) {
	var m occsimore.ModelMetrics
	var nums struct {
		AUC *float64 `json:"auc_roc"`
		AP  *float64 `json:"average_precision"`
		CPK *float64 `json:"card_precision_at_k"`
	}
	// The numbers decode twice: into m for the counts, and as pointers,
	// where null (NaN) is told from 0.
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return m, err
	}
	if err := json.Unmarshal([]byte(s), &nums); err != nil {
		return m, err
	}
	val := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	m.AUC, m.AP, m.CPK = val(nums.AUC), val(nums.AP), val(nums.CPK)
	return m, nil
}

// CreateModel stores m as version max+1 of its kind for memberID, status
// candidate. On success m's ID (a new "mdl_" one if empty), MemberID,
// Version, Status and times are set. An invalid model is EINVALID, an
// unknown member ENOTFOUND.
func (db *DB) CreateModel(ctx context.Context, memberID string, m *occsimore.ModelVersion) error {
	if err := validateModel(m); err != nil {
		return err
	}
	names, err := json.Marshal(m.FeatureNames)
	if err != nil {
		return fmt.Errorf("create model: %w", err)
	}
	metrics, err := metricsJSON(m.Metrics)
	if err != nil {
		return fmt.Errorf("create model: metrics: %w", err)
	}
	id := m.ID
	if id == "" {
		id = occsimore.NewID("mdl")
	}
	now := db.now()
	// Two trainings of one kind at once may pick the same version: the
	// unique key refuses the second, which then takes the next number.
	for attempt := 0; ; attempt++ {
		version, err := db.insertModel(ctx, id, memberID, m, string(names), metrics, now)
		switch {
		case err == nil:
			m.ID, m.MemberID, m.Version, m.Status = id, memberID, version, occsimore.ModelCandidate
			m.CreatedAt, m.UpdatedAt, m.PromotedAt = now, now, time.Time{}
			return nil
		case db.isForeignKey(err):
			return occsimore.Errorf(occsimore.ENOTFOUND, "member %q not found", memberID)
		case db.isUnique(err) && attempt < 5:
			if _, ferr := db.FindModel(ctx, memberID, id); ferr == nil {
				return occsimore.Errorf(occsimore.ECONFLICT, "model %q already exists", id)
			}
			continue
		case db.isUnique(err):
			return occsimore.Errorf(occsimore.ECONFLICT, "model %q or its version already exists", id)
		default:
			return fmt.Errorf("create model: %w", err)
		}
	}
}

func (db *DB) insertModel(ctx context.Context, id, memberID string, m *occsimore.ModelVersion, names, metrics string, now time.Time) (int, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() // a no-op after Commit
	var version int
	err = tx.QueryRowContext(ctx, db.Rebind(`SELECT COALESCE(MAX(version), 0) + 1 FROM models WHERE member_id = ? AND kind = ?`),
		memberID, m.Kind).Scan(&version)
	if err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, db.Rebind(`INSERT INTO models (id, member_id, kind, version, status, algorithm,
		feature_names, metrics, review, block, source, data, created_at, updated_at, promoted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`),
		id, memberID, m.Kind, version, string(occsimore.ModelCandidate), m.Algorithm, names, metrics,
		m.Review, m.Block, m.Source, m.Data, micros(now), micros(now))
	if err != nil {
		return 0, err
	}
	return version, tx.Commit()
}

func scanModel(row scanner, withData bool) (*occsimore.ModelVersion, error) {
	var (
		m                occsimore.ModelVersion
		status           string
		names, metrics   string
		created, updated int64
		promoted         sql.NullInt64
		dest             []any
	)
	dest = append(dest, &m.ID, &m.MemberID, &m.Kind, &m.Version, &status, &m.Algorithm, &names, &metrics,
		&m.Review, &m.Block, &m.Source, &created, &updated, &promoted)
	if withData {
		dest = append(dest, &m.Data)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	m.Status = occsimore.ModelStatus(status)
	if err := json.Unmarshal([]byte(names), &m.FeatureNames); err != nil {
		return nil, fmt.Errorf("model %s: feature names: %w", m.ID, err)
	}
	var err error
	if m.Metrics, err = parseMetrics(metrics); err != nil {
		return nil, fmt.Errorf("model %s: metrics: %w", m.ID, err)
	}
	m.CreatedAt, m.UpdatedAt, m.PromotedAt = fromMicros(created), fromMicros(updated), fromNullMicros(promoted)
	return &m, nil
}

// FindModel returns model id of memberID with its Data.
func (db *DB) FindModel(ctx context.Context, memberID, id string) (*occsimore.ModelVersion, error) {
	m, err := scanModel(db.queryRow(ctx, `SELECT `+modelColumns+`, data FROM models WHERE id = ? AND member_id = ?`,
		id, memberID), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "model %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find model: %w", err)
	}
	return m, nil
}

// FindModelVersion returns version of kind of memberID with its Data.
func (db *DB) FindModelVersion(ctx context.Context, memberID, kind string, version int) (*occsimore.ModelVersion, error) {
	m, err := scanModel(db.queryRow(ctx, `SELECT `+modelColumns+`, data FROM models
		WHERE member_id = ? AND kind = ? AND version = ?`, memberID, kind, version), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &occsimore.Error{Code: occsimore.ENOTFOUND, Field: "version",
			Message: fmt.Sprintf("model version %d of kind %q not found", version, kind)}
	}
	if err != nil {
		return nil, fmt.Errorf("find model version: %w", err)
	}
	return m, nil
}

// ListModels returns memberID's models matching f, without Data, newest
// first.
func (db *DB) ListModels(ctx context.Context, memberID string, f occsimore.ModelFilter) ([]*occsimore.ModelVersion, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, occsimore.FieldErrorf("status", "status %q is not candidate, shadow, promoted or retired", f.Status)
	}
	var q strings.Builder
	q.WriteString(`SELECT ` + modelColumns + ` FROM models WHERE member_id = ?`)
	args := []any{memberID}
	if f.Kind != "" {
		q.WriteString(` AND kind = ?`)
		args = append(args, f.Kind)
	}
	if f.Status != "" {
		q.WriteString(` AND status = ?`)
		args = append(args, string(f.Status))
	}
	q.WriteString(` ORDER BY created_at DESC, id DESC`)
	return db.listModels(ctx, "list models", q.String(), args...)
}

func (db *DB) listModels(ctx context.Context, what, query string, args ...any) ([]*occsimore.ModelVersion, error) {
	return queryAll(ctx, db, what, func(s scanner) (*occsimore.ModelVersion, error) { return scanModel(s, false) }, query, args...)
}

// SetModelStatus moves model id of memberID to status in one transaction.
// Promoting retires the model promoted before it and sets PromotedAt;
// shadowing returns the previous shadow to candidate. Setting the status a
// model already has changes nothing.
func (db *DB) SetModelStatus(ctx context.Context, memberID, id string, status occsimore.ModelStatus, at time.Time) (*occsimore.ModelVersion, error) {
	if !status.Valid() {
		return nil, occsimore.FieldErrorf("status", "status %q is not candidate, shadow, promoted or retired", status)
	}
	at = normTime(at)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("set model status: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	var kind, cur string
	err = tx.QueryRowContext(ctx, db.Rebind(`SELECT kind, status FROM models WHERE id = ? AND member_id = ?`),
		id, memberID).Scan(&kind, &cur)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "model %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("set model status: %w", err)
	}
	if cur != string(status) {
		// Make room first: the partial unique indexes allow one promoted and
		// one shadow per kind at every statement.
		switch status {
		case occsimore.ModelPromoted:
			_, err = tx.ExecContext(ctx, db.Rebind(`UPDATE models SET status = ?, updated_at = ?
				WHERE member_id = ? AND kind = ? AND status = ?`),
				string(occsimore.ModelRetired), micros(at), memberID, kind, string(occsimore.ModelPromoted))
		case occsimore.ModelShadow:
			_, err = tx.ExecContext(ctx, db.Rebind(`UPDATE models SET status = ?, updated_at = ?
				WHERE member_id = ? AND kind = ? AND status = ?`),
				string(occsimore.ModelCandidate), micros(at), memberID, kind, string(occsimore.ModelShadow))
		}
		if err != nil {
			return nil, fmt.Errorf("set model status: %w", err)
		}
		q := `UPDATE models SET status = ?, updated_at = ? WHERE id = ? AND member_id = ?`
		args := []any{string(status), micros(at), id, memberID}
		if status == occsimore.ModelPromoted {
			q = `UPDATE models SET status = ?, updated_at = ?, promoted_at = ? WHERE id = ? AND member_id = ?`
			args = []any{string(status), micros(at), micros(at), id, memberID}
		}
		if _, err := tx.ExecContext(ctx, db.Rebind(q), args...); err != nil {
			return nil, fmt.Errorf("set model status: %w", err)
		}
	}
	m, err := scanModel(tx.QueryRowContext(ctx, db.Rebind(`SELECT `+modelColumns+` FROM models WHERE id = ? AND member_id = ?`),
		id, memberID), false)
	if err != nil {
		return nil, fmt.Errorf("set model status: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("set model status: %w", err)
	}
	return m, nil
}

// ActiveModels returns every member's shadow and promoted models, without
// Data. It is the one unscoped model query: the pipeline serves every
// member.
func (db *DB) ActiveModels(ctx context.Context) ([]*occsimore.ModelVersion, error) {
	return db.listModels(ctx, "active models", `SELECT `+modelColumns+` FROM models
		WHERE status IN (?, ?) ORDER BY member_id, kind, status`, string(occsimore.ModelPromoted), string(occsimore.ModelShadow))
}

// alertFeaturesWidth is the number of columns SaveAlertFeatures inserts per
// row.
const alertFeaturesWidth = 11

// SaveAlertFeatures stores the feature vectors of alerts of memberID, all
// or none. An alert that is not memberID's is ENOTFOUND; one that already
// has its features ECONFLICT.
func (db *DB) SaveAlertFeatures(ctx context.Context, memberID string, fs []*occsimore.AlertFeatures) error {
	if len(fs) == 0 {
		return nil
	}
	args := make([]any, 0, len(fs)*alertFeaturesWidth)
	for i, f := range fs {
		switch {
		case f == nil || f.AlertID == "":
			return occsimore.FieldErrorf("alert_id", "feature row %d has no alert", i)
		case f.Time.IsZero():
			return occsimore.FieldErrorf("time", "feature row %d: the event's time is required", i)
		case len(f.Features) == 0 || len(f.Features) > MaxModelFeatures:
			return occsimore.FieldErrorf("features", "feature row %d: 1 to %d features, not %d", i, MaxModelFeatures, len(f.Features))
		case !finite(f.ModelScore) || !finite(f.ShadowScore):
			return occsimore.FieldErrorf("model_score", "feature row %d: scores must be finite", i)
		}
		args = append(args, f.AlertID, memberID, f.Kind, micros(f.Time), f.Entity, f.FeatureSet,
			encodeFloats(f.Features), nullString(f.ModelID), nullScore(f.ModelID, f.ModelScore),
			nullString(f.ShadowID), nullScore(f.ShadowID, f.ShadowScore))
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save alert features: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	err = db.insertRows(ctx, tx, `INSERT INTO alert_features (alert_id, member_id, kind, time, entity, feature_set,
		features, model_id, model_score, shadow_id, shadow_score) VALUES `, alertFeaturesWidth, args)
	switch {
	case db.isUnique(err):
		return occsimore.Errorf(occsimore.ECONFLICT, "an alert of the batch already has its features")
	case db.isForeignKey(err):
		return occsimore.Errorf(occsimore.ENOTFOUND, "an alert of the batch is not found")
	case err != nil:
		return fmt.Errorf("save alert features: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save alert features: %w", err)
	}
	return nil
}

// ListTrainingRows returns the feature vectors of memberID's labelled
// alerts of kind with event time in [since, until), oldest first (then by
// alert ID), each with its alert's label.
func (db *DB) ListTrainingRows(ctx context.Context, memberID, kind string, since, until time.Time) ([]*occsimore.AlertFeatures, error) {
	var q strings.Builder
	q.WriteString(`SELECT f.alert_id, f.kind, f.time, f.entity, f.feature_set, f.features, f.model_id, f.model_score,
		f.shadow_id, f.shadow_score, a.label
		FROM alert_features f JOIN alerts a ON a.id = f.alert_id AND a.member_id = f.member_id
		WHERE f.member_id = ? AND f.kind = ? AND a.label <> ?`)
	args := []any{memberID, kind, string(occsimore.LabelNone)}
	if !since.IsZero() {
		q.WriteString(` AND f.time >= ?`)
		args = append(args, micros(since))
	}
	if !until.IsZero() {
		q.WriteString(` AND f.time < ?`)
		args = append(args, micros(until))
	}
	q.WriteString(` ORDER BY f.time, f.alert_id`)
	rows, err := db.query(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list training rows: %w", err)
	}
	defer rows.Close()
	out := []*occsimore.AlertFeatures{}
	for rows.Next() {
		var (
			f                 occsimore.AlertFeatures
			at                int64
			blob              []byte
			modelID, shadowID sql.NullString
			modelSc, shadowSc sql.NullFloat64
			label             string
		)
		if err := rows.Scan(&f.AlertID, &f.Kind, &at, &f.Entity, &f.FeatureSet, &blob, &modelID, &modelSc,
			&shadowID, &shadowSc, &label); err != nil {
			return nil, fmt.Errorf("list training rows: %w", err)
		}
		if f.Features, err = decodeFloats(blob); err != nil {
			return nil, fmt.Errorf("list training rows: alert %s: %w", f.AlertID, err)
		}
		f.Time, f.Label = fromMicros(at), occsimore.Label(label)
		f.ModelID, f.ModelScore = modelID.String, shadowlessScore(modelSc)
		f.ShadowID, f.ShadowScore = shadowID.String, shadowlessScore(shadowSc)
		out = append(out, &f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list training rows: %w", err)
	}
	return out, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// nullScore stores a score only alongside the model that gave it.
func nullScore(id string, v float64) sql.NullFloat64 {
	return sql.NullFloat64{Float64: v, Valid: id != ""}
}

func shadowlessScore(v sql.NullFloat64) float64 {
	if !v.Valid {
		return 0
	}
	return v.Float64
}

// encodeFloats writes fs as little-endian float32s; NaN, a missing
// feature, survives the round trip.
func encodeFloats(fs []float32) []byte {
	b := make([]byte, 0, 4*len(fs))
	for _, f := range fs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return b
}

func decodeFloats(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("features of %d bytes are not float32s", len(b))
	}
	fs := make([]float32, len(b)/4)
	for i := range fs {
		fs[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return fs, nil
}
