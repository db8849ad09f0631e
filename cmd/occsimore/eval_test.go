package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalWindowFlags: a malformed flag is a usage error (exit 2), a value
// out of range an invalid value (exit 6), each naming its flag; both before
// the file is opened.
func TestEvalWindowFlags(t *testing.T) {
	c := newCLI(t)
	file := filepath.Join(t.TempDir(), "absent.csv")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--train-start", "2018-13-01"}, exitUsage, "--train-start"},
		{[]string{"--train-start", "25/07/2018"}, exitUsage, "2018-07-25"},
		{[]string{"--train-days", "x"}, exitUsage, "--train-days"},
		{[]string{"--weeks", "1.5"}, exitUsage, "--weeks"},
		{[]string{"--train-days", "0"}, exitInvalid, "--train-days"},
		{[]string{"--delay", "-1"}, exitInvalid, "--delay"},
		{[]string{"--test-days", "400"}, exitInvalid, "--test-days"},
		{[]string{"--weeks", "0"}, exitInvalid, "--weeks"},
		{[]string{"--weeks", "53"}, exitInvalid, "--weeks"},
		{[]string{"--weeks", "2", "--export-features", t.TempDir()}, exitUsage, "--export-features"},
		{[]string{"--valid-days", "7"}, exitInvalid, "--valid-days"},
		{[]string{"--valid-days", "-1"}, exitInvalid, "--valid-days"},
		{[]string{"--train-start", "2019-02-01", "--weeks", "4"}, exitNotFound, "absent.csv"}, // valid: reaches the file
	} {
		code, _, errs := c.run("", append(append([]string{"eval"}, tc.args...), file)...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("eval %s: exit %d, stderr %q; want exit %d naming %q", strings.Join(tc.args, " "), code, errs, tc.code, tc.msg)
		}
	}
}

// TestEvalNeverUsedScenarioWeeks: a generated file with the never-used-
// terminals scenario, dated outside the handbook's window, evaluates over
// two weeks placed with --train-start, and the report names scenario 6.
func TestEvalNeverUsedScenarioWeeks(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and evaluates 80 days")
	}
	dir := t.TempDir()
	c := newCLI(t)
	cards := filepath.Join(dir, "cards.csv")
	c.mustRun("", "simulate", "cards", "--customers", "400", "--terminals", "800", "--days", "80", "--start", "2021-01-01",
		"--seed", "5", "--scenario-never-used-terminals", "--never-used-per-day", "2", "--out", cards)
	out := c.mustRun("", "--no-progress", "eval", "--train-start", "2021-02-10", "--weeks", "2", cards, "-o", "json")
	var rep struct {
		Protocol struct {
			Weeks int `json:"weeks"`
		} `json:"protocol"`
		Metrics struct {
			CPK   *float64 `json:"card_precision_at_k_handbook"`
			CPKNR *float64 `json:"card_precision_at_k_no_removal"`
		} `json:"metrics"`
		Ceiling  *struct{} `json:"ceiling"`
		Fraction *struct {
			AP float64 `json:"average_precision"`
		} `json:"fraction_of_ceiling"`
		Scenarios []struct {
			Scenario int `json:"scenario"`
			Frauds   int `json:"frauds"`
		} `json:"scenarios"`
		Windows []struct {
			Protocol struct {
				TrainStart string `json:"train_start"`
			} `json:"protocol"`
		} `json:"windows"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval report %.300q: %v", out, err)
	}
	if rep.Protocol.Weeks != 2 || len(rep.Windows) != 2 || !strings.HasPrefix(rep.Windows[1].Protocol.TrainStart, "2021-02-17") {
		t.Fatalf("windows %+v for --weeks 2 from 2021-02-10", rep.Windows)
	}
	if rep.Metrics.CPK == nil || rep.Metrics.CPKNR == nil || rep.Ceiling == nil || rep.Fraction == nil || rep.Fraction.AP <= 0 {
		t.Fatalf("report lacks a CP@100 definition, the ceiling or the fraction: %.400s", out)
	}
	found := false
	for _, s := range rep.Scenarios {
		found = found || (s.Scenario == 6 && s.Frauds > 0)
	}
	if !found {
		t.Fatalf("no recall for scenario 6 in %+v", rep.Scenarios)
	}
	text := c.mustRun("", "--no-progress", "eval", "--train-start", "2021-02-10", cards)
	for _, want := range []string{"CP@100 (handbook)", "CP@100 (no removal)", "fraction of the ceiling", "recall per fraud scenario at precision 0.50"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
}
