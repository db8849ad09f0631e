package parse

import (
	"testing"
	"time"
)

// Access log lines at their edges (issue 13).

func TestParseAccessEdges(t *testing.T) {
	const tail = ` [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 5`
	at := time.Date(2026, 10, 10, 13, 55, 36, 0, time.UTC)
	for _, tc := range []struct {
		line                      string
		ok                        bool
		ip, user, host            string
		method, path, protocol    string
		status                    int
		bytes                     int64
		time                      time.Time
		referer, ua, forwardedFor string
	}{
		{"192.0.2.1 - -" + tail, true, "192.0.2.1", "", "", "GET", "/a", "HTTP/1.1", 200, 5, at, "", "", ""},
		{"192.0.2.1 - bob" + tail, true, "192.0.2.1", "bob", "", "GET", "/a", "HTTP/1.1", 200, 5, at, "", "", ""},
		{"192.0.2.1 bob" + tail, true, "192.0.2.1", "bob", "", "GET", "/a", "HTTP/1.1", 200, 5, at, "", "", ""},
		{"192.0.2.1" + tail, true, "192.0.2.1", "", "", "GET", "/a", "HTTP/1.1", 200, 5, at, "", "", ""},
		{"www.example:8080 192.0.2.1 - -" + tail, true, "192.0.2.1", "", "www.example", "GET", "/a", "HTTP/1.1", 200, 5, at, "", "", ""},
		{"www.example:x 192.0.2.1 - -" + tail, true, "192.0.2.1", "", "www.example:x", "GET", "/a", "HTTP/1.1", 200, 5, at, "", "", ""},
		{"[2001:db8::1]:80 192.0.2.1 - -" + tail, true, "192.0.2.1", "", "[2001:db8::1]", "GET", "/a", "HTTP/1.1", 200, 5, at, "", "", ""},
		{"[x:1] 192.0.2.1 - -" + tail, true, "192.0.2.1", "", "[x:1]", "GET", "/a", "HTTP/1.1", 200, 5, at, "", "", ""},
		{":80 192.0.2.1 - -" + tail, true, "192.0.2.1", "", ":80", "GET", "/a", "HTTP/1.1", 200, 5, at, "", "", ""},
		{"192.0.2.1 a b c" + tail, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		{"host 192.0.2.1 a b c" + tail, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		{"nohost" + tail, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		// Status: three digits from 100.
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 100 -`, true, "192.0.2.1", "", "", "GET", "/a", "HTTP/1.1", 100, 0, at, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 099 -`, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 2000 -`, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 x`, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 -  `, true, "192.0.2.1", "", "", "GET", "/a", "HTTP/1.1", 200, 0, at, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 7 junk`, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 7 "-" "ua \"q\"" "198.51.100.1"`, true, "192.0.2.1", "", "", "GET", "/a", "HTTP/1.1", 200, 7, at, "", `ua \"q\"`, "198.51.100.1"},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 7 "http://r/" "-"`, true, "192.0.2.1", "", "", "GET", "/a", "HTTP/1.1", 200, 7, at, "http://r/", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 7 "r"`, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		// Requests without a protocol, with spaces, or not a request at all.
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a" 200 1`, true, "192.0.2.1", "", "", "GET", "/a", "", 200, 1, at, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a b HTTP/1.0" 200 1`, true, "192.0.2.1", "", "", "GET", "/a b", "HTTP/1.0", 200, 1, at, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "M-SEARCH_X * HTTP/1.1" 200 1`, true, "192.0.2.1", "", "", "M-SEARCH_X", "*", "HTTP/1.1", 200, 1, at, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "get /a HTTP/1.1" 400 1`, true, "192.0.2.1", "", "", "", "get /a HTTP/1.1", "", 400, 1, at, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "-" 408 0`, true, "192.0.2.1", "", "", "", "", "", 408, 0, at, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "\x16\x03\x01" 400 0`, true, "192.0.2.1", "", "", "", `\x16\x03\x01`, "", 400, 0, at, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1 200 1`, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		// Timestamps: zone offsets both ways, edges of each field.
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0230] "GET /a HTTP/1.1" 200 5`, true, "192.0.2.1", "", "", "GET", "/a", "HTTP/1.1", 200, 5, at.Add(-150 * time.Minute), "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 -2359] "GET /a HTTP/1.1" 200 5`, true, "192.0.2.1", "", "", "GET", "/a", "HTTP/1.1", 200, 5, at.Add(23*time.Hour + 59*time.Minute), "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +2400] "GET /a HTTP/1.1" 200 5`, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0060] "GET /a HTTP/1.1" 200 5`, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 *0000] "GET /a HTTP/1.1" 200 5`, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		{`192.0.2.1 - - [31/Dec/2026:23:59:59 +0000] "GET /a HTTP/1.1" 200 5`, true, "192.0.2.1", "", "", "GET", "/a", "HTTP/1.1", 200, 5, time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), "", "", ""},
		{`192.0.2.1 - - [01/Jan/2026:00:00:00 +0000] "GET /a HTTP/1.1" 200 5`, true, "192.0.2.1", "", "", "GET", "/a", "HTTP/1.1", 200, 5, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "", "", ""},
		{`192.0.2.1 - - [00/Jan/2026:00:00:00 +0000] "GET /a HTTP/1.1" 200 5`, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		{`192.0.2.1 - - [32/Jan/2026:00:00:00 +0000] "GET /a HTTP/1.1" 200 5`, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026:13:55:36 +0000 "GET /a HTTP/1.1" 200 5`, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
		{`192.0.2.1 - - [10/Oct/2026 13:55:36 +0000] "GET /a HTTP/1.1" 200 5`, false, "", "", "", "", "", "", 0, 0, time.Time{}, "", "", ""},
	} {
		e, err := ParseAccess(tc.line)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok %v", tc.line, err, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		checkEntry(t, tc.line, e, KindHTTPAccess, tc.ip, tc.user)
		if e.Host != tc.host || e.Method != tc.method || e.Path != tc.path || e.Protocol != tc.protocol || e.Status != tc.status ||
			e.Bytes != tc.bytes || !e.Time.Equal(tc.time) || e.Referer != tc.referer || e.UserAgent != tc.ua || e.ForwardedFor != tc.forwardedFor {
			t.Errorf("%q: host %q method %q path %q proto %q status %d bytes %d time %v referer %q ua %q xff %q", tc.line,
				e.Host, e.Method, e.Path, e.Protocol, e.Status, e.Bytes, e.Time, e.Referer, e.UserAgent, e.ForwardedFor)
		}
	}
}

// TestParseAccessHostAndMethodEdges: a virtual host with the address alone
// after it, and a method token with the last capital letter.
func TestParseAccessHostAndMethodEdges(t *testing.T) {
	e, err := ParseAccess(`www.example 192.0.2.1 [10/Oct/2026:13:55:36 +0000] "ZAP /a HTTP/1.1" 200 5`)
	if err != nil || e.Host != "www.example" || e.SourceIP.String() != "192.0.2.1" || e.Method != "ZAP" || e.Path != "/a" {
		t.Errorf("host %q ip %v method %q path %q err %v", e.Host, e.SourceIP, e.Method, e.Path, err)
	}
}
