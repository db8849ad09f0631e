package parse

import (
	"testing"
	"time"
)

// nginx error log lines at their edges (issue 13).
func TestParseNginxErrorEdges(t *testing.T) {
	for _, tc := range []struct {
		line                         string
		ok                           bool
		kind, ip, user, method, path string
		host, msg                    string
		pid                          int
		invalid                      bool
		time                         time.Time
	}{
		{`2026/12/31 23:59:59 [error] 12#3: *17 user "foo": password mismatch, client: 192.0.2.2, server: _, request: "GET /a HTTP/1.1", host: "h.example"`,
			true, KindHTTPAuthFailure, "192.0.2.2", "foo", "GET", "/a", "h.example", `user "foo": password mismatch`, 12, false, time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)},
		{`2026/01/01 00:00:00 [error] 5#5: *1 user "bar" was not found in "/etc/htpasswd", client: 2001:db8::9, server: s`,
			true, KindHTTPAuthFailure, "2001:db8::9", "bar", "", "", "", `user "bar" was not found in "/etc/htpasswd"`, 5, true, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{`2026/01/01 00:00:00 [error] 5#5: *1 no user/password was provided for basic authentication, client: 192.0.2.3, server: s`,
			true, KindHTTPAuthFailure, "192.0.2.3", "", "", "", "", "no user/password was provided for basic authentication", 5, false, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{`2026/01/01 00:00:00 [error] 5#5: *1 user "baz" is odd, client: 192.0.2.3`,
			true, KindHTTPError, "192.0.2.3", "baz", "", "", "", `user "baz" is odd`, 5, false, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{`2026/01/01 00:00:00 [notice] x#1: signal process started`,
			true, KindHTTPError, "", "", "", "", "", "signal process started", 0, false, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{`2026/01/01 00:00:00 [error] #1: *3 open() failed, client: 192.0.2.4, request: "POST /x HTTP/1.0"`,
			true, KindHTTPError, "192.0.2.4", "", "POST", "/x", "", "open() failed", 0, false, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{`2026/01/01 00:00:00 [error] 1#1: *3 x, client: nohost`, false, "", "", "", "", "", "", "", 0, false, time.Time{}},
		{`2026/13/01 00:00:00 [error] 1#1: x`, false, "", "", "", "", "", "", "", 0, false, time.Time{}},
		{`2026/00/01 00:00:00 [error] 1#1: x`, false, "", "", "", "", "", "", "", 0, false, time.Time{}},
		{`2026/01/32 00:00:00 [error] 1#1: x`, false, "", "", "", "", "", "", "", 0, false, time.Time{}},
		{`2026/01/00 00:00:00 [error] 1#1: x`, false, "", "", "", "", "", "", "", 0, false, time.Time{}},
		{`2026/01/01 24:00:00 [error] 1#1: x`, false, "", "", "", "", "", "", "", 0, false, time.Time{}},
		{`2026/01/01 00:00:00 error 1#1: x`, false, "", "", "", "", "", "", "", 0, false, time.Time{}},
		{`2026/01/01 00:00:00 [error 1#1: x`, false, "", "", "", "", "", "", "", 0, false, time.Time{}},
		{`2026/01/01 00:00:00 [error] 1#1 x`, false, "", "", "", "", "", "", "", 0, false, time.Time{}},
		{`2026/01/01 00:00:00 [e]`, false, "", "", "", "", "", "", "", 0, false, time.Time{}},
	} {
		e, err := ParseNginxError(tc.line, nil)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok %v", tc.line, err, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		checkEntry(t, tc.line, e, tc.kind, tc.ip, tc.user)
		if e.Method != tc.method || e.Path != tc.path || e.Host != tc.host || e.Message != tc.msg || e.PID != tc.pid ||
			e.InvalidUser != tc.invalid || !e.Time.Equal(tc.time) || e.Program != "nginx" {
			t.Errorf("%q: method %q path %q host %q msg %q pid %d invalid %v time %v program %q", tc.line,
				e.Method, e.Path, e.Host, e.Message, e.PID, e.InvalidUser, e.Time, e.Program)
		}
	}
}
