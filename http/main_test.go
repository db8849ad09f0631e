package http_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// notExercisedHere are the documented operations the http package's tests
// cannot reach, each with the reason and the test that exercises it through
// the same check instead.
var notExercisedHere = map[string]string{
	"POST /v1/admin/backup": "main registers it (cmd/occsimore/backup.go) over the store, journal and pipeline it copies; " +
		"cmd/occsimore's TestBackupUnderLoadRestores posts it through apitest and checks the checker saw it answered",
}

// TestMain runs the tests, then, when the whole package ran, fails listing
// every documented operation that no exchange checked against the document
// reached with an answer below 400: an operation no test exercises is an
// operation whose contract nothing checks.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code != 0 || !wholeRun() {
		os.Exit(code)
	}
	c, err := loadContract()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	documented := map[string]bool{}
	for _, op := range c.Operations() {
		documented[op] = true
	}
	var missing []string
	for _, op := range c.Unexercised() {
		name, _, _ := strings.Cut(op, " (")
		if _, ok := notExercisedHere[name]; !ok {
			missing = append(missing, op)
		}
	}
	for op := range notExercisedHere {
		if !documented[op] {
			missing = append(missing, op+": listed in notExercisedHere but not documented")
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d documented operations exercised by no test of the http package (none answered below 400 through the OpenAPI check):\n\t%s\n",
			len(missing), strings.Join(missing, "\n\t"))
		os.Exit(1)
	}
	os.Exit(code)
}

// wholeRun reports whether every test of the package ran: no -run, -skip,
// -list or -short narrowed the run.
func wholeRun() bool {
	for _, name := range []string{"test.run", "test.skip", "test.list"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return !testing.Short()
}
