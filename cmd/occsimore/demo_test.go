package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlite"
)

// TestDemoStreamsAlerts runs `occsimore demo` and waits for its simulated
// traffic to raise alerts that name a habit rupture.
func TestDemoStreamsAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("streams live traffic for up to a minute")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	done := make(chan error, 1)
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Environ: []string{"OCCSIMORE_LOG_LEVEL=warn"}, ready: func(u string) { urls <- u }}
	go func() {
		root := m.rootCommand()
		root.SetArgs([]string{"demo", "--data-dir", dir, "--addr", "127.0.0.1:0"})
		done <- root.ExecuteContext(ctx)
	}()
	select {
	case <-urls:
	case err := <-done:
		t.Fatalf("demo exited early: %v\n%s", err, errb.String())
	case <-time.After(90 * time.Second):
		t.Fatal("demo did not start")
	}
	if !strings.Contains(out.String(), "admin@banque-alpes.demo") {
		t.Fatalf("demo did not print the bank's login:\n%s", out.String())
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
	deadline := time.Now().Add(90 * time.Second)
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
			t.Fatalf("no alert with a rupture reason after 90 s (%d alerts)", len(alerts))
		}
		time.Sleep(500 * time.Millisecond)
	}
}
