package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/app"
	"github.com/occsimore/occsimore/attackreport"
	"github.com/occsimore/occsimore/auth"
	"github.com/occsimore/occsimore/config"
	"github.com/occsimore/occsimore/gcfloor"
	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/logs"
	"github.com/occsimore/occsimore/pipeline"
	"github.com/occsimore/occsimore/share"
	"github.com/occsimore/occsimore/sharing"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/occsimore/occsimore/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
)

func (m *Main) serveCommand() *cobra.Command {
	var addr, dataDir string
	cmd := &cobra.Command{
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
			if addr != "" {
				c.Server.Addr = addr
			}
			if dataDir != "" {
				c.Store.DataDir = dataDir
			}
			logger := m.logger(c)
			db, err := app.OpenStore(cmd.Context(), c)
			if err != nil {
				return err
			}
			defer db.Close()
			return m.serve(cmd.Context(), c, db, logger, nil)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "listen address, host:port (overrides server.addr, default 127.0.0.1:8080)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "directory of the embedded store, its journal and models (overrides store.data_dir)")
	return cmd
}

// serve wires the store into the API and the console and serves until ctx is
// done. started, if set, runs once the server listens (the demo feeds its
// traffic from there).
func (m *Main) serve(ctx context.Context, c config.Config, db *sqlstore.DB, logger *slog.Logger, started func(ctx context.Context, url string, pl *pipeline.Pipeline, logs *logs.Service)) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	bc, err := app.EngineConfig(ctx, c, db)
	if err != nil {
		return err
	}
	if m.engineBuilt != nil {
		m.engineBuilt(bc)
	}
	// The journal is recovered once the server listens, so that its probes
	// answer meanwhile (/readyz: not ready).
	pl, closePipeline, recoverPipeline, err := app.NewPipeline(ctx, c, bc, db, logger)
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
	// Sharing wraps the attack store and the event service: what logs
	// detect and what analysts label fraud are published once stored.
	var events occsimore.EventService = pl
	var attacks occsimore.AttackService = db
	if c.Sharing.Enabled {
		sh, err := openSharing(c, db, logger)
		if err != nil {
			return err
		}
		pl.SetMatcher(sh.anticipator)
		events = sharing.Events{EventService: pl, Producer: sh.producer, Logger: logger}
		attacks = sharing.Attacks{AttackService: db, Producer: sh.producer, Logger: logger}
		refreshCtx, stopRefresh := context.WithCancel(ctx)
		refreshDone := make(chan struct{})
		go func() { defer close(refreshDone); sh.anticipator.Loop(refreshCtx, c.Sharing.RefreshEvery.D()) }()
		defer func() { stopRefresh(); <-refreshDone }() // before the store closes
	}
	console.SetEvents(events, db)
	reports := attackreport.New(db, time.Now)
	console.SetAttacks(db, reports)

	logs, closeLogs, err := openLogs(ctx, c, db, attacks, pl, logger)
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
	hc.ShutdownDelay = c.Server.ShutdownDelay.D()
	if err := hc.Validate(); err != nil {
		return configError{err}
	}
	srv := occhttp.NewServer(hc, logger)
	srv.Members, srv.Tokens, srv.Users = members, tokens, db
	srv.Hasher = hasher
	srv.Ready = func(ctx context.Context) error {
		if err := pl.Ready(); err != nil {
			return err // recovering the journal, or closing
		}
		return db.Ping(ctx)
	}
	reg.MustRegister(pl.Collector(), logs.Collector(), collectors.NewBuildInfoCollector(),
		collectors.NewDBStatsCollector(db.SQL(), db.Driver()), buildInfoCollector(buildInfo()))
	srv.Registry = reg
	srv.Now = time.Now
	srv.Events, srv.Alerts = events, db
	srv.Models, srv.ReloadModels = db, pl.ReloadModels
	srv.Attacks, srv.AttackReports, srv.Logs = db, reports, logIngester{logs}
	srv.LogPush = occhttp.LogPushLimits{MaxBytes: c.Logs.PushMaxBytes, MaxBytesPerMember: c.Logs.PushMaxBytesPerMember, Wait: c.Logs.PushWait.D()}
	if srv.LogPush.Wait == 0 {
		srv.LogPush.Wait = -1 // logs.push_wait = "0s": refuse at once
	}
	srv.Console = console.Handler()
	srv.Wrap = m.wrap
	if srv.TAXII, err = taxiiConfig(c, db, logger); err != nil {
		return err
	}
	if pull, err := scheduledPull(ctx, c, db, logger); err != nil {
		return err
	} else if pull != nil {
		pullCtx, stopPull := context.WithCancel(ctx)
		pullDone := make(chan struct{})
		go func() { defer close(pullDone); pull.Loop(pullCtx, c.TAXII.PullEvery.D()) }()
		defer func() { stopPull(); <-pullDone }() // before the store closes
	}
	srv.Handle(backupRoute(c, db, pl, logger))
	srv.OnShutdown(pl.EndSubscriptions) // live alert streams end instead of holding shutdown

	ln, err := listen(ctx, c.Server.Addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	logger.Info("serving", "url", url, "store", db.Driver())
	// A failed recovery ends serve with its error.
	serveCtx, stopServe := context.WithCancelCause(ctx)
	defer stopServe(nil)
	recovered := make(chan struct{})
	go func() {
		defer close(recovered)
		if m.recovering != nil {
			m.recovering(url)
		}
		if err := recoverPipeline(serveCtx); err != nil {
			stopServe(err)
			return
		}
		logger.Info("ready", "url", url)
		if started != nil {
			started(ctx, url, pl, logs)
		}
		if m.ready != nil {
			m.ready(url)
		}
	}()
	// Closing the pipeline (deferred) must wait for its recovery.
	defer func() { stopServe(nil); <-recovered }()
	go sweepSessions(ctx, db, logger)
	// The floor is process-wide; it ends with serve, so GOGC is as found.
	gcCtx, stopGC := context.WithCancel(ctx)
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		gcfloor.Run(gcCtx, uint64(c.Server.GCHeapFloor))
	}()
	defer func() { stopGC(); <-gcDone }()
	err = srv.Serve(serveCtx, ln)
	if cause := context.Cause(serveCtx); ctx.Err() == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		return cause // the recovery failed
	}
	return err
}

// buildInfoCollector exports the version stamped in the binary, Prometheus's
// usual info metric (value 1, facts in labels), to join with other series.
func buildInfoCollector(bi occsimore.BuildInfo) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "occsimore_build_info",
		Help:        "Always 1; the labels say which build runs: version, commit, build date and Go version.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "commit": bi.Commit, "date": bi.Date, "goversion": bi.Go},
	})
	g.Set(1)
	return g
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

// sharingParts are the producer and the anticipator serve runs.
type sharingParts struct {
	producer    *sharing.Producer
	anticipator *sharing.Anticipator
}

// openSharing builds them from the sharing.* keys.
func openSharing(c config.Config, db *sqlstore.DB, logger *slog.Logger) (*sharingParts, error) {
	kr, err := c.Sharing.Keyring()
	if err != nil {
		return nil, configError{fmt.Errorf("sharing.key: %w", err)}
	}
	tlps, err := c.Sharing.TLPs()
	if err != nil {
		return nil, configError{fmt.Errorf("sharing.policy: %w", err)}
	}
	prod, err := sharing.NewProducer(sharing.Config{Keyring: kr, Collection: c.Sharing.Collection, TLP: tlps,
		Delay: c.Sharing.Delay.D(), Validity: c.Sharing.Validity.D(), Granularity: share.Granularity(c.Sharing.Granularity),
		Anonymous: c.Sharing.Anonymous, Taxii: db, Members: selfFinder{db}, Logger: logger})
	if err != nil {
		return nil, err
	}
	ant, err := sharing.NewAnticipator(sharing.AnticipatorConfig{Keyring: kr, Taxii: db, Members: db.AllMembers,
		Remediations: db, BanFor: c.Sharing.BanFor.D(), MaxObjects: c.Sharing.MaxObjects, Anonymous: c.Sharing.Anonymous, Logger: logger})
	if err != nil {
		return nil, err
	}
	return &sharingParts{producer: prod, anticipator: ant}, nil
}

// selfFinder finds a member as the member itself sees it.
type selfFinder struct{ db *sqlstore.DB }

func (f selfFinder) Member(ctx context.Context, id string) (*occsimore.Member, error) {
	return f.db.FindMember(ctx, &occsimore.Member{ID: id}, id)
}

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
