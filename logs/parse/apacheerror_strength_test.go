package parse

import (
	"testing"
	"time"
)

// Apache error log lines at their edges (issue 13).
func TestParseApacheErrorEdges(t *testing.T) {
	at := time.Date(2005, 12, 4, 4, 47, 44, 0, time.UTC)
	for _, tc := range []struct {
		line                      string
		ok                        bool
		kind, ip, user, path, ref string
		pid, port                 int
		invalid                   bool
		msg                       string
	}{
		{"[Sun Dec 04 04:47:44 2005] [error] [client 192.0.2.1] File does not exist: /var/www/x", true,
			KindHTTPError, "192.0.2.1", "", "/var/www/x", "", 0, 0, false, "File does not exist: /var/www/x"},
		{"[Sun Dec 04 04:47:44 2005] [auth_basic:error] [pid 42:tid 7] [client 192.0.2.2:5150] AH01618: user bob not found: /private, referer: http://r/", true,
			KindHTTPAuthFailure, "192.0.2.2", "bob", "/private", "http://r/", 42, 5150, true, "AH01618: user bob not found: /private, referer: http://r/"},
		{`[Sun Dec 04 04:47:44 2005] [error] [pid 9] [client 2001:db8::2:80] AH01617: user amy: authentication failure for "/adm": Password Mismatch`, true,
			KindHTTPAuthFailure, "2001:db8::2", "amy", "/adm", "", 9, 80, false, `AH01617: user amy: authentication failure for "/adm": Password Mismatch`},
		// Apache 2.2: no [pid], an IPv6 address alone.
		{"[Sun Dec 04 04:47:44 2005] [error] [client 2001:db8::2:80] x", true,
			KindHTTPError, "2001:db8::2:80", "", "", "", 0, 0, false, "x"},
		{"[Sun Dec 04 04:47:44 2005] [error] [pid 3] [client 192.0.2.5:x] x", true,
			KindHTTPError, "192.0.2.5", "", "", "", 3, 0, false, "x"},
		{"[Sun Dec 04 04:47:44 2005] [error] [client 192.0.2.3] client denied by server configuration: /etc", true,
			KindHTTPError, "192.0.2.3", "", "/etc", "", 0, 0, false, "client denied by server configuration: /etc"},
		{"[Sun Dec 04 04:47:44 2005] [error] [client 192.0.2.3] script not found or unable to stat: /cgi-bin/x", true,
			KindHTTPError, "192.0.2.3", "", "/cgi-bin/x", "", 0, 0, false, "script not found or unable to stat: /cgi-bin/x"},
		{"[Sun Dec 04 04:47:44 2005] [notice] caught SIGTERM, shutting down", true,
			KindHTTPError, "", "", "", "", 0, 0, false, "caught SIGTERM, shutting down"},
		{"[Sun Dec 04 04:47:44 2005] [error] user x is fine", true,
			KindHTTPError, "", "", "", "", 0, 0, false, "user x is fine"},
		{"[Sun Dec 04 04:47:44 2005] [error] [client nowhere] x", false, "", "", "", "", "", 0, 0, false, ""},
		{"[Sun Dec 04 04:47:44 2005] [error] [client nowhere:80] x", false, "", "", "", "", "", 0, 0, false, ""},
		{"[Sun Dec 04 04:47:44 2005] no level here", false, "", "", "", "", "", 0, 0, false, ""},
		{"[Sun Dec 04 04:47:44 2005] [error x", false, "", "", "", "", "", 0, 0, false, ""},
		{"[Sun Dec 04 25:47:44 2005] [error] x", false, "", "", "", "", "", 0, 0, false, ""},
		{"[Sun Dex 04 04:47:44 2005] [error] x", false, "", "", "", "", "", 0, 0, false, ""},
		{"[Sun Dec 04 04:47:44 2005", false, "", "", "", "", "", 0, 0, false, ""},
	} {
		e, err := ParseApacheError(tc.line, nil)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok %v", tc.line, err, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		checkEntry(t, tc.line, e, tc.kind, tc.ip, tc.user)
		if e.Path != tc.path || e.Referer != tc.ref || e.PID != tc.pid || e.Port != tc.port || e.InvalidUser != tc.invalid ||
			e.Message != tc.msg || !e.Time.Equal(at) || e.Program != "apache" {
			t.Errorf("%q: path %q referer %q pid %d port %d invalid %v msg %q time %v program %q", tc.line,
				e.Path, e.Referer, e.PID, e.Port, e.InvalidUser, e.Message, e.Time, e.Program)
		}
	}
}
