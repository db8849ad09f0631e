package main

import (
	"context"
	"fmt"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/config"
	"github.com/occsimore/occsimore/postgres"
	"github.com/occsimore/occsimore/sqlite"
	"github.com/occsimore/occsimore/sqlstore"
)

// openStore opens the store the configuration selects and applies migrations.
func openStore(ctx context.Context, c config.Config) (*sqlstore.DB, error) {
	var (
		db  *sqlstore.DB
		err error
	)
	switch c.Store.Driver {
	case "postgres":
		db, err = postgres.Open(ctx, c.Store.PostgresDSN)
	default:
		db, err = sqlite.Open(ctx, c.Store.DataDir)
	}
	if err != nil {
		return nil, &occsimore.Error{Code: occsimore.EUNAVAILABLE, Message: fmt.Sprintf("open %s store: %v", c.Store.Driver, err)}
	}
	return db, nil
}

// withStore loads the configuration, opens the store, runs fn and closes it.
func (m *Main) withStore(ctx context.Context, fn func(*sqlstore.DB) error) error {
	c, err := m.loadConfig()
	if err != nil {
		return err
	}
	db, err := openStore(ctx, c)
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
