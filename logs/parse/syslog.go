package parse

import (
	"errors"
	"strings"
	"time"
)

// Syslog is a syslog header and its message.
type Syslog struct {
	Time     time.Time
	Priority int    // -1 when the line had no <PRI>
	Framing  string // "rfc3164" or "rfc5424"
	Host     string
	Program  string // RFC 3164 tag or RFC 5424 APP-NAME; "" for "-"
	PID      int    // 0 when absent or not numeric
	MsgID    string // RFC 5424 only; "" for "-"
	Message  string
}

var (
	errSyslogTime   = errors.New("no syslog timestamp")
	errSyslogHeader = errors.New("truncated syslog header")
	errSyslogPRI    = errors.New("bad <PRI>")
)

// ParseSyslog parses an RFC 3164 line ("Mar  3 10:15:01 host sshd[123]: msg",
// also with an RFC 3339 timestamp as rsyslog writes it) or an RFC 5424 line
// ("<34>1 2026-11-27T10:15:01.003Z host sshd 123 - - msg"), each with an
// optional <PRI>. RFC 3164 carries no year, so the caller supplies it; loc is
// the zone of zone-less timestamps (nil means UTC).
func ParseSyslog(line []byte, year int, loc *time.Location) (Syslog, error) {
	if loc == nil {
		loc = time.UTC
	}
	return parseSyslog(string(line), yearSource{year: year}, loc)
}

func parseSyslog(s string, year yearSource, loc *time.Location) (Syslog, error) {
	sl := Syslog{Priority: -1}
	if len(s) > 0 && s[0] == '<' {
		end := strings.IndexByte(s, '>')
		if end < 2 || end > 4 {
			return sl, errSyslogPRI
		}
		pri, ok := atoi(s[1:end])
		if !ok || pri > 191 {
			return sl, errSyslogPRI
		}
		sl.Priority = pri
		s = s[end+1:]
		if len(s) > 2 && s[0] == '1' && s[1] == ' ' {
			return parse5424(s[2:], sl)
		}
	}
	s = strings.TrimLeft(s, " ")
	sl.Framing = "rfc3164"
	var rest string
	var ok bool
	if len(s) >= 4 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) {
		end := strings.IndexByte(s, ' ')
		if end < 0 {
			return sl, errSyslogHeader
		}
		t, err := time.Parse(time.RFC3339Nano, s[:end])
		if err != nil {
			return sl, errSyslogTime
		}
		sl.Time, rest, ok = t, s[end+1:], true
	} else {
		sl.Time, rest, ok = parseBSDTime(s, year, loc)
	}
	if !ok {
		return sl, errSyslogTime
	}
	rest = strings.TrimLeft(rest, " ")
	sp := strings.IndexByte(rest, ' ')
	if sp <= 0 {
		return sl, errSyslogHeader
	}
	sl.Host, rest = rest[:sp], rest[sp+1:]
	// TAG: up to '[' or ':' followed by a space (or end of line).
	colon := strings.Index(rest, ": ")
	if colon < 0 {
		if strings.HasSuffix(rest, ":") {
			colon = len(rest) - 1
		} else {
			return sl, errors.New("no program tag")
		}
	}
	tag := rest[:colon]
	if strings.IndexByte(tag, ' ') >= 0 {
		return sl, errors.New("program tag contains a space")
	}
	if i := strings.IndexByte(tag, '['); i >= 0 && strings.HasSuffix(tag, "]") {
		sl.PID, _ = atoi(tag[i+1 : len(tag)-1])
		tag = tag[:i]
	}
	if tag == "" {
		return sl, errors.New("empty program tag")
	}
	sl.Program = tag
	if colon+2 <= len(rest) {
		sl.Message = rest[colon+2:]
	}
	return sl, nil
}

// parse5424 parses what follows "<PRI>1 ".
func parse5424(s string, sl Syslog) (Syslog, error) {
	sl.Framing = "rfc5424"
	var f [5]string
	for i := range f {
		sp := strings.IndexByte(s, ' ')
		if sp < 0 {
			if i == 4 {
				f[i], s = s, ""
				break
			}
			return sl, errSyslogHeader
		}
		f[i], s = s[:sp], s[sp+1:]
	}
	if f[0] != "-" {
		t, err := time.Parse(time.RFC3339Nano, f[0])
		if err != nil {
			return sl, errSyslogTime
		}
		sl.Time = t
	}
	sl.Host = nilValue(f[1])
	sl.Program = nilValue(f[2])
	sl.PID, _ = atoi(f[3])
	sl.MsgID = nilValue(f[4])
	// STRUCTURED-DATA: "-" or one or more [id k="v"...] with \] escapes.
	switch {
	case strings.HasPrefix(s, "-"):
		s = s[1:]
	case strings.HasPrefix(s, "["):
		i := 0
		for i < len(s) && s[i] == '[' {
			j := i + 1
			inQuote := false
			for ; j < len(s); j++ {
				c := s[j]
				if c == '\\' && inQuote {
					j++
					continue
				}
				if c == '"' {
					inQuote = !inQuote
				}
				if c == ']' && !inQuote {
					break
				}
			}
			if j >= len(s) {
				return sl, errors.New("unterminated structured data")
			}
			i = j + 1
		}
		s = s[i:]
	default:
		if s != "" {
			return sl, errors.New("bad structured data")
		}
	}
	s = strings.TrimPrefix(s, " ")
	s = strings.TrimPrefix(s, "\ufeff")
	sl.Message = s
	return sl, nil
}

func nilValue(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func monthIndex(s string) time.Month {
	for i, m := range months {
		if s == m {
			return time.Month(i + 1)
		}
	}
	return 0
}

// parseBSDTime parses "Mmm dd hh:mm:ss" where dd may be " 3", "3" or "03",
// with an optional fraction, and returns the rest after one space.
func parseBSDTime(s string, year yearSource, loc *time.Location) (time.Time, string, bool) {
	if len(s) < 14 || s[3] != ' ' {
		return time.Time{}, "", false
	}
	mon := monthIndex(s[:3])
	if mon == 0 {
		return time.Time{}, "", false
	}
	s = strings.TrimLeft(s[4:], " ")
	i := 0
	for i < len(s) && i < 2 && isDigit(s[i]) {
		i++
	}
	day, ok := atoi(s[:i])
	if !ok || day < 1 || day > 31 || i >= len(s) || s[i] != ' ' {
		return time.Time{}, "", false
	}
	s = s[i+1:]
	h, m, sec, ok := parseClock(s)
	if !ok {
		return time.Time{}, "", false
	}
	s = s[8:]
	nsec := 0
	if len(s) > 1 && s[0] == '.' {
		j := 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		nsec = fraction(s[1:j])
		s = s[j:]
	}
	if len(s) == 0 || s[0] != ' ' {
		return time.Time{}, "", false
	}
	y := year.year
	if year.rule != nil {
		y = year.rule.yearOf(mon, day, h, m, sec, loc)
	}
	return time.Date(y, mon, day, h, m, sec, nsec, loc), s[1:], true
}

// parseClock parses "hh:mm:ss" at the start of s.
func parseClock(s string) (h, m, sec int, ok bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return 0, 0, 0, false
	}
	h, ok1 := atoi(s[0:2])
	m, ok2 := atoi(s[3:5])
	sec, ok3 := atoi(s[6:8])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 60 {
		return 0, 0, 0, false
	}
	return h, m, sec, true
}

// fraction turns the digits after a decimal point into nanoseconds.
func fraction(d string) int {
	n := 0
	for i := 0; i < 9; i++ {
		n *= 10
		if i < len(d) {
			n += int(d[i] - '0')
		}
	}
	return n
}

// looksLikeSyslogTime reports whether s starts like an RFC 3164 or RFC 3339
// timestamp, so Parse can try syslog before access-log parsing.
func looksLikeSyslogTime(s string) bool {
	if len(s) >= 4 && s[3] == ' ' && monthIndex(s[:3]) != 0 {
		return true
	}
	return len(s) >= 11 && isDigit(s[0]) && isDigit(s[3]) && s[4] == '-' && s[7] == '-' && s[10] == 'T'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// atoi parses a short non-negative decimal without allocating.
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
