package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestScoreFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "events.ndjson")
	var b strings.Builder
	t0 := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	for i := range 300 {
		fmt.Fprintf(&b, `{"kind":"card.tx","time":%q,"card":"c%d","amount":%d,"country":"FR"}`+"\n", t0.Add(time.Duration(i)*17*time.Minute).Format(time.RFC3339), i%10, 20+i%7)
	}
	b.WriteString(`{"kind":"card.tx","time":"2026-10-05T12:00:00Z","card":"c1","amount":-5}` + "\n")
	// A huge finite amount once made a profile NaN: it is refused by line and field.
	b.WriteString(`{"kind":"card.tx","time":"2026-10-05T12:00:01Z","card":"c1","amount":1e160}` + "\n")
	os.WriteFile(in, []byte(b.String()), 0o600)
	out := filepath.Join(dir, "scored.ndjson")

	c := newCLI(t)
	stdout := c.mustRun("", "score", in, "--out", out, "--all", "-o", "json")
	var sum scoreSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("summary %q: %v", stdout, err)
	}
	if sum.Scored != 300 || sum.Rejected != 2 || sum.Lines != 302 {
		t.Fatalf("summary %+v, want 300 scored, 2 rejected of 302 lines", sum)
	}
	for i, line := range []string{"line 301", "line 302"} {
		if len(sum.Errors) != 2 || !strings.Contains(sum.Errors[i], line) || !strings.Contains(sum.Errors[i], "field amount") {
			t.Fatalf("errors %v should name %s and the amount field", sum.Errors, line)
		}
	}
	scored, _ := os.ReadFile(out)
	if got := strings.Count(string(scored), "\n"); got != 300 {
		t.Fatalf("%d scored lines with --all, want 300", got)
	}

	if code, _, errs := c.run("", "score", filepath.Join(dir, "missing.ndjson")); code != exitNotFound {
		t.Fatalf("missing file: exit %d (%s), want %d", code, errs, exitNotFound)
	}
	if code, _, _ := c.run("", "score", in, "--format", "xml"); code != exitUsage {
		t.Fatalf("bad format: exit %d, want %d", code, exitUsage)
	}
}
