package pipeline_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/journal"
	"github.com/occsimore/occsimore/pipeline"
)

// crashDirEnv, when set, makes TestCrashChild run as the child process of
// TestKill9 over the journal in that directory.
const crashDirEnv = "OCCSIMORE_CRASH_CHILD_DIR"

// The child's configuration: small segments and frequent checkpoints so that
// a kill lands amid rotations and snapshots too.
var (
	crashPipelineConfig = pipeline.Config{CheckpointEvery: 250, Thresholds: lowThresholds}
	crashJournalOptions = journal.Options{SegmentSize: 32 << 10}
)

// TestCrashChild is the process TestKill9 starts and kills. It speaks a line
// protocol: it writes "ready <seq>" once recovered; reads events as NDJSON,
// an empty line ending each batch, and writes "ack <seq> <n>" once Submit of
// n events returned; on "state <path>" it writes the engine's snapshot to
// path and answers "state"; it exits at the end of its input.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("runs only as the child process of TestKill9")
	}
	ctx := t.Context()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts := crashJournalOptions
	opts.Logger = logger
	j, err := journal.Open(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	eng := newEngine(t)
	p := pipeline.New(crashPipelineConfig, eng, j, newMemAlerts(), logger)
	if err := p.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ready %d\n", p.Seq())

	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(nil, 1<<20)
	var batch []occsimore.Event
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			out := make([]occsimore.Scored, len(batch))
			if err := p.Submit(ctx, member, batch, out); err != nil {
				t.Fatal(err)
			}
			fmt.Printf("ack %d %d\n", p.Seq(), len(batch))
			batch = batch[:0]
		case strings.HasPrefix(string(line), "state "):
			f, err := os.Create(strings.TrimPrefix(string(line), "state "))
			if err != nil {
				t.Fatal(err)
			}
			if err := eng.WriteSnapshot(f); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			fmt.Println("state")
		default:
			var ev occsimore.Event
			if err := json.Unmarshal(line, &ev); err != nil {
				t.Fatal(err)
			}
			batch = append(batch, ev)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// child is a running TestCrashChild.
type child struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Scanner
	ready uint64 // sequence number recovered
}

func startChild(ctx context.Context, t *testing.T, dir string) *child {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewScanner(outPipe)}
	f := c.expect(t, "ready")
	if len(f) != 2 {
		t.Fatalf("child said %q", f)
	}
	c.ready, _ = strconv.ParseUint(f[1], 10, 64)
	return c
}

// expect returns the fields of the child's next line that starts with word.
func (c *child) expect(t *testing.T, word string) []string {
	t.Helper()
	for c.out.Scan() {
		if f := strings.Fields(c.out.Text()); len(f) > 0 && f[0] == word {
			return f
		}
	}
	t.Fatalf("child ended before %q: %v", word, c.out.Err())
	return nil
}

// writeBatches sends batches to the child and returns the first error.
func writeBatches(w io.Writer, batches [][]occsimore.Event) error {
	bw := bufio.NewWriter(w)
	for _, b := range batches {
		for _, ev := range b {
			line, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			bw.Write(line)
			bw.WriteByte('\n')
		}
		bw.WriteByte('\n')
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// TestKill9 streams events to a child process, kills it with SIGKILL at a
// seeded point, restarts it, and checks that (a) every acknowledged batch
// survived and (b) once the rest is fed, the engine equals one that ran
// through every batch without interruption. One plan kills twice in a row.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	const nBatches, batchSize = 40, 40
	evs := genEvents(42, member, "k", nBatches*batchSize)
	batches := make([][]occsimore.Event, nBatches)
	for i := range batches {
		batches[i] = evs[i*batchSize : (i+1)*batchSize]
	}
	want := uninterrupted(t, batches)

	r := rand.New(rand.NewPCG(2024, 9))
	plans := [][]int{ // acknowledged batches after which to kill, per run
		{1 + r.IntN(8)},
		{10 + r.IntN(15)},
		{25 + r.IntN(14)},
		{3 + r.IntN(10), 5 + r.IntN(10)},
	}
	for _, plan := range plans {
		t.Run(fmt.Sprint(plan), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
			defer cancel()
			dir := t.TempDir()
			next := 0 // first batch not known to be durable
			for _, killAfter := range plan {
				c := startChild(ctx, t, dir)
				if got, want := c.ready, uint64(next); got < want {
					t.Fatalf("recovered up to batch %d, but %d were acknowledged", got, want)
				}
				next = int(c.ready)
				acked := kill(ctx, t, c, next, batches[next:], killAfter, r)
				t.Logf("killed after %d acknowledged batches (up to %d)", acked, next+acked)
				next += acked
			}

			c := startChild(ctx, t, dir)
			if got, want := c.ready, uint64(next); got < want {
				t.Fatalf("(a) recovered up to batch %d, but %d were acknowledged", got, want)
			}
			if c.ready > nBatches {
				t.Fatalf("recovered %d records of %d batches", c.ready, nBatches)
			}
			t.Logf("recovered %d batches, %d acknowledged", c.ready, next)
			// Feed what is not durable; the batches a kill cut off after
			// the journal took them are not sent again.
			rest := batches[c.ready:]
			errc := make(chan error, 1)
			go func() { errc <- writeBatches(c.in, rest) }()
			for i := range rest {
				f := c.expect(t, "ack")
				if got, want := f[1], strconv.Itoa(int(c.ready)+i+1); got != want {
					t.Fatalf("batch %d acknowledged as record %s, want %s", int(c.ready)+i, got, want)
				}
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "final.snap")
			fmt.Fprintf(c.in, "state %s\n", path)
			c.expect(t, "state")
			c.in.Close()
			if err := c.cmd.Wait(); err != nil {
				t.Fatalf("child: %v", err)
			}

			eng := newEngine(t)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := eng.ReadSnapshot(f); err != nil {
				t.Fatal(err)
			}
			checkState(t, "(b) state after crash and recovery", want, stateOf(t, eng, member, entities(evs)))
		})
	}
}

// kill feeds batches to c, sends SIGKILL once killAfter of them are
// acknowledged, plus a seeded pause that lets the next one get part way,
// and returns how many were acknowledged.
func kill(ctx context.Context, t *testing.T, c *child, first int, batches [][]occsimore.Event, killAfter int, r *rand.Rand) int {
	t.Helper()
	go writeBatches(c.in, batches) // fails with EPIPE after the kill
	acked := 0
	for acked < killAfter && acked < len(batches) {
		// Each batch is one record: record n holds batch n-1.
		if got, want := c.expect(t, "ack")[1], strconv.Itoa(first+acked+1); got != want {
			t.Fatalf("batch %d acknowledged as record %s, want %s", first+acked, got, want)
		}
		acked++
	}
	time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond)
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Acks already written before the kill count too.
	for c.out.Scan() {
		if strings.HasPrefix(c.out.Text(), "ack ") {
			acked++
		}
	}
	err := c.cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal(ctx.Err())
	}
	c.in.Close()
	return acked
}

// uninterrupted runs every batch through a pipeline in this process and
// returns the engine's state.
func uninterrupted(t *testing.T, batches [][]occsimore.Event) engineState {
	t.Helper()
	e := open(t, t.TempDir(), crashPipelineConfig, newMemAlerts())
	var all []occsimore.Event
	for _, b := range batches {
		b = append([]occsimore.Event(nil), b...) // Submit sets fields
		out := make([]occsimore.Scored, len(b))
		if err := e.p.Submit(t.Context(), member, b, out); err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return stateOf(t, e.eng, member, entities(all))
}
