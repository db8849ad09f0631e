package parse

import (
	"testing"
	"time"
)

// Syslog headers at their edges (issue 13).

func TestParseSyslogEdges(t *testing.T) {
	for _, tc := range []struct {
		line    string
		ok      bool
		pri     int
		program string
		pid     int
		msg     string
		time    time.Time
	}{
		{"<0>Mar  3 10:15:01 h p: m", true, 0, "p", 0, "m", time.Date(2026, 3, 3, 10, 15, 1, 0, time.UTC)},
		{"<191>Mar  3 10:15:01 h p: m", true, 191, "p", 0, "m", time.Date(2026, 3, 3, 10, 15, 1, 0, time.UTC)},
		{"<192>Mar  3 10:15:01 h p: m", false, 0, "", 0, "", time.Time{}},
		{"<>Mar  3 10:15:01 h p: m", false, 0, "", 0, "", time.Time{}},
		{"<0191>Mar  3 10:15:01 h p: m", false, 0, "", 0, "", time.Time{}},
		// Day and clock edges.
		{"Mar 31 23:59:60 h p: m", true, -1, "p", 0, "m", time.Date(2026, 3, 31, 23, 59, 60, 0, time.UTC)},
		{"Mar  1 00:00:00 h p: m", true, -1, "p", 0, "m", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"Mar 0 10:15:01 h p: m", false, 0, "", 0, "", time.Time{}},
		{"Mar  3 24:00:00 h p: m", false, 0, "", 0, "", time.Time{}},
		{"Mar  3 10:60:00 h p: m", false, 0, "", 0, "", time.Time{}},
		{"Mar  3 10:15:61 h p: m", false, 0, "", 0, "", time.Time{}},
		{"Mar  3 10:15:01.5 h p: m", true, -1, "p", 0, "m", time.Date(2026, 3, 3, 10, 15, 1, 5e8, time.UTC)},
		{"Mar  3 10:15:01.123456789123 h p: m", true, -1, "p", 0, "m", time.Date(2026, 3, 3, 10, 15, 1, 123456789, time.UTC)},
		{"Dec 24 10:15:01 h p: m", true, -1, "p", 0, "m", time.Date(2026, 12, 24, 10, 15, 1, 0, time.UTC)},
		{"Jan 24 10:15:01 h p: m", true, -1, "p", 0, "m", time.Date(2026, 1, 24, 10, 15, 1, 0, time.UTC)},
		// Tags: a PID, a tag ending the line, a bracket that is not a PID.
		{"Mar  3 10:15:01 h prog[7]:", true, -1, "prog", 7, "", time.Date(2026, 3, 3, 10, 15, 1, 0, time.UTC)},
		{"Mar  3 10:15:01 h prog[x]: m", true, -1, "prog", 0, "m", time.Date(2026, 3, 3, 10, 15, 1, 0, time.UTC)},
		{"Mar  3 10:15:01 h prog[7: m", true, -1, "prog[7", 0, "m", time.Date(2026, 3, 3, 10, 15, 1, 0, time.UTC)},
		{"Mar  3 10:15:01 h [7]: m", false, 0, "", 0, "", time.Time{}},
		{"Mar  3 10:15:01  h p: m", true, -1, "p", 0, "m", time.Date(2026, 3, 3, 10, 15, 1, 0, time.UTC)},
		// RFC 5424: five header fields, then structured data.
		{"<1>1 - h a 12 id - hello", true, 1, "a", 12, "hello", time.Time{}},
		{"<1>1 - h a 12 id", true, 1, "a", 12, "", time.Time{}},
		{"<1>1 - h a 12", false, 0, "", 0, "", time.Time{}},
		{"<1>1 - h a 12 id [s a=\"]\"] hi", true, 1, "a", 12, "hi", time.Time{}},
		{"<1>1 - h a 12 id x hi", false, 0, "", 0, "", time.Time{}},
		{"<1>1 ", false, 0, "", 0, "", time.Time{}},
	} {
		sl, err := ParseSyslog([]byte(tc.line), 2026, nil)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok %v", tc.line, err, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		if sl.Priority != tc.pri || sl.Program != tc.program || sl.PID != tc.pid || sl.Message != tc.msg || !sl.Time.Equal(tc.time) {
			t.Errorf("%q: %+v, want pri %d program %q pid %d msg %q time %v", tc.line, sl, tc.pri, tc.program, tc.pid, tc.msg, tc.time)
		}
	}
}

func TestAtoiEdges(t *testing.T) {
	for s, want := range map[string]int{"0": 0, "9": 9, "10": 10, "999999999999999999": 999999999999999999} {
		if n, ok := atoi(s); !ok || n != want {
			t.Errorf("atoi(%q) = %d, %v", s, n, ok)
		}
	}
	for _, s := range []string{"", "1000000000000000000", "-1", "1a", "/", ":"} {
		if n, ok := atoi(s); ok {
			t.Errorf("atoi(%q) = %d, want not ok", s, n)
		}
	}
}
