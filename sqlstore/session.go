package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/occsimore/occsimore"
)

// CreateSession stores s. A zero s.CreatedAt becomes now, and s's times are
// normalised to what the database keeps. The user must belong to s.MemberID,
// else ENOTFOUND; a duplicate hash is ECONFLICT.
func (db *DB) CreateSession(ctx context.Context, s *occsimore.Session) error {
	created, expires := normTime(s.CreatedAt), normTime(s.ExpiresAt)
	if created.IsZero() {
		created = db.now()
	}
	_, err := db.exec(ctx, `INSERT INTO sessions (hash, user_id, member_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, s.Hash, s.UserID, s.MemberID, micros(created), micros(expires))
	switch {
	case db.isUnique(err):
		return occsimore.Errorf(occsimore.ECONFLICT, "session already exists")
	case db.isForeignKey(err):
		return occsimore.Errorf(occsimore.ENOTFOUND, "user %q not found", s.UserID)
	case err != nil:
		return fmt.Errorf("create session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = created, expires
	return nil
}

// FindSession returns the session with hash if it expires after now.
func (db *DB) FindSession(ctx context.Context, hash []byte, now time.Time) (*occsimore.Session, error) {
	var s occsimore.Session
	var created, expires int64
	err := db.queryRow(ctx, `SELECT hash, user_id, member_id, created_at, expires_at FROM sessions
		WHERE hash = ? AND expires_at > ?`, hash, micros(now)).
		Scan(&s.Hash, &s.UserID, &s.MemberID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		// The hash is a credential: keep it out of the message.
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "session not found")
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &s, nil
}

// DeleteSession deletes the session with hash. Deleting an unknown session is
// not an error, so that logging out twice is harmless.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := db.exec(ctx, `DELETE FROM sessions WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions FindSession would no longer
// return at now, and reports how many.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := db.exec(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}
