package scenario

import (
	"bufio"
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore/logs/parse"
)

// hubTests is where CrowdSec's hub tests are: beside the repository, or
// OCCSIMORE_TEST_HUB_DIR (a git worktree elsewhere, CI).
var hubTests = cmp.Or(os.Getenv("OCCSIMORE_TEST_HUB_DIR"), "../../../shared/data/crowdsec-hub-tests")

// TestCrowdSecHubConformance walks CrowdSec's hub tests and reports, per ssh
// and http test directory, how many log lines parse. Where the directory has
// a parser.assert for CrowdSec's sshd or nginx parser, each line's success,
// source IP and target user must match what CrowdSec asserts.
func TestCrowdSecHubConformance(t *testing.T) {
	t.Parallel()
	dirs, err := os.ReadDir(hubTests)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CrowdSec hub tests missing at %s: %v", hubTests, err)
		}
		t.Skipf("CrowdSec hub tests not found at %s (%v); set them up, or set OCCSIMORE_TEST_HUB_DIR, to run this test", hubTests, err)
	}
	var total, parsed int
	for _, d := range dirs {
		name := d.Name()
		if !d.IsDir() || !(strings.Contains(name, "ssh") || strings.Contains(name, "http")) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			lines := readLines(t, filepath.Join(hubTests, name, name+".log"))
			ok := make([]bool, len(lines))
			entries := make([]parse.Entry, len(lines))
			n := 0
			for i, line := range lines {
				e, err := parse.Parse([]byte(line), parse.Hint{Year: 2024, JSON: parse.EnvoyAccessJSON()})
				if err == nil {
					ok[i], entries[i] = true, e
					n++
					validEntry(t, e)
				} else if len(lines)-n <= 3 || i < 3 {
					t.Logf("unparsed: %q: %v", line, err)
				}
			}
			t.Logf("%s: %d/%d lines parsed", name, n, len(lines))
			total += len(lines)
			parsed += n
			checkAsserts(t, filepath.Join(hubTests, name, "parser.assert"), ok, entries)
		})
	}
	t.Logf("all ssh/http hub tests: %d/%d lines parsed", parsed, total)
}

var assertRe = regexp.MustCompile(`^results\["s01-parse"\]\["crowdsecurity/(sshd-logs|sshd-success-logs|nginx-logs)"\]\[(\d+)\]\.(Success == (true|false)|Evt\.Meta\["(source_ip|target_user)"\] == "(.*)")$`)

// checkAsserts compares with CrowdSec's expectations. Result i is line i
// only when every line reached the parse stage, which the len() assertion
// confirms; otherwise the file is skipped.
func checkAsserts(t *testing.T, path string, ok []bool, entries []parse.Entry) {
	f, err := os.Open(path)
	if err != nil {
		return // scenario-only test: nothing to compare
	}
	defer f.Close()
	checked := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, `len(results["s01-parse"]`) {
			if n, err := strconv.Atoi(line[strings.LastIndex(line, " ")+1:]); err == nil && n != len(ok) {
				t.Logf("parser.assert has %d results for %d lines: not compared", n, len(ok))
				return
			}
		}
		m := assertRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[2])
		if i >= len(ok) {
			t.Errorf("assert index %d beyond %d lines", i, len(ok))
			continue
		}
		checked++
		switch {
		case m[4] != "":
			if got, want := ok[i], m[4] == "true"; got != want {
				t.Errorf("line %d: parsed = %v, CrowdSec expects %v", i, got, want)
			}
		case m[5] == "source_ip" && ok[i]:
			if got, want := entries[i].SourceIP.String(), m[6]; got != want {
				t.Errorf("line %d: SourceIP = %s, CrowdSec expects %s", i, got, want)
			}
		case m[5] == "target_user" && ok[i]:
			if got, want := entries[i].User, m[6]; got != want {
				t.Errorf("line %d: User = %q, CrowdSec expects %q", i, got, want)
			}
		}
	}
	t.Logf("%d CrowdSec parser assertions compared", checked)
}

// hubScenarios maps CrowdSec hub scenario names to the built-in scenario
// that detects the same kind of attack.
var hubScenarios = map[string]string{
	"crowdsecurity/ssh-bf":                       "ssh-bf",
	"crowdsecurity/ssh-bf_user-enum":             "ssh-bf_user-enum",
	"crowdsecurity/ssh-slow-bf":                  "ssh-slow-bf",
	"crowdsecurity/ssh-slow-bf_user-enum":        "ssh-slow-bf_user-enum",
	"crowdsecurity/ssh-time-based-bf":            "ssh-time-based-bf",
	"crowdsecurity/ssh-time-based-bf_user-enum":  "ssh-time-based-bf_user-enum",
	"crowdsecurity/ssh-generic-test":             "ssh-generic-test",
	"crowdsecurity/http-probing":                 "http-probing",
	"crowdsecurity/http-crawl-non_statics":       "http-crawl-non_statics",
	"crowdsecurity/http-sensitive-files":         "http-sensitive-files",
	"crowdsecurity/http-path-traversal-probing":  "http-path-traversal-probing",
	"crowdsecurity/http-sqli-probbing-detection": "http-sqli-probing",
	"crowdsecurity/http-bad-user-agent":          "http-bad-user-agent",
	"crowdsecurity/http-admin-interface-probing": "http-admin-interface-probing",
	"crowdsecurity/http-cve-probing":             "http-cve-probing",
	"crowdsecurity/http-generic-bf":              "http-generic-bf",
	"LePresidente/http-generic-401-bf":           "http-generic-bf",
	"crowdsecurity/http-bf-wordpress_bf":         "http-generic-bf",
	"crowdsecurity/http-generic-test":            "http-generic-test",
}

// hubWhy explains, per test, a row that does not pass.
var hubWhy = map[string]string{}

var (
	hubSourceRe   = regexp.MustCompile(`^"([^"]+)" in results\[(\d+)\]\.Overflow\.GetSources\(\)$`)
	hubScenarioRe = regexp.MustCompile(`^results\[(\d+)\]\.Overflow\.Alert\.GetScenario\(\) == "([^"]+)"$`)
)

// hubRow is one line of docs/logs-conformance.md.
type hubRow struct {
	test      string
	scenarios []string            // ours, mapped from the hub test's results
	expected  map[string][]string // our scenario -> sources CrowdSec reports
	got       map[string][]string // our scenario -> sources we report, for those scenarios
	also      []string            // other detections, "scenario source"
	pass      bool
	note      string
}

// readHubExpectations parses the sources and scenario of each result in a
// scenario.assert.
func readHubExpectations(t *testing.T, path string) (map[string][]string, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sources := map[string][]string{} // result index -> sources
	scenario := map[string]string{}  // result index -> hub scenario
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if m := hubSourceRe.FindStringSubmatch(line); m != nil {
			sources[m[2]] = append(sources[m[2]], m[1])
		}
		if m := hubScenarioRe.FindStringSubmatch(line); m != nil {
			scenario[m[1]] = m[2]
		}
	}
	want := map[string][]string{}
	for i, hub := range scenario {
		ours, ok := hubScenarios[hub]
		if !ok {
			t.Errorf("%s: hub scenario %s has no mapping", path, hub)
			continue
		}
		for _, src := range sources[i] {
			if !slices.Contains(want[ours], src) {
				want[ours] = append(want[ours], src)
			}
		}
	}
	for _, v := range want {
		slices.Sort(v)
	}
	return want, nil
}

// TestCrowdSecHubScenarios replays each ssh and http hub test's log through
// Parse and a Detector over the built-in scenarios, and checks that our
// scenario for each CrowdSec scenario the test expects reports exactly the
// sources CrowdSec reports. Detections by our other scenarios are listed,
// not failed. With OCCSIMORE_UPDATE_DOCS=1 it rewrites
// docs/logs-conformance.md; otherwise that file must match.
func TestCrowdSecHubScenarios(t *testing.T) {
	t.Parallel()
	dirs, err := os.ReadDir(hubTests)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CrowdSec hub tests missing at %s: %v", hubTests, err)
		}
		t.Skipf("CrowdSec hub tests not found at %s (%v); set them up, or set OCCSIMORE_TEST_HUB_DIR, to run this test", hubTests, err)
	}
	scenarios, err := BuiltinScenarios()
	if err != nil {
		t.Fatal(err)
	}
	var rows []hubRow
	for _, de := range dirs {
		name := de.Name()
		if !de.IsDir() || !isHubWebOrSSH(name) {
			continue
		}
		row := hubRow{test: name}
		expected, err := readHubExpectations(t, filepath.Join(hubTests, name, "scenario.assert"))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		row.expected = expected
		row.scenarios = slices.Sorted(maps.Keys(expected))

		d := NewDetector(scenarios, Options{})
		var detected []Overflow
		var last time.Time
		for _, line := range readLines(t, filepath.Join(hubTests, name, name+".log")) {
			e, err := parse.Parse([]byte(line), parse.Hint{Year: 2026, JSON: parse.EnvoyAccessJSON()})
			if err != nil {
				continue
			}
			detected = append(detected, d.Feed(&e)...)
			last = d.Now()
		}
		detected = append(detected, d.Flush(last.Add(24*time.Hour))...)

		row.got = map[string][]string{}
		for _, ov := range detected {
			if _, ok := expected[ov.Scenario]; ok {
				if !slices.Contains(row.got[ov.Scenario], ov.Source) {
					row.got[ov.Scenario] = append(row.got[ov.Scenario], ov.Source)
				}
				continue
			}
			if a := ov.Scenario + " " + ov.Source; !slices.Contains(row.also, a) {
				row.also = append(row.also, a)
			}
		}
		for _, v := range row.got {
			slices.Sort(v)
		}
		slices.Sort(row.also)
		row.pass = len(expected) > 0
		for _, s := range row.scenarios {
			if !slices.Equal(row.got[s], expected[s]) {
				row.pass = false
			}
		}
		row.note = hubWhy[name]
		switch {
		case len(expected) == 0:
			row.note = "parser-only test: CrowdSec runs no scenario on it"
		case !row.pass && row.note == "":
			t.Errorf("%s: got %v, CrowdSec expects %v (also detected: %v)", name, row.got, expected, row.also)
		case row.pass && row.note != "":
			t.Errorf("%s passes: remove its hubWhy entry", name)
		}
		rows = append(rows, row)
	}

	doc := conformanceMarkdown(rows) + corpusMarkdown(corpusResults(t))
	const docPath = "../../docs/logs-conformance.md"
	if os.Getenv("OCCSIMORE_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(docPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v (generate it with OCCSIMORE_UPDATE_DOCS=1)", err)
	}
	if string(old) != doc {
		t.Errorf("%s is stale; regenerate it with OCCSIMORE_UPDATE_DOCS=1 go test -run TestCrowdSecHubScenarios ./logs/scenario", docPath)
	}
}

// isHubWebOrSSH reports whether a hub test is about ssh or http, by its
// name (nginx-bad-user-agent says neither).
func isHubWebOrSSH(name string) bool {
	for _, w := range []string{"ssh", "http", "nginx", "apache", "envoy"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

func conformanceMarkdown(rows []hubRow) string {
	var b strings.Builder
	b.WriteString(`# Log detection: conformance with CrowdSec's hub tests

Generated by ` + "`OCCSIMORE_UPDATE_DOCS=1 go test -run TestCrowdSecHubScenarios ./logs/scenario`" + ` (with
` + "`OCCSIMORE_TEST_HUB_DIR=/path/to/crowdsec-hub-tests`" + ` from a worktree); the test fails when this file is
stale, TestCorpusConformance when a corpus row fails. For each ssh and http test in CrowdSec's hub
(commit b03cb59, in ../shared/data/crowdsec-hub-tests), the log is parsed by ` + "`parse.Parse`" + ` and replayed through a Detector
over the built-in scenarios. A test passes when, for every CrowdSec scenario the test expects to overflow,
our scenario for the same kind of attack reports exactly the same sources. Other built-in scenarios run
too; what they report is listed under "also detected" (CrowdSec's tests load only the scenario under test).
Private addresses are not whitelisted here (CrowdSec whitelists them outside tests; see Options.SkipPrivate).

How failed ssh attempts are counted. Every line that reports a failed attempt counts once in the ssh
scenarios, as in CrowdSec's sshd parser, whose thresholds (ssh-bf: capacity 5) were set on such counts: an
attempt that PAM and sshd both log (` + "`pam_unix(sshd:auth): authentication failure`" + ` or the classic
` + "`sshd(pam_unix)[pid]: authentication failure`" + `, then ` + "`Failed password`" + `) counts twice, and so does a
failure followed by its ` + "`[preauth]`" + ` disconnect naming the account. Not counted again: PAM's summary
"PAM N more authentication failures" (sshd logged each of those attempts); ` + "`message repeated N times: [ … ]`" + `
counts N. ` + "`maximum authentication attempts exceeded`" + ` (and sshd's "Too many authentication failures" after it)
is worth MaxAuthTries (6) attempts less the failures sshd already logged in that session (same pid and
address), so a session is never worth less than 6 nor counted twice. The time-based scenarios count
attempts, not lines: lines less than a minute apart are one moment (` + "`merge: 1m`" + `).

| hub test | our scenarios | CrowdSec's sources | ours | also detected | result |
|---|---|---|---|---|---|
`)
	pass, total := 0, 0
	for _, r := range rows {
		fmtSets := func(m map[string][]string) string {
			var parts []string
			for _, s := range r.scenarios {
				v := m[s]
				if len(v) == 0 {
					v = []string{"none"}
				}
				parts = append(parts, strings.Join(v, ", "))
			}
			if len(parts) == 0 {
				return "—"
			}
			return strings.Join(parts, "; ")
		}
		result := "n/a"
		if len(r.expected) > 0 {
			total++
			result = "fail"
			if r.pass {
				pass++
				result = "pass"
			}
		}
		if r.note != "" {
			result += ": " + r.note
		}
		also := "—"
		if len(r.also) > 0 {
			also = strings.Join(r.also, "; ")
		}
		scen := "—"
		if len(r.scenarios) > 0 {
			scen = strings.Join(r.scenarios, ", ")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.test, scen, fmtSets(r.expected), fmtSets(r.got), also, result)
	}
	fmt.Fprintf(&b, "\n%d of %d scenario tests pass.\n", pass, total)
	return b.String()
}
