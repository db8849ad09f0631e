// Command testjson is the filter scripts/test runs `go test -json` through,
// so that a test skipped for a missing dependency cannot hide behind "all
// checks passed".
//
//	go test -json ./... | testjson -record results.tsv
//	testjson -check results.tsv -must-run scripts/must-run.txt
//
// The first form prints what plain `go test` prints (a line per package,
// the output of failing tests) and appends every test's outcome to the
// record file. The second reads the records of one or more runs and lists
// every must-run test that never passed, with why it skipped: with CI=true
// in the environment it then exits 1, otherwise it warns.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

func main() {
	record := flag.String("record", "", "file to append test outcomes to (filter mode)")
	check := flag.String("check", "", "record file to check against -must-run")
	mustRun := flag.String("must-run", "", "file of `package Test` lines that must pass in CI")
	flag.Parse()
	var err error
	switch {
	case *check != "" && *mustRun != "":
		var missing []string
		missing, err = checkFiles(*check, *mustRun)
		if err == nil && len(missing) > 0 {
			ci := os.Getenv("CI") == "true"
			word := "WARNING"
			if ci {
				word = "FAIL"
			}
			fmt.Fprintf(os.Stderr, "%s: %d must-run tests did not pass (skipped or not run):\n", word, len(missing))
			for _, m := range missing {
				fmt.Fprintf(os.Stderr, "  %s\n", m)
			}
			if ci {
				os.Exit(1)
			}
			fmt.Fprintln(os.Stderr, "CI=true turns this into a failure.")
		}
	case *record != "":
		var f *os.File
		if f, err = os.OpenFile(*record, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			err = filter(os.Stdin, os.Stdout, f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testjson:", err)
		os.Exit(1)
	}
}

// event is a line of `go test -json` (see `go doc test2json`).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// filter copies the plain `go test` view of the events in r to out and
// writes "action<TAB>package<TAB>test<TAB>reason" records of every test's
// pass, fail or skip to rec. A line that is not JSON (the go command's own
// messages) is copied as it is.
func filter(r io.Reader, out, rec io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	w := bufio.NewWriter(out)
	defer w.Flush()
	buffered := map[string][]string{} // output of running tests, by package and test
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Action == "" {
			fmt.Fprintln(w, sc.Text())
			continue
		}
		key := ev.Package + " " + ev.Test
		switch {
		case ev.Action == "build-output":
			w.WriteString(ev.Output)
		case ev.Test == "" && ev.Action == "output":
			// The package's own lines: "ok", "FAIL", a panic outside tests.
			if ev.Output != "PASS\n" && !strings.HasPrefix(ev.Output, "=== ") {
				w.WriteString(ev.Output)
			}
		case ev.Test == "":
		case ev.Action == "output":
			buffered[key] = append(buffered[key], ev.Output)
		case ev.Action == "pass" || ev.Action == "skip" || ev.Action == "fail":
			lines := buffered[key]
			delete(buffered, key)
			if ev.Action == "fail" {
				for _, l := range lines {
					if !strings.HasPrefix(l, "=== ") {
						w.WriteString(l)
					}
				}
			}
			reason := ""
			if ev.Action == "skip" {
				reason = skipReason(lines)
			}
			if _, err := fmt.Fprintf(rec, "%s\t%s\t%s\t%s\n", ev.Action, ev.Package, ev.Test, reason); err != nil {
				return err
			}
		}
		w.Flush() // packages report as they end: show progress
	}
	return sc.Err()
}

// skipReason is the message a skipped test gave, on one line.
func skipReason(lines []string) string {
	var parts []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " ")
}

// checkFiles returns the must-run tests the records do not show passing,
// each with the reasons it skipped.
func checkFiles(records, mustRun string) ([]string, error) {
	rb, err := os.ReadFile(records)
	if err != nil {
		return nil, err
	}
	mb, err := os.ReadFile(mustRun)
	if err != nil {
		return nil, err
	}
	return check(string(rb), string(mb))
}

func check(records, mustRun string) ([]string, error) {
	passed, failed := map[string]bool{}, map[string]bool{}
	skipped := map[string][]string{}
	for line := range strings.Lines(records) {
		f := strings.SplitN(strings.TrimRight(line, "\n"), "\t", 4)
		if len(f) != 4 {
			return nil, fmt.Errorf("bad record %q", line)
		}
		key := f[1] + " " + f[2]
		switch f[0] {
		case "pass":
			passed[key] = true
		case "fail":
			failed[key] = true
		case "skip":
			skipped[key] = append(skipped[key], f[3])
		}
	}
	var missing []string
	for n, line := range slices.Collect(strings.Lines(mustRun)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pkg, test, ok := strings.Cut(line, " ")
		if !ok || strings.ContainsAny(test, " \t") || !strings.HasPrefix(test, "Test") {
			return nil, fmt.Errorf("must-run line %d: want \"package TestName\", got %q", n+1, line)
		}
		key := pkg + " " + test
		if passed[key] {
			continue
		}
		why := "not run"
		if rs := skipped[key]; len(rs) > 0 {
			why = "skipped: " + strings.Join(slices.Compact(rs), " | ")
		} else if failed[key] {
			why = "failed"
		}
		missing = append(missing, key+" ("+why+")")
	}
	return missing, nil
}
