package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/config"
	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/logs"
	"github.com/occsimore/occsimore/logs/parse"
	"github.com/occsimore/occsimore/logs/scenario"
	"github.com/occsimore/occsimore/logs/source"
	"github.com/occsimore/occsimore/pipeline"
	"github.com/occsimore/occsimore/sqlstore"
)

// openLogs builds the server's attack detection from logs: the service
// every log source feeds, the syslog listener when configured, and the
// ticker that closes counter windows. The returned function stops them.
func openLogs(ctx context.Context, c config.Config, db *sqlstore.DB, attacks occsimore.AttackService, pl *pipeline.Pipeline, logger *slog.Logger) (*logs.Service, func(), error) {
	scenarios, err := loadScenarios(c.Logs.ScenariosDir)
	if err != nil {
		return nil, nil, configError{fmt.Errorf("logs.scenarios_dir: %w", err)}
	}
	cfg := logs.Config{
		Scenarios: scenarios,
		Detector:  scenario.Options{SkipPrivate: c.Logs.SkipPrivate},
		Attacks:   attacks,
		Events:    pipelineSink{pl},
		Logger:    logger,
	}
	geo := openGeoIP(c.Logs.GeoIPDir, logger)
	if geo != nil {
		cfg.GeoIP = geo
	}
	svc, err := logs.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var syslog *source.Syslog
	if c.Logs.SyslogUDP != "" || c.Logs.SyslogTCP != "" {
		mem, err := db.FindMemberBySlug(ctx, c.Logs.SyslogMember)
		if err != nil {
			cancel()
			return nil, nil, configError{fmt.Errorf("logs.syslog_member %q: %w", c.Logs.SyslogMember, err)}
		}
		syslog, err = source.ListenSyslog(ctx, source.SyslogConfig{
			Member: mem.ID, UDP: c.Logs.SyslogUDP, TCP: c.Logs.SyslogTCP, MaxMessageSize: int(c.Logs.MaxMessageBytes),
			MaxConns: c.Logs.SyslogMaxConns, MaxConnsPerAddr: c.Logs.SyslogMaxConnsPerAddr, IdleTimeout: c.Logs.SyslogIdleTimeout.D(),
		}, logger)
		if err != nil {
			cancel()
			return nil, nil, fmt.Errorf("syslog listener: %w", err)
		}
		logger.Info("syslog listening", "udp", syslog.UDPAddr(), "tcp", syslog.TCPAddr(), "member", mem.Slug)
		go func() {
			err := syslog.Serve(ctx, func(ctx context.Context, l source.Line) error {
				// A store error is logged, not returned: it must not stop the
				// listener, and the detectors have already moved on.
				// Year-less timestamps: none later than when the message came.
				years := &parse.Years{NotAfter: l.Received}
				if _, err := svc.IngestYears(ctx, l.Member, l.Host, years, [][]byte{l.Text}); err != nil {
					logger.ErrorContext(ctx, "syslog line", "err", err)
				}
				return nil
			})
			if err != nil {
				logger.Error("syslog listener stopped", "err", err)
			}
		}()
	}
	go func() {
		defer close(done)
		tick := time.NewTicker(c.Logs.FlushEvery.D())
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				if err := svc.FlushAll(ctx, now); err != nil {
					logger.ErrorContext(ctx, "flush log scenarios", "err", err)
				}
			}
		}
	}()
	return svc, func() {
		cancel()
		<-done
		if syslog != nil {
			syslog.Close()
		}
		if geo != nil {
			geo.Close()
		}
	}, nil
}

// pipelineSink submits the behaviour events of logs (cloud.api) to the
// engine; their alerts land in the Alerts queue like any other.
type pipelineSink struct{ pl *pipeline.Pipeline }

func (s pipelineSink) SubmitEvents(ctx context.Context, memberID string, evs []occsimore.Event) error {
	// serve listens (syslog too) while the journal is replayed: the
	// events of lines received meanwhile wait for it rather than be lost.
	select {
	case <-s.pl.Recovered():
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.pl.Submit(ctx, memberID, evs, make([]occsimore.Scored, len(evs)))
}

// logIngester adapts the service to the API's POST /v1/logs.
type logIngester struct{ svc *logs.Service }

func (l logIngester) IngestLines(ctx context.Context, memberID, host string, lines [][]byte) (occhttp.LogIngestResult, error) {
	res, err := l.svc.Ingest(ctx, memberID, host, lines)
	return occhttp.LogIngestResult{Accepted: res.Parsed, Unparsed: res.Unparsed}, err
}

func (l logIngester) LogStats(_ context.Context, memberID string) (occsimore.LogStats, error) {
	return l.svc.Stats(memberID), nil
}
