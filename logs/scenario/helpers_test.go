package scenario

import (
	"bufio"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/occsimore/occsimore/logs/parse"
)

// readLines returns the non-empty lines of a test file.
func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			lines = append(lines, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return lines
}

// validEntry is the invariant the fuzz targets check on every successful parse.
func validEntry(t *testing.T, e parse.Entry) {
	t.Helper()
	if !knownKinds[e.Kind] {
		t.Fatalf("successful parse with unknown kind %q", e.Kind)
	}
	if e.SourceIP.IsValid() {
		if e.SourceIP.Is4In6() {
			t.Fatalf("SourceIP %v not unmapped", e.SourceIP)
		}
		if _, err := netip.ParseAddr(e.SourceIP.String()); err != nil {
			t.Fatalf("SourceIP %v does not round-trip: %v", e.SourceIP, err)
		}
	}
	if e.Count < 1 {
		t.Fatalf("Count = %d, want ≥ 1", e.Count)
	}
	if e.Source == "" {
		t.Fatal("Source is empty")
	}
}

var knownKinds = map[string]bool{
	parse.KindSSHFailedPassword: true, parse.KindSSHFailedAuth: true, parse.KindSSHInvalidUser: true,
	parse.KindSSHUserNotAllowed: true, parse.KindSSHAccepted: true, parse.KindSSHPreauthClose: true,
	parse.KindSSHDisconnect: true, parse.KindSSHMaxAuth: true, parse.KindSSHNoIdent: true, parse.KindSSHBadKex: true,
	parse.KindSSHBadProtocol: true, parse.KindSSHAuthTimeout: true, parse.KindSSHDispatchFatal: true,
	parse.KindSSHRefused: true, parse.KindAuthFailure: true, parse.KindAuthSuccess: true, parse.KindSudoDenied: true,
	parse.KindSudoCommand: true, parse.KindHTTPAccess: true, parse.KindHTTPError: true, parse.KindHTTPAuthFailure: true,
	parse.KindCloudTrail: true, parse.KindJSON: true,
}
