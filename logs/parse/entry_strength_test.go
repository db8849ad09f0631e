package parse

import (
	"testing"
	"time"
)

// Parse's framing and dispatch at their edges (issue 13).

func TestCutCRIEdges(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 5e8, time.UTC)
	for _, tc := range []struct {
		line, msg string
		ok        bool
	}{
		{"2026-03-01T10:00:00.5Z stdout F hello", "hello", true},
		{"2026-03-01T10:00:00.5Z stderr P part", "part", true},
		{"2026-03-01T10:00:00.5Z stdout F ", "", true},
		{"2026-03-01T10:00:00.5Z stdin F x", "", false},
		{"2026-03-01T10:00:00.5Z stdout X x", "", false},
		{"2026-03-01T10:00:00.5Z stdout Fx", "", false},
		{"2026-03-01T10:00:00.5Z stdout F", "", false},
		{"2026-03-01T10:00:00.5Zstdout F x", "", false},
		{"2026-13-01T10:00:00.5Z stdout F x", "", false},
		{"Mar  1 10:00:00 stdout F x", "", false},
	} {
		tm, msg, ok := cutCRI(tc.line)
		if ok != tc.ok || ok && (msg != tc.msg || !tm.Equal(at)) {
			t.Errorf("cutCRI(%q) = %v, %q, %v; want %q, %v", tc.line, tm, msg, ok, tc.msg, tc.ok)
		}
	}
}

func TestParseDispatch(t *testing.T) {
	for _, tc := range []struct {
		line, source, program, kind string
	}{
		// Leading blanks and CRLF are trimmed.
		{" \t192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5\r\n", ParserAccess, "", KindHTTPAccess},
		{"2026/01/01 00:00:00 [error] 1#1: x", ParserNginxError, "nginx", KindHTTPError},
		{"[Sun Dec 04 04:47:44 2005] [error] x", ParserApacheError, "apache", KindHTTPError},
		{"Mar  3 10:15:01 h nginx: 192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5", ParserAccess, "nginx", KindHTTPAccess},
		{"Mar  3 10:15:01 h SSHD[7]: Invalid user x from 192.0.2.1", ParserSSHD, "SSHD", KindSSHInvalidUser},
		{"Mar  3 10:15:01 h sudo: alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/id", ParserAuth, "sudo", KindSudoCommand},
		{"Mar  3 10:15:01 h other: Invalid user x from 192.0.2.1", ParserSSHD, "other", KindSSHInvalidUser},
		{"2026-03-01T10:00:00Z stdout F Mar  3 10:15:01 h sshd[7]: Invalid user x from 192.0.2.1", ParserSSHD, "sshd", KindSSHInvalidUser},
	} {
		e, err := Parse([]byte(tc.line), Hint{Year: 2026})
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if e.Source != tc.source || e.Program != tc.program || e.Kind != tc.kind {
			t.Errorf("%q: source %q program %q kind %q, want %q %q %q", tc.line, e.Source, e.Program, e.Kind, tc.source, tc.program, tc.kind)
		}
	}
	for _, line := range []string{
		"", "   ",
		"2026-03-01T10:00:00Z stdout F 2026-03-01T10:00:00Z stdout F x", // nested CRI
		"Mar  3 10:15:01 h nginx: Invalid user x from 192.0.2.1",        // nginx lines are access lines
		"{\"a\": 1}",
	} {
		if e, err := Parse([]byte(line), Hint{Year: 2026}); err == nil {
			t.Errorf("%q parsed as %+v, want an error", line, e)
		}
	}
}
