package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlite"
)

// syncBuffer is a bytes.Buffer the demo's goroutines write while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls s until it contains want.
// demoGuard bounds each wait of the demo's tests.
const demoGuard = 5 * time.Minute

func waitFor(t *testing.T, what string, s func() string, want string) string {
	t.Helper()
	// A guard against a hang, not a timing assertion: under -race on two
	// shared cores loading the demo's history has taken over 90 s.
	deadline := time.Now().Add(demoGuard)
	for !strings.Contains(s(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s lacks %q after %v:\n%s", what, want, demoGuard, s())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s()
}

// TestDemoStreamsAlerts runs `occsimore demo` and waits for its simulated
// traffic to raise alerts that name a habit rupture. On the way it checks
// what a newcomer sees: the logins come last, after the history is loaded,
// members first and the lab's operator login at the end; the server's logs
// go to demo.log, not the terminal, and name members by slug.
func TestDemoStreamsAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("streams live traffic for up to a minute")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	done := make(chan error, 1)
	var out, errb syncBuffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Environ: []string{"OCCSIMORE_LOG_LEVEL=info"}, wrap: checked(t), ready: func(u string) { urls <- u }}
	go func() {
		root := m.rootCommand()
		root.SetArgs([]string{"demo", "--data-dir", dir, "--addr", "127.0.0.1:0"})
		done <- root.ExecuteContext(ctx)
	}()
	select {
	case <-urls:
	case err := <-done:
		t.Fatalf("demo exited early: %v\n%s", err, errb.String())
	case <-time.After(demoGuard):
		t.Fatal("demo did not start")
	}
	printed := waitFor(t, "demo output", out.String, "Press Ctrl-C")
	logText, err := os.ReadFile(filepath.Join(dir, "demo.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(logText), "history loaded"); n != 3 {
		t.Errorf("logins printed after %d of 3 members' history loaded", n)
	}
	if !strings.Contains(string(logText), "msg=attack member=") {
		t.Errorf("demo.log holds no attack lines:\n%.500s", logText)
	}
	if strings.Contains(string(logText), "member=mem_") || !strings.Contains(string(logText), "member=banque-alpes") {
		t.Errorf("demo.log names members by internal ID, not slug:\n%.500s", logText)
	}
	if strings.Contains(errb.String(), "level=") {
		t.Errorf("server logs on the terminal without --verbose:\n%.500s", errb.String())
	}
	first, lab := strings.Index(printed, "admin@"), strings.Index(printed, "admin@lab.demo")
	if first < 0 || lab < 0 || first != strings.Index(printed, "admin@banque-alpes.demo") || strings.LastIndex(printed, "admin@") != lab {
		t.Fatalf("want the members' logins first and the lab's last:\n%s", printed)
	}

	db, err := sqlite.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bank, err := db.FindMemberBySlug(t.Context(), "banque-alpes")
	if err != nil {
		t.Fatal(err)
	}
	ruptures := map[string]bool{"amount_high": true, "new_country": true, "unusual_hour": true,
		"velocity_burst": true, "impossible_travel": true, "new_device": true}
	deadline := time.Now().Add(demoGuard)
	for {
		alerts, err := db.ListAlerts(t.Context(), bank.ID, occsimore.AlertFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range alerts {
			for _, r := range a.Reasons {
				if ruptures[r.Code] {
					cancel()
					if err := <-done; err != nil {
						t.Fatalf("demo stopped with %v", err)
					}
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alert with a rupture reason after %v (%d alerts)", demoGuard, len(alerts))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestDemoVerbose checks --verbose shows the server's logs on the terminal
// as well as in demo.log.
func TestDemoVerbose(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var out, errb syncBuffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: []string{"OCCSIMORE_LOG_LEVEL=info"}}
	go func() {
		root := m.rootCommand()
		root.SetArgs([]string{"demo", "--data-dir", dir, "--addr", "127.0.0.1:0", "--traffic=false", "--verbose"})
		done <- root.ExecuteContext(ctx)
	}()
	waitFor(t, "demo output", out.String, "Press Ctrl-C")
	waitFor(t, "stderr", errb.String, "msg=serving")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "demo.log")); !strings.Contains(string(b), "msg=serving") {
		t.Errorf("demo.log lacks the server's logs with --verbose:\n%s", b)
	}
}

func TestSlugHandler(t *testing.T) {
	var buf bytes.Buffer
	h := slugHandler{slog.NewTextHandler(&buf, nil), map[string]string{"mem_1": "bank"}}
	slog.New(h).With("owner", "mem_1").WithGroup("g").Info("x", "member", "mem_1", "other", "mem_2", slog.Group("in", "m", "mem_1"))
	got := buf.String()
	for _, want := range []string{"owner=bank", "g.member=bank", "g.other=mem_2", "g.in.m=bank"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
}
