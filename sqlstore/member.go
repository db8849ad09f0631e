package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/occsimore/occsimore"
)

const memberColumns = `m.id, m.slug, m.name, m.sector, m.operator, m.created_at`

// visibleTo restricts members m to those the asking member may see: itself,
// or all of them if the database (not the caller's copy) says it is an
// operator. Its two placeholders both take the asking member's ID.
const visibleTo = `(m.id = ? OR EXISTS (SELECT 1 FROM members o WHERE o.id = ? AND o.operator))`

// CreateMember assigns m.ID and m.CreatedAt and stores m. Validation is the
// caller's job; a duplicate slug is ECONFLICT.
func (db *DB) CreateMember(ctx context.Context, m *occsimore.Member) error {
	id, created := occsimore.NewID("mem"), db.now()
	_, err := db.exec(ctx, `INSERT INTO members (id, slug, name, sector, operator, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		id, m.Slug, m.Name, m.Sector, m.Operator, micros(created))
	if db.isUnique(err) {
		return occsimore.Errorf(occsimore.ECONFLICT, "member slug %q already exists", m.Slug)
	}
	if err != nil {
		return fmt.Errorf("create member: %w", err)
	}
	m.ID, m.CreatedAt = id, created
	return nil
}

// FindMember returns member id if asking may see it, else ENOTFOUND.
func (db *DB) FindMember(ctx context.Context, asking *occsimore.Member, id string) (*occsimore.Member, error) {
	if asking == nil {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "member %q not found", id)
	}
	m, err := scanMember(db.queryRow(ctx, `SELECT `+memberColumns+` FROM members m
		WHERE m.id = ? AND `+visibleTo, id, asking.ID, asking.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "member %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find member: %w", err)
	}
	return m, nil
}

// FindMemberBySlug returns the member with slug, unscoped.
func (db *DB) FindMemberBySlug(ctx context.Context, slug string) (*occsimore.Member, error) {
	m, err := scanMember(db.queryRow(ctx, `SELECT `+memberColumns+` FROM members m WHERE m.slug = ?`, slug))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "member %q not found", slug)
	}
	if err != nil {
		return nil, fmt.Errorf("find member by slug: %w", err)
	}
	return m, nil
}

// ListMembers lists the members asking may see, by slug. A nil asking sees
// none.
func (db *DB) ListMembers(ctx context.Context, asking *occsimore.Member) ([]*occsimore.Member, error) {
	members := []*occsimore.Member{}
	if asking == nil {
		return members, nil
	}
	return db.listMembers(ctx, `WHERE `+visibleTo, asking.ID, asking.ID)
}

// AllMembers lists every member, by slug. It is for local administration
// (the CLI, which has the database itself) and is not part of
// occsimore.MemberService, so no request handler can reach it.
func (db *DB) AllMembers(ctx context.Context) ([]*occsimore.Member, error) {
	return db.listMembers(ctx, "")
}

func (db *DB) listMembers(ctx context.Context, where string, args ...any) ([]*occsimore.Member, error) {
	return queryAll(ctx, db, "list members", scanMember, `SELECT `+memberColumns+` FROM members m `+where+` ORDER BY m.slug`, args...)
}

func scanMember(s scanner) (*occsimore.Member, error) {
	var m occsimore.Member
	var created int64
	if err := s.Scan(&m.ID, &m.Slug, &m.Name, &m.Sector, &m.Operator, &created); err != nil {
		return nil, err
	}
	m.CreatedAt = fromMicros(created)
	return &m, nil
}
