package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/config"
	occhttp "github.com/occsimore/occsimore/http"
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
			return m.serve(cmd.Context(), c, db, logger)
		},
	}
}

// serve wires the store into the API and the console and serves until ctx is
// done.
func (m *Main) serve(ctx context.Context, c config.Config, db *sqlstore.DB, logger *slog.Logger) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	wc := web.DefaultConfig()
	wc.SessionTTL = c.Console.SessionTTL.D()
	console, err := web.New(wc, db, db, db, logger, time.Now)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}

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
	srv.Members, srv.Tokens, srv.Users = db, db, db
	srv.Ready = db.Ping
	srv.Registry = reg
	srv.Now = time.Now
	srv.Console = console.Handler()

	ln, err := net.Listen("tcp", c.Server.Addr)
	if err != nil {
		return &occsimore.Error{Code: occsimore.EUNAVAILABLE, Message: fmt.Sprintf("listen on %s: %v", c.Server.Addr, err)}
	}
	url := "http://" + ln.Addr().String()
	logger.Info("serving", "url", url, "store", db.Driver())
	if m.ready != nil {
		m.ready(url)
	}
	go sweepSessions(ctx, db, logger)
	return srv.Serve(ctx, ln)
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
