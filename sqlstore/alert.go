package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
)

var _ occsimore.AlertService = (*DB)(nil)

// Limits on a page of ListAlerts.
const (
	DefaultAlertLimit = 50
	MaxAlertLimit     = 500
)

// alertColumns are the columns scanAlert reads; qualifiedAlertColumns are
// the same for queries that join alerts a to another table.
const (
	alertColumns = `id, member_id, event_id, kind, time, score, decision, reasons, entities,
	amount, country, created_at, label, labeled_by, labeled_at,
	model_score, model_version, shadow_score, shadow_version, anomaly_score`
	qualifiedAlertColumns = `a.id, a.member_id, a.event_id, a.kind, a.time, a.score, a.decision, a.reasons, a.entities,
	a.amount, a.country, a.created_at, a.label, a.labeled_by, a.labeled_at,
	a.model_score, a.model_version, a.shadow_score, a.shadow_version, a.anomaly_score`
)

// validDecision reports whether d is one of the decisions an alert may carry.
func validDecision(d occsimore.Decision) bool {
	return d == occsimore.DecisionAllow || d == occsimore.DecisionReview || d == occsimore.DecisionBlock
}

// CreateAlerts stores alerts within memberID in one transaction: all or none.
// Alerts without an ID or CreatedAt get a new "alr_" ID and the store's
// clock. On success each alert's MemberID is set, its times are normalised to
// what the database keeps and nil Reasons and Entities become empty; on
// failure the alerts are left as they were. An invalid alert is EINVALID, a
// duplicate ID ECONFLICT and an unknown member ENOTFOUND.
func (db *DB) CreateAlerts(ctx context.Context, memberID string, alerts []*occsimore.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	// Everything is checked and encoded before the transaction starts, so
	// that an invalid batch costs no lock.
	done := make([]struct {
		id               string
		created, labeled time.Time
	}, len(alerts))
	alertArgs := make([]any, 0, len(alerts)*alertWidth)
	var entityArgs []any
	now := db.now()
	for i, a := range alerts {
		if err := validateAlert(i, a); err != nil {
			return err
		}
		id, created, labeled := a.ID, normTime(a.CreatedAt), normTime(a.LabeledAt)
		if id == "" {
			id = occsimore.NewID("alr")
		}
		if created.IsZero() {
			created = now
		}
		reasons, err := json.Marshal(nonNil(a.Reasons))
		if err != nil {
			return fmt.Errorf("create alerts: reasons: %w", err)
		}
		entities, err := json.Marshal(nonNilMap(a.Entities))
		if err != nil {
			return fmt.Errorf("create alerts: entities: %w", err)
		}
		alertArgs = append(alertArgs, id, memberID, a.EventID, a.Kind, micros(a.Time),
			a.Score, string(a.Decision), string(reasons), string(entities), a.Amount, a.Country,
			micros(created), string(a.Label), a.LabeledBy, nullMicros(labeled),
			a.ModelScore, a.ModelVersion, a.ShadowScore, a.ShadowVersion, a.AnomalyScore)
		for role, entity := range a.Entities {
			entityArgs = append(entityArgs, id, memberID, role, entity, micros(created))
		}
		done[i].id, done[i].created, done[i].labeled = id, created, labeled
	}

	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create alerts: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	err = db.insertRows(ctx, tx, `INSERT INTO alerts (id, member_id, event_id, kind, time, score, decision,
		reasons, entities, amount, country, created_at, label, labeled_by, labeled_at,
		model_score, model_version, shadow_score, shadow_version, anomaly_score) VALUES `,
		alertWidth, alertArgs)
	switch {
	case db.isUnique(err):
		return occsimore.Errorf(occsimore.ECONFLICT, "an alert ID of the batch already exists")
	case db.isForeignKey(err):
		return occsimore.Errorf(occsimore.ENOTFOUND, "member %q not found", memberID)
	case err != nil:
		return fmt.Errorf("create alerts: %w", err)
	}
	err = db.insertRows(ctx, tx, `INSERT INTO alert_entities (alert_id, member_id, role, entity_id, created_at) VALUES `,
		5, entityArgs)
	if err != nil {
		return fmt.Errorf("create alerts: entities: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create alerts: %w", err)
	}

	for i, a := range alerts {
		a.ID, a.MemberID, a.CreatedAt, a.LabeledAt = done[i].id, memberID, done[i].created, done[i].labeled
		a.Time = normTime(a.Time)
		a.Reasons, a.Entities = nonNil(a.Reasons), nonNilMap(a.Entities)
	}
	return nil
}

// alertWidth is the number of columns CreateAlerts inserts per alert.
const alertWidth = 20

// insertChunk is the most rows one INSERT carries: few round trips for a
// large batch, and far below either database's limit on parameters.
const insertChunk = 64

// insertRows inserts the rows whose values args holds, width values a row,
// with head ("INSERT INTO t (...) VALUES ") and multi-row statements of up to
// insertChunk rows. Each statement shape is prepared once: at most two, one
// for full chunks and one for the remainder.
func (db *DB) insertRows(ctx context.Context, tx *sql.Tx, head string, width int, args []any) error {
	stmts := make(map[int]*sql.Stmt, 2)
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	n := len(args) / width
	for start := 0; start < n; start += insertChunk {
		rows := min(insertChunk, n-start)
		st, ok := stmts[rows]
		if !ok {
			var err error
			if st, err = tx.PrepareContext(ctx, db.Rebind(head+valuesList(rows, width))); err != nil {
				return err
			}
			stmts[rows] = st
		}
		if _, err := st.ExecContext(ctx, args[start*width:(start+rows)*width]...); err != nil {
			return err
		}
	}
	return nil
}

// valuesList returns rows groups of width placeholders: "(?, ?), (?, ?)".
func valuesList(rows, width int) string {
	group := "(" + strings.Repeat("?, ", width-1) + "?)"
	return strings.Repeat(group+", ", rows-1) + group
}

// validateAlert checks what the store itself relies on: values the schema
// accepts and that read back as written.
func validateAlert(i int, a *occsimore.Alert) error {
	switch {
	case a == nil:
		return occsimore.Errorf(occsimore.EINVALID, "alert %d is nil", i)
	case !validDecision(a.Decision):
		return occsimore.FieldErrorf("decision", "alert %d: decision %q is not allow, review or block", i, a.Decision)
	case a.Label != occsimore.LabelNone && !a.Label.Valid():
		return occsimore.FieldErrorf("label", "alert %d: label %q is not fraud or legit", i, a.Label)
	case a.Label == occsimore.LabelNone && (a.LabeledBy != "" || !a.LabeledAt.IsZero()):
		return occsimore.FieldErrorf("label", "alert %d: labeled_by or labeled_at set without a label", i)
	case !finite(a.Score):
		return occsimore.FieldErrorf("score", "alert %d: score %v is not a finite number", i, a.Score)
	case !finite(a.Amount):
		return occsimore.FieldErrorf("amount", "alert %d: amount %v is not a finite number", i, a.Amount)
	case a.Time.IsZero():
		return occsimore.FieldErrorf("time", "alert %d: the event's time is required", i)
	case !finite(a.ModelScore) || !finite(a.ShadowScore) || !finite(a.AnomalyScore):
		return occsimore.FieldErrorf("model_score", "alert %d: a model score is not a finite number", i)
	case a.ModelVersion < 0 || a.ShadowVersion < 0 || a.ModelVersion > math.MaxInt32 || a.ShadowVersion > math.MaxInt32:
		return occsimore.FieldErrorf("model_version", "alert %d: model versions must be in [0, 2^31)", i)
	}
	for role, id := range a.Entities {
		if role == "" || id == "" {
			return occsimore.FieldErrorf("entities", "alert %d: entity role and ID must not be empty", i)
		}
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func nonNil(r []occsimore.Reason) []occsimore.Reason {
	if r == nil {
		return []occsimore.Reason{}
	}
	return r
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// FindAlert returns alert id of memberID.
func (db *DB) FindAlert(ctx context.Context, memberID, id string) (*occsimore.Alert, error) {
	a, err := scanAlert(db.queryRow(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = ? AND member_id = ?`,
		id, memberID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "alert %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find alert: %w", err)
	}
	return a, nil
}

// ListAlerts returns the alerts of memberID that match f, newest first
// (CreatedAt, then ID, descending). Since and Until bound CreatedAt, the
// order's own key: Since is inclusive, Until exclusive. Before continues
// after the alert with that ID, which must be one of memberID's.
func (db *DB) ListAlerts(ctx context.Context, memberID string, f occsimore.AlertFilter) ([]*occsimore.Alert, error) {
	limit, err := checkAlertFilter(f)
	if err != nil {
		return nil, err
	}

	var q strings.Builder
	var args []any
	where := func(cond string, a ...any) {
		q.WriteString(" AND " + cond)
		args = append(args, a...)
	}
	// With an entity, the entity index yields the rows in order, so order
	// and bound by its copy of the key.
	created, id := "a.created_at", "a.id"
	q.WriteString(`SELECT ` + qualifiedAlertColumns + ` FROM alerts a`)
	if f.EntityRole != "" {
		created, id = "e.created_at", "e.alert_id"
		q.WriteString(` JOIN alert_entities e ON e.alert_id = a.id AND e.member_id = a.member_id
			WHERE e.member_id = ? AND e.role = ? AND e.entity_id = ?`)
		args = append(args, memberID, f.EntityRole, f.EntityID)
		where("a.member_id = ?", memberID)
	} else {
		q.WriteString(` WHERE a.member_id = ?`)
		args = append(args, memberID)
	}

	if f.Before != "" {
		var at int64
		err := db.queryRow(ctx, `SELECT created_at FROM alerts WHERE id = ? AND member_id = ?`,
			f.Before, memberID).Scan(&at)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, occsimore.FieldErrorf("before", "cursor %q is not an alert", f.Before)
		}
		if err != nil {
			return nil, fmt.Errorf("list alerts: cursor: %w", err)
		}
		// The first bound alone is an index range; the second excludes the
		// cursor and the alerts tied with it that came before it.
		where(created+" <= ?", at)
		where("("+created+" < ? OR "+id+" < ?)", at, f.Before)
	}
	if f.Kind != "" {
		where("a.kind = ?", f.Kind)
	}
	if f.Decision != "" {
		where("a.decision = ?", string(f.Decision))
	}
	switch {
	case f.Unlabeled:
		where("a.label = ?", string(occsimore.LabelNone))
	case f.Label != occsimore.LabelNone:
		where("a.label = ?", string(f.Label))
	}
	if !f.Since.IsZero() {
		where(created+" >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		where(created+" < ?", micros(f.Until))
	}
	if f.MinScore != 0 {
		where("a.score >= ?", f.MinScore)
	}
	q.WriteString(" ORDER BY " + created + " DESC, " + id + " DESC LIMIT ?")
	args = append(args, limit)

	return queryAll(ctx, db, "list alerts", scanAlert, q.String(), args...)
}

// checkAlertFilter validates f and returns the page size it asks for.
func checkAlertFilter(f occsimore.AlertFilter) (int, error) {
	switch {
	case f.Limit < 0 || f.Limit > MaxAlertLimit:
		return 0, occsimore.FieldErrorf("limit", "limit %d is not between 1 and %d", f.Limit, MaxAlertLimit)
	case f.Decision != "" && !validDecision(f.Decision):
		return 0, occsimore.FieldErrorf("decision", "decision %q is not allow, review or block", f.Decision)
	case f.Label != occsimore.LabelNone && !f.Label.Valid():
		return 0, occsimore.FieldErrorf("label", "label %q is not fraud or legit", f.Label)
	case f.Label != occsimore.LabelNone && f.Unlabeled:
		return 0, occsimore.FieldErrorf("label", "label %q contradicts unlabeled", f.Label)
	case f.EntityRole == "" && f.EntityID != "":
		return 0, occsimore.FieldErrorf("entity_role", "an entity ID needs its role")
	case f.EntityRole != "" && f.EntityID == "":
		return 0, occsimore.FieldErrorf("entity_id", "an entity role needs an entity ID")
	case !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since):
		return 0, occsimore.FieldErrorf("until", "until %v is not after since %v", f.Until, f.Since)
	case !finite(f.MinScore):
		return 0, occsimore.FieldErrorf("min_score", "min_score %v is not a finite number", f.MinScore)
	}
	if f.Limit == 0 {
		return DefaultAlertLimit, nil
	}
	return f.Limit, nil
}

// LabelAlert sets the label of alert id of memberID, replacing any earlier
// one, and returns the updated alert. A zero at means now. The label must be
// fraud or legit (EINVALID); another member's alert is ENOTFOUND.
func (db *DB) LabelAlert(ctx context.Context, memberID, id string, label occsimore.Label, by string, at time.Time) (*occsimore.Alert, error) {
	if !label.Valid() {
		return nil, occsimore.FieldErrorf("label", "label %q is not fraud or legit", label)
	}
	if at.IsZero() {
		at = db.now()
	}
	a, err := scanAlert(db.queryRow(ctx, `UPDATE alerts SET label = ?, labeled_by = ?, labeled_at = ?
		WHERE id = ? AND member_id = ? RETURNING `+alertColumns,
		string(label), by, micros(at), id, memberID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "alert %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("label alert: %w", err)
	}
	return a, nil
}

func scanAlert(s scanner) (*occsimore.Alert, error) {
	var a occsimore.Alert
	var at, created int64
	var labeled sql.NullInt64
	var decision, label, reasons, entities string
	if err := s.Scan(&a.ID, &a.MemberID, &a.EventID, &a.Kind, &at, &a.Score, &decision, &reasons, &entities,
		&a.Amount, &a.Country, &created, &label, &a.LabeledBy, &labeled,
		&a.ModelScore, &a.ModelVersion, &a.ShadowScore, &a.ShadowVersion, &a.AnomalyScore); err != nil {
		return nil, err
	}
	a.Decision, a.Label = occsimore.Decision(decision), occsimore.Label(label)
	a.Time, a.CreatedAt, a.LabeledAt = fromMicros(at), fromMicros(created), fromNullMicros(labeled)
	if err := json.Unmarshal([]byte(reasons), &a.Reasons); err != nil {
		return nil, fmt.Errorf("alert %s reasons: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(entities), &a.Entities); err != nil {
		return nil, fmt.Errorf("alert %s entities: %w", a.ID, err)
	}
	a.Reasons, a.Entities = nonNil(a.Reasons), nonNilMap(a.Entities)
	return &a, nil
}
