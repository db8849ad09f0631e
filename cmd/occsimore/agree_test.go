package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/simulate"
)

// TestScoreTrainServeAgree runs score, train and serve on one configuration
// (a specs file with other thresholds than the built-in ones) and the same
// card payments: the three build the same engine, and every event gets the
// same score and decision from score as from the server.
func TestScoreTrainServeAgree(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, env: []string{"OCCSIMORE_STORE_DATA_DIR=" + dir, "OCCSIMORE_SERVER_ADDR=127.0.0.1:0"}}
	specs := c.mustRun("", "engine", "specs")
	low := strings.Replace(specs, "review = 8.0\n    block = 16.0", "review = 2.0\n    block = 6.0", 1)
	if low == specs {
		t.Fatal("engine specs output changed; update this test's thresholds")
	}
	// The member's own thresholds, which every command must apply to its
	// events as the server does.
	low += "\n[[member]]\nslug = \"bank\"\nreview = 3.0\nblock = 7.0\n"
	sf := filepath.Join(dir, "specs.toml")
	cf := filepath.Join(dir, "occsimore.toml")
	if err := os.WriteFile(sf, []byte(low), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cf, []byte(fmt.Sprintf("[engine]\nspecs_file = %q\nmax_lateness = \"2h\"\n", sf)), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg := simulate.DefaultCards()
	cfg.Customers, cfg.Terminals, cfg.Days, cfg.Seed = 150, 300, 10, 77
	w, err := simulate.NewCardWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var events, labelled bytes.Buffer
	for _, o := range []struct {
		buf    *bytes.Buffer
		labels bool
	}{{&events, false}, {&labelled, true}} {
		nw := w.NewNDJSONWriter(o.buf, o.labels)
		for tx := range w.Transactions() {
			if err := nw.Write(tx); err != nil {
				t.Fatal(err)
			}
		}
		if err := nw.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	evFile, trainFile := filepath.Join(dir, "events.ndjson"), filepath.Join(dir, "labelled.ndjson")
	os.WriteFile(evFile, events.Bytes(), 0o600)
	os.WriteFile(trainFile, labelled.Bytes(), 0o600)

	// The engine each command builds.
	var (
		mu    sync.Mutex
		built = map[string]behavior.Config{}
	)
	runWith := func(ctx context.Context, name string, ready func(string), args ...string) error {
		var out, errb bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: c.env, wrap: checked(t), ready: ready,
			engineBuilt: func(bc behavior.Config) { mu.Lock(); built[name] = bc; mu.Unlock() }}
		root := m.rootCommand()
		root.SetArgs(append([]string{"--config", cf, "--no-progress"}, args...))
		if err := root.ExecuteContext(ctx); err != nil {
			return fmt.Errorf("%s: %w; stderr %s", name, err, errb.String())
		}
		return nil
	}
	c.mustRun("", "member", "add", "--slug", "bank", "--name", "Bank", "--sector", "banking")
	token := c.token("bank", "admin")
	scoredFile := filepath.Join(dir, "scored.ndjson")
	if err := runWith(t.Context(), "score", nil, "score", evFile, "--member", "bank", "--all", "--out", scoredFile); err != nil {
		t.Fatal(err)
	}
	if err := runWith(t.Context(), "train", nil, "train", "--member", "bank", "--from", trainFile, "--trees", "5"); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	urls, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- runWith(ctx, "serve", func(u string) { urls <- u }, "serve") }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("serve exited early: %v", err)
	case <-time.After(2 * time.Minute): // a failure guard, not a timing assertion
		t.Fatal("serve did not start listening")
	}

	mu.Lock()
	serveBC := built["serve"]
	for _, name := range []string{"score", "train"} {
		// A server replaces the seed with a secret one, which changes no score.
		bc := built[name]
		bc.HashSeed = serveBC.HashSeed
		if diff := cmp.Diff(serveBC, bc, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s builds another engine than serve (-serve +%s):\n%s", name, name, diff)
		}
	}
	if len(serveBC.Specs) == 0 || serveBC.MaxLateness != 2*time.Hour || len(serveBC.Thresholds) != 1 {
		t.Errorf("serve's engine ignores the configuration: %d specs, max lateness %v, thresholds of %d members",
			len(serveBC.Specs), serveBC.MaxLateness, len(serveBC.Thresholds))
	}
	mu.Unlock()

	type line struct {
		Line     int     `json:"line"`
		EventID  string  `json:"event_id"`
		Score    float64 `json:"score"`
		Decision string  `json:"decision"`
	}
	read := func(b []byte) []line {
		var ls []line
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			if l.Line > 0 { // not the batch's summary
				ls = append(ls, l)
			}
		}
		return ls
	}
	scoredBytes, err := os.ReadFile(scoredFile)
	if err != nil {
		t.Fatal(err)
	}
	scored := read(scoredBytes)

	req, _ := http.NewRequestWithContext(t.Context(), "POST", url+"/v1/events:batch", bytes.NewReader(events.Bytes()))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("batch: status %d: %.300s", resp.StatusCode, body.String())
	}
	served := read(body.Bytes())

	if len(scored) != len(served) || len(scored) < 1000 {
		t.Fatalf("score wrote %d lines, serve answered %d", len(scored), len(served))
	}
	decisions := map[string]int{}
	for i := range scored {
		a, b := scored[i], served[i]
		if a.Line != b.Line || a.EventID != b.EventID || a.Score != b.Score || cmpDecision(a.Decision) != cmpDecision(b.Decision) {
			t.Fatalf("line %d: score gives %+v, serve %+v", i+1, a, b)
		}
		decisions[cmpDecision(a.Decision)]++
	}
	if decisions["review"] == 0 || decisions["allow"] == 0 {
		t.Fatalf("decisions %v: the thresholds do not separate the events", decisions)
	}
}

// cmpDecision reads an omitted decision as allow.
func cmpDecision(d string) string {
	if d == "" {
		return "allow"
	}
	return d
}
