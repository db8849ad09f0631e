package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/config"
	"github.com/occsimore/occsimore/gcfloor"
	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/journal"
	"github.com/occsimore/occsimore/logingest"
	"github.com/occsimore/occsimore/pipeline"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/occsimore/occsimore/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
)

func (m *Main) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the API and the web console until SIGINT or SIGTERM",
		Long: `Run the HTTP API (/v1, bearer tokens), the web console, /healthz, /readyz and
/metrics. SIGINT or SIGTERM stops accepting connections and lets requests in
flight finish within server.shutdown_timeout.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := m.loadConfig()
			if err != nil {
				return err
			}
			logger := m.logger(c)
			db, err := openStore(cmd.Context(), c)
			if err != nil {
				return err
			}
			defer db.Close()
			return m.serve(cmd.Context(), c, db, logger, nil)
		},
	}
}

// serve wires the store into the API and the console and serves until ctx is
// done. started, if set, runs once the server listens (the demo feeds its
// traffic from there).
func (m *Main) serve(ctx context.Context, c config.Config, db *sqlstore.DB, logger *slog.Logger, started func(ctx context.Context, url string, pl *pipeline.Pipeline, logs *logingest.Service)) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	pl, closePipeline, err := openPipeline(ctx, c, db, logger)
	if err != nil {
		return err
	}
	defer closePipeline()

	wc := web.DefaultConfig()
	wc.SessionTTL = c.Console.SessionTTL.D()
	wc.Streams = web.StreamLimits{PerSession: int(c.Console.MaxStreamsPerSession), PerMember: int(c.Console.MaxStreamsPerMember),
		Total: int(c.Console.MaxStreams), WriteTimeout: c.Console.StreamWriteTimeout.D()}
	wc.SignInBudget = web.SignInBudget{Rate: c.Console.SignInRate, Burst: int(c.Console.SignInBurst),
		DeviceRate: c.Console.DeviceSignInRate, DeviceBurst: int(c.Console.DeviceSignInBurst)}
	if wc.DeviceKey, err = loadOrCreateKey(c.DeviceKeyPath()); err != nil {
		return err
	}
	// One bound on concurrent argon2 work for the console and the API.
	hasher := auth.NewHasher(wc.Argon2, int(c.Server.HashSlots), 10*time.Second)
	wc.Hasher = hasher
	// Both front ends share the caches, so a revocation in either applies at
	// once to both.
	tokens := auth.NewTokenCache(db, c.Server.TokenCacheTTL.D(), time.Now)
	members := auth.NewMemberCache(db)
	console, err := web.New(wc, members, tokens, db, logger, time.Now)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	console.SetEvents(pl, db)
	console.SetAttacks(db)

	logs, closeLogs, err := openLogs(ctx, c, db, pl, logger)
	if err != nil {
		return err
	}
	defer closeLogs()

	hc := occhttp.DefaultConfig()
	hc.Addr = c.Server.Addr
	hc.MaxBodyBytes = c.Server.MaxBodyBytes
	hc.ReadHeaderTimeout = c.Server.ReadHeaderTimeout.D()
	hc.ReadTimeout = c.Server.ReadTimeout.D()
	hc.WriteTimeout = c.Server.WriteTimeout.D()
	hc.IdleTimeout = c.Server.IdleTimeout.D()
	hc.ShutdownTimeout = c.Server.ShutdownTimeout.D()
	if err := hc.Validate(); err != nil {
		return configError{err}
	}
	srv := occhttp.NewServer(hc, logger)
	srv.Members, srv.Tokens, srv.Users = members, tokens, db
	srv.Hasher = hasher
	srv.Ready = db.Ping
	srv.Registry = reg
	srv.Now = time.Now
	srv.Events, srv.Alerts = pl, db
	srv.Models, srv.ReloadModels = db, pl.ReloadModels
	srv.Attacks, srv.Logs = db, logIngester{logs}
	srv.LogPush = occhttp.LogPushLimits{MaxBytes: c.Logs.PushMaxBytes, MaxBytesPerMember: c.Logs.PushMaxBytesPerMember, Wait: c.Logs.PushWait.D()}
	if srv.LogPush.Wait == 0 {
		srv.LogPush.Wait = -1 // logs.push_wait = "0s": refuse at once
	}
	srv.Console = console.Handler()
	srv.OnShutdown(pl.EndSubscriptions) // live alert streams end instead of holding shutdown

	ln, err := net.Listen("tcp", c.Server.Addr)
	if err != nil {
		return &occsimore.Error{Code: occsimore.EUNAVAILABLE, Message: fmt.Sprintf("listen on %s: %v", c.Server.Addr, err)}
	}
	url := "http://" + ln.Addr().String()
	logger.Info("serving", "url", url, "store", db.Driver())
	if started != nil {
		started(ctx, url, pl, logs)
	}
	if m.ready != nil {
		m.ready(url)
	}
	go sweepSessions(ctx, db, logger)
	// The floor is process-wide; it ends with serve, so GOGC is as found.
	gcCtx, stopGC := context.WithCancel(ctx)
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		gcfloor.Run(gcCtx, uint64(c.Server.GCHeapFloor))
	}()
	defer func() { stopGC(); <-gcDone }()
	return srv.Serve(ctx, ln)
}

// loadOrCreateKey returns the 32-byte key in path (64 hex digits), creating
// the file (mode 0600) with a random key when it does not exist, so that a
// key outlives restarts.
func loadOrCreateKey(path string) ([]byte, error) {
	fail := func(err error) error {
		return &occsimore.Error{Code: occsimore.EUNAVAILABLE, Message: fmt.Sprintf("device cookie key %s: %v", path, err)}
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		crand.Read(key)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fail(err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return loadOrCreateKey(path) // another process made it first
		} else if err != nil {
			return nil, fail(err)
		}
		_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			os.Remove(path)
			return nil, fail(err)
		}
		return key, nil
	} else if err != nil {
		return nil, fail(err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < 32 {
		return nil, configError{fmt.Errorf("device cookie key %s: want at least 64 hex digits", path)}
	}
	return key, nil
}

// modelPollInterval is how soon a running server applies a model promoted
// from the CLI or another node (the API's promote applies at once).
const modelPollInterval = 5 * time.Second

// sweepSessions deletes expired console sessions every few minutes.
func sweepSessions(ctx context.Context, db *sqlstore.DB, logger *slog.Logger) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n, err := db.DeleteExpiredSessions(ctx, now); err != nil {
				logger.Warn("sweep sessions", "err", err)
			} else if n > 0 {
				logger.Debug("swept sessions", "deleted", n)
			}
		}
	}
}

// openPipeline opens the journal, restores the behaviour engine from its last
// snapshot and the records after it, and returns the pipeline with a close
// function that checkpoints and closes the journal.
func openPipeline(ctx context.Context, c config.Config, db *sqlstore.DB, logger *slog.Logger) (*pipeline.Pipeline, func(), error) {
	bc := behavior.DefaultConfig()
	bc.MaxLateness = c.Engine.MaxLateness.D()
	// A secret seed keeps entity hashes unpredictable, so nobody can craft
	// IDs that collide in the profile tables. A new one each start is safe:
	// a snapshot restores the seed it was written with, and without one the
	// journal is replayed from scratch.
	bc.HashSeed = rand.Uint64()
	if c.Engine.SpecsFile != "" {
		specs, err := config.LoadSpecs(c.Engine.SpecsFile)
		if err != nil {
			return nil, nil, configError{err}
		}
		bc.Specs = specs.Specs
		if bc.Thresholds, err = memberThresholds(ctx, db, specs); err != nil {
			return nil, nil, configError{err}
		}
	}
	eng, err := behavior.NewEngine(bc)
	if err != nil {
		return nil, nil, fmt.Errorf("behaviour engine: %w", err)
	}
	j, err := journal.Open(ctx, c.JournalPath(), journal.Options{Logger: logger, SyncInterval: c.Engine.JournalSyncInterval.D()})
	if err != nil {
		return nil, nil, &occsimore.Error{Code: occsimore.EUNAVAILABLE, Message: fmt.Sprintf("open journal: %v", err)}
	}
	pl := pipeline.New(pipeline.Config{
		CheckpointEvery: int(c.Engine.CheckpointEvery),
		Models:          db,
		Anomaly: pipeline.AnomalyConfig{
			Kinds:    c.Engine.AnomalyKinds,
			Disabled: len(c.Engine.AnomalyKinds) == 0,
			Warmup:   int(c.Engine.AnomalyWarmup),
			Review:   c.Engine.AnomalyReview,
		},
	}, eng, j, db, logger)
	start := time.Now()
	if err := pl.Recover(ctx); err != nil {
		j.Close()
		return nil, nil, fmt.Errorf("recover profiles: %w", err)
	}
	logger.Info("profiles recovered", "seq", pl.Seq(), "took", time.Since(start).Round(time.Millisecond))
	// A model that fails to load is skipped: scoring goes on without it.
	if err := pl.ReloadModels(ctx); err != nil {
		logger.Error("load models", "err", err)
	}
	go pl.WatchModels(ctx, modelPollInterval)
	return pl, func() {
		// The serve context is done by now; closing still gets its own time.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := pl.Close(cctx); err != nil {
			logger.Error("close pipeline", "err", err)
		}
		if err := j.Close(); err != nil {
			logger.Error("close journal", "err", err)
		}
	}, nil
}

// memberThresholds resolves the member slugs of a specs file to the
// engine's per-member, per-kind thresholds.
func memberThresholds(ctx context.Context, db *sqlstore.DB, specs config.Specs) (map[string]map[string]behavior.Thresholds, error) {
	out := map[string]map[string]behavior.Thresholds{}
	for _, mt := range specs.Members {
		mem, err := db.FindMemberBySlug(ctx, mt.Slug)
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
