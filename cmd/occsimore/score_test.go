package main

import (
	"bufio"
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

// cardCSV writes n card payments of ten cards as CSV with header, in the
// columns' order, and returns the file's name.
func cardCSV(t *testing.T, name, header string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(header + "\n")
	t0 := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	for i := range n {
		fmt.Fprintf(&b, "%s,c%d,%d,FR\n", t0.Add(time.Duration(i)*17*time.Minute).Format(time.RFC3339), i%10, 20+i%7)
	}
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestScoreCSVByExtensionContentAndHeader(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct{ name, header string }{
		{"payments.csv", "time,card,amount,country"},  // by extension
		{"payments.txt", "Time,Card,Amount,Country"},  // by content; header names in any case
		{"payments.data", "time,card,amount,country"}, // by content
	} {
		f := cardCSV(t, tc.name, tc.header, 200)
		var sum scoreSummary
		out := c.mustRun("", "score", f, "--out", filepath.Join(t.TempDir(), "s.ndjson"), "-o", "json")
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatalf("%s: %v in %q", tc.name, err, out)
		}
		if sum.Scored != 200 || sum.Rejected != 0 {
			t.Errorf("%s: %d scored, %d rejected, want 200 and 0 (%v)", tc.name, sum.Scored, sum.Rejected, sum.Errors)
		}
	}
	// A header that names no event field falls back to the handbook's
	// columns, which this file lacks: a configuration of the mapping fails.
	f := cardCSV(t, "other.csv", "when,who,howmuch,where", 5)
	if code, _, errs := c.run("", "score", f); code != exitInvalid || !strings.Contains(errs, "TX_") {
		t.Errorf("unmapped header: exit %d, %s", code, errs)
	}
}

func TestScoreEveryLineRejected(t *testing.T) {
	f := cardCSV(t, "bad.csv", "time,card,amount,country", 3)
	b, _ := os.ReadFile(f)
	os.WriteFile(f, []byte(strings.ReplaceAll(string(b), ",FR\n", ",France\n")), 0o600)
	c := newCLI(t)
	code, _, errs := c.run("", "score", f)
	if code != exitInvalid {
		t.Fatalf("every line rejected: exit %d, want %d (%s)", code, exitInvalid, errs)
	}
	if !strings.Contains(errs, "every line") || !strings.Contains(errs, "line 2") || !strings.Contains(errs, "country") {
		t.Fatalf("message should name the first bad line (2) and its field (country): %s", errs)
	}
	// One good line is enough to succeed.
	os.WriteFile(f, append(b[:len(b):len(b)], []byte(strings.ReplaceAll(string(b[strings.IndexByte(string(b), '\n')+1:]), ",FR\n", ",France\n"))...), 0o600)
	if code, _, errs := c.run("", "score", f); code != exitOK {
		t.Fatalf("some lines good: exit %d (%s)", code, errs)
	}
}

func TestScoreHonoursConfigSpecsFile(t *testing.T) {
	dir := t.TempDir()
	c := newCLI(t)
	specs := c.mustRun("", "engine", "specs")
	// The same specs with thresholds so low that every card payment with
	// any positive score is blocked.
	low := strings.Replace(specs, "review = 8.0\n    block = 16.0", "review = 0.01\n    block = 0.02", 1)
	if low == specs {
		t.Fatal("engine specs output changed; update this test's thresholds")
	}
	sf := filepath.Join(dir, "specs.toml")
	os.WriteFile(sf, []byte(low), 0o600)
	cf := filepath.Join(dir, "occsimore.toml")
	os.WriteFile(cf, []byte(fmt.Sprintf("[engine]\nspecs_file = %q\n", sf)), 0o600)
	f := cardCSV(t, "p.csv", "time,card,amount,country", 300)

	blocked := func(args ...string) int {
		var sum scoreSummary
		out := c.mustRun("", append([]string{"score", f, "--out", filepath.Join(dir, "s.ndjson"), "-o", "json"}, args...)...)
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatal(err)
		}
		return sum.Decisions["block"]
	}
	def, custom := blocked(), blocked("--config", cf)
	if custom <= def {
		t.Fatalf("with engine.specs_file's low thresholds %d blocked, with the defaults %d", custom, def)
	}
}

func FuzzHeaderMapping(f *testing.F) {
	for _, s := range []string{"time,card,amount\n1,2,3\n", "\ufeffTime;Card\n", `"time","attrs.x",label` + "\n", "{\"kind\":1}\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := bufio.NewReader(strings.NewReader(s))
		m, ok := headerMapping(r)
		if _, hasTime := m.Columns["time"]; ok != hasTime {
			t.Fatalf("ok %v with columns %v", ok, m.Columns)
		}
		if got := sniffFormat("x", r); got != "csv" && got != "ndjson" {
			t.Fatalf("format %q", got)
		}
		if b, _ := r.Peek(len(s)); string(b) != s && len(s) < 4096 {
			t.Fatal("sniffing consumed input")
		}
	})
}
