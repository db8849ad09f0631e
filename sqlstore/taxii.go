package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/taxii"
)

var _ taxii.Store = (*DB)(nil)

// The TAXII store. Collections are shared between the members granted on
// them, so isolation is by right rather than by owner: every query that
// touches a collection's objects carries the calling member's ID and an
// EXISTS on its row in taxii_access; statuses and sync states belong to one
// member and carry member_id in their WHERE, as everything else here.

const (
	objectWidth = 13  // columns of a taxii_objects insert
	heldChunk   = 500 // object ids per lookup of held versions
)

var errCollectionNotFound = occsimore.Errorf(occsimore.ENOTFOUND, "collection not found")

// CreateCollection implements taxii.Store.
func (db *DB) CreateCollection(ctx context.Context, c *taxii.Collection) error {
	if strings.TrimSpace(c.Title) == "" {
		return occsimore.FieldErrorf("title", "a collection needs a title")
	}
	id := c.ID
	if id == "" {
		id = taxii.NewUUID()
	}
	if !taxii.ValidUUID(id) {
		return occsimore.FieldErrorf("id", "collection id %q is not a UUID", id)
	}
	_, err := db.exec(ctx, `INSERT INTO taxii_collections (id, title, description, alias, created_at) VALUES (?, ?, ?, ?, ?)`,
		id, c.Title, c.Description, c.Alias, micros(db.now()))
	switch {
	case db.isUnique(err):
		return occsimore.Errorf(occsimore.ECONFLICT, "collection %s already exists", id)
	case err != nil:
		return fmt.Errorf("create collection: %w", err)
	}
	c.ID = id
	if c.MediaTypes == nil {
		c.MediaTypes = []string{taxii.MediaSTIX}
	}
	return nil
}

// Grant implements taxii.Store.
func (db *DB) Grant(ctx context.Context, collectionID, memberID string, read, write bool) error {
	if !read && !write {
		_, err := db.exec(ctx, `DELETE FROM taxii_access WHERE member_id = ? AND collection_id = ?`, memberID, collectionID)
		if err != nil {
			return fmt.Errorf("revoke collection: %w", err)
		}
		return nil
	}
	_, err := db.exec(ctx, `INSERT INTO taxii_access (member_id, collection_id, can_read, can_write) VALUES (?, ?, ?, ?)
		ON CONFLICT (member_id, collection_id) DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write`,
		memberID, collectionID, read, write)
	switch {
	case db.isForeignKey(err):
		return occsimore.Errorf(occsimore.ENOTFOUND, "collection or member not found")
	case err != nil:
		return fmt.Errorf("grant collection: %w", err)
	}
	return nil
}

const collectionColumns = `c.id, c.title, c.description, c.alias, a.can_read, a.can_write`

func scanCollection(s scanner) (*taxii.Collection, error) {
	var c taxii.Collection
	if err := s.Scan(&c.ID, &c.Title, &c.Description, &c.Alias, &c.CanRead, &c.CanWrite); err != nil {
		return nil, err
	}
	c.MediaTypes = []string{taxii.MediaSTIX}
	return &c, nil
}

// ListCollections implements taxii.Store.
func (db *DB) ListCollections(ctx context.Context, memberID string) ([]*taxii.Collection, error) {
	return queryAll(ctx, db, "list collections", scanCollection, `SELECT `+collectionColumns+`
		FROM taxii_access a JOIN taxii_collections c ON c.id = a.collection_id
		WHERE a.member_id = ? ORDER BY c.created_at, c.id`, memberID)
}

// FindCollection implements taxii.Store.
func (db *DB) FindCollection(ctx context.Context, memberID, collectionID string) (*taxii.Collection, error) {
	c, err := scanCollection(db.queryRow(ctx, `SELECT `+collectionColumns+`
		FROM taxii_access a JOIN taxii_collections c ON c.id = a.collection_id
		WHERE a.member_id = ? AND a.collection_id = ?`, memberID, collectionID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, errCollectionNotFound
	case err != nil:
		return nil, fmt.Errorf("find collection: %w", err)
	}
	return c, nil
}

// AddObjects implements taxii.Store. The whole call is one transaction, so
// that the first/last marks of an object's versions stay consistent; an
// object that fails is reported in its Outcome and the others are kept.
func (db *DB) AddObjects(ctx context.Context, memberID, collectionID string, objs []taxii.Object, now time.Time) ([]taxii.Outcome, error) {
	now = normTime(now)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("add objects: %w", err)
	}
	defer tx.Rollback()
	var canWrite bool
	err = tx.QueryRowContext(ctx, db.Rebind(`SELECT can_write FROM taxii_access WHERE member_id = ? AND collection_id = ?`),
		memberID, collectionID).Scan(&canWrite)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, errCollectionNotFound
	case err != nil:
		return nil, fmt.Errorf("add objects: %w", err)
	case !canWrite:
		return nil, occsimore.Errorf(occsimore.EFORBIDDEN, "this member may not write to the collection")
	}
	if err := db.lockCollection(ctx, tx, collectionID); err != nil {
		return nil, fmt.Errorf("add objects: %w", err)
	}
	// The versions the collection already holds of the batch's objects, in
	// chunks of ids, so that the batch costs a few statements, not one per
	// object.
	held := make(map[string]map[int64]bool, len(objs))
	ids := make([]string, 0, len(objs))
	for _, o := range objs {
		if _, ok := held[o.ID]; !ok {
			held[o.ID] = nil
			ids = append(ids, o.ID)
		}
	}
	lookups := map[int]*sql.Stmt{} // by chunk size: at most two shapes
	defer func() {
		for _, st := range lookups {
			st.Close()
		}
	}()
	for start := 0; start < len(ids); start += heldChunk {
		chunk := ids[start:min(start+heldChunk, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, collectionID)
		for _, id := range chunk {
			args = append(args, id)
		}
		st := lookups[len(chunk)]
		if st == nil {
			if st, err = tx.PrepareContext(ctx, db.Rebind(`SELECT object_id, version FROM taxii_objects
				WHERE collection_id = ? AND object_id IN (?`+strings.Repeat(`, ?`, len(chunk)-1)+`)`)); err != nil {
				return nil, fmt.Errorf("add objects: %w", err)
			}
			lookups[len(chunk)] = st
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("add objects: %w", err)
		}
		for rows.Next() {
			var id string
			var v int64
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("add objects: %w", err)
			}
			if held[id] == nil {
				held[id] = map[int64]bool{}
			}
			held[id][v] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("add objects: %w", err)
		}
	}
	out := make([]taxii.Outcome, len(objs))
	args := make([]any, 0, len(objs)*objectWidth)
	var remark []string // objects given a version and holding several after the batch
	remarked := map[string]bool{}
	for i, o := range objs {
		v := normTime(o.Version)
		if v.IsZero() {
			v = now // an observable's version is its date_added
		}
		out[i] = taxii.Outcome{ID: o.ID, Version: v}
		vs := held[o.ID]
		if vs[micros(v)] {
			out[i].Held = true // already there: TAXII POSTs are idempotent per version
			continue
		}
		if vs == nil {
			vs = map[int64]bool{}
			held[o.ID] = vs
		}
		vs[micros(v)] = true
		if len(vs) > 1 && !remarked[o.ID] {
			remarked[o.ID] = true
			remark = append(remark, o.ID)
		}
		// A new object is its own first and last version; the marks of an
		// object with several versions are recomputed below.
		args = append(args, collectionID, o.ID, o.Type, o.SpecVersion, micros(v), micros(now),
			memberID, true, true, true, true, true, string(o.Raw))
	}
	err = db.insertRows(ctx, tx, `INSERT INTO taxii_objects (collection_id, object_id, type, spec_version,
		version, date_added, added_by, is_first, is_last, spec_first, spec_last, top_spec, raw) VALUES `, objectWidth, args)
	if err != nil {
		return nil, fmt.Errorf("add objects: %w", err)
	}
	if len(remark) > 0 {
		st, err := tx.PrepareContext(ctx, db.Rebind(remarkSQL))
		if err != nil {
			return nil, fmt.Errorf("add objects: %w", err)
		}
		defer st.Close()
		for _, id := range remark {
			if _, err := st.ExecContext(ctx, collectionID, id); err != nil {
				return nil, fmt.Errorf("add objects: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("add objects: %w", err)
	}
	return out, nil
}

// filterSQL appends f's conditions on taxii_objects o to where and args.
func filterSQL(where *strings.Builder, args []any, f taxii.Filter) []any {
	if !f.AddedAfter.IsZero() {
		where.WriteString(` AND o.date_added > ?`)
		args = append(args, micros(f.AddedAfter))
	}
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where.WriteString(` AND ` + col + ` IN (?` + strings.Repeat(`, ?`, len(vals)-1) + `)`)
		for _, v := range vals {
			args = append(args, v)
		}
	}
	in("o.object_id", f.IDs)
	in("o.type", f.Types)
	// Without match[spec_version], TAXII answers each object in its latest
	// spec version; with one spec version, first and last are among that
	// version's; with both, among all.
	first, last := "o.spec_first", "o.spec_last"
	switch len(f.SpecVersions) {
	case 0:
		where.WriteString(` AND o.top_spec = ?`)
		args = append(args, true)
	case 1:
		in("o.spec_version", f.SpecVersions)
	default:
		in("o.spec_version", f.SpecVersions)
		first, last = "o.is_first", "o.is_last"
	}
	if vm := f.Versions; !vm.All {
		var ors []string
		if vm.First {
			ors = append(ors, first+` = ?`)
			args = append(args, true)
		}
		if vm.Last {
			ors = append(ors, last+` = ?`)
			args = append(args, true)
		}
		if len(vm.Times) > 0 {
			ors = append(ors, `o.version IN (?`+strings.Repeat(`, ?`, len(vm.Times)-1)+`)`)
			for _, t := range vm.Times {
				args = append(args, micros(t))
			}
		}
		if len(ors) == 0 {
			ors = append(ors, `1 = 0`) // an empty match[version] matches nothing
		}
		where.WriteString(` AND (` + strings.Join(ors, ` OR `) + `)`)
	}
	return args
}

// QueryObjects implements taxii.Store. It reads one row past the limit to
// tell whether more follow.
func (db *DB) QueryObjects(ctx context.Context, memberID, collectionID string, q taxii.Query) (*taxii.Page, error) {
	if q.Limit < 1 {
		return nil, occsimore.FieldErrorf("limit", "limit must be at least 1")
	}
	cols := `o.seq, o.object_id, o.type, o.spec_version, o.version, o.date_added`
	if !q.NoRaw {
		cols += `, o.raw`
	}
	var where strings.Builder
	where.WriteString(`SELECT ` + cols + ` FROM taxii_objects o WHERE o.collection_id = ?
		AND EXISTS (SELECT 1 FROM taxii_access a WHERE a.member_id = ? AND a.collection_id = ? AND a.can_read = ?)`)
	args := []any{collectionID, memberID, collectionID, true}
	args = filterSQL(&where, args, q.Filter)
	if q.After != nil {
		where.WriteString(` AND (o.date_added, o.seq) > (?, ?)`)
		args = append(args, micros(q.After.DateAdded), q.After.Seq)
	}
	where.WriteString(` ORDER BY o.date_added, o.seq LIMIT ?`)
	args = append(args, q.Limit+1)

	rows, err := db.query(ctx, where.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("query objects: %w", err)
	}
	defer rows.Close()
	page := &taxii.Page{Records: make([]taxii.Record, 0, min(q.Limit, 1024))}
	var raw sql.RawBytes
	for rows.Next() {
		if len(page.Records) == q.Limit {
			page.More = true
			break
		}
		var r taxii.Record
		var v, added int64
		dest := []any{&r.Seq, &r.ID, &r.Type, &r.SpecVersion, &v, &added}
		if !q.NoRaw {
			dest = append(dest, &raw)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("query objects: %w", err)
		}
		r.Version, r.DateAdded = fromMicros(v), fromMicros(added)
		if !q.NoRaw {
			r.Raw = json.RawMessage(append([]byte(nil), raw...))
		}
		page.Records = append(page.Records, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query objects: %w", err)
	}
	return page, nil
}

// DeleteObject implements taxii.Store. Only versions the member added go:
// a member may withdraw what it shared, not what others did.
func (db *DB) DeleteObject(ctx context.Context, memberID, collectionID, id string, f taxii.Filter) (int, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("delete object: %w", err)
	}
	defer tx.Rollback()
	var read, write bool
	err = tx.QueryRowContext(ctx, db.Rebind(`SELECT can_read, can_write FROM taxii_access WHERE member_id = ? AND collection_id = ?`),
		memberID, collectionID).Scan(&read, &write)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, errCollectionNotFound
	case err != nil:
		return 0, fmt.Errorf("delete object: %w", err)
	case !read || !write:
		return 0, occsimore.Errorf(occsimore.EFORBIDDEN, "deleting needs the rights to read and write the collection")
	}
	if err := db.lockCollection(ctx, tx, collectionID); err != nil {
		return 0, fmt.Errorf("delete object: %w", err)
	}
	f.IDs = []string{id}
	var q strings.Builder
	q.WriteString(`DELETE FROM taxii_objects WHERE seq IN (SELECT o.seq FROM taxii_objects o
		WHERE o.collection_id = ? AND o.added_by = ?`)
	args := filterSQL(&q, []any{collectionID, memberID}, f)
	q.WriteString(`)`)
	res, err := tx.ExecContext(ctx, db.Rebind(q.String()), args...)
	if err != nil {
		return 0, fmt.Errorf("delete object: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete object: %w", err)
	}
	if err := db.remark(ctx, tx, collectionID, id); err != nil {
		return 0, fmt.Errorf("delete object: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("delete object: %w", err)
	}
	return int(n), nil
}

// lockCollection serialises the writers of one collection until tx ends:
// the held-version lookup and the version marks assume no other writer
// adds a version of the same object meanwhile. SQLite transactions take
// the database's write lock at BEGIN already; PostgreSQL's read committed
// would let two writers interleave.
func (db *DB) lockCollection(ctx context.Context, tx *sql.Tx, collectionID string) error {
	if db.dialect.Name != "postgres" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT 1 FROM taxii_collections WHERE id = $1 FOR UPDATE`, collectionID)
	return err
}

// remarkSQL recomputes the version marks of every version of one object
// (arguments: collection ID, object ID).
const remarkSQL = `UPDATE taxii_objects SET
	is_first = (version = (SELECT min(t.version) ` + sameObject + `)),
	is_last = (version = (SELECT max(t.version) ` + sameObject + `)),
	spec_first = (version = (SELECT min(t.version) ` + sameObject + ` AND t.spec_version = taxii_objects.spec_version)),
	spec_last = (version = (SELECT max(t.version) ` + sameObject + ` AND t.spec_version = taxii_objects.spec_version)),
	top_spec = (spec_version = (SELECT max(t.spec_version) ` + sameObject + `))
	WHERE collection_id = ? AND object_id = ?`

const sameObject = `FROM taxii_objects t WHERE t.collection_id = taxii_objects.collection_id AND t.object_id = taxii_objects.object_id`

// remark recomputes the version marks of one object.
func (db *DB) remark(ctx context.Context, tx *sql.Tx, collectionID, id string) error {
	_, err := tx.ExecContext(ctx, db.Rebind(remarkSQL), collectionID, id)
	return err
}

// CreateStatus implements taxii.Store; s.ID is set if empty.
func (db *DB) CreateStatus(ctx context.Context, memberID, collectionID string, s *taxii.Status) error {
	if s.ID == "" {
		s.ID = taxii.NewUUID()
	}
	body, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("create status: %w", err)
	}
	_, err = db.exec(ctx, `INSERT INTO taxii_status (id, member_id, collection_id, created_at, body) VALUES (?, ?, ?, ?, ?)`,
		s.ID, memberID, collectionID, micros(db.now()), string(body))
	switch {
	case db.isUnique(err):
		return occsimore.Errorf(occsimore.ECONFLICT, "status %s already exists", s.ID)
	case db.isForeignKey(err):
		return occsimore.Errorf(occsimore.ENOTFOUND, "member or collection not found")
	case err != nil:
		return fmt.Errorf("create status: %w", err)
	}
	return nil
}

// FindStatus implements taxii.Store.
func (db *DB) FindStatus(ctx context.Context, memberID, id string) (*taxii.Status, error) {
	var body string
	err := db.queryRow(ctx, `SELECT body FROM taxii_status WHERE member_id = ? AND id = ?`, memberID, id).Scan(&body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "status not found")
	case err != nil:
		return nil, fmt.Errorf("find status: %w", err)
	}
	var s taxii.Status
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return nil, fmt.Errorf("find status: %w", err)
	}
	return &s, nil
}

// SyncState implements taxii.Store.
func (db *DB) SyncState(ctx context.Context, memberID, name string) (*taxii.SyncState, error) {
	var after, last sql.NullInt64
	var updated int64
	s := &taxii.SyncState{Name: name}
	err := db.queryRow(ctx, `SELECT added_after, next, last_added, pulled, updated_at FROM taxii_sync WHERE member_id = ? AND name = ?`,
		memberID, name).Scan(&after, &s.Next, &last, &s.Pulled, &updated)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("sync state: %w", err)
	}
	s.AddedAfter, s.LastAdded, s.UpdatedAt = fromNullMicros(after), fromNullMicros(last), fromMicros(updated)
	return s, nil
}

// SaveSyncState implements taxii.Store.
func (db *DB) SaveSyncState(ctx context.Context, memberID string, s *taxii.SyncState) error {
	if s.Name == "" {
		return occsimore.FieldErrorf("name", "a sync state needs a name")
	}
	s.UpdatedAt = db.now()
	_, err := db.exec(ctx, `INSERT INTO taxii_sync (member_id, name, added_after, next, last_added, pulled, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (member_id, name) DO UPDATE SET added_after = excluded.added_after, next = excluded.next,
		last_added = excluded.last_added, pulled = excluded.pulled, updated_at = excluded.updated_at`,
		memberID, s.Name, nullMicros(normTime(s.AddedAfter)), s.Next, nullMicros(normTime(s.LastAdded)), s.Pulled, micros(s.UpdatedAt))
	switch {
	case db.isForeignKey(err):
		return occsimore.Errorf(occsimore.ENOTFOUND, "member %q not found", memberID)
	case err != nil:
		return fmt.Errorf("save sync state: %w", err)
	}
	return nil
}
