package parse

import (
	"testing"
	"time"
)

// Year inference at its edges (issue 13).

func TestYearsEdges(t *testing.T) {
	notAfter := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC) // the limit is a day later
	for line, want := range map[string]int{
		"Dec  7 12:00:00 h sshd[1]: x": 2026, // exactly the limit
		"Dec  7 12:00:01 h sshd[1]: x": 2025,
	} {
		sl, err := parseSyslog(line, yearSource{rule: &Years{NotAfter: notAfter}}, time.UTC)
		if err != nil || sl.Time.Year() != want {
			t.Errorf("%q with NotAfter %v: %v, %v, want year %d", line, notAfter, sl.Time, err, want)
		}
	}
	// Without NotAfter, going back six months or more is a new year; five
	// is a line out of order.
	for _, tc := range []struct {
		first, then string
		want        int
	}{
		{"Jul  1 10:00:00", "Jan  2 10:00:00", 2027},
		{"Jun  1 10:00:00", "Jan  2 10:00:00", 2026},
		{"Dec  1 10:00:00", "Jun  2 10:00:00", 2027},
		{"Nov  1 10:00:00", "Jun  2 10:00:00", 2026},
	} {
		y := &Years{Year: 2026}
		for _, ts := range []string{tc.first, tc.then} {
			if _, err := parseSyslog(ts+" h sshd[1]: x", yearSource{rule: y}, time.UTC); err != nil {
				t.Fatal(err)
			}
		}
		if y.Year != tc.want {
			t.Errorf("%s then %s: year %d, want %d", tc.first, tc.then, y.Year, tc.want)
		}
	}
}
