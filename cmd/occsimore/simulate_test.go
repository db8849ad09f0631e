package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSimulateThenScore runs the two commands a user chains: simulate a
// small card history, then replay it through the engine.
func TestSimulateThenScore(t *testing.T) {
	dir := t.TempDir()
	c := newCLI(t)
	cards := filepath.Join(dir, "cards.csv")
	out := c.mustRun("", "simulate", "cards", "--customers", "200", "--terminals", "400", "--days", "20", "--seed", "7", "--out", cards, "-o", "json")
	var sum struct {
		Transactions int `json:"transactions"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Transactions == 0 {
		t.Fatalf("simulate summary %q (%v)", out, err)
	}
	head, _ := os.ReadFile(cards)
	if !strings.HasPrefix(string(head), "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,") {
		t.Fatalf("not the handbook header: %.80q", head)
	}
	got := c.mustRun("", "score", "--format", "csv", cards, "--out", filepath.Join(dir, "scored.ndjson"), "-o", "json")
	var scored scoreSummary
	if err := json.Unmarshal([]byte(got), &scored); err != nil {
		t.Fatal(err)
	}
	if scored.Scored != sum.Transactions || scored.Rejected != 0 {
		t.Fatalf("scored %d of %d simulated transactions, %d rejected", scored.Scored, sum.Transactions, scored.Rejected)
	}

	logins := filepath.Join(dir, "logins.ndjson")
	c.mustRun("", "simulate", "logins", "--users", "50", "--days", "5", "--format", "ndjson", "--out", logins)
	got = c.mustRun("", "score", logins, "--out", filepath.Join(dir, "logins-scored.ndjson"), "-o", "json")
	scored = scoreSummary{}
	if err := json.Unmarshal([]byte(got), &scored); err != nil || scored.Scored == 0 || scored.Rejected != 0 {
		t.Fatalf("logins scored: %+v (%v)", scored, err)
	}

	if code, _, errs := c.run("", "simulate", "cards", "--customers", "-3"); code != exitUsage && code != exitInvalid {
		t.Fatalf("negative customers: exit %d (%s)", code, errs)
	}
}

func TestEvalOnSimulatedHandbookWeeks(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and evaluates 140 days")
	}
	dir := t.TempDir()
	c := newCLI(t)
	cards := filepath.Join(dir, "cards.csv")
	c.mustRun("", "simulate", "cards", "--customers", "300", "--terminals", "600", "--days", "140", "--start", "2018-04-01", "--seed", "3", "--out", cards)
	out := c.mustRun("", "eval", cards, "-o", "json")
	var rep struct {
		Counts struct {
			Train, Test struct{ Transactions, Frauds int }
		} `json:"counts"`
		Metrics struct {
			AUC float64 `json:"auc_roc"`
			AP  float64 `json:"average_precision"`
		} `json:"metrics"`
		Published []struct{ Model string } `json:"published"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval report %.300q: %v", out, err)
	}
	if rep.Counts.Train.Transactions == 0 || rep.Counts.Test.Frauds == 0 {
		t.Fatalf("empty windows: %+v", rep.Counts)
	}
	if rep.Metrics.AUC <= 0.5 || rep.Metrics.AUC > 1 || len(rep.Published) != 10 {
		t.Fatalf("metrics %+v with %d published rows", rep.Metrics, len(rep.Published))
	}
	if code, _, errs := c.run("", "eval", filepath.Join(dir, "none.csv")); code != exitNotFound {
		t.Fatalf("missing file: exit %d (%s)", code, errs)
	}
}

// TestNoProgress: long work draws a progress bar on standard error, and
// --no-progress, on any command, leaves standard error empty.
func TestNoProgress(t *testing.T) {
	c := newCLI(t)
	out := filepath.Join(t.TempDir(), "cards.csv")
	args := []string{"simulate", "cards", "--customers", "20", "--terminals", "40", "--days", "3", "--out", out}
	if code, _, errs := c.run("", args...); code != 0 || !strings.Contains(errs, "(3/3)") {
		t.Fatalf("without --no-progress: exit %d, stderr %q, want a bar reaching 3/3", code, errs)
	}
	if code, _, errs := c.run("", append([]string{"--no-progress"}, args...)...); code != 0 || errs != "" {
		t.Fatalf("with --no-progress: exit %d, stderr %q, want none", code, errs)
	}
	if code, _, errs := c.run("", "score", "--no-progress", "--format", "csv", out, "--out", filepath.Join(t.TempDir(), "s.ndjson")); code != 0 || errs != "" {
		t.Fatalf("score --no-progress: exit %d, stderr %q, want none", code, errs)
	}
}
