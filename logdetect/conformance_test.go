package logdetect

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const hubTests = "../../shared/data/crowdsec-hub-tests"

// TestCrowdSecHubConformance walks CrowdSec's hub tests and reports, per ssh
// and http test directory, how many log lines parse. Where the directory has
// a parser.assert for CrowdSec's sshd or nginx parser, each line's success,
// source IP and target user must match what CrowdSec asserts.
func TestCrowdSecHubConformance(t *testing.T) {
	dirs, err := os.ReadDir(hubTests)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CrowdSec hub tests missing at %s: %v", hubTests, err)
		}
		t.Skipf("CrowdSec hub tests not found at %s (%v); set them up to run this test", hubTests, err)
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
			entries := make([]Entry, len(lines))
			n := 0
			for i, line := range lines {
				e, err := Parse([]byte(line), Hint{Year: 2024, JSON: EnvoyAccessJSON()})
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
func checkAsserts(t *testing.T, path string, ok []bool, entries []Entry) {
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
