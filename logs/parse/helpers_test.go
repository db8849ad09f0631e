package parse

import (
	"bufio"
	"net/netip"
	"os"
	"strings"
	"testing"
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

func mustAddr(t testing.TB, s string) netip.Addr {
	t.Helper()
	if s == "" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatalf("bad test address %q: %v", s, err)
	}
	return a
}

// checkEntry asserts the fields every parser test cares about.
func checkEntry(t *testing.T, line string, got Entry, kind, ip, user string) {
	t.Helper()
	if got.Kind != kind {
		t.Errorf("%q: Kind = %q, want %q", line, got.Kind, kind)
	}
	if want := mustAddr(t, ip); got.SourceIP != want {
		t.Errorf("%q: SourceIP = %v, want %v", line, got.SourceIP, want)
	}
	if got.User != user {
		t.Errorf("%q: User = %q, want %q", line, got.User, user)
	}
}

// validEntry is the invariant the fuzz targets check on every successful parse.
func validEntry(t *testing.T, e Entry) {
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
	KindSSHFailedPassword: true, KindSSHFailedAuth: true, KindSSHInvalidUser: true,
	KindSSHUserNotAllowed: true, KindSSHAccepted: true, KindSSHPreauthClose: true,
	KindSSHDisconnect: true, KindSSHMaxAuth: true, KindSSHNoIdent: true, KindSSHBadKex: true,
	KindSSHBadProtocol: true, KindSSHAuthTimeout: true, KindSSHDispatchFatal: true,
	KindSSHRefused: true, KindAuthFailure: true, KindAuthSuccess: true, KindSudoDenied: true,
	KindSudoCommand: true, KindHTTPAccess: true, KindHTTPError: true, KindHTTPAuthFailure: true,
	KindCloudTrail: true, KindJSON: true,
}
