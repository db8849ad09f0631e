package main

import (
	"context"
	"fmt"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/app"
	"github.com/occsimore/occsimore/sqlstore"
)

// withStore loads the configuration, opens the store, runs fn and closes it.
func (m *Main) withStore(ctx context.Context, fn func(*sqlstore.DB) error) error {
	c, err := m.loadConfig()
	if err != nil {
		return err
	}
	db, err := app.OpenStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

// memberBySlug resolves the --member flag of administration commands.
func memberBySlug(ctx context.Context, db *sqlstore.DB, slug string) (*occsimore.Member, error) {
	if slug == "" {
		return nil, usageError{fmt.Errorf("--member is required (a member slug; see 'occsimore member list')")}
	}
	return db.FindMemberBySlug(ctx, slug)
}
