package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/occsimore/occsimore/detectbench"
)

func TestBenchDetect(t *testing.T) {
	c := newCLI(t)
	out := c.mustRun("", "bench", "detect", "--seeds", "1,2", "--cards", "120", "--users", "80", "--days", "25", "--no-progress", "-o", "json")
	var rep detectReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if len(rep.Seeds) != 2 || rep.Seeds[0].Seed != 1 || rep.Seeds[1].Seed != 2 {
		t.Fatalf("seeds %+v", rep.Seeds)
	}
	for half, kinds := range map[string][]detectbench.Kind{"cards": detectbench.CardKinds, "logins": detectbench.LoginKinds} {
		h := rep.Mean[half]
		if h == nil {
			t.Fatalf("no mean for %s", half)
		}
		for name, m := range map[string]detectbench.Measures{"engine": h.Engine, "baseline": h.Baseline} {
			if m.Incidents != 2*2*len(kinds) || m.Rows == 0 {
				t.Errorf("%s %s: %d incidents over %d rows, want %d", half, name, m.Incidents, m.Rows, 4*len(kinds))
			}
			for _, k := range kinds {
				km := m.Kinds[k]
				if km == nil || km.Incidents != 4 || !(km.AUC >= 0 && km.AUC <= 1) {
					t.Errorf("%s %s %s: %+v", half, name, k, km)
				}
			}
		}
	}
	if rep.BaselineWins == nil {
		t.Error("baseline_wins should be a list, empty or not")
	}

	text := c.mustRun("", "bench", "detect", "--seeds", "1", "--cards", "120", "--users", "0", "--days", "25", "--no-progress")
	if !strings.Contains(text, "new_terminals") || strings.Contains(text, "home_vpn") {
		t.Errorf("text report without logins:\n%s", text)
	}
	// The same run again, as text and with --fail-if-baseline-wins: the
	// report and the exit code follow the JSON's baseline_wins.
	code, text, _ := c.run("", "bench", "detect", "--seeds", "1,2", "--cards", "120", "--users", "80", "--days", "25", "--no-progress", "--fail-if-baseline-wins")
	if want := min(len(rep.BaselineWins), 1) * exitFailure; code != want {
		t.Errorf("--fail-if-baseline-wins with %d baseline wins: exit %d, want %d", len(rep.BaselineWins), code, want)
	}
	if got := strings.Count(text, "BASELINE WINS on "); got != len(rep.BaselineWins) {
		t.Errorf("text report has %d BASELINE WINS lines, JSON %d", got, len(rep.BaselineWins))
	}
	for _, bad := range [][]string{{"--seeds", "x"}, {"--seeds", "5-3"}, {"--days", "5"}, {"--cards", "0", "--users", "0"}, {"--export", "f", "--seeds", "1-2"}} {
		if code, _, _ := c.run("", append([]string{"bench", "detect"}, bad...)...); code != exitUsage {
			t.Errorf("bench detect %v: exit %d, want %d", bad, code, exitUsage)
		}
	}
}

func TestBenchDetectExportScores(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "rupture.ndjson")
	c := newCLI(t)
	c.mustRun("", "bench", "detect", "--seeds", "1", "--cards", "60", "--users", "40", "--days", "20", "--export", f)
	labels, err := os.ReadFile(f + ".labels.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(labels)), "\n")
	if lines[0] != "event_id,set,incident,kind" || !slices.ContainsFunc(lines, func(l string) bool { return strings.HasSuffix(l, ",home_vpn") }) {
		t.Fatalf("labels start %q and should hold a home_vpn incident", lines[0])
	}
	var sum scoreSummary
	if err := json.Unmarshal([]byte(c.mustRun("", "score", f, "--out", filepath.Join(dir, "scored.ndjson"), "-o", "json")), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Rejected != 0 || sum.Scored != len(lines)-1 {
		t.Fatalf("score read %d events, rejected %d; %d labels", sum.Scored, sum.Rejected, len(lines)-1)
	}
}

func FuzzParseSeeds(f *testing.F) {
	for _, s := range []string{"101-105", "1", "1,7,9", "5-3", "x", "1-2000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ss, err := parseSeeds(s)
		if err == nil && (len(ss) == 0 || len(ss) > 1001*(strings.Count(s, ",")+1)) {
			t.Fatalf("%q gave %d seeds", s, len(ss))
		}
	})
}
