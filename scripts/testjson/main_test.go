package main

import (
	"strings"
	"testing"
)

// run is what `go test -json` printed for a package with a passing test
// that logged, a skipped one, and a failing one, then a go command line.
const run = `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestOK"}
{"Action":"output","Package":"p","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"p","Test":"TestOK","Output":"    a_test.go:9: chatter\n"}
{"Action":"output","Package":"p","Test":"TestOK","Output":"--- PASS: TestOK (0.00s)\n"}
{"Action":"pass","Package":"p","Test":"TestOK"}
{"Action":"run","Package":"p","Test":"TestData"}
{"Action":"output","Package":"p","Test":"TestData","Output":"=== RUN   TestData\n"}
{"Action":"output","Package":"p","Test":"TestData","Output":"    a_test.go:12: data absent\n"}
{"Action":"output","Package":"p","Test":"TestData","Output":"--- SKIP: TestData (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestData"}
{"Action":"run","Package":"p","Test":"TestBad"}
{"Action":"output","Package":"p","Test":"TestBad","Output":"=== RUN   TestBad\n"}
{"Action":"output","Package":"p","Test":"TestBad","Output":"    a_test.go:20: got 1, want 2\n"}
{"Action":"output","Package":"p","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}
{"Action":"fail","Package":"p","Test":"TestBad"}
{"Action":"output","Package":"p","Output":"FAIL\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.01s\n"}
{"Action":"fail","Package":"p"}
{"Action":"output","Package":"q","Output":"PASS\n"}
{"Action":"output","Package":"q","Output":"ok  \tq\t0.02s\n"}
FAIL
`

func TestFilter(t *testing.T) {
	var out, rec strings.Builder
	if err := filter(strings.NewReader(run), &out, &rec); err != nil {
		t.Fatal(err)
	}
	want := "    a_test.go:20: got 1, want 2\n--- FAIL: TestBad (0.00s)\nFAIL\nFAIL\tp\t0.01s\nok  \tq\t0.02s\nFAIL\n"
	if got := out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	wantRec := "pass\tp\tTestOK\t\nskip\tp\tTestData\ta_test.go:12: data absent\nfail\tp\tTestBad\t\n"
	if got := rec.String(); got != wantRec {
		t.Errorf("records:\n%q\nwant:\n%q", got, wantRec)
	}
}

func TestCheck(t *testing.T) {
	var rec strings.Builder
	if err := filter(strings.NewReader(run), new(strings.Builder), &rec); err != nil {
		t.Fatal(err)
	}
	// A second run (without -race, say) where TestData skipped again and
	// TestLater passed.
	records := rec.String() + "skip\tp\tTestData\ta_test.go:12: data absent\npass\tp\tTestLater\t\n"
	missing, err := check(records, "# must pass in CI\np TestOK\np TestLater\n\np TestData\np TestBad\nq TestNever\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"p TestData (skipped: a_test.go:12: data absent)", "p TestBad (failed)", "q TestNever (not run)"}
	if strings.Join(missing, "\n") != strings.Join(want, "\n") {
		t.Fatalf("missing = %q, want %q", missing, want)
	}
	if _, err := check("", "p Test X\n"); err == nil {
		t.Fatal("a malformed must-run line is accepted")
	}
}
