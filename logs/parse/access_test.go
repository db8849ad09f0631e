package parse

import (
	"testing"
	"time"
)

// TestCrowdSecNginxLogs checks CrowdSec's nginx_http-logs lines against the
// values in its parser.assert (remote_addr, verb, request, status, UA, fqdn).
func TestCrowdSecNginxLogs(t *testing.T) {
	t.Parallel()
	lines := readLines(t, "testdata/crowdsec/nginx_http-logs.log")
	want := []struct {
		kind, ip, user, host, method, path string
		status                             int
		ua                                 string
	}{
		{KindHTTPAccess, "192.168.1.1", "", "", "GET", "/.well-known/acme-challenge/FMuukC2JOJ5HKmLBujjE_BkDo", 404, "Go-http-client/1.1"},
		{KindHTTPAccess, "192.168.1.1", "", "", "GET", "/index.php/nous-contacter/", 500, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
		{KindHTTPAccess, "192.168.1.1", "", "", "GET", "/solr/admin/info/system?wt=json", 500, chromeUA},
		{KindHTTPAccess, "192.168.1.1", "", "www.crowdsec.net", "GET", "/solr/admin/info/system?wt=json", 500, chromeUA},
		{KindHTTPAccess, "192.168.1.1", "", "www.crowdsec11.net", "GET", "/test/uppercase/extensions.JPG", 500, chromeUA},
		{KindHTTPAccess, "192.168.1.1", "", "www.crowdsec11.net", "GET", "/test/uppercase/extensions.JPG", 301, chromeUA},
		{KindHTTPAccess, "192.168.1.1", "user123", "", "GET", "/api/login", 200, "curl/7.68.0"},
		{KindHTTPAccess, "192.168.1.1", "", "", "GET", "/api/test", 200, "curl/7.68.0"},
		{KindHTTPError, "172.17.0.1", "", "localhost", "GET", "/market/", 0, ""},
	}
	if got, want := len(lines), len(want); got != want {
		t.Fatalf("lines = %d, want %d", got, want)
	}
	for i, line := range lines {
		e, err := Parse([]byte(line), Hint{})
		if err != nil {
			t.Errorf("line %d: %v", i, err)
			continue
		}
		w := want[i]
		checkEntry(t, line, e, w.kind, w.ip, w.user)
		if e.Host != w.host || e.Method != w.method || e.Path != w.path || e.Status != w.status || e.UserAgent != w.ua {
			t.Errorf("line %d: got host=%q method=%q path=%q status=%d ua=%q", i, e.Host, e.Method, e.Path, e.Status, e.UserAgent)
		}
	}
}

const chromeUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36"

func TestCrowdSecHTTPLogs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file, kind, ip string
	}{
		{"apache-http-probing.log", KindHTTPAccess, "172.17.0.1"},
		{"nginx-bad-user-agent.log", KindHTTPAccess, "127.0.0.1"},
		{"http-bf-wordpress-bf.log", KindHTTPAccess, "81.150.104.130"},
	} {
		for _, line := range readLines(t, "testdata/crowdsec/"+tc.file) {
			e, err := Parse([]byte(line), Hint{Year: 2021})
			if err != nil {
				t.Errorf("%s: %q: %v", tc.file, line, err)
				continue
			}
			checkEntry(t, line, e, tc.kind, tc.ip, "")
			if e.Method == "" || e.Path == "" || e.Status == 0 {
				t.Errorf("%q: incomplete request %+v", line, e)
			}
		}
	}
	// nginx basic-auth brute force: error-log lines and 401 access lines.
	var authFail, access401 int
	for _, line := range readLines(t, "testdata/crowdsec/nginx-http-generic-bf.log") {
		e, err := Parse([]byte(line), Hint{})
		if err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		switch {
		case e.Kind == KindHTTPAuthFailure && e.User == "foo" && e.SourceIP == mustAddr(t, "127.0.0.1"):
			authFail++
		case e.Kind == KindHTTPAccess && e.Status == 401 && e.User == "test" && e.ForwardedFor == "":
			access401++
		default:
			t.Errorf("%q: unexpected %+v", line, e)
		}
	}
	if authFail != 16 || access401 != 6 {
		t.Errorf("auth failures = %d, 401s = %d, want 16 and 6", authFail, access401)
	}
}

func TestParseAccessForms(t *testing.T) {
	t.Parallel()
	e, err := ParseAccess(`2001:db8::1 - - [27/Nov/2026:10:15:01 +0100] "GET /a?q=\"x\" HTTP/2.0" 200 - "https://ref/" "Mo\"zilla" "10.0.0.1, 10.0.0.2"`)
	if err != nil {
		t.Fatal(err)
	}
	checkEntry(t, "ipv6", e, KindHTTPAccess, "2001:db8::1", "")
	if got, want := e.Path, `/a?q=\"x\"`; got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
	if got, want := e.Protocol, "HTTP/2.0"; got != want {
		t.Errorf("Protocol = %q, want %q", got, want)
	}
	if got, want := e.UserAgent, `Mo\"zilla`; got != want {
		t.Errorf("UserAgent = %q, want %q", got, want)
	}
	if got, want := e.Referer, "https://ref/"; got != want {
		t.Errorf("Referer = %q, want %q", got, want)
	}
	if got, want := e.ForwardedFor, "10.0.0.1, 10.0.0.2"; got != want {
		t.Errorf("ForwardedFor = %q, want %q", got, want)
	}
	if got, want := e.Bytes, int64(0); got != want {
		t.Errorf("Bytes = %d, want %d", got, want)
	}
	if got, want := e.Time, time.Date(2026, 11, 27, 9, 15, 1, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Time = %v, want %v", got, want)
	}

	e, err = ParseAccess(`198.51.100.4 - - [01/Jan/2026:00:00:00 -0530] "\x16\x03\x01\x00" 400 157 "-" "-"`)
	if err != nil {
		t.Fatal(err)
	}
	if e.Method != "" || e.Path != `\x16\x03\x01\x00` || e.Status != 400 || e.Bytes != 157 || e.UserAgent != "" {
		t.Errorf("garbage request parsed as %+v", e)
	}
	if got, want := e.Time, time.Date(2026, 1, 1, 5, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Time = %v, want %v", got, want)
	}

	for _, line := range []string{
		"", "1.2.3.4", "notanip - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1",
		"1.2.3.4 - - [01/Jan/2026:00:00:00] \"GET / HTTP/1.1\" 200 1",
		"1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1 200 1",
		"1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 20 1",
		"1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 x",
		"1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1 garbage",
	} {
		if e, err := ParseAccess(line); err == nil {
			t.Errorf("%q: parsed as %+v, want an error", line, e)
		}
	}
}
