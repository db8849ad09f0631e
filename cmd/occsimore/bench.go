package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/simulate"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// benchReport is what the bench commands print.
type benchReport struct {
	What       string  `json:"what"`
	Events     int     `json:"events"`
	Errors     int     `json:"errors,omitempty"`
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"per_second"`
	Features   int     `json:"features,omitempty"`
	P50Micros  float64 `json:"p50_us"`
	P99Micros  float64 `json:"p99_us"`
	P999Micros float64 `json:"p999_us"`
	MaxMicros  float64 `json:"max_us"`
	// SendLag is how late the load generator sent requests after their
	// scheduled start: it is part of the latency measured, but the
	// generator's doing, not the server's.
	SendLagP50Micros float64 `json:"send_lag_p50_us,omitempty"`
	SendLagP99Micros float64 `json:"send_lag_p99_us,omitempty"`
	// FromSend is the latency from the moment each request was actually
	// sent, as load generators such as vegeta and hey measure it: the
	// server's own share, without the generator's lateness.
	FromSendP50Micros  float64 `json:"from_send_p50_us,omitempty"`
	FromSendP99Micros  float64 `json:"from_send_p99_us,omitempty"`
	FromSendP999Micros float64 `json:"from_send_p999_us,omitempty"`
	GoMaxProcs         int     `json:"gomaxprocs"`
	Arch               string  `json:"arch"`
	// Reference is the machine's speed just before and just after the
	// measurement, by a fixed CPU-bound peer (SHA-256 of 1 KiB blocks, on
	// the measuring goroutine), in MB/s. On a shared virtual machine the
	// same binary's throughput moves with it, so a figure is comparable
	// with another only beside its reference.
	ReferenceMBs []float64 `json:"reference_sha256_mb_s,omitempty"`
}

// referenceMBs runs the reference peer of benchReport.ReferenceMBs for about
// 150 ms and returns its speed in MB/s.
func referenceMBs() float64 {
	const blocks = 150_000
	var buf [1024]byte
	var sum [sha256.Size]byte
	start := time.Now()
	for range blocks {
		buf[0] = sum[0] // chain the blocks so that none can be skipped
		sum = sha256.Sum256(buf[:])
	}
	return blocks * float64(len(buf)) / time.Since(start).Seconds() / 1e6
}

func (m *Main) benchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput and latency (figures for docs/benchmarks.md)",
	}
	cmd.AddCommand(m.benchScoreCommand(), m.benchHTTPCommand(), m.benchDetectCommand())
	return cmd
}

func (m *Main) benchScoreCommand() *cobra.Command {
	var customers, days, batch int
	cmd := &cobra.Command{
		Use:   "score",
		Short: "In-process update-and-score throughput and per-event latency on one goroutine",
		Long: `Generate the handbook simulator's card transactions in memory, then feed them to a
fresh behaviour engine on one goroutine and report events per second and the
latency distribution of Process (score, then update). The engine takes its
profile specs from engine.specs_file, as the server does.

With --batch N, events go through ProcessBatch N at a time, which overlaps the
memory accesses of successive events (the pipeline uses 64); latency is then
per batch.

Each run also reports the machine's speed just before and after, by a fixed
peer (SHA-256 of 1 KiB blocks on the same goroutine): on a shared virtual
machine the same build's throughput moves with it.`,
		Example: "  occsimore bench score\n" +
			"  OCCSIMORE_ENGINE_SPECS_FILE=behavior/testdata/card-min.toml occsimore bench score --batch 64",
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if batch < 0 {
				return usageError{fmt.Errorf("--batch must be 0 (Process one event at a time) or more")}
			}
			bc, err := m.loadEngineConfig(cmd.Context(), nil)
			if err != nil {
				return err
			}
			cfg := simulate.DefaultCards()
			cfg.Customers, cfg.Days = customers, days
			cfg.Terminals = customers * 2
			w, err := simulate.NewCardWorld(cfg)
			if err != nil {
				return err
			}
			var evs []occsimore.Event
			for tx := range w.Transactions() {
				var ev occsimore.Event
				w.Event(tx, &ev)
				ev.MemberID = "bench"
				evs = append(evs, ev)
			}
			eng, err := behavior.NewEngine(bc)
			if err != nil {
				return err
			}
			before := referenceMBs()
			bar := progressbar.NewOptions(len(evs), progressbar.OptionSetWriter(m.Stderr),
				progressbar.OptionSetVisibility(!m.NoProgress),
				progressbar.OptionSetDescription("scoring"), progressbar.OptionThrottle(200*time.Millisecond))
			var rep benchReport
			if batch == 0 {
				lat := make([]time.Duration, len(evs))
				var res behavior.Result
				start := time.Now()
				errs := 0
				for i := range evs {
					t0 := time.Now()
					if err := eng.Process(&evs[i], &res); err != nil {
						errs++
					}
					lat[i] = time.Since(t0)
					if i&0xffff == 0 {
						bar.Set(i)
					}
				}
				elapsed := time.Since(start)
				bar.Exit()
				rep = latencyReport("in-process update and score (card.tx), one goroutine", lat, elapsed)
				rep.Errors, rep.Features = errs, res.NFeatures
			} else {
				res := make([]behavior.Result, batch)
				errsOf := make([]error, batch)
				lat := make([]time.Duration, 0, len(evs)/batch+1)
				start := time.Now()
				errs := 0
				for lo := 0; lo < len(evs); lo += batch {
					hi := min(lo+batch, len(evs))
					t0 := time.Now()
					errs += eng.ProcessBatch(evs[lo:hi], res[:hi-lo], errsOf[:hi-lo])
					lat = append(lat, time.Since(t0))
					if lo/batch&0x3ff == 0 {
						bar.Set(lo)
					}
				}
				elapsed := time.Since(start)
				bar.Exit()
				rep = latencyReport(fmt.Sprintf("in-process update and score (card.tx), one goroutine, ProcessBatch of %d (latency per batch)", batch), lat, elapsed)
				rep.Events, rep.PerSecond = len(evs), float64(len(evs))/elapsed.Seconds()
				rep.Errors, rep.Features = errs, res[0].NFeatures
			}
			rep.ReferenceMBs = []float64{before, referenceMBs()}
			return m.print(rep, func(w io.Writer) error { return printBench(w, rep) })
		},
	}
	cmd.Flags().IntVar(&customers, "customers", 5000, "simulated customers (cards)")
	cmd.Flags().IntVar(&days, "days", 60, "simulated days")
	cmd.Flags().IntVar(&batch, "batch", 0, "events per ProcessBatch call (0: Process, one event at a time)")
	return cmd
}

func (m *Main) benchHTTPCommand() *cobra.Command {
	var url, token string
	var rate int
	var duration, warmup time.Duration
	cmd := &cobra.Command{
		Use:   "http",
		Short: "Open-loop load of single-event POST /v1/events at a fixed rate",
		Long: `Send single card.tx events to a running server at a fixed rate, each request on
its own schedule (open loop), and report the latency from each request's
scheduled start, so that a stalled server shows in the tail instead of
slowing the load down (no coordinated omission). The latency from the moment
each request was actually sent is reported beside it: the difference is the
generator's own lateness (the Go runtime wakes a sleeping goroutine with
about a millisecond of granularity).`,
		Example: "  occsimore bench http --url http://127.0.0.1:8080 --token $TOKEN --rate 2000 --duration 20s",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if token == "" || rate <= 0 || duration <= 0 || warmup < 0 {
				return usageError{fmt.Errorf("--token, a positive --rate and --duration, and a --warmup of 0 or more are required")}
			}
			return m.benchHTTP(cmd.Context(), url, token, rate, warmup, duration)
		},
	}
	cmd.Flags().StringVar(&url, "url", "http://127.0.0.1:8080", "server base URL")
	cmd.Flags().StringVar(&token, "token", "", "bearer token with the ingest role")
	cmd.Flags().IntVar(&rate, "rate", 2000, "requests per second")
	cmd.Flags().DurationVar(&duration, "duration", 20*time.Second, "how long to send and measure")
	cmd.Flags().DurationVar(&warmup, "warmup", 0, "how long to send at the same rate before measuring (connections, new profiles)")
	return cmd
}

func (m *Main) benchHTTP(ctx context.Context, url, token string, rate int, warmup, duration time.Duration) error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}, Timeout: 10 * time.Second}
	// The generator's own garbage collections would delay sends and show as
	// server latency: collect only past 1 GiB, which a run of 20,000
	// requests does not reach.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 30))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	w := int(warmup.Seconds() * float64(rate)) // requests sent, not measured
	n := w + int(duration.Seconds()*float64(rate))
	lat := make([]time.Duration, n)
	lag := make([]time.Duration, n)
	fromSend := make([]time.Duration, n)
	failed := make([]bool, n)
	interval := time.Second / time.Duration(rate)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
		}
		wg.Go(func() {
			// The event happens when it is sent, as live traffic does.
			body := fmt.Appendf(nil, `{"kind":"card.tx","time":%q,"card":"c%d","terminal":"t%d","amount":%d.%02d,"country":"FR"}`,
				due.UTC().Format(time.RFC3339Nano), i%5000, i%800, 10+i%90, i%100)
			req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/events", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			sent := time.Now()
			lag[i] = sent.Sub(due)
			resp, err := client.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				failed[i] = resp.StatusCode != http.StatusOK
			} else {
				failed[i] = true
			}
			done := time.Now()
			lat[i], fromSend[i] = done.Sub(due), done.Sub(sent)
		})
	}
	wg.Wait()
	lat, lag, fromSend, failed = lat[w:], lag[w:], fromSend[w:], failed[w:]
	rep := latencyReport(fmt.Sprintf("POST /v1/events at %d requests/s, open loop", rate), lat, time.Since(start.Add(warmup)))
	lagRep := latencyReport("", lag, 0)
	rep.SendLagP50Micros, rep.SendLagP99Micros = lagRep.P50Micros, lagRep.P99Micros
	sendRep := latencyReport("", fromSend, 0)
	rep.FromSendP50Micros, rep.FromSendP99Micros, rep.FromSendP999Micros = sendRep.P50Micros, sendRep.P99Micros, sendRep.P999Micros
	for _, f := range failed {
		if f {
			rep.Errors++
		}
	}
	return m.print(rep, func(w io.Writer) error { return printBench(w, rep) })
}

func latencyReport(what string, lat []time.Duration, elapsed time.Duration) benchReport {
	slices.Sort(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e3
	}
	return benchReport{
		What: what, Events: len(lat), Seconds: elapsed.Seconds(), PerSecond: float64(len(lat)) / elapsed.Seconds(),
		P50Micros: q(0.50), P99Micros: q(0.99), P999Micros: q(0.999), MaxMicros: q(1),
		GoMaxProcs: runtime.GOMAXPROCS(0), Arch: runtime.GOARCH,
	}
}

func printBench(w io.Writer, r benchReport) error {
	fmt.Fprintf(w, "%s\n  %d events in %.2fs: %.0f/s", r.What, r.Events, r.Seconds, r.PerSecond)
	if r.Features > 0 {
		fmt.Fprintf(w, ", %d features", r.Features)
	}
	if r.Errors > 0 {
		fmt.Fprintf(w, ", %d errors", r.Errors)
	}
	_, err := fmt.Fprintf(w, "\n  latency p50 %.1fµs  p99 %.1fµs  p99.9 %.1fµs  max %.1fµs (GOMAXPROCS %d)\n",
		r.P50Micros, r.P99Micros, r.P999Micros, r.MaxMicros, r.GoMaxProcs)
	if err == nil && len(r.ReferenceMBs) == 2 {
		_, err = fmt.Fprintf(w, "  machine reference, SHA-256 on the same goroutine: %.0f MB/s before, %.0f MB/s after\n",
			r.ReferenceMBs[0], r.ReferenceMBs[1])
	}
	if err == nil && r.SendLagP99Micros > 0 {
		_, err = fmt.Fprintf(w, "  of which sent late by the load generator: p50 %.1fµs  p99 %.1fµs\n",
			r.SendLagP50Micros, r.SendLagP99Micros)
	}
	if err == nil && r.FromSendP99Micros > 0 {
		_, err = fmt.Fprintf(w, "  latency from the actual send: p50 %.1fµs  p99 %.1fµs  p99.9 %.1fµs\n",
			r.FromSendP50Micros, r.FromSendP99Micros, r.FromSendP999Micros)
	}
	return err
}
