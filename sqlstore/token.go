package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/occsimore/occsimore"
)

const tokenColumns = `id, member_id, name, role, hash, created_at, expires_at, revoked_at, last_used_at`

// touchInterval is how stale last_used_at must be before TouchToken writes
// it again, so that a busy token does not cost a write per request.
const touchInterval = time.Minute

// CreateToken stores t within memberID; t.ID, t.Hash and t.CreatedAt are set
// by the caller (a zero CreatedAt becomes now). t.MemberID is set to memberID and t's times are normalised to
// what the database keeps (UTC, microseconds). A duplicate ID is ECONFLICT and
// an unknown member ENOTFOUND.
func (db *DB) CreateToken(ctx context.Context, memberID string, t *occsimore.Token) error {
	created, expires := normTime(t.CreatedAt), normTime(t.ExpiresAt)
	if created.IsZero() {
		created = db.now()
	}
	_, err := db.exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
		t.ID, memberID, t.Name, string(t.Role), t.Hash, micros(created), nullMicros(expires))
	switch {
	case db.isUnique(err):
		return occsimore.Errorf(occsimore.ECONFLICT, "token %q already exists", t.ID)
	case db.isForeignKey(err):
		return occsimore.Errorf(occsimore.ENOTFOUND, "member %q not found", memberID)
	case err != nil:
		return fmt.Errorf("create token: %w", err)
	}
	t.MemberID, t.CreatedAt, t.ExpiresAt = memberID, created, expires
	t.RevokedAt, t.LastUsedAt = time.Time{}, time.Time{}
	return nil
}

// FindToken returns token id of memberID.
func (db *DB) FindToken(ctx context.Context, memberID, id string) (*occsimore.Token, error) {
	t, err := scanToken(db.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ? AND member_id = ?`,
		id, memberID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "token %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	return t, nil
}

// ListTokens lists the tokens of memberID, oldest first, revoked ones included.
func (db *DB) ListTokens(ctx context.Context, memberID string) ([]*occsimore.Token, error) {
	return queryAll(ctx, db, "list tokens", scanToken, `SELECT `+tokenColumns+` FROM tokens WHERE member_id = ?
		ORDER BY created_at, id`, memberID)
}

// RevokeToken marks token id of memberID revoked at at. Revoking again keeps
// the first revocation time.
func (db *DB) RevokeToken(ctx context.Context, memberID, id string, at time.Time) error {
	res, err := db.exec(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?)
		WHERE id = ? AND member_id = ?`, micros(at), id, memberID)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	ok, err := rowsAffected(res)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if !ok {
		return occsimore.Errorf(occsimore.ENOTFOUND, "token %q not found", id)
	}
	return nil
}

// LookupToken finds token id of any member, for authentication only.
func (db *DB) LookupToken(ctx context.Context, id string) (*occsimore.Token, error) {
	t, err := scanToken(db.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "token %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("lookup token: %w", err)
	}
	return t, nil
}

// TouchToken sets the token's last use to at unless it was already recorded
// less than a minute before at. An unknown token is not an error: touching is
// bookkeeping after authentication, which has already found the token.
func (db *DB) TouchToken(ctx context.Context, id string, at time.Time) error {
	_, err := db.exec(ctx, `UPDATE tokens SET last_used_at = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
		micros(at), id, micros(at.Add(-touchInterval)))
	if err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	return nil
}

func scanToken(s scanner) (*occsimore.Token, error) {
	var t occsimore.Token
	var role string
	var created int64
	var expires, revoked, lastUsed sql.NullInt64
	if err := s.Scan(&t.ID, &t.MemberID, &t.Name, &role, &t.Hash, &created, &expires, &revoked, &lastUsed); err != nil {
		return nil, err
	}
	t.Role = occsimore.Role(role)
	t.CreatedAt = fromMicros(created)
	t.ExpiresAt = fromNullMicros(expires)
	t.RevokedAt = fromNullMicros(revoked)
	t.LastUsedAt = fromNullMicros(lastUsed)
	return &t, nil
}
