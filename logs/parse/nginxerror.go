package parse

import (
	"errors"
	"strings"
	"time"
)

var errNginxError = errors.New(`not an nginx error log line (want "2006/01/02 15:04:05 [level] PID#TID: ...")`)

// ParseNginxError parses an nginx error log line, which usually names a
// client (lines that do not parse with no SourceIP):
// `2021/09/30 09:23:53 [error] 1925800#1925800: *17 MESSAGE, client: IP,
// server: NAME, request: "GET / HTTP/1.1", host: "HOST"`. Basic-auth
// failures (user "x" was not found, password mismatch) get
// KindHTTPAuthFailure, everything else KindHTTPError. nginx writes local
// time, so loc (nil for UTC) is its zone.
func ParseNginxError(line string, loc *time.Location) (Entry, error) {
	if loc == nil {
		loc = time.UTC
	}
	return parseNginxError(line, loc)
}

func parseNginxError(s string, loc *time.Location) (Entry, error) {
	e := Entry{Source: ParserNginxError, Kind: KindHTTPError, Count: 1, Program: "nginx"}
	if len(s) < 21 || s[4] != '/' || s[7] != '/' || s[10] != ' ' || s[19] != ' ' {
		return Entry{}, errNginxError
	}
	y, ok1 := atoi(s[0:4])
	mo, ok2 := atoi(s[5:7])
	d, ok3 := atoi(s[8:10])
	h, mi, sec, ok4 := parseClock(s[11:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return Entry{}, errNginxError
	}
	e.Time = time.Date(y, time.Month(mo), d, h, mi, sec, 0, loc)
	s = s[20:]
	if !strings.HasPrefix(s, "[") {
		return Entry{}, errNginxError
	}
	rb := strings.Index(s, "] ")
	if rb < 0 {
		return Entry{}, errNginxError
	}
	s = s[rb+2:]
	colon := strings.Index(s, ": ")
	if colon < 0 {
		return Entry{}, errNginxError
	}
	if hash := strings.IndexByte(s[:colon], '#'); hash > 0 {
		e.PID, _ = atoi(s[:hash])
	}
	s = s[colon+2:]
	if strings.HasPrefix(s, "*") { // connection id
		if sp := strings.IndexByte(s, ' '); sp > 0 {
			s = s[sp+1:]
		}
	}
	ci := strings.Index(s, ", client: ")
	if ci < 0 {
		// A server notice ("signal process started"): in the format, but
		// about no client, so no scenario counts it.
		e.Message = s
		return e, nil
	}
	e.Message = s[:ci]
	rest := s[ci+len(", client: "):]
	client := rest
	if c := strings.IndexByte(rest, ','); c >= 0 {
		client = rest[:c]
	}
	ip, ok := parseIP(client)
	if !ok {
		return Entry{}, errAccessAddr
	}
	e.SourceIP = ip
	if i := strings.Index(rest, `, request: `); i >= 0 {
		if req, _, ok := quoted(rest[i+len(", request: "):]); ok {
			splitRequest(&e, req)
		}
	}
	if i := strings.Index(rest, `, host: `); i >= 0 {
		if host, _, ok := quoted(rest[i+len(", host: "):]); ok {
			e.Host = host
		}
	}
	msg := e.Message
	if u, ok := strings.CutPrefix(msg, `user "`); ok {
		if q := strings.IndexByte(u, '"'); q >= 0 {
			e.User = u[:q]
			rest := u[q+1:]
			if strings.HasPrefix(rest, " was not found") || strings.HasPrefix(rest, ": password mismatch") {
				e.Kind = KindHTTPAuthFailure
				e.InvalidUser = strings.HasPrefix(rest, " was not found")
			}
		}
	} else if strings.Contains(msg, "no user/password was provided for basic authentication") {
		e.Kind = KindHTTPAuthFailure
	}
	return e, nil
}
