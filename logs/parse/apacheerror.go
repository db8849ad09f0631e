package parse

import (
	"errors"
	"strings"
	"time"
)

var errApacheError = errors.New(`not an Apache error log line (want "[Sun Dec 04 04:47:44 2005] [level] ...")`)

// ParseApacheError parses an Apache httpd error log line, 2.2 or 2.4 form:
//
//	[Sun Dec 04 04:47:44 2005] [error] [client 211.141.93.88] File does not exist: /var/www/html/robots.txt
//	[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:51234] AH00128: File does not exist: /favicon.ico
//
// Basic-auth failures ("user X not found", "user X: authentication failure
// for ...") get KindHTTPAuthFailure, every other line KindHTTPError. A line
// without "[client ...]" (server notices) parses with no SourceIP, so no
// scenario counts it. Apache writes local time: loc (nil for UTC) is its
// zone.
func ParseApacheError(line string, loc *time.Location) (Entry, error) {
	if loc == nil {
		loc = time.UTC
	}
	return parseApacheError(line, loc)
}

// apacheErrorTime is the layout of the bracketed time; a fraction of a
// second after the seconds (2.4) is accepted by time.Parse.
const apacheErrorTime = "Mon Jan _2 15:04:05 2006"

// looksLikeApacheError reports whether s starts with "[Www Mmm ".
func looksLikeApacheError(s string) bool {
	return len(s) > 26 && s[0] == '[' && s[4] == ' ' && s[8] == ' ' && monthIndex(s[5:8]) != 0
}

func parseApacheError(s string, loc *time.Location) (Entry, error) {
	e := Entry{Source: ParserApacheError, Kind: KindHTTPError, Count: 1, Program: "apache"}
	if !looksLikeApacheError(s) {
		return Entry{}, errApacheError
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return Entry{}, errApacheError
	}
	t, err := time.ParseInLocation(apacheErrorTime, s[1:end], loc)
	if err != nil {
		return Entry{}, errApacheError
	}
	e.Time = t
	rest := strings.TrimLeft(s[end+1:], " ")
	level := false
	for strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return Entry{}, errApacheError
		}
		tok := rest[1:end]
		switch {
		case !level:
			level = true // [error] or [module:level]
		case strings.HasPrefix(tok, "pid "):
			pid := tok[len("pid "):]
			if c := strings.IndexByte(pid, ':'); c >= 0 {
				pid = pid[:c]
			}
			e.PID, _ = atoi(pid)
		case strings.HasPrefix(tok, "client "):
			if !apacheClient(&e, tok[len("client "):], e.PID != 0) {
				return Entry{}, errors.New("apache error line: bad client address")
			}
		}
		rest = strings.TrimLeft(rest[end+1:], " ")
	}
	if !level {
		return Entry{}, errApacheError
	}
	e.Message = rest
	msg := rest
	// 2.4 prefixes a message code: "AH01617: ".
	if len(msg) > 8 && msg[0] == 'A' && msg[1] == 'H' && msg[7] == ':' {
		msg = strings.TrimLeft(msg[8:], " ")
	}
	if i := strings.Index(msg, ", referer: "); i >= 0 {
		e.Referer = msg[i+len(", referer: "):]
		msg = msg[:i]
	}
	switch {
	case strings.HasPrefix(msg, "user "):
		u := msg[len("user "):]
		if i := strings.Index(u, " not found"); i > 0 {
			e.Kind, e.User, e.InvalidUser = KindHTTPAuthFailure, u[:i], true
			e.Path = strings.TrimPrefix(u[i+len(" not found"):], ": ")
		} else if i := strings.Index(u, ": authentication failure for "); i > 0 {
			e.Kind, e.User = KindHTTPAuthFailure, u[:i]
			if p, _, ok := quoted(u[i+len(": authentication failure for "):]); ok {
				e.Path = p
			}
		}
	default:
		for _, p := range []string{"File does not exist: ", "client denied by server configuration: ", "Directory index forbidden by rule: ", "script not found or unable to stat: "} {
			if v, ok := strings.CutPrefix(msg, p); ok {
				e.Path = v
				break
			}
		}
	}
	return e, nil
}

// apacheClient parses "IP", "IP:port" or an IPv6 address with a port
// appended after a colon, as Apache 2.4 writes it.
func apacheClient(e *Entry, s string, withPort bool) bool {
	// Apache 2.4 (the format with [pid]) writes the client as "%s:%d",
	// address then port, with no brackets around an IPv6 address: split at
	// the last colon first, or the port would read as the address's last
	// group. Apache 2.2 writes the address alone.
	if c := strings.LastIndexByte(s, ':'); withPort && c > 0 {
		if ip, ok := parseIP(s[:c]); ok {
			if port, ok := atoi(s[c+1:]); ok {
				e.SourceIP, e.Port = ip, port
				return true
			}
		}
	}
	if ip, ok := parseIP(s); ok {
		e.SourceIP = ip
		return true
	}
	c := strings.LastIndexByte(s, ':')
	if c < 0 {
		return false
	}
	ip, ok := parseIP(s[:c])
	if !ok {
		return false
	}
	e.SourceIP = ip
	e.Port, _ = atoi(s[c+1:])
	return true
}
