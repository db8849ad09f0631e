package parse

import (
	"testing"
	"time"
)

func TestParseSyslog(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	tests := []struct {
		line                   string
		loc                    *time.Location
		time                   time.Time
		pri                    int
		framing, host, program string
		pid                    int
		msgID, msg             string
	}{
		{"Mar  3 10:15:01 host sshd[123]: hello world", nil, time.Date(2026, 3, 3, 10, 15, 1, 0, time.UTC), -1, "rfc3164", "host", "sshd", 123, "", "hello world"},
		{"Nov 2 15:40:14 workshop sshd[28179]: x", paris, time.Date(2026, 11, 2, 15, 40, 14, 0, paris), -1, "rfc3164", "workshop", "sshd", 28179, "", "x"},
		{"<34>Aug 03 21:39:20 hostname su: msg: with colon", nil, time.Date(2026, 8, 3, 21, 39, 20, 0, time.UTC), 34, "rfc3164", "hostname", "su", 0, "", "msg: with colon"},
		{"Feb 12 14:10:24 sd-126005 sshd-session[16379]: Invalid user", nil, time.Date(2026, 2, 12, 14, 10, 24, 0, time.UTC), -1, "rfc3164", "sd-126005", "sshd-session", 16379, "", "Invalid user"},
		{"2023-11-14T00:20:42.738197+01:00 myserver sshd[1112652]: User root", nil, time.Date(2023, 11, 13, 23, 20, 42, 738197000, time.UTC), -1, "rfc3164", "myserver", "sshd", 1112652, "", "User root"},
		{"<34>1 2026-11-27T10:15:01.003Z host sshd 123 - - msg", nil, time.Date(2026, 11, 27, 10, 15, 1, 3e6, time.UTC), 34, "rfc5424", "host", "sshd", 123, "", "msg"},
		{`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventID="10\]11"][x a="b"] ` + "\ufeff" + `An application event`, nil, time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC), 165, "rfc5424", "mymachine.example.com", "evntslog", 0, "ID47", "An application event"},
		{"<13>1 - - - - - -", nil, time.Time{}, 13, "rfc5424", "", "", 0, "", ""},
		{"Jan  5 01:02:03.456 h cron[9]: job", nil, time.Date(2026, 1, 5, 1, 2, 3, 456e6, time.UTC), -1, "rfc3164", "h", "cron", 9, "", "job"},
	}
	for _, tc := range tests {
		sl, err := ParseSyslog([]byte(tc.line), 2026, tc.loc)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if !sl.Time.Equal(tc.time) {
			t.Errorf("%q: Time = %v, want %v", tc.line, sl.Time, tc.time)
		}
		if sl.Priority != tc.pri || sl.Framing != tc.framing || sl.Host != tc.host || sl.Program != tc.program ||
			sl.PID != tc.pid || sl.MsgID != tc.msgID || sl.Message != tc.msg {
			t.Errorf("%q: got %+v", tc.line, sl)
		}
	}
}

func TestParseSyslogRejects(t *testing.T) {
	t.Parallel()
	for _, line := range []string{
		"", "hello", "Mar  3 10:15:01", "Mar 32 10:15:01 h p: m", "Foo  3 10:15:01 h p: m",
		"Mar  3 25:15:01 h p: m", "<1000>Mar  3 10:15:01 h p: m", "<x>1 - - - - - -",
		"Mar  3 10:15:01 host no tag here", "<34>1 notatime h a - - - m", "<34>1 - h a - - [unterminated",
	} {
		if sl, err := ParseSyslog([]byte(line), 2026, nil); err == nil {
			t.Errorf("%q: parsed as %+v, want an error", line, sl)
		}
	}
}
