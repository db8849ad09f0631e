package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/pipeline"
	"github.com/occsimore/occsimore/simulate"
)

// demoLag is how far the demo's simulated clock starts behind the wall
// clock. The stream runs faster than real time, so this is how long it can
// run before its events would come from the future: at the default speed-up
// of 600, 90 days last about 3.6 hours.
const demoLag = 90 * 24 * time.Hour

// streamDemo feeds a member's simulated cards and logins, with planted habit
// ruptures, into the pipeline as they fall due, until ctx is done.
func streamDemo(ctx context.Context, pl *pipeline.Pipeline, mem *occsimore.Member, seed uint64, logger *slog.Logger) {
	cfg := simulate.DefaultLive()
	cfg.Member, cfg.Seed = mem.ID, seed
	cfg.WallStart = time.Now()
	cfg.Start = cfg.WallStart.Add(-demoLag)
	live, err := simulate.NewLive(cfg)
	if err != nil {
		logger.Error("demo traffic", "member", mem.Slug, "err", err)
		return
	}
	const chunk = 1000
	batch := make([]occsimore.Event, 0, chunk)
	out := make([]occsimore.Scored, chunk)
	var sent, alerts, planted int
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		if err := pl.Submit(ctx, mem.ID, batch, out[:len(batch)]); err != nil {
			if ctx.Err() == nil {
				logger.Error("demo traffic", "member", mem.Slug, "err", err)
			}
			return false
		}
		for _, sc := range out[:len(batch)] {
			if sc.AlertID != "" {
				alerts++
			}
		}
		sent += len(batch)
		batch = batch[:0]
		return true
	}
	report := time.NewTicker(time.Minute)
	defer report.Stop()
	for {
		le := live.Next()
		if wait := time.Until(le.Due); wait > 0 {
			if !flush() {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-report.C:
				logger.Info("demo traffic", "member", mem.Slug, "events", sent, "planted", planted, "alerts", alerts)
			case <-time.After(wait):
			}
		}
		if le.Event.Time.After(time.Now()) {
			flush()
			logger.Info("demo traffic caught up with the clock; restart the demo for more", "member", mem.Slug)
			return
		}
		if le.Plant != "" {
			planted++
		}
		batch = append(batch, le.Event)
		if len(batch) == chunk && !flush() {
			return
		}
	}
}
