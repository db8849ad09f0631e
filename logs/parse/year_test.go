package parse

import (
	"testing"
	"time"
)

func TestYearsFromNotAfter(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
