// Package app builds, from one configuration, what the commands run: the
// store, the behaviour engine, the journal and the event pipeline. serve,
// demo, train, score and bench all build them here, so that they cannot
// drift apart: an event scores the same in each.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/config"
	"github.com/occsimore/occsimore/journal"
	"github.com/occsimore/occsimore/pipeline"
	"github.com/occsimore/occsimore/postgres"
	"github.com/occsimore/occsimore/sqlite"
	"github.com/occsimore/occsimore/sqlstore"
)

// ConfigError marks an error in the configuration (exit code 3).
type ConfigError struct{ Err error }

func (e ConfigError) Error() string { return e.Err.Error() }
func (e ConfigError) Unwrap() error { return e.Err }

// OpenStore opens the store the configuration selects and applies its
// migrations.
func OpenStore(ctx context.Context, c config.Config) (*sqlstore.DB, error) {
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

// MemberFinder resolves the member slugs of a specs file.
type MemberFinder interface {
	FindMemberBySlug(ctx context.Context, slug string) (*occsimore.Member, error)
}

// EngineConfig is the behaviour engine the configuration describes: the
// profile specs of engine.specs_file (the built-in ones without it),
// engine.max_lateness and, when members is not nil, the per-member
// thresholds of the specs file. The hash seed is the engine's default: a
// server sets a secret one (see OpenPipeline), which changes no score.
func EngineConfig(ctx context.Context, c config.Config, members MemberFinder) (behavior.Config, error) {
	bc := behavior.DefaultConfig()
	bc.MaxLateness = c.Engine.MaxLateness.D()
	if c.Engine.SpecsFile == "" {
		return bc, nil
	}
	specs, err := config.LoadSpecs(c.Engine.SpecsFile)
	if err != nil {
		return bc, ConfigError{err}
	}
	bc.Specs = specs.Specs
	if members != nil {
		if bc.Thresholds, err = memberThresholds(ctx, members, specs); err != nil {
			return bc, ConfigError{err}
		}
	}
	return bc, nil
}

// memberThresholds resolves the member slugs of a specs file to the
// engine's per-member, per-kind thresholds.
func memberThresholds(ctx context.Context, members MemberFinder, specs config.Specs) (map[string]map[string]behavior.Thresholds, error) {
	out := map[string]map[string]behavior.Thresholds{}
	for _, mt := range specs.Members {
		mem, err := members.FindMemberBySlug(ctx, mt.Slug)
		if err != nil {
			return nil, fmt.Errorf("engine.specs_file: member %q: %w", mt.Slug, err)
		}
		if out[mem.ID] == nil {
			out[mem.ID] = map[string]behavior.Thresholds{}
		}
		kinds := []string{mt.Kind}
		if mt.Kind == "" {
			kinds = kinds[:0]
			for _, sp := range specs.Specs {
				kinds = append(kinds, sp.Kind)
			}
		}
		for _, k := range kinds {
			out[mem.ID][k] = behavior.Thresholds{Review: mt.Review, Block: mt.Block}
		}
	}
	return out, nil
}

// modelPollInterval is how soon a running server applies a model promoted
// from the CLI or another node (the API's promote applies at once).
const modelPollInterval = 5 * time.Second

// OpenPipeline opens the journal, restores the behaviour engine of bc (as
// EngineConfig builds it) from its last snapshot and the records after it,
// loads the members' models and returns the pipeline with a close function
// that checkpoints and closes the journal. The models are reloaded every few
// seconds until ctx is done.
func OpenPipeline(ctx context.Context, c config.Config, bc behavior.Config, db *sqlstore.DB, logger *slog.Logger) (*pipeline.Pipeline, func(), error) {
	pl, closePipeline, recoverPipeline, err := NewPipeline(ctx, c, bc, db, logger)
	if err != nil {
		return nil, nil, err
	}
	if err := recoverPipeline(ctx); err != nil {
		closePipeline()
		return nil, nil, err
	}
	return pl, closePipeline, nil
}

// NewPipeline is OpenPipeline in two steps, for a server that answers its
// probes while the journal is replayed: it opens the journal and returns
// the pipeline before recovery, with recover, which restores the engine,
// loads the models and starts their reloading until ctx is done. Until
// recover returns, the pipeline refuses events as starting (503) and its
// Ready reports it. The close function may be called whether or not recover
// ran or succeeded.
func NewPipeline(ctx context.Context, c config.Config, bc behavior.Config, db *sqlstore.DB, logger *slog.Logger) (pl *pipeline.Pipeline, closePipeline func(), recoverPipeline func(context.Context) error, err error) {
	// A secret seed keeps entity hashes unpredictable, so nobody can craft
	// IDs that collide in the profile tables. A new one each start is safe:
	// a snapshot restores the seed it was written with, and without one the
	// journal is replayed from scratch.
	bc.HashSeed = rand.Uint64()
	eng, err := behavior.NewEngine(bc)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("behaviour engine: %w", err)
	}
	j, err := journal.Open(ctx, c.JournalPath(), journal.Options{Logger: logger, SyncInterval: c.Engine.JournalSyncInterval.D()})
	if err != nil {
		return nil, nil, nil, &occsimore.Error{Code: occsimore.EUNAVAILABLE, Message: fmt.Sprintf("open journal: %v", err)}
	}
	pl = pipeline.New(pipeline.Config{
		CheckpointEvery: int(c.Engine.CheckpointEvery),
		Models:          db,
		Anomaly: pipeline.AnomalyConfig{
			Kinds:    c.Engine.AnomalyKinds,
			Disabled: len(c.Engine.AnomalyKinds) == 0,
			Warmup:   int(c.Engine.AnomalyWarmup),
			Review:   c.Engine.AnomalyReview,
		},
	}, eng, j, db, logger)
	recoverPipeline = func(ctx context.Context) error {
		start := time.Now()
		if err := pl.Recover(ctx); err != nil {
			return fmt.Errorf("recover profiles: %w", err)
		}
		logger.InfoContext(ctx, "profiles recovered", "seq", pl.Seq(), "seconds", time.Since(start).Seconds())
		// A model that fails to load is skipped: scoring goes on without it.
		if err := pl.ReloadModels(ctx); err != nil {
			logger.ErrorContext(ctx, "load models", "err", err)
		}
		go pl.WatchModels(ctx, modelPollInterval)
		return nil
	}
	return pl, func() {
		// The serve context is done by now; closing still gets its own time.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := pl.Close(cctx); err != nil {
			logger.ErrorContext(cctx, "close pipeline", "err", err)
		}
		if err := j.Close(); err != nil {
			logger.ErrorContext(cctx, "close journal", "err", err)
		}
	}, recoverPipeline, nil
}
