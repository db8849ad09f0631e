package parse

import "time"

// YearSlack is how far past Years.NotAfter a timestamp may fall and keep
// NotAfter's year: a day covers a log written in a time zone other than
// Hint.Location, and clocks a little ahead of the receiver's.
const YearSlack = 24 * time.Hour

// Years dates RFC 3164 timestamps ("Dec 31 23:59:59"), which carry no year.
// One Years serves one stream of lines (a file, a syslog batch), in order; it
// is not safe for concurrent use.
type Years struct {
	// NotAfter, when set, is a time no line is later than: a file's
	// modification time, or when a syslog message was received. A timestamp
	// takes the latest year that does not put it more than YearSlack after
	// NotAfter, so lines from last December read in January are last year's.
	NotAfter time.Time
	// Year, when NotAfter is zero, is the year of the first line. A line
	// whose month is six or more months before the previous one's
	// (December, then January) moves to the next year; a smaller step back
	// is a line out of order and does not.
	Year int

	month time.Month // latest month seen, for the roll-over
}

func (y *Years) yearOf(mon time.Month, day, h, m, sec int, loc *time.Location) int {
	if !y.NotAfter.IsZero() {
		limit := y.NotAfter.Add(YearSlack)
		yr := limit.In(loc).Year()
		if time.Date(yr, mon, day, h, m, sec, 0, loc).After(limit) {
			yr--
		}
		return yr
	}
	switch {
	case y.month == 0 || mon > y.month:
		y.month = mon
	case y.month-mon >= 6:
		y.Year++
		y.month = mon
	}
	return y.Year
}

// yearSource is Hint.Year or Hint.Years, as the syslog parser takes it.
type yearSource struct {
	year int
	rule *Years
}
