package scenario

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore/logs/parse"
)

const corpusDir = "testdata/corpus"

// corpusRow is one line of the corpus table: a file and a scenario (or
// "clean", the sources no scenario may report).
type corpusRow struct {
	file, format     string
	lines, parsed    int
	scenario         string
	want, got, extra []string // extra: for clean rows, the scenarios that flagged
	crowdsec         []string // what CrowdSec 1.4.6 reported for the scenario (clean rows: for these sources)
	pass             bool
}

// crowdsecCorpus reads crowdsec-1.4.6.txt: file -> our scenario -> sources
// CrowdSec reported.
func crowdsecCorpus(t *testing.T) map[string]map[string][]string {
	t.Helper()
	out := map[string]map[string][]string{}
	for _, line := range readLines(t, filepath.Join(corpusDir, "crowdsec-1.4.6.txt")) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 3 {
			t.Fatalf("crowdsec-1.4.6.txt: %q: want FILE SCENARIO SOURCE", line)
		}
		ours, ok := hubScenarios[fs[1]]
		if !ok {
			t.Fatalf("crowdsec-1.4.6.txt: %s has no mapping in hubScenarios", fs[1])
		}
		if out[fs[0]] == nil {
			out[fs[0]] = map[string][]string{}
		}
		if !slices.Contains(out[fs[0]][ours], fs[2]) {
			out[fs[0]][ours] = append(out[fs[0]][ours], fs[2])
		}
	}
	return out
}

// corpusFormats names the format each corpus file is written in.
var corpusFormats = map[string]string{
	"sshd-modern.log":     "OpenSSH + PAM (rsyslog): Failed, Invalid user, pam_unix(sshd:auth), max auth, message repeated",
	"sshd-classic.log":    "sysklogd sshd(pam_unix)",
	"auth-compromise.log": "OpenSSH auth.log: failures then Accepted",
	"newyear.log":         "OpenSSH across New Year (year-less)",
	"apache-error.log":    "Apache 2.2/2.4 error log ([client IP])",
	"nginx-error.log":     "nginx error log (client: IP)",
}

// corpusResults replays each corpus file through the built-in scenarios and
// compares with expect.txt. It fails t when a source CrowdSec 1.4.6 reported
// on a file is reported by none of our scenarios.
func corpusResults(t *testing.T) []corpusRow {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "expect.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type key struct{ file, scenario string }
	want := map[key][]string{}
	var order []key
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 3 {
			t.Fatalf("expect.txt: %q: want FILE SCENARIO SOURCE", line)
		}
		k := key{fs[0], fs[1]}
		if _, ok := want[k]; !ok {
			order = append(order, k)
		}
		want[k] = append(want[k], fs[2])
	}
	ss, err := BuiltinScenarios()
	if err != nil {
		t.Fatal(err)
	}
	type replayed struct {
		lines, parsed int
		found         map[string][]string // scenario -> sources
	}
	files := map[string]*replayed{}
	for _, k := range order {
		if files[k.file] != nil {
			continue
		}
		r := &replayed{found: map[string][]string{}}
		d := NewDetector(ss, Options{})
		hint := parse.Hint{Years: &parse.Years{Year: 2025}}
		var ovs []Overflow
		for _, line := range readLines(t, filepath.Join(corpusDir, k.file)) {
			r.lines++
			e, err := parse.Parse([]byte(line), hint)
			if err != nil {
				continue
			}
			r.parsed++
			ovs = append(ovs, d.Feed(&e)...)
		}
		ovs = append(ovs, d.Flush(d.Now().Add(24*time.Hour))...)
		for _, ov := range ovs {
			if !slices.Contains(r.found[ov.Scenario], ov.Source) {
				r.found[ov.Scenario] = append(r.found[ov.Scenario], ov.Source)
			}
		}
		files[k.file] = r
	}
	cs := crowdsecCorpus(t)
	for file, byScenario := range cs {
		r := files[file]
		if r == nil {
			t.Errorf("crowdsec-1.4.6.txt: %s is not in expect.txt", file)
			continue
		}
		for scn, srcs := range byScenario {
			for _, src := range srcs {
				found := false
				for _, ours := range r.found {
					found = found || slices.Contains(ours, src)
				}
				if !found {
					t.Errorf("%s: CrowdSec's %s reports %s, none of our scenarios does", file, scn, src)
				}
			}
		}
	}
	var rows []corpusRow
	for _, k := range order {
		r := files[k.file]
		row := corpusRow{file: k.file, format: corpusFormats[k.file], lines: r.lines, parsed: r.parsed,
			scenario: k.scenario, want: slices.Sorted(slices.Values(want[k]))}
		if k.scenario == "clean" {
			for scn, srcs := range r.found {
				for _, src := range srcs {
					if slices.Contains(row.want, src) {
						row.got = append(row.got, src)
						row.extra = append(row.extra, scn+" "+src)
					}
				}
			}
			slices.Sort(row.extra)
			row.pass = len(row.got) == 0
			for _, srcs := range cs[k.file] {
				for _, src := range srcs {
					if slices.Contains(row.want, src) && !slices.Contains(row.crowdsec, src) {
						row.crowdsec = append(row.crowdsec, src)
					}
				}
			}
			slices.Sort(row.crowdsec)
		} else {
			row.got = slices.Sorted(slices.Values(r.found[k.scenario]))
			row.pass = slices.Equal(row.got, row.want)
			row.crowdsec = slices.Sorted(slices.Values(cs[k.file][k.scenario]))
		}
		rows = append(rows, row)
	}
	return rows
}

// TestCorpusConformance: every corpus file is parsed in its format, each
// expected source is reported by its scenario and no legitimate one by any.
func TestCorpusConformance(t *testing.T) {
	t.Parallel()
	for _, r := range corpusResults(t) {
		if r.format == "" {
			t.Errorf("%s: no format in corpusFormats", r.file)
		}
		if r.parsed == 0 {
			t.Errorf("%s: no line parsed", r.file)
		}
		if !r.pass {
			if r.scenario == "clean" {
				t.Errorf("%s: legitimate sources flagged: %v", r.file, r.extra)
			} else {
				t.Errorf("%s: %s reports %v, want %v", r.file, r.scenario, r.got, r.want)
			}
		}
	}
}

func corpusMarkdown(rows []corpusRow) string {
	var b strings.Builder
	b.WriteString(`
## occsimore's corpus of real-form samples

The same run replays the samples of ` + "`logs/scenario/testdata/corpus`" + ` (written for occsimore in the
forms each program writes; see its README.md) through the built-in scenarios, with year-less lines
starting in 2025. ` + "`expect.txt`" + ` says, from what each sample stages, which scenario must report which
sources, exactly, and which legitimate sources no scenario may report ("clean"). Beside it, what
CrowdSec 1.4.6 (Debian's, offline hub) reported on the same files for the same kind of attack
(` + "`crowdsec-1.4.6.txt`" + `, how it was run is in its header); the test fails if CrowdSec reports a source
that none of our scenarios does.

| sample | format | lines parsed | scenario | expected | reported | CrowdSec 1.4.6 | result |
|---|---|---|---|---|---|---|---|
`)
	pass, expected, csFound := 0, 0, 0
	for _, r := range rows {
		res := "fail"
		if r.pass {
			res = "pass"
			pass++
		}
		got := strings.Join(r.got, ", ")
		if r.scenario == "clean" {
			got = strings.Join(r.extra, "; ")
		}
		if got == "" {
			got = "none"
		}
		crowdsec := strings.Join(r.crowdsec, ", ")
		if crowdsec == "" {
			crowdsec = "none"
		}
		fmt.Fprintf(&b, "| %s | %s | %d/%d | %s | %s | %s | %s | %s |\n", r.file, r.format, r.parsed, r.lines,
			r.scenario, strings.Join(r.want, ", "), got, crowdsec, res)
		if r.scenario != "clean" {
			expected += len(r.want)
			csFound += len(r.crowdsec)
		}
	}
	fmt.Fprintf(&b, "\n%d of %d corpus rows pass. Of the %d expected detections (a scenario and a source), CrowdSec 1.4.6 makes %d.\n",
		pass, len(rows), expected, csFound)
	return b.String()
}
