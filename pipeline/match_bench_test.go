package pipeline_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/journal"
	"github.com/occsimore/occsimore/pipeline"
	"github.com/occsimore/occsimore/share"
	"github.com/occsimore/occsimore/sharing"
	"github.com/occsimore/occsimore/simulate"
	"github.com/occsimore/occsimore/sqlite"
	"github.com/occsimore/occsimore/taxii"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type finder struct{ m map[string]*occsimore.Member }

func (f finder) Member(_ context.Context, id string) (*occsimore.Member, error) { return f.m[id], nil }

// anticipator returns an anticipator whose member "bank" has received 4,000
// indicators from a peer: 2,000 attacker addresses, 1,000 terminal tokens
// (hits are the terminals of hot, 10 of the handbook's terminals, the rest
// terminals it does not have) and 1,000 device tokens, so that every
// payment costs its terminal's lookup (a cached outcome or an HMAC).
func anticipator(b *testing.B, hot []string) (*sharing.Anticipator, string) {
	ctx := b.Context()
	db, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	bank := &occsimore.Member{Slug: "bank", Name: "Bank", Sector: "banking"}
	peer := &occsimore.Member{Slug: "peer", Name: "Peer", Sector: "banking"}
	for _, m := range []*occsimore.Member{bank, peer} {
		if err := db.CreateMember(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	col := &taxii.Collection{Title: "banking"}
	if err := db.CreateCollection(ctx, col); err != nil {
		b.Fatal(err)
	}
	for _, m := range []*occsimore.Member{bank, peer} {
		if err := db.Grant(ctx, col.ID, m.ID, true, true); err != nil {
			b.Fatal(err)
		}
	}
	kr, err := share.NewKeyring(time.Hour, share.Key{ID: "k1", Secret: []byte(strings.Repeat("k", 32))})
	if err != nil {
		b.Fatal(err)
	}
	prod, err := sharing.NewProducer(sharing.Config{Keyring: kr, Collection: col.ID, Taxii: db,
		Members: finder{map[string]*occsimore.Member{peer.ID: peer}}})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	var cands []share.Candidate
	for i := range 2000 {
		ip := fmt.Sprintf("45.%d.%d.%d", i/65536, i/256%256, i%256)
		if i == 0 {
			ip = "10.0.1.2"
		}
		cands = append(cands, share.Candidate{Origin: share.OriginAttack, Scenario: "ssh-bf", Kind: share.KindIP, Value: ip, Confidence: 80, At: now, Count: 1})
	}
	for _, k := range []share.Kind{share.KindTerminal, share.KindDevice} {
		for i := range 1000 {
			v := fmt.Sprintf("X%06d", i)
			if k == share.KindTerminal && i < len(hot) {
				v = hot[i]
			}
			cands = append(cands, share.Candidate{Origin: share.OriginLabel, Scenario: "fraud-label", Kind: k, Value: v, Confidence: 90, At: now, Count: 1})
		}
	}
	if n, err := prod.Publish(ctx, peer.ID, cands); err != nil || n != len(cands) {
		b.Fatalf("publish: %d, %v", n, err)
	}
	ant, err := sharing.NewAnticipator(sharing.AnticipatorConfig{Keyring: kr, Taxii: db, Members: db.AllMembers, BanFor: -1})
	if err != nil {
		b.Fatal(err)
	}
	if err := ant.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	if n := ant.Len(bank.ID); n != len(cands) {
		b.Fatalf("bank's index holds %d values, want %d", n, len(cands))
	}
	return ant, bank.ID
}

// BenchmarkSubmitMatching scores the handbook simulator's payments (5,000
// cards, 10,000 terminals, the first 100,000 transactions, repeated later in
// time for larger b.N) through the pipeline (journal, engine, alerts) in
// batches of 64, with matching against shared indicators off (the peer)
// and on. Issue 14 bounds the cost of matching at 5 % of event scoring.
func BenchmarkSubmitMatching(b *testing.B) {
	cfg := simulate.DefaultCards()
	cfg.Days, cfg.Seed = 60, 11
	w, err := simulate.NewCardWorld(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var pool []occsimore.Event
	for tx := range w.Transactions() {
		var ev occsimore.Event
		w.Event(tx, &ev)
		pool = append(pool, ev)
		if len(pool) == 100_000 {
			break
		}
	}
	var hot []string
	for i := range 10 {
		hot = append(hot, simulate.TerminalID(i*997))
	}
	ant, member := anticipator(b, hot)
	span := pool[len(pool)-1].Time.Sub(pool[0].Time) + time.Hour
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			j, err := journal.Open(b.Context(), b.TempDir(), journal.Options{SyncInterval: 10 * time.Millisecond})
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			p := pipeline.New(pipeline.Config{CheckpointEvery: -1, MaxFuture: -1}, newEngine(b), j, newMemAlerts(), slog.New(slog.DiscardHandler))
			if err := p.Recover(b.Context()); err != nil {
				b.Fatal(err)
			}
			if on {
				p.SetMatcher(ant)
			}
			batch := make([]occsimore.Event, 64)
			out := make([]occsimore.Scored, 64)
			matched := 0
			b.ReportAllocs()
			start := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i += len(batch) {
				n := min(len(batch), b.N-i)
				for k := range n {
					e := i + k
					batch[k] = pool[e%len(pool)]
					batch[k].Time = batch[k].Time.Add(time.Duration(e/len(pool)) * span)
					out[k] = occsimore.Scored{}
				}
				if err := p.Submit(b.Context(), member, batch[:n], out[:n]); err != nil {
					b.Fatal(err)
				}
				for k := range n {
					if len(out[k].Reasons) > 0 && out[k].Reasons[0].Code == sharing.ReasonCode {
						matched++
					}
				}
			}
			b.StopTimer()
			if d := cpuTime() - start; d > 0 {
				b.ReportMetric(float64(b.N)/d.Seconds(), "events/cpu-s")
			}
			b.ReportMetric(float64(matched)/float64(b.N), "matched/event")
			if b.N >= 1000 && on != (matched > 0) { // the first run, of one event, has no login
				b.Fatalf("matching %s, %d events matched", name, matched)
			}
		})
	}
}

// threadCPU is the CPU time of the calling OS thread (Linux RUSAGE_THREAD).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSubmitMatchingAB is the same comparison made robust to a shared
// machine: two pipelines, matching off and on, get the same batches of 64
// handbook payments alternately, and each Submit is timed by the CPU time of
// the goroutine's locked OS thread (the engine runs on the caller's
// thread), so that neither another process nor the garbage collector's
// background work counts, and drift hits both alike. It reports the CPU
// time per event of each and the overhead of matching.
func BenchmarkSubmitMatchingAB(b *testing.B) {
	cfg := simulate.DefaultCards()
	cfg.Days, cfg.Seed = 60, 11
	w, err := simulate.NewCardWorld(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var pool []occsimore.Event
	for tx := range w.Transactions() {
		var ev occsimore.Event
		w.Event(tx, &ev)
		pool = append(pool, ev)
		if len(pool) == 100_000 {
			break
		}
	}
	var hot []string
	for i := range 10 {
		hot = append(hot, simulate.TerminalID(i*997))
	}
	ant, member := anticipator(b, hot)
	span := pool[len(pool)-1].Time.Sub(pool[0].Time) + time.Hour
	var ps [2]*pipeline.Pipeline
	for i := range ps {
		j, err := journal.Open(b.Context(), b.TempDir(), journal.Options{SyncInterval: 10 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		defer j.Close()
		ps[i] = pipeline.New(pipeline.Config{CheckpointEvery: -1, MaxFuture: -1}, newEngine(b), j, newMemAlerts(), slog.New(slog.DiscardHandler))
		if err := ps[i].Recover(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	ps[1].SetMatcher(ant)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	batch := make([]occsimore.Event, 64)
	out := make([]occsimore.Scored, 64)
	var spent [2]time.Duration
	matched := 0
	b.ResetTimer()
	for i := 0; i < b.N; i += len(batch) {
		n := min(len(batch), b.N-i)
		for r := range 2 {
			// Alternate which goes first, so that neither gets the warmer
			// caches every time.
			k := r ^ (i / len(batch) & 1)
			for e := range n {
				batch[e] = pool[(i+e)%len(pool)]
				batch[e].Time = batch[e].Time.Add(time.Duration((i+e)/len(pool)) * span)
			}
			t0 := threadCPU()
			if err := ps[k].Submit(b.Context(), member, batch[:n], out[:n]); err != nil {
				b.Fatal(err)
			}
			spent[k] += threadCPU() - t0
			if k == 1 {
				for e := range n {
					if len(out[e].Reasons) > 0 && out[e].Reasons[0].Code == sharing.ReasonCode {
						matched++
					}
				}
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(spent[0].Nanoseconds())/float64(b.N), "off-cpu-ns/event")
	b.ReportMetric(float64(spent[1].Nanoseconds())/float64(b.N), "on-cpu-ns/event")
	if spent[0] > 0 {
		b.ReportMetric(100*(float64(spent[1])/float64(spent[0])-1), "overhead-%")
	}
	b.ReportMetric(float64(matched)/float64(b.N), "matched/event")
}
