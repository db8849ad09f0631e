package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/occsimore/occsimore"
)

const userColumns = `id, member_id, email, name, role, password_hash, created_at`

// emailKey is what makes two emails the same login: Ana@example.org and
// ana@example.org must not be two accounts. It is computed here rather than
// with SQL lower(), whose Unicode behaviour differs between the databases.
func emailKey(email string) string { return strings.ToLower(email) }

// CreateUser assigns u.ID and u.CreatedAt and stores u within memberID
// (u.MemberID is set to it). Emails are unique platform-wide, ignoring case:
// a duplicate is ECONFLICT. An unknown member is ENOTFOUND.
func (db *DB) CreateUser(ctx context.Context, memberID string, u *occsimore.User) error {
	id, created := occsimore.NewID("usr"), db.now()
	_, err := db.exec(ctx, `INSERT INTO users (id, member_id, email, email_key, name, role, password_hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		id, memberID, u.Email, emailKey(u.Email), u.Name, string(u.Role), u.PasswordHash, micros(created))
	switch {
	case db.isUnique(err):
		return occsimore.Errorf(occsimore.ECONFLICT, "user email %q already exists", u.Email)
	case db.isForeignKey(err):
		return occsimore.Errorf(occsimore.ENOTFOUND, "member %q not found", memberID)
	case err != nil:
		return fmt.Errorf("create user: %w", err)
	}
	u.ID, u.MemberID, u.CreatedAt = id, memberID, created
	return nil
}

// FindUser returns user id of memberID.
func (db *DB) FindUser(ctx context.Context, memberID, id string) (*occsimore.User, error) {
	u, err := scanUser(db.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ? AND member_id = ?`,
		id, memberID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "user %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// ListUsers lists the users of memberID by email.
func (db *DB) ListUsers(ctx context.Context, memberID string) ([]*occsimore.User, error) {
	return queryAll(ctx, db, "list users", scanUser, `SELECT `+userColumns+` FROM users WHERE member_id = ? ORDER BY email_key, id`,
		memberID)
}

// SetPassword replaces the password hash of user id of memberID and ends
// every session of the user in the same transaction: whoever knew the old
// password (or holds a stolen cookie) is signed out.
func (db *DB) SetPassword(ctx context.Context, memberID, id, hash string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	res, err := tx.ExecContext(ctx, db.Rebind(`UPDATE users SET password_hash = ? WHERE id = ? AND member_id = ?`),
		hash, id, memberID)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	ok, err := rowsAffected(res)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if !ok {
		return occsimore.Errorf(occsimore.ENOTFOUND, "user %q not found", id)
	}
	if _, err := tx.ExecContext(ctx, db.Rebind(`DELETE FROM sessions WHERE user_id = ? AND member_id = ?`), id, memberID); err != nil {
		return fmt.Errorf("set password: end sessions: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}

// FindUserByEmail finds a user of any member by email, ignoring case, for
// login only.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*occsimore.User, error) {
	u, err := scanUser(db.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email_key = ?`, emailKey(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "user %q not found", email)
	}
	if err != nil {
		return nil, fmt.Errorf("find user by email: %w", err)
	}
	return u, nil
}

func scanUser(s scanner) (*occsimore.User, error) {
	var u occsimore.User
	var role string
	var created int64
	if err := s.Scan(&u.ID, &u.MemberID, &u.Email, &u.Name, &role, &u.PasswordHash, &created); err != nil {
		return nil, err
	}
	u.Role = occsimore.Role(role)
	u.CreatedAt = fromMicros(created)
	return &u, nil
}
