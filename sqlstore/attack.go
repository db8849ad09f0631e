package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/remediation"
)

var _ occsimore.AttackService = (*DB)(nil)

// Limits on attack queries.
const (
	DefaultAttackLimit = 50
	MaxAttackLimit     = 500
	// MaxDays bounds the days of one daily count, ten years.
	MaxDays = 3660
	// MaxBouncerLen bounds a bouncer's name.
	MaxBouncerLen = 128
)

const attackColumns = `id, member_id, scenario, scope, source, host, country, asn, start_at, end_at,
	events, message, labels, created_at`

const remediationColumns = `id, member_id, action, scope, value, scenario, origin, attack_id, until_at,
	created_at, deleted_at, deleted_seq, attacks`

const day = 24 * time.Hour

// CreateAttacks stores attacks within memberID in one transaction: all or
// none. Attacks without an ID or CreatedAt get a new "atk_" ID and the
// store's clock. On success each attack's MemberID is set, its times are
// normalised and nil Labels become empty. An invalid attack is EINVALID, a
// duplicate ID ECONFLICT and an unknown member ENOTFOUND.
func (db *DB) CreateAttacks(ctx context.Context, memberID string, attacks []*occsimore.Attack) error {
	if len(attacks) == 0 {
		return nil
	}
	type assigned struct {
		id      string
		created time.Time
	}
	done := make([]assigned, len(attacks))
	args := make([]any, 0, len(attacks)*attackWidth)
	now := db.now()
	for i, a := range attacks {
		if err := validateAttack(i, a); err != nil {
			return err
		}
		id, created := a.ID, normTime(a.CreatedAt)
		if id == "" {
			id = occsimore.NewID("atk")
		}
		if created.IsZero() {
			created = now
		}
		labels, err := json.Marshal(nonNilMap(a.Labels))
		if err != nil {
			return fmt.Errorf("create attacks: labels: %w", err)
		}
		args = append(args, id, memberID, a.Scenario, string(a.Scope), a.Source, a.Host, a.Country, int64(a.ASN),
			micros(a.Start), micros(a.End), int64(a.Events), a.Message, string(labels), micros(created))
		done[i] = assigned{id, created}
	}

	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create attacks: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	err = db.insertRows(ctx, tx, `INSERT INTO attacks (`+attackColumns+`) VALUES `, attackWidth, args)
	switch {
	case db.isUnique(err):
		return occsimore.Errorf(occsimore.ECONFLICT, "an attack ID of the batch already exists")
	case db.isForeignKey(err):
		return occsimore.Errorf(occsimore.ENOTFOUND, "member %q not found", memberID)
	case err != nil:
		return fmt.Errorf("create attacks: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create attacks: %w", err)
	}
	for i, a := range attacks {
		a.ID, a.MemberID, a.CreatedAt = done[i].id, memberID, done[i].created
		a.Start, a.End = normTime(a.Start), normTime(a.End)
		a.Labels = nonNilMap(a.Labels)
	}
	return nil
}

// attackWidth is the number of columns CreateAttacks inserts per attack.
const attackWidth = 14

func validateAttack(i int, a *occsimore.Attack) error {
	switch {
	case a == nil:
		return occsimore.Errorf(occsimore.EINVALID, "attack %d is nil", i)
	case a.Scenario == "":
		return occsimore.FieldErrorf("scenario", "attack %d: scenario is required", i)
	case !a.Scope.Valid():
		return occsimore.FieldErrorf("scope", "attack %d: scope %q is not ip, range or user", i, a.Scope)
	case a.Source == "":
		return occsimore.FieldErrorf("source", "attack %d: source is required", i)
	case a.Start.IsZero() || a.End.IsZero():
		return occsimore.FieldErrorf("start", "attack %d: start and end are required", i)
	case a.End.Before(a.Start):
		return occsimore.FieldErrorf("end", "attack %d: end %v is before start %v", i, a.End, a.Start)
	case a.Events < 0:
		return occsimore.FieldErrorf("events", "attack %d: events %d is negative", i, a.Events)
	}
	for k := range a.Labels {
		if k == "" {
			return occsimore.FieldErrorf("labels", "attack %d: a label name is empty", i)
		}
	}
	return nil
}

// ListAttacks returns the attacks of memberID that match f, newest first
// (End, then ID, descending). Since (inclusive) and Until (exclusive) bound
// End. Before continues after the attack with that ID, which must be one of
// memberID's.
func (db *DB) ListAttacks(ctx context.Context, memberID string, f occsimore.AttackFilter) ([]*occsimore.Attack, error) {
	switch {
	case f.Limit < 0 || f.Limit > MaxAttackLimit:
		return nil, occsimore.FieldErrorf("limit", "limit %d is not between 1 and %d", f.Limit, MaxAttackLimit)
	case !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since):
		return nil, occsimore.FieldErrorf("until", "until %v is not after since %v", f.Until, f.Since)
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultAttackLimit
	}
	var q strings.Builder
	args := []any{memberID}
	where := func(cond string, a ...any) {
		q.WriteString(" AND " + cond)
		args = append(args, a...)
	}
	q.WriteString(`SELECT ` + attackColumns + ` FROM attacks WHERE member_id = ?`)
	if f.Before != "" {
		var at int64
		err := db.queryRow(ctx, `SELECT end_at FROM attacks WHERE id = ? AND member_id = ?`, f.Before, memberID).Scan(&at)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, occsimore.FieldErrorf("before", "cursor %q is not an attack", f.Before)
		}
		if err != nil {
			return nil, fmt.Errorf("list attacks: cursor: %w", err)
		}
		// The first bound alone is an index range; the second excludes the
		// cursor and the attacks tied with it that came before it.
		where("end_at <= ?", at)
		where("(end_at < ? OR id < ?)", at, f.Before)
	}
	if f.Scenario != "" {
		where("scenario = ?", f.Scenario)
	}
	if f.Source != "" {
		where("source = ?", f.Source)
	}
	if !f.Since.IsZero() {
		where("end_at >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		where("end_at < ?", micros(f.Until))
	}
	q.WriteString(" ORDER BY end_at DESC, id DESC LIMIT ?")
	args = append(args, limit)

	return queryAll(ctx, db, "list attacks", scanAttack, q.String(), args...)
}

func scanAttack(s scanner) (*occsimore.Attack, error) {
	var a occsimore.Attack
	var scope, labels string
	var asn, events, start, end, created int64
	if err := s.Scan(&a.ID, &a.MemberID, &a.Scenario, &scope, &a.Source, &a.Host, &a.Country, &asn,
		&start, &end, &events, &a.Message, &labels, &created); err != nil {
		return nil, err
	}
	a.Scope, a.ASN, a.Events = occsimore.Scope(scope), uint32(asn), int(events)
	a.Start, a.End, a.CreatedAt = fromMicros(start), fromMicros(end), fromMicros(created)
	if err := json.Unmarshal([]byte(labels), &a.Labels); err != nil {
		return nil, fmt.Errorf("attack %s labels: %w", a.ID, err)
	}
	a.Labels = nonNilMap(a.Labels)
	return &a, nil
}

// AttacksPerDay counts the attacks of memberID whose End is in [since,
// until), per UTC day, with an entry for every day the interval touches.
func (db *DB) AttacksPerDay(ctx context.Context, memberID string, since, until time.Time) ([]occsimore.DayCount, error) {
	days, first, err := dayRange(since, until)
	if err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, `SELECT (end_at - ?) / ? AS d, count(*) FROM attacks
		WHERE member_id = ? AND end_at >= ? AND end_at < ? GROUP BY d`,
		micros(first), day.Microseconds(), memberID, micros(since), micros(until))
	if err != nil {
		return nil, fmt.Errorf("attacks per day: %w", err)
	}
	if err := fillDays(rows, days); err != nil {
		return nil, fmt.Errorf("attacks per day: %w", err)
	}
	return days, nil
}

// SectorAttacksPerDay is AttacksPerDay summed over every member of sector,
// and the number of members in it.
func (db *DB) SectorAttacksPerDay(ctx context.Context, sector string, since, until time.Time) ([]occsimore.DayCount, int, error) {
	if !occsimore.ValidSector(sector) {
		return nil, 0, occsimore.FieldErrorf("sector", "sector %q is not one of %v", sector, occsimore.Sectors)
	}
	days, first, err := dayRange(since, until)
	if err != nil {
		return nil, 0, err
	}
	var members int
	if err := db.queryRow(ctx, `SELECT count(*) FROM members WHERE sector = ?`, sector).Scan(&members); err != nil {
		return nil, 0, fmt.Errorf("sector attacks per day: %w", err)
	}
	rows, err := db.query(ctx, `SELECT (a.end_at - ?) / ? AS d, count(*) FROM attacks a
		JOIN members m ON m.id = a.member_id
		WHERE m.sector = ? AND a.end_at >= ? AND a.end_at < ? GROUP BY d`,
		micros(first), day.Microseconds(), sector, micros(since), micros(until))
	if err != nil {
		return nil, 0, fmt.Errorf("sector attacks per day: %w", err)
	}
	if err := fillDays(rows, days); err != nil {
		return nil, 0, fmt.Errorf("sector attacks per day: %w", err)
	}
	return days, members, nil
}

// dayRange checks [since, until) and returns a zero count for each UTC day
// it touches, and the first day's midnight.
func dayRange(since, until time.Time) ([]occsimore.DayCount, time.Time, error) {
	switch {
	case since.IsZero():
		return nil, time.Time{}, occsimore.FieldErrorf("since", "since is required")
	case until.IsZero():
		return nil, time.Time{}, occsimore.FieldErrorf("until", "until is required")
	case !until.After(since):
		return nil, time.Time{}, occsimore.FieldErrorf("until", "until %v is not after since %v", until, since)
	}
	first := since.UTC().Truncate(day)
	last := until.Add(-time.Microsecond).UTC().Truncate(day)
	n := int(last.Sub(first)/day) + 1
	if n > MaxDays || n <= 0 { // n <= 0: the difference overflowed
		return nil, time.Time{}, occsimore.FieldErrorf("until", "at most %d days at once", MaxDays)
	}
	days := make([]occsimore.DayCount, n)
	for i := range days {
		days[i].Day = first.AddDate(0, 0, i)
	}
	return days, first, nil
}

// fillDays reads (day index, count) rows into days and closes rows.
func fillDays(rows *sql.Rows, days []occsimore.DayCount) error {
	defer rows.Close()
	for rows.Next() {
		var d int64
		var n int
		if err := rows.Scan(&d, &n); err != nil {
			return err
		}
		if d < 0 || d >= int64(len(days)) {
			return fmt.Errorf("day index %d out of range", d)
		}
		days[d].Count = n
	}
	return rows.Err()
}

// CreateRemediations stores rs within memberID in one transaction: all or
// none. Each must pass remediation.Check and have no DeletedAt. The store
// assigns IDs, increasing, and CreatedAt from its clock when zero; on
// success each remediation's ID, MemberID and normalised times are set. An
// unknown member is ENOTFOUND.
func (db *DB) CreateRemediations(ctx context.Context, memberID string, rs []*occsimore.Remediation) error {
	if len(rs) == 0 {
		return nil
	}
	now := db.now()
	created := make([]time.Time, len(rs))
	for i, r := range rs {
		if err := remediation.Check(r); err != nil {
			return fmt.Errorf("remediation %d: %w", i, err)
		}
		if !r.DeletedAt.IsZero() {
			return occsimore.FieldErrorf("deleted_at", "remediation %d: a new remediation cannot be deleted", i)
		}
		created[i] = normTime(r.CreatedAt)
		if created[i].IsZero() {
			created[i] = now
		}
	}

	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create remediations: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	last, err := db.nextSeqs(ctx, tx, memberID, len(rs))
	if err != nil {
		return fmt.Errorf("create remediations: %w", err)
	}
	st, err := tx.PrepareContext(ctx, db.Rebind(insertRemediation))
	if err != nil {
		return fmt.Errorf("create remediations: %w", err)
	}
	defer st.Close()
	ids := make([]int64, len(rs))
	first := last - int64(len(rs)) + 1
	for i, r := range rs {
		err := st.QueryRowContext(ctx, memberID, string(r.Action), string(r.Scope), r.Value, r.Scenario, r.Origin,
			r.AttackID, micros(r.Until), micros(created[i]), first+int64(i), int64(r.Attacks)).Scan(&ids[i])
		if err != nil {
			return fmt.Errorf("create remediations: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create remediations: %w", err)
	}
	for i, r := range rs {
		r.ID, r.MemberID, r.CreatedAt, r.Until = ids[i], memberID, created[i], normTime(r.Until)
	}
	return nil
}

const insertRemediation = `INSERT INTO remediations (member_id, action, scope, value,
	scenario, origin, attack_id, until_at, created_at, created_seq, attacks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

// actionRank orders actions by strength, for an extension that meets two.
var actionRank = map[occsimore.Action]int{occsimore.ActionAlert: 0, occsimore.ActionCaptcha: 1, occsimore.ActionBan: 2}

// ExtendRemediations stores rs within memberID in one transaction, keeping
// at most one remediation of origin logs in force per scope and value: one
// of origin logs whose scope and value have such a remediation in force at
// now (zero: the store's clock) extends it instead: Until becomes the later
// of the two, the action the stronger (ban over captcha over alert),
// Attacks grows by r's (at least 1), and it gets a new sequence number so
// that bouncers that hold it receive it again. r then carries the extended
// remediation's fields. Others, and those of other origins, are created as
// CreateRemediations does. Validation and errors are CreateRemediations'.
func (db *DB) ExtendRemediations(ctx context.Context, memberID string, rs []*occsimore.Remediation, now time.Time) error {
	if len(rs) == 0 {
		return nil
	}
	now = normTime(now)
	if now.IsZero() {
		now = db.now()
	}
	for i, r := range rs {
		if err := remediation.Check(r); err != nil {
			return fmt.Errorf("remediation %d: %w", i, err)
		}
		if !r.DeletedAt.IsZero() {
			return occsimore.FieldErrorf("deleted_at", "remediation %d: a new remediation cannot be deleted", i)
		}
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("extend remediations: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	out := make([]occsimore.Remediation, len(rs))
	for i, r := range rs {
		// Each change takes its number under the member's lock (nextSeqs),
		// so the lookup below sees every earlier change.
		seq, err := db.nextSeqs(ctx, tx, memberID, 1)
		if err != nil {
			return fmt.Errorf("extend remediations: %w", err)
		}
		n := max(r.Attacks, 1)
		var cur occsimore.Remediation
		found := false
		if r.Origin == remediation.OriginLogs {
			rows, err := tx.QueryContext(ctx, db.Rebind(`SELECT `+remediationColumns+` FROM remediations
				WHERE member_id = ? AND scope = ? AND value = ? AND origin = ? AND deleted_seq IS NULL AND until_at > ?
				ORDER BY until_at DESC, id DESC LIMIT 1`), memberID, string(r.Scope), r.Value, r.Origin, micros(now))
			if err != nil {
				return fmt.Errorf("extend remediations: %w", err)
			}
			got, err := scanRemediations(rows, math.MaxInt64)
			if err != nil {
				return fmt.Errorf("extend remediations: %w", err)
			}
			if len(got) > 0 {
				cur, found = *got[0], true
			}
		}
		if !found {
			created := normTime(r.CreatedAt)
			if created.IsZero() {
				created = db.now()
			}
			out[i] = *r
			out[i].MemberID, out[i].CreatedAt, out[i].Until, out[i].Attacks = memberID, created, normTime(r.Until), n
			err := tx.QueryRowContext(ctx, db.Rebind(insertRemediation), memberID, string(r.Action), string(r.Scope),
				r.Value, r.Scenario, r.Origin, r.AttackID, micros(r.Until), micros(created), seq, int64(n)).Scan(&out[i].ID)
			if err != nil {
				return fmt.Errorf("extend remediations: %w", err)
			}
			continue
		}
		if u := normTime(r.Until); u.After(cur.Until) {
			cur.Until = u
		}
		if actionRank[r.Action] > actionRank[cur.Action] {
			cur.Action = r.Action
		}
		cur.Attacks += n
		_, err = tx.ExecContext(ctx, db.Rebind(`UPDATE remediations SET until_at = ?, action = ?, attacks = ?, updated_seq = ?
			WHERE id = ? AND member_id = ?`), micros(cur.Until), string(cur.Action), int64(cur.Attacks), seq, cur.ID, memberID)
		if err != nil {
			return fmt.Errorf("extend remediations: %w", err)
		}
		out[i] = cur
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("extend remediations: %w", err)
	}
	for i, r := range rs {
		*r = out[i]
	}
	return nil
}

// nextSeqs takes n sequence numbers of memberID within tx and returns the
// last. The upsert locks the member's row until tx ends, so that the numbers
// commit in the order they are given out: a pull that sees number k has seen
// every change numbered below k.
func (db *DB) nextSeqs(ctx context.Context, tx *sql.Tx, memberID string, n int) (int64, error) {
	var last int64
	err := tx.QueryRowContext(ctx, db.Rebind(`INSERT INTO remediation_seqs (member_id, seq) VALUES (?, ?)
		ON CONFLICT (member_id) DO UPDATE SET seq = remediation_seqs.seq + excluded.seq RETURNING seq`),
		memberID, int64(n)).Scan(&last)
	if db.isForeignKey(err) {
		return 0, occsimore.Errorf(occsimore.ENOTFOUND, "member %q not found", memberID)
	}
	if err != nil {
		return 0, fmt.Errorf("sequence: %w", err)
	}
	return last, nil
}

// DeleteRemediation ends remediation id of memberID at at (zero: now).
// Deleting one that has already ended, deleted or expired, changes nothing
// and is not an error; another member's is ENOTFOUND.
func (db *DB) DeleteRemediation(ctx context.Context, memberID string, id int64, at time.Time) error {
	at = normTime(at)
	if at.IsZero() {
		at = db.now()
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete remediation: %w", err)
	}
	defer tx.Rollback()
	var exists bool
	err = tx.QueryRowContext(ctx, db.Rebind(`SELECT deleted_seq IS NULL AND until_at > ? FROM remediations
		WHERE id = ? AND member_id = ?`), micros(at), id, memberID).Scan(&exists)
	if errors.Is(err, sql.ErrNoRows) {
		return occsimore.Errorf(occsimore.ENOTFOUND, "remediation %d not found", id)
	}
	if err != nil {
		return fmt.Errorf("delete remediation: %w", err)
	}
	if !exists {
		return nil // already ended
	}
	seq, err := db.nextSeqs(ctx, tx, memberID, 1)
	if err != nil {
		return fmt.Errorf("delete remediation: %w", err)
	}
	// Checked again under the member's lock: a concurrent delete may have won.
	res, err := tx.ExecContext(ctx, db.Rebind(`UPDATE remediations SET deleted_at = ?, deleted_seq = ?
		WHERE id = ? AND member_id = ? AND deleted_seq IS NULL AND until_at > ?`),
		micros(at), seq, id, memberID, micros(at))
	if err != nil {
		return fmt.Errorf("delete remediation: %w", err)
	}
	if ok, err := rowsAffected(res); err != nil || !ok {
		return err // !ok: ended meanwhile; the rollback returns the number
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete remediation: %w", err)
	}
	return nil
}

// ActiveRemediations lists the remediations of memberID in force at now, by ID.
func (db *DB) ActiveRemediations(ctx context.Context, memberID string, now time.Time) ([]*occsimore.Remediation, error) {
	rows, err := db.query(ctx, `SELECT `+remediationColumns+` FROM remediations
		WHERE member_id = ? AND until_at > ? AND deleted_seq IS NULL ORDER BY id`, memberID, micros(now))
	if err != nil {
		return nil, fmt.Errorf("active remediations: %w", err)
	}
	rs, err := scanRemediations(rows, math.MaxInt64)
	if err != nil {
		return nil, fmt.Errorf("active remediations: %w", err)
	}
	return rs, nil
}

// PullRemediations is the bouncer stream; see occsimore.AttackService.
//
// A bouncer's position is the pair (seq, at) of its last pull: it holds
// every remediation created at or below seq, not deleted at or below seq,
// and with Until after at. The changes to the position (cur, now) follow
// from that, by sequence number for creations and deletions and by time for
// expiries. When a remediation ends while another one on the same scope and
// value that the bouncer holds is still in force, that one is sent again
// among the added, so that a bouncer applying ended before added (as
// CrowdSec's do) keeps the value blocked.
func (db *DB) PullRemediations(ctx context.Context, memberID, bouncer string, startup bool, now time.Time) (added, ended []*occsimore.Remediation, err error) {
	if bouncer == "" || len(bouncer) > MaxBouncerLen {
		return nil, nil, occsimore.FieldErrorf("bouncer", "a bouncer name is 1 to %d bytes", MaxBouncerLen)
	}
	now = normTime(now)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("pull remediations: %w", err)
	}
	defer tx.Rollback()

	// Numbers up to cur are committed, and no lower one can commit later
	// (see nextSeqs): every query below is bounded by cur, so that changes
	// committing meanwhile wait for the next pull.
	var cur int64
	err = tx.QueryRowContext(ctx, db.Rebind(`SELECT seq FROM remediation_seqs WHERE member_id = ?`), memberID).Scan(&cur)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("pull remediations: %w", err)
	}
	var last, lastAt int64
	err = tx.QueryRowContext(ctx, db.Rebind(`SELECT seq, pulled_at FROM bouncer_pulls WHERE member_id = ? AND bouncer = ?`),
		memberID, bouncer).Scan(&last, &lastAt)
	first := errors.Is(err, sql.ErrNoRows)
	if err != nil && !first {
		return nil, nil, fmt.Errorf("pull remediations: %w", err)
	}
	at := micros(now)
	if !first && at < lastAt {
		at = lastAt // a clock that stepped back must not revive what expired
	}

	query := func(q string, args ...any) ([]*occsimore.Remediation, error) {
		rows, err := tx.QueryContext(ctx, db.Rebind(`SELECT `+remediationColumns+` FROM remediations r
			WHERE r.member_id = ? AND `+q+` ORDER BY r.id`), append([]any{memberID}, args...)...)
		if err != nil {
			return nil, err
		}
		return scanRemediations(rows, cur)
	}
	// In force at (cur, at), and not yet held by the bouncer.
	const inForce = `r.created_seq <= ? AND (r.deleted_seq IS NULL OR r.deleted_seq > ?) AND r.until_at > ?`
	if startup || first {
		added, err = query(inForce, cur, cur, at)
	} else {
		// New since the last pull, or extended since (sent again with its
		// new end; see ExtendRemediations).
		added, err = query(inForce+` AND (r.created_seq > ? OR (r.updated_seq > ? AND r.updated_seq <= ?))`,
			cur, cur, at, last, last, cur)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("pull remediations: added: %w", err)
	}
	ended = []*occsimore.Remediation{}
	if !startup && !first {
		// Held by the bouncer: in force at (last, lastAt).
		const held = `r.created_seq <= ? AND (r.deleted_seq IS NULL OR r.deleted_seq > ?) AND r.until_at > ?`
		deleted, err := query(held+` AND r.deleted_seq <= ?`, last, last, lastAt, cur)
		if err != nil {
			return nil, nil, fmt.Errorf("pull remediations: deleted: %w", err)
		}
		expired, err := query(held+` AND r.until_at <= ? AND (r.deleted_seq IS NULL OR r.deleted_seq > ?)`,
			last, last, lastAt, at, cur)
		if err != nil {
			return nil, nil, fmt.Errorf("pull remediations: expired: %w", err)
		}
		ended = append(deleted, expired...)
		if len(ended) > 0 {
			again, err := query(inForce+` AND r.created_seq <= ? AND EXISTS (SELECT 1 FROM remediations e
				WHERE e.member_id = r.member_id AND e.scope = r.scope AND e.value = r.value
				AND e.created_seq <= ? AND (e.deleted_seq IS NULL OR e.deleted_seq > ?) AND e.until_at > ?
				AND ((e.deleted_seq IS NOT NULL AND e.deleted_seq <= ?) OR e.until_at <= ?))`,
				cur, cur, at, last, last, last, lastAt, cur, at)
			if err != nil {
				return nil, nil, fmt.Errorf("pull remediations: still in force: %w", err)
			}
			added = append(added, again...)
		}
	}

	_, err = tx.ExecContext(ctx, db.Rebind(`INSERT INTO bouncer_pulls (member_id, bouncer, seq, pulled_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (member_id, bouncer) DO UPDATE SET seq = excluded.seq, pulled_at = excluded.pulled_at`),
		memberID, bouncer, cur, at)
	if db.isForeignKey(err) {
		return nil, nil, occsimore.Errorf(occsimore.ENOTFOUND, "member %q not found", memberID)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("pull remediations: record pull: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, fmt.Errorf("pull remediations: %w", err)
	}
	sortByID(ended)
	sortByID(added)
	return added, ended, nil
}

// scanRemediations reads rows and closes them. A deletion numbered above
// cur is not visible yet to the caller, so it is not reported.
func scanRemediations(rows *sql.Rows, cur int64) ([]*occsimore.Remediation, error) {
	defer rows.Close()
	rs := []*occsimore.Remediation{}
	for rows.Next() {
		var r occsimore.Remediation
		var action, scope string
		var until, created int64
		var deleted, deletedSeq sql.NullInt64
		var attacks int64
		if err := rows.Scan(&r.ID, &r.MemberID, &action, &scope, &r.Value, &r.Scenario, &r.Origin, &r.AttackID,
			&until, &created, &deleted, &deletedSeq, &attacks); err != nil {
			return nil, err
		}
		r.Attacks = int(attacks)
		r.Action, r.Scope = occsimore.Action(action), occsimore.Scope(scope)
		r.Until, r.CreatedAt = fromMicros(until), fromMicros(created)
		if deletedSeq.Valid && deletedSeq.Int64 <= cur {
			r.DeletedAt = fromNullMicros(deleted)
		}
		rs = append(rs, &r)
	}
	return rs, rows.Err()
}

func sortByID(rs []*occsimore.Remediation) {
	slices.SortFunc(rs, func(a, b *occsimore.Remediation) int { return cmp.Compare(a.ID, b.ID) })
}
