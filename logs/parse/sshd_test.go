package parse

import (
	"errors"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// TestCrowdSecSSHDLogs checks every line of CrowdSec's sshd-logs test against
// the values CrowdSec's own parser.assert expects for it.
func TestCrowdSecSSHDLogs(t *testing.T) {
	t.Parallel()
	lines := readLines(t, "testdata/crowdsec/sshd-logs.log")
	want := []struct {
		kind, ip, user string
		invalid        bool
	}{
		{KindSSHInvalidUser, "35.188.49.176", "pascal", true},
		{KindSSHInvalidUser, "35.188.49.176", "pascal", true},
		{KindSSHInvalidUser, "35.188.49.176", "pascal", true},
		{KindSSHFailedPassword, "5.33.63.160", "workshop", false}, // CrowdSec: ssh_failed-auth
		{KindSSHFailedPassword, "5.33.63.161", "", false},
		{KindSSHPreauthClose, "206.81.24.125", "root", false},
		{KindSSHPreauthClose, "92.255.85.135", "ftp", true},
		{KindSSHPreauthClose, "92.255.85.135", "ftp", false},
		{"", "", "", false}, // "Disconnected from totobad user ftp": CrowdSec rejects it too
		{KindSSHBadProtocol, "94.232.46.213", "", false},
		{KindSSHBadProtocol, "94.232.46.213", "", false},
		{KindSSHPreauthClose, "206.81.24.125", "root", true},
		{KindSSHBadKex, "123.57.135.134", "", false},
		{KindSSHBadKex, "206.189.59.169", "", false},
		{KindSSHBadKex, "123.123.123.123", "", false},
		{KindSSHPreauthClose, "80.94.92.63", "root", false},
		{KindSSHUserNotAllowed, "192.168.1.1", "root", false},
		{KindSSHFailedPassword, "192.168.1.2", "root", true},
		{KindSSHAuthTimeout, "192.168.9.212", "", false},
		{KindSSHDispatchFatal, "192.168.9.213", "", false},
		{KindSSHInvalidUser, "192.168.1.3", "pascal5", true},
		{KindSSHPreauthClose, "118.27.24.104", "", false},
		{KindSSHRefused, "192.168.1.1", "", false},
		{KindSSHRefused, "192.168.1.1", "", false},
	}
	if got, want := len(lines), len(want); got != want {
		t.Fatalf("lines = %d, want %d", got, want)
	}
	for i, line := range lines {
		e, err := Parse([]byte(line), Hint{Year: 2024})
		if want[i].kind == "" {
			if err == nil {
				t.Errorf("line %d %q parsed as %q, want an error", i, line, e.Kind)
			}
			continue
		}
		if err != nil {
			t.Errorf("line %d %q: %v", i, line, err)
			continue
		}
		checkEntry(t, line, e, want[i].kind, want[i].ip, want[i].user)
		if got, want := e.InvalidUser, want[i].invalid; got != want {
			t.Errorf("line %d: InvalidUser = %v, want %v", i, got, want)
		}
		if got, want := e.Program[:4], "sshd"; got != want {
			t.Errorf("line %d: Program = %q, want sshd*", i, e.Program)
		}
	}
}

func TestCrowdSecSSHOtherLogs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file, kind, ip, user string
	}{
		{"sshd-success-logs.log", KindSSHAccepted, "192.168.121.1", ""},
		{"sshd-invalid-bf.log", KindSSHPreauthClose, "179.43.183.98", "root"},
		{"ssh-bf.log", KindSSHInvalidUser, "35.188.49.176", ""},
	} {
		for _, line := range readLines(t, "testdata/crowdsec/"+tc.file) {
			e, err := Parse([]byte(line), Hint{Year: 2024})
			if err != nil {
				t.Errorf("%s: %q: %v", tc.file, line, err)
				continue
			}
			user := tc.user
			if user == "" {
				user = e.User // varies per line; checked non-empty below
				if user == "" {
					t.Errorf("%q: empty user", line)
				}
			}
			checkEntry(t, line, e, tc.kind, tc.ip, user)
		}
	}
}

func TestParseSSHDForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line, kind, ip, user string
		port                 int
		invalid              bool
		method               string
	}{
		{"Failed password for root from 203.0.113.7 port 52144 ssh2", KindSSHFailedPassword, "203.0.113.7", "root", 52144, false, "password"},
		{"Failed password for invalid user admin from 203.0.113.7 port 52144 ssh2", KindSSHFailedPassword, "203.0.113.7", "admin", 52144, true, "password"},
		{"Failed keyboard-interactive/pam for invalid user oracle from 2001:db8::5 port 4242 ssh2", KindSSHFailedPassword, "2001:db8::5", "oracle", 4242, true, "keyboard-interactive/pam"},
		{"Failed publickey for git from 198.51.100.2 port 50000 ssh2: RSA SHA256:abc", KindSSHFailedAuth, "198.51.100.2", "git", 50000, false, "publickey"},
		{"Failed none for invalid user  from 198.51.100.2 port 1 ssh2", KindSSHFailedAuth, "198.51.100.2", "", 1, true, "none"},
		{"Invalid user test from 198.51.100.3 port 40000", KindSSHInvalidUser, "198.51.100.3", "test", 40000, true, ""},
		{"Invalid user a from b from 198.51.100.3", KindSSHInvalidUser, "198.51.100.3", "a from b", 0, true, ""},
		{"Accepted password for alice from 192.0.2.10 port 22022 ssh2", KindSSHAccepted, "192.0.2.10", "alice", 22022, false, "password"},
		{"Accepted publickey for bob from ::ffff:192.0.2.11 port 22 ssh2: ED25519 SHA256:xyz", KindSSHAccepted, "192.0.2.11", "bob", 22, false, "publickey"},
		{"Connection closed by authenticating user root 192.0.2.12 port 1000 [preauth]", KindSSHPreauthClose, "192.0.2.12", "root", 1000, false, ""},
		{"Disconnected from invalid user guest 192.0.2.13 port 1001 [preauth]", KindSSHPreauthClose, "192.0.2.13", "guest", 1001, true, ""},
		{"Disconnected from user alice 192.0.2.14 port 1002", KindSSHDisconnect, "192.0.2.14", "alice", 1002, false, ""},
		{"Received disconnect from 192.0.2.15 port 1003:11: Bye Bye [preauth]", KindSSHPreauthClose, "192.0.2.15", "", 1003, false, ""},
		{"Received disconnect from 192.0.2.15 port 1003:11: disconnected by user", KindSSHDisconnect, "192.0.2.15", "", 1003, false, ""},
		{"Connection closed by 192.0.2.16 port 1004 [preauth]", KindSSHPreauthClose, "192.0.2.16", "", 1004, false, ""},
		{"error: maximum authentication attempts exceeded for invalid user support from 192.0.2.17 port 1005 ssh2 [preauth]", KindSSHMaxAuth, "192.0.2.17", "support", 1005, true, ""},
		{"error: maximum authentication attempts exceeded for root from 192.0.2.18 port 1006 ssh2 [preauth]", KindSSHMaxAuth, "192.0.2.18", "root", 1006, false, ""},
		{"Did not receive identification string from 192.0.2.19 port 1007", KindSSHNoIdent, "192.0.2.19", "", 1007, false, ""},
		{"Did not receive identification string from 192.0.2.19", KindSSHNoIdent, "192.0.2.19", "", 0, false, ""},
		{"Unable to negotiate with 192.0.2.20 port 1008: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]", KindSSHBadKex, "192.0.2.20", "", 1008, false, ""},
		{"banner exchange: Connection from 192.0.2.21 port 1009: invalid format", KindSSHBadProtocol, "192.0.2.21", "", 1009, false, ""},
		{"Bad protocol version identification 'GET / HTTP/1.1' from 192.0.2.22 port 1010", KindSSHBadProtocol, "192.0.2.22", "", 1010, false, ""},
		{"Disconnecting invalid user admin 192.0.2.24 port 1012: Too many authentication failures [preauth]", KindSSHMaxAuth, "192.0.2.24", "admin", 1012, true, ""},
		{"Disconnecting authenticating user root 192.0.2.25 port 1013: Change of username or service not allowed: (root,ssh-connection) -> (admin,ssh-connection) [preauth]", KindSSHPreauthClose, "192.0.2.25", "root", 1013, false, ""},
		{"message repeated 2 times: [Failed password for root from 192.0.2.26 port 1014 ssh2]", KindSSHFailedPassword, "192.0.2.26", "root", 1014, false, "password"},
		{"message repeated 3 times: [ Failed password for root from 192.0.2.23 port 1011 ssh2]", KindSSHFailedPassword, "192.0.2.23", "root", 1011, false, "password"},
	}
	for _, tc := range tests {
		e, err := ParseSSHD(tc.line)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		checkEntry(t, tc.line, e, tc.kind, tc.ip, tc.user)
		if got, want := e.Port, tc.port; got != want {
			t.Errorf("%q: Port = %d, want %d", tc.line, got, want)
		}
		if got, want := e.InvalidUser, tc.invalid; got != want {
			t.Errorf("%q: InvalidUser = %v, want %v", tc.line, got, want)
		}
		if got, want := e.Method, tc.method; got != want {
			t.Errorf("%q: Method = %q, want %q", tc.line, got, want)
		}
	}
	if e, _ := ParseSSHD(tests[len(tests)-1].line); e.Count != 3 {
		t.Errorf("repeated message Count = %d, want 3", e.Count)
	}
}

func TestParseSSHDRejects(t *testing.T) {
	t.Parallel()
	for _, line := range []string{
		"",
		"Server listening on 0.0.0.0 port 22.",
		"pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)",
		"Failed password for root from host.example.com port 22 ssh2",
		"Disconnected from totobad user ftp 92.255.85.135 port 26138 [preauth]",
		"Invalid user x",
	} {
		if e, err := ParseSSHD(line); err == nil {
			t.Errorf("%q parsed as %q, want an error", line, e.Kind)
		}
	}
}

func TestParseDispatchAndErrors(t *testing.T) {
	t.Parallel()
	e, err := Parse([]byte("<38>1 2026-11-27T10:15:01.003Z bastion sshd 4242 - - Failed password for root from 203.0.113.9 port 5 ssh2"), Hint{})
	if err != nil {
		t.Fatal(err)
	}
	checkEntry(t, "rfc5424", e, KindSSHFailedPassword, "203.0.113.9", "root")
	if got, want := e.Framing, "rfc5424"; got != want {
		t.Errorf("Framing = %q, want %q", got, want)
	}
	if got, want := e.Host, "bastion"; got != want {
		t.Errorf("Host = %q, want %q", got, want)
	}
	if got, want := e.Time, time.Date(2026, 11, 27, 10, 15, 1, 3e6, time.UTC); !got.Equal(want) {
		t.Errorf("Time = %v, want %v", got, want)
	}

	_, err = Parse([]byte("Mar  3 10:15:01 host sshd[1]: Server listening on :: port 22."), Hint{Year: 2026})
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrNoMatch) {
		t.Fatalf("err = %v, want a *ParseError wrapping ErrNoMatch", err)
	}
	if got, want := occsimore.ErrorCode(err), occsimore.EINVALID; got != want {
		t.Errorf("ErrorCode = %q, want %q", got, want)
	}
	if got, want := len(pe.Tried), 2; got != want || pe.Tried[0] != ParserSSHD || pe.Tried[1] != ParserAuth {
		t.Fatalf("Tried = %v, want [sshd auth]", pe.Tried)
	}

	for _, line := range []string{"", "garbage", "{", "<999>1 x", "{\"a\":1}"} {
		if _, err := Parse([]byte(line), Hint{}); !errors.Is(err, ErrNoMatch) {
			t.Errorf("Parse(%q) err = %v, want ErrNoMatch", line, err)
		}
	}

	// A forced parser takes a bare message.
	e, err = Parse([]byte("Invalid user bob from 192.0.2.1 port 3"), Hint{Parser: ParserSSHD})
	if err != nil {
		t.Fatal(err)
	}
	checkEntry(t, "forced", e, KindSSHInvalidUser, "192.0.2.1", "bob")
}
