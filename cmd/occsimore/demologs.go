package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/logs"
	"github.com/occsimore/occsimore/simulate"
)

// demoLogProfiles give each demo member its own attack rate and hosts, so
// their Attacks pages differ.
var demoLogProfiles = map[string]struct {
	perDay float64
	hosts  []string
}{
	"banque-alpes":    {60, []string{"ebanking-1", "ebanking-2", "bastion"}},
	"pharmagen":       {35, []string{"portal", "vpn-gw"}},
	"meteo-nationale": {25, []string{"api-open-data", "www"}},
}

// streamDemoLogs feeds a member's simulated sshd and access logs through
// the log detection: eight weeks of history at once, so the Attacks page has
// a trend and a forecast, then today's lines as the clock reaches them.
// Today is the simulator's wave day, so a rise shows as the day goes on.
// loaded is called once, when the history is in or the stream gives up.
func streamDemoLogs(ctx context.Context, logs *logs.Service, mem *occsimore.Member, seed uint64, logger *slog.Logger, loaded func()) {
	loaded = sync.OnceFunc(loaded)
	defer loaded()
	cfg := simulate.DefaultAttackLogs()
	now := time.Now().UTC()
	cfg.Days = 56
	cfg.Start = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1-cfg.Days)
	cfg.Seed = seed
	cfg.BackgroundPerDay = 300
	if p, ok := demoLogProfiles[mem.Slug]; ok {
		cfg.AttacksPerDay, cfg.Hosts = p.perDay, p.hosts
	}
	const chunk = 2000
	batch := make([][]byte, 0, chunk)
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		if _, err := logs.Ingest(ctx, mem.ID, "", batch); err != nil {
			if ctx.Err() == nil {
				logger.Error("demo logs", "member", mem.Slug, "err", err)
			}
			return false
		}
		batch = batch[:0]
		return true
	}
	var today []simulate.LogLine
	for d := range cfg.Days {
		lines := cfg.Day(d)
		if d == cfg.Days-1 {
			today = lines
			break
		}
		for _, l := range lines {
			batch = append(batch, []byte(l.Text))
			if len(batch) == chunk && !flush() {
				return
			}
		}
	}
	for len(today) > 0 && !today[0].Time.After(time.Now()) {
		batch = append(batch, []byte(today[0].Text))
		today = today[1:]
	}
	if !flush() {
		return
	}
	logger.Info("demo logs: history loaded", "member", mem.Slug, "days", cfg.Days-1)
	loaded()
	for _, l := range today {
		if wait := time.Until(l.Time); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		batch = append(batch, []byte(l.Text))
		if !flush() {
			return
		}
	}
}
