package parse

import (
	"testing"
	"time"
)

func TestParseApacheError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line, kind, ip, user, path string
		port                       int
		at                         time.Time
	}{
		{"[Sun Dec 04 04:47:44 2005] [error] [client 211.141.93.88] File does not exist: /var/www/html/robots.txt", KindHTTPError, "211.141.93.88", "", "/var/www/html/robots.txt", 0, time.Date(2005, 12, 4, 4, 47, 44, 0, time.UTC)},
		{"[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:51234] AH00128: File does not exist: /usr/local/apache2/htdocs/favicon.ico", KindHTTPError, "72.15.99.187", "", "/usr/local/apache2/htdocs/favicon.ico", 51234, time.Date(2011, 9, 9, 10, 42, 29, 902022000, time.UTC)},
		{"[Wed Oct 11 14:32:52.123456 2023] [auth_basic:error] [pid 123] [client 203.0.113.9:5555] AH01618: user admin not found: /private", KindHTTPAuthFailure, "203.0.113.9", "admin", "/private", 5555, time.Date(2023, 10, 11, 14, 32, 52, 123456000, time.UTC)},
		{`[Wed Oct 11 14:32:53 2023] [error] [client 203.0.113.9] user alice: authentication failure for "/private": Password Mismatch, referer: http://example.com/`, KindHTTPAuthFailure, "203.0.113.9", "alice", "/private", 0, time.Date(2023, 10, 11, 14, 32, 53, 0, time.UTC)},
		{"[Thu Jun 09 06:07:04 2005] [notice] LDAP: Built with OpenLDAP LDAP SDK", KindHTTPError, "", "", "", 0, time.Date(2005, 6, 9, 6, 7, 4, 0, time.UTC)},
		{"[Mon Mar 02 10:00:00.1 2026] [proxy:error] [pid 9:tid 1] [client 2001:db8::7] AH00898: Error reading from remote server returned by /api", KindHTTPError, "2001:db8::7", "", "", 0, time.Date(2026, 3, 2, 10, 0, 0, 100000000, time.UTC)},
	} {
		e, err := Parse([]byte(tc.line), Hint{})
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		checkEntry(t, tc.line, e, tc.kind, tc.ip, tc.user)
		if e.Source != ParserApacheError || e.Path != tc.path || e.Port != tc.port || !e.Time.Equal(tc.at) {
			t.Errorf("%q: source %s path %q port %d time %v; want %s %q %d %v", tc.line, e.Source, e.Path, e.Port, e.Time, ParserApacheError, tc.path, tc.port, tc.at)
		}
		validEntry(t, e)
	}
	for _, bad := range []string{
		"[Sun Dec 04 04:47:44 2005]",
		"[Sun Dec 04 04:47:44 2005] [error] [client not-an-ip] x",
		"[Sun Foo 04 04:47:44 2005] [error] x",
		"[Sun Dec 04 99:47:44 2005] [error] x",
	} {
		if e, err := ParseApacheError(bad, nil); err == nil {
			t.Errorf("%q parsed as %+v, want an error", bad, e)
		}
	}
}

func FuzzApacheError(f *testing.F) {
	f.Add("[Sun Dec 04 04:47:44 2005] [error] [client 211.141.93.88] File does not exist: /var/www/html/robots.txt")
	f.Add("[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:51234] AH00128: File does not exist: /x")
	f.Add(`[Wed Oct 11 14:32:53 2023] [error] [client 203.0.113.9] user alice: authentication failure for "/private": Password Mismatch`)
	f.Add("[Wed Oct 11 14:32:52 2023] [auth_basic:error] [pid 123] [client [::1]:5555] AH01618: user admin not found: /private")
	f.Fuzz(func(t *testing.T, line string) {
		e, err := ParseApacheError(line, nil)
		if err != nil {
			return
		}
		validEntry(t, e)
		if e.Time.IsZero() {
			t.Fatal("apache error entry without a time")
		}
	})
}
