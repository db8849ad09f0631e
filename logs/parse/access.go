package parse

import (
	"errors"
	"strings"
	"time"
)

var (
	errAccessShape   = errors.New(`not an access log line (want "IP - USER [time] \"REQUEST\" STATUS BYTES")`)
	errAccessAddr    = errors.New("access log client is not an IP address")
	errAccessTime    = errors.New("bad access log timestamp")
	errAccessQuote   = errors.New("unterminated quoted field")
	errAccessStatus  = errors.New("bad HTTP status")
	errAccessBytes   = errors.New("bad response size")
	errAccessTrailer = errors.New("unexpected text after the response size")
)

// ParseAccess parses an nginx or apache access log line in common or
// combined format: "[VHOST[:PORT] ]IP IDENT USER [02/Jan/2006:15:04:05 -0700]
// "REQUEST" STATUS BYTES ["REFERER" "UA" ["X-FORWARDED-FOR"]]". Time is
// returned in UTC. Fields after the forwarded-for one are ignored.
func ParseAccess(line string) (Entry, error) { return parseAccess(line) }

func parseAccess(s string) (Entry, error) {
	e := Entry{Source: ParserAccess, Kind: KindHTTPAccess, Count: 1}
	lb := strings.Index(s, " [")
	if lb <= 0 {
		return Entry{}, errAccessShape
	}
	var tok [4]string
	n := 0
	for f := range strings.FieldsSeq(s[:lb]) {
		if n == len(tok) {
			return Entry{}, errAccessShape
		}
		tok[n] = f
		n++
	}
	if n == 0 {
		return Entry{}, errAccessShape
	}
	i := 0
	ip, ok := parseIP(tok[0])
	if !ok {
		if n < 2 {
			return Entry{}, errAccessAddr
		}
		e.Host = tok[0]
		if c := strings.LastIndexByte(e.Host, ':'); c > 0 && strings.IndexByte(e.Host, ']') < c {
			if _, ok := atoi(e.Host[c+1:]); ok {
				e.Host = e.Host[:c] // "vhost:80"
			}
		}
		if ip, ok = parseIP(tok[1]); !ok {
			return Entry{}, errAccessAddr
		}
		i = 1
	}
	e.SourceIP = ip
	switch n - i - 1 { // remaining: ident and user, or only one of them
	case 0:
	case 1:
		e.User = dash(tok[i+1])
	case 2:
		e.User = dash(tok[i+2])
	default:
		return Entry{}, errAccessShape
	}

	s = s[lb+2:]
	rb := strings.IndexByte(s, ']')
	if rb < 0 {
		return Entry{}, errAccessTime
	}
	t, ok := parseCLFTime(s[:rb])
	if !ok {
		return Entry{}, errAccessTime
	}
	e.Time = t
	s = s[rb+1:]

	req, s, ok := quoted(s)
	if !ok {
		return Entry{}, errAccessQuote
	}
	splitRequest(&e, req)

	s = strings.TrimLeft(s, " ")
	sp := strings.IndexByte(s, ' ')
	statusStr := s
	if sp >= 0 {
		statusStr, s = s[:sp], s[sp:]
	} else {
		s = ""
	}
	status, ok := atoi(statusStr)
	if !ok || len(statusStr) != 3 || status < 100 {
		return Entry{}, errAccessStatus
	}
	e.Status = status

	s = strings.TrimLeft(s, " ")
	end := strings.IndexByte(s, ' ')
	bytesStr := s
	if end >= 0 {
		bytesStr, s = s[:end], s[end:]
	} else {
		s = ""
	}
	if bytesStr != "-" {
		b, ok := atoi(bytesStr)
		if !ok {
			return Entry{}, errAccessBytes
		}
		e.Bytes = int64(b)
	}

	// Combined format: referer and user agent, then nginx's optional
	// "$http_x_forwarded_for". Anything else after them is ignored.
	if strings.TrimSpace(s) == "" {
		return e, nil
	}
	var ref, ua, xff string
	if ref, s, ok = quoted(s); !ok {
		return Entry{}, errAccessTrailer
	}
	if ua, s, ok = quoted(s); !ok {
		return Entry{}, errAccessTrailer
	}
	e.Referer, e.UserAgent = dash(ref), dash(ua)
	if xff, _, ok = quoted(s); ok {
		e.ForwardedFor = dash(xff)
	}
	return e, nil
}

// quoted reads ` "..."` at the start of s (leading spaces allowed), honouring
// backslash escapes, and returns the raw contents and the rest.
func quoted(s string) (val, rest string, ok bool) {
	s = strings.TrimLeft(s, " ")
	if s == "" || s[0] != '"' {
		return "", s, false
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[1:i], s[i+1:], true
		}
	}
	return "", s, false
}

// splitRequest splits "METHOD TARGET PROTO"; anything else (TLS garbage,
// "-") stays whole in Path.
func splitRequest(e *Entry, req string) {
	sp1 := strings.IndexByte(req, ' ')
	sp2 := strings.LastIndexByte(req, ' ')
	if sp1 > 0 && sp2 > sp1 && strings.HasPrefix(req[sp2+1:], "HTTP/") && isToken(req[:sp1]) {
		e.Method, e.Path, e.Protocol = req[:sp1], req[sp1+1:sp2], req[sp2+1:]
		return
	}
	if sp1 > 0 && isToken(req[:sp1]) { // no protocol (HTTP/0.9) or spaces in the target
		e.Method, e.Path = req[:sp1], req[sp1+1:]
		return
	}
	e.Path = dash(req)
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 'A' || c > 'Z' {
			if c != '_' && c != '-' {
				return false
			}
		}
	}
	return s != ""
}

func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// parseCLFTime parses "02/Jan/2006:15:04:05 -0700" into UTC without
// allocating (time.Parse would build a FixedZone per line).
func parseCLFTime(s string) (time.Time, bool) {
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[20] != ' ' {
		return time.Time{}, false
	}
	day, ok1 := atoi(s[0:2])
	mon := monthIndex(s[3:6])
	year, ok2 := atoi(s[7:11])
	h, m, sec, ok3 := parseClock(s[12:20])
	if !ok1 || !ok2 || !ok3 || mon == 0 || day < 1 || day > 31 {
		return time.Time{}, false
	}
	sign := 1
	switch s[21] {
	case '+':
	case '-':
		sign = -1
	default:
		return time.Time{}, false
	}
	oh, ok4 := atoi(s[22:24])
	om, ok5 := atoi(s[24:26])
	if !ok4 || !ok5 || oh > 23 || om > 59 {
		return time.Time{}, false
	}
	off := time.Duration(sign) * (time.Duration(oh)*time.Hour + time.Duration(om)*time.Minute)
	return time.Date(year, mon, day, h, m, sec, 0, time.UTC).Add(-off), true
}
