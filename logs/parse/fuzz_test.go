package parse

import (
	"os"
	"strings"
	"testing"
	"time"
)

// addFileSeeds adds every line of the named testdata files to the corpus.
func addFileSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		if _, err := os.Stat("testdata/crowdsec/" + name); err != nil {
			f.Fatalf("seed file: %v", err)
		}
		for _, line := range readLines(f, "testdata/crowdsec/"+name) {
			f.Add(line)
		}
	}
}

func FuzzSyslog(f *testing.F) {
	addFileSeeds(f, "sshd-logs.log", "http-bf-wordpress-bf.log")
	f.Add("<34>1 2026-11-27T10:15:01.003Z host sshd 123 - - msg")
	f.Add(`<165>1 2003-10-11T22:14:15.003Z h app - ID47 [a b="\]"] msg`)
	f.Fuzz(func(t *testing.T, line string) {
		sl, err := ParseSyslog([]byte(line), 2026, time.UTC)
		if err != nil {
			return
		}
		if sl.Framing != "rfc3164" && sl.Framing != "rfc5424" {
			t.Fatalf("Framing = %q", sl.Framing)
		}
		if sl.Priority < -1 || sl.Priority > 191 {
			t.Fatalf("Priority = %d", sl.Priority)
		}
		if e, err := Parse([]byte(line), Hint{Year: 2026}); err == nil {
			validEntry(t, e)
		}
		// A year-less timestamp is never dated past NotAfter's slack.
		notAfter := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		if sl, err := parseSyslog(line, yearSource{rule: &Years{NotAfter: notAfter}}, time.UTC); err == nil &&
			sl.Framing == "rfc3164" && monthIndex(strings.TrimLeft(line, " ")[:min(3, len(strings.TrimLeft(line, " ")))]) != 0 &&
			sl.Time.After(notAfter.Add(YearSlack)) {
			t.Fatalf("%q dated %v, after %v", line, sl.Time, notAfter.Add(YearSlack))
		}
	})
}

func FuzzSSHD(f *testing.F) {
	for _, line := range readLines(f, "testdata/crowdsec/sshd-logs.log") {
		if sl, err := ParseSyslog([]byte(line), 2026, nil); err == nil {
			f.Add(sl.Message)
		}
	}
	f.Add("Failed password for invalid user admin from 2001:db8::1 port 22 ssh2")
	f.Add("message repeated 2 times: [ Failed password for root from 1.2.3.4 port 5 ssh2]")
	f.Add("refused connect from x (1.2.3.4)")
	f.Fuzz(func(t *testing.T, msg string) {
		if e, err := ParseSSHD(msg); err == nil {
			validEntry(t, e)
			if e.Kind != KindSSHRefused && !e.SourceIP.IsValid() {
				t.Fatalf("sshd entry %q without an address", e.Kind)
			}
		}
	})
}

func FuzzAccess(f *testing.F) {
	addFileSeeds(f, "nginx_http-logs.log", "apache-http-probing.log", "nginx-http-generic-bf.log")
	f.Add(`::1 - - [27/Nov/2026:10:15:01 +0100] "GET /\"x HTTP/1.1" 200 - "-" "a\"b" "-"`)
	f.Fuzz(func(t *testing.T, line string) {
		if e, err := ParseAccess(line); err == nil {
			validEntry(t, e)
			if !e.SourceIP.IsValid() || e.Status < 100 || e.Status > 999 || e.Bytes < 0 {
				t.Fatalf("bad access entry %+v", e)
			}
		}
		if e, err := ParseNginxError(line, nil); err == nil {
			validEntry(t, e)
		}
	})
}

func FuzzAuth(f *testing.F) {
	f.Add("authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ")
	f.Add("check pass; user unknown")
	f.Add("message repeated 4 times: [ pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.44  user=root]")
	f.Add("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=5.33.63.160 user=workshop")
	f.Add("FAILED SU (to root) alice on pts/0")
	f.Add("(to root) alice on pts/0")
	f.Add("   alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash")
	f.Add("FAILED LOGIN 2 FROM 192.0.2.50 FOR admin, Authentication failure")
	f.Add("pam_unix(sudo:auth): auth could not identify password for [alice]")
	f.Fuzz(func(t *testing.T, msg string) {
		if e, err := ParseAuth(msg); err == nil {
			validEntry(t, e)
		}
	})
}

func FuzzCloudTrail(f *testing.F) {
	f.Add(ctDenied)
	f.Add(ctService)
	f.Add(ctConsole)
	f.Add(`{"Records":[` + ctDenied + `]}`)
	f.Fuzz(func(t *testing.T, rec string) {
		if e, err := ParseCloudTrail([]byte(rec)); err == nil {
			validEntry(t, e)
		}
		if es, err := ParseCloudTrailFile([]byte(rec)); err == nil {
			for _, e := range es {
				validEntry(t, e)
			}
		}
	})
}

func FuzzGenericJSON(f *testing.F) {
	f.Add(`{"ts":"2026-11-27T10:15:01Z","ip":"1.2.3.4:80","user":"u","status":200,"t":1764238501}`)
	f.Add(`{"ts":"2026-11-27T10:15:01Z","ip":"[::1]:80","nested":{"a":[1,2]}}`)
	f.Add(`{"t":1e300}`)
	mappings := []*JSONMapping{
		{Time: "ts", IP: "ip", User: "user", Status: "status", Extra: []string{"nested.a"}},
		{Time: "t", TimeLayout: "unix", IP: "nested.ip"},
		{Time: "t", TimeLayout: "unix_ms", Kind: KindHTTPAccess},
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, m := range mappings {
			if e, err := m.ParseString(line); err == nil {
				validEntry(t, e)
			}
		}
		if e, err := Parse([]byte(line), Hint{JSON: mappings[0]}); err == nil {
			validEntry(t, e)
		}
	})
}
