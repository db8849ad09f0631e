package logdetect

import (
	"fmt"
	"testing"
	"time"
)

func TestYearsFromNotAfter(t *testing.T) {
	for _, tc := range []struct {
		notAfter time.Time
		line     string
		want     time.Time
	}{
		// Lines from Dec 10 replayed on Dec 6 are last year's, not in the future.
		{time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), "Dec 10 08:00:00 h sshd[1]: x", time.Date(2025, 12, 10, 8, 0, 0, 0, time.UTC)},
		{time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), "Dec  6 11:59:00 h sshd[1]: x", time.Date(2026, 12, 6, 11, 59, 0, 0, time.UTC)},
		// Within YearSlack: a log written in a zone ahead of Location.
		{time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), "Dec  6 23:00:00 h sshd[1]: x", time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)},
		// A file spanning New Year, modified on Jan 6.
		{time.Date(2027, 1, 6, 9, 0, 0, 0, time.UTC), "Dec 31 23:00:00 h sshd[1]: x", time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)},
		{time.Date(2027, 1, 6, 9, 0, 0, 0, time.UTC), "Jan  1 00:00:01 h sshd[1]: x", time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC)},
		// A message sent at 23:59:59 on Dec 31 and received after midnight.
		{time.Date(2027, 1, 1, 0, 0, 2, 0, time.UTC), "Dec 31 23:59:59 h sshd[1]: x", time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)},
	} {
		sl, err := parseSyslog(tc.line, yearSource{rule: &Years{NotAfter: tc.notAfter}}, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if !sl.Time.Equal(tc.want) {
			t.Errorf("%q with NotAfter %v: %v, want %v", tc.line, tc.notAfter, sl.Time, tc.want)
		}
	}
}

func TestYearsRollOver(t *testing.T) {
	y := &Years{Year: 2026}
	for _, tc := range []struct {
		line string
		year int
	}{
		{"Dec  1 10:00:00 h sshd[1]: Invalid user x from 192.0.2.1", 2026},
		{"Nov 30 23:59:59 h sshd[1]: Invalid user x from 192.0.2.1", 2026}, // out of order: no roll-over
		{"Dec 31 23:59:59 h sshd[1]: Invalid user x from 192.0.2.1", 2026},
		{"Jan  1 00:00:01 h sshd[1]: Invalid user x from 192.0.2.1", 2027},
		{"Feb  1 00:00:01 h sshd[1]: Invalid user x from 192.0.2.1", 2027},
	} {
		e, err := Parse([]byte(tc.line), Hint{Years: y})
		if err != nil {
			t.Fatal(err)
		}
		if e.Time.Year() != tc.year {
			t.Errorf("%q: year %d, want %d", tc.line, e.Time.Year(), tc.year)
		}
	}
}

// One failure a day from Dec 31 to Jan 6 is no brute force: with the year
// rolling over, time does not run backwards into the buckets.
func TestNewYearIsNoBruteForce(t *testing.T) {
	ss, err := BuiltinScenarios()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(ss, Options{})
	hint := Hint{Years: &Years{Year: 2026}}
	var ovs []Overflow
	for i, day := range []string{"Dec 31", "Jan  1", "Jan  2", "Jan  3", "Jan  4", "Jan  5", "Jan  6"} {
		line := fmt.Sprintf("%s 03:00:00 h sshd[%d]: Failed password for root from 203.0.113.50 port 4000 ssh2", day, 100+i)
		e, err := Parse([]byte(line), hint)
		if err != nil {
			t.Fatal(err)
		}
		ovs = append(ovs, d.Feed(&e)...)
	}
	for _, ov := range ovs {
		if ov.Scenario == "ssh-bf" || ov.Scenario == "ssh-slow-bf" {
			t.Errorf("one failure a day overflowed %s: %s", ov.Scenario, ov.Message)
		}
	}
}
