// Package parse turns raw log lines (syslog-framed sshd and PAM messages,
// nginx/apache access and error logs, AWS CloudTrail records and generic JSON
// lines) into Entry values for the attack-detection scenarios of package
// scenario. It is pure: it only reads the bytes it is given.
package parse

import (
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
)

// Parser names, reported in Entry.Source and in ParseError.Tried.
const (
	ParserSyslog      = "syslog"
	ParserSSHD        = "sshd"
	ParserAuth        = "auth"
	ParserAccess      = "access"
	ParserCloudTrail  = "cloudtrail"
	ParserJSON        = "json"
	ParserNginxError  = "nginx_error"
	ParserApacheError = "apache_error"
)

// FramingCRI marks lines written by a container runtime (containerd, CRI-O):
// "2025-12-31T17:40:00.000000100+01:00 stdout F MESSAGE".
const FramingCRI = "cri"

// Kinds of entry. Scenarios match on these.
const (
	KindSSHFailedPassword = "ssh_failed_password"    // Failed password|keyboard-interactive/pam for ...
	KindSSHFailedAuth     = "ssh_failed_auth"        // Failed publickey|none|hostbased for ...
	KindSSHInvalidUser    = "ssh_invalid_user"       // Invalid user X from IP
	KindSSHUserNotAllowed = "ssh_user_not_allowed"   // User X from IP not allowed because ...
	KindSSHAccepted       = "ssh_accepted"           // Accepted password|publickey for X from IP
	KindSSHPreauthClose   = "ssh_preauth_disconnect" // connection closed/reset/disconnected before auth
	KindSSHDisconnect     = "ssh_disconnect"         // disconnect after authentication (not an attack)
	KindSSHMaxAuth        = "ssh_max_auth_attempts"  // maximum authentication attempts exceeded
	KindSSHNoIdent        = "ssh_no_identification"  // Did not receive identification string
	KindSSHBadKex         = "ssh_bad_kex"            // Unable to negotiate with IP
	KindSSHBadProtocol    = "ssh_bad_protocol"       // banner exchange / bad version / obfuscated handshake
	KindSSHAuthTimeout    = "ssh_auth_timeout"       // Timeout before authentication
	KindSSHDispatchFatal  = "ssh_dispatch_fatal"     // ssh_dispatch_run_fatal: Connection from IP
	KindSSHRefused        = "ssh_refused_conn"       // tcp wrappers: refused connect from
	KindAuthFailure       = "auth_failure"           // PAM/su/sudo/login authentication failure
	KindAuthSuccess       = "auth_success"           // su/login success
	KindSudoDenied        = "sudo_denied"            // user NOT in sudoers, command not allowed
	KindSudoCommand       = "sudo_command"           // a sudo command that ran
	KindHTTPAccess        = "http_access"            // one combined/common access-log request
	KindHTTPError         = "http_error"             // an nginx error-log line naming a client
	KindHTTPAuthFailure   = "http_auth_failure"      // nginx basic-auth failure
	KindCloudTrail        = "cloudtrail"             // one CloudTrail record
	KindJSON              = "json"                   // a generic JSON line (JSONMapping.Kind overrides)
)

// Entry is one parsed log line.
//
// String fields are substrings of the parsed line (Parse copies a []byte line
// into one string once; ParseString copies nothing), so an Entry keeps its line
// alive. Quoted access-log fields are kept as logged: escape sequences such as
// \" are not decoded.
type Entry struct {
	Time    time.Time // zero if the line has no timestamp
	Host    string    // syslog host or access-log virtual host
	Program string    // syslog program (sshd, sudo...) or CloudTrail eventSource
	PID     int       // 0 if absent
	Framing string    // "rfc3164", "rfc5424", FramingCRI, or "" for a bare line
	Source  string    // the parser that took the line (Parser* constants or JSONMapping.Name)
	Kind    string    // one of the Kind* constants
	Count   int       // how many events the line stands for (rsyslog "message repeated N times"), ≥ 1

	SourceIP    netip.Addr // client address, IPv4-mapped IPv6 unmapped; invalid when absent
	Port        int        // client port when logged
	User        string     // target account (ssh login name, sudo/su target, CloudTrail userName)
	RemoteUser  string     // who asked: PAM ruser/logname, sudo invoking user
	InvalidUser bool       // sshd said the account does not exist

	Method       string // HTTP method, or SSH auth method (password, publickey...)
	Path         string // HTTP request target; the raw request when it was not "METHOD PATH PROTO"
	Protocol     string // HTTP/1.1, ssh2...
	Status       int    // HTTP status
	Bytes        int64  // response bytes; 0 when logged as "-"
	Referer      string // "" when logged as "-"
	UserAgent    string
	ForwardedFor string // trailing "$http_x_forwarded_for" field, "" when absent or "-"

	Message string            // the syslog message or JSON message field
	Fields  map[string]string // extras from CloudTrail and generic JSON only; nil otherwise
}

// Hint steers Parse.
type Hint struct {
	// Parser forces one parser (a Parser* constant); "" detects the format.
	// ParserSyslog means "syslog framing, then dispatch by program".
	Parser string
	// Year is used for RFC 3164 timestamps, which carry none. The package
	// reads no clock: a source tailing live logs passes time.Now().Year().
	Year int
	// Years, when set, replaces Year: it dates year-less timestamps from
	// a file's modification time or a message's receive time, or from a
	// first year with roll-over at New Year. It keeps state between lines.
	Years *Years
	// Location for timestamps without a zone; nil means UTC.
	Location *time.Location
	// JSON, when set, is used for lines starting with '{' that are not
	// CloudTrail records.
	JSON *JSONMapping
}

func (h *Hint) years() yearSource { return yearSource{h.Year, h.Years} }

// Formats describes the formats Parse recognises, for people told that a
// file is in none of them.
func Formats() []string {
	return []string{
		"syslog (RFC 3164, RFC 5424, rsyslog RFC 3339) carrying sshd, PAM (pam_unix, sshd(pam_unix)), su, sudo or login messages",
		"web access logs: combined, common, with a virtual host or X-Forwarded-For (nginx, Apache)",
		"nginx error logs (2006/01/02 15:04:05 [error] ... client: IP)",
		"Apache error logs ([Mon Jan 02 15:04:05 2006] [error] [client IP] ...)",
		"AWS CloudTrail records, one JSON object a line",
		"container runtime (CRI) lines wrapping any of these",
	}
}

// ErrNoMatch is wrapped by every ParseError; its code is EINVALID, so an API
// handler reports an unparseable line as the caller's fault.
var ErrNoMatch error = &occsimore.Error{Code: occsimore.EINVALID, Message: "no parser matched"}

// ParseError says why no parser took a line.
type ParseError struct {
	Tried   []string // parser names, in the order they were tried
	Reasons []string // one per Tried entry
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("parse: no parser matched")
	for i, p := range e.Tried {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p)
		b.WriteString(": ")
		b.WriteString(e.Reasons[i])
	}
	if len(e.Tried) > 0 {
		b.WriteString(")")
	}
	return b.String()
}

func (e *ParseError) Unwrap() error { return ErrNoMatch }

// attempts records failed parsers on the stack, so a line that parses
// costs no ParseError allocation.
type attempts struct {
	n      int
	parser [6]string
	err    [6]error
}

func (a *attempts) add(parser string, err error) {
	if a.n < len(a.parser) {
		a.parser[a.n], a.err[a.n] = parser, err
		a.n++
	}
}

func (a *attempts) error() error {
	pe := &ParseError{Tried: make([]string, a.n), Reasons: make([]string, a.n)}
	for i := range a.n {
		pe.Tried[i], pe.Reasons[i] = a.parser[i], a.err[i].Error()
	}
	return pe
}

// Parse parses one line (without its trailing newline). It copies line into a
// single string, the only allocation on the sshd path.
func Parse(line []byte, hint Hint) (Entry, error) {
	return ParseString(string(line), hint)
}

// ParseString is Parse without the copy: the Entry's strings alias line.
//
// Without Hint.Parser the format is detected: a CRI runtime prefix is
// stripped first; a line starting with '{' goes to CloudTrail (when it has
// "eventSource") then Hint.JSON; "yyyy/mm/dd" starts an nginx error line,
// "[Www Mmm " an Apache error line; a
// line starting like a syslog header is framed as syslog, anything else is
// tried as an access log and then as syslog. A syslog message goes to the
// parsers for its program (sshd: sshd then auth; su, sudo, login...: auth;
// nginx, apache...: access; others: sshd, auth, access). Entry.Source names
// the parser that took the line; a *ParseError lists those that did not.
func ParseString(line string, hint Hint) (Entry, error) {
	line = strings.TrimRight(line, "\r\n")
	loc := hint.Location
	if loc == nil {
		loc = time.UTC
	}
	var perr attempts
	switch hint.Parser {
	case "":
	case ParserSyslog:
		return parseSyslogLine(line, hint.years(), loc, &perr)
	case ParserSSHD, ParserAuth:
		// Accept both a framed line and a bare message.
		if sl, err := parseSyslog(line, hint.years(), loc); err == nil {
			e, err := parseProgram(hint.Parser, sl.Message)
			if err != nil {
				perr.add(hint.Parser, err)
				return Entry{}, perr.error()
			}
			return withSyslog(e, sl), nil
		}
		e, err := parseProgram(hint.Parser, line)
		if err != nil {
			perr.add(hint.Parser, err)
			return Entry{}, perr.error()
		}
		return e, nil
	case ParserAccess:
		e, err := parseAccess(line)
		if err != nil {
			perr.add(ParserAccess, err)
			return Entry{}, perr.error()
		}
		return e, nil
	case ParserNginxError:
		e, err := parseNginxError(line, loc)
		if err != nil {
			perr.add(ParserNginxError, err)
			return Entry{}, perr.error()
		}
		return e, nil
	case ParserApacheError:
		e, err := parseApacheError(line, loc)
		if err != nil {
			perr.add(ParserApacheError, err)
			return Entry{}, perr.error()
		}
		return e, nil
	case ParserCloudTrail:
		e, err := ParseCloudTrail([]byte(line))
		if err != nil {
			perr.add(ParserCloudTrail, err)
			return Entry{}, perr.error()
		}
		return e, nil
	case ParserJSON:
		if hint.JSON == nil {
			perr.add(ParserJSON, errors.New("hint has no JSON mapping"))
			return Entry{}, perr.error()
		}
		e, err := hint.JSON.ParseString(line)
		if err != nil {
			perr.add(hint.JSON.name(), err)
			return Entry{}, perr.error()
		}
		return e, nil
	default:
		perr.add(hint.Parser, errors.New("unknown parser"))
		return Entry{}, perr.error()
	}

	s := strings.TrimLeft(line, " \t")
	if s == "" {
		perr.add("all", errors.New("empty line"))
		return Entry{}, perr.error()
	}
	if t, msg, ok := cutCRI(s); ok {
		// Container runtime framing: parse the message, keep the runtime's
		// time when the message has none.
		if _, _, nested := cutCRI(msg); nested {
			perr.add(FramingCRI, errors.New("nested CRI framing"))
			return Entry{}, perr.error()
		}
		e, err := ParseString(msg, hint)
		if err != nil {
			return Entry{}, err
		}
		if e.Time.IsZero() {
			e.Time = t
		}
		e.Framing = FramingCRI
		return e, nil
	}
	if s[0] == '{' {
		if strings.Contains(s, `"eventSource"`) {
			e, err := ParseCloudTrail([]byte(s))
			if err == nil {
				return e, nil
			}
			perr.add(ParserCloudTrail, err)
		}
		if hint.JSON != nil {
			e, err := hint.JSON.ParseString(s)
			if err == nil {
				return e, nil
			}
			perr.add(hint.JSON.name(), err)
		}
		if perr.n == 0 {
			perr.add(ParserJSON, errors.New("JSON line but no JSON mapping in hint"))
		}
		return Entry{}, perr.error()
	}
	if len(s) > 10 && s[4] == '/' && isDigit(s[0]) {
		e, err := parseNginxError(s, loc)
		if err == nil {
			return e, nil
		}
		perr.add(ParserNginxError, err)
		return Entry{}, perr.error()
	}
	if looksLikeApacheError(s) {
		e, err := parseApacheError(s, loc)
		if err == nil {
			return e, nil
		}
		perr.add(ParserApacheError, err)
		return Entry{}, perr.error()
	}
	// An access log line starts with an IP or a vhost and has " [" before a
	// "dd/Mon/yyyy" timestamp; try it first only when it cannot be syslog.
	if s[0] != '<' && !looksLikeSyslogTime(s) {
		e, err := parseAccess(s)
		if err == nil {
			return e, nil
		}
		perr.add(ParserAccess, err)
		sl, serr := parseSyslog(s, hint.years(), loc)
		if serr != nil {
			perr.add(ParserSyslog, serr)
			return Entry{}, perr.error()
		}
		return dispatchSyslog(sl, &perr)
	}
	return parseSyslogLine(s, hint.years(), loc, &perr)
}

func parseSyslogLine(line string, year yearSource, loc *time.Location, perr *attempts) (Entry, error) {
	sl, err := parseSyslog(line, year, loc)
	if err != nil {
		perr.add(ParserSyslog, err)
		return Entry{}, perr.error()
	}
	return dispatchSyslog(sl, perr)
}

// dispatchSyslog picks message parsers by program name, falling back to all
// of them for programs it does not know (custom tags, containers).
func dispatchSyslog(sl Syslog, perr *attempts) (Entry, error) {
	var order []string
	switch strings.ToLower(sl.Program) {
	case "sshd", "sshd-session", "sshd-auth":
		order = []string{ParserSSHD, ParserAuth}
	case "su", "sudo", "login", "passwd", "chpasswd", "unix_chkpwd", "polkitd", "systemd-logind", "cron", "vsftpd":
		order = []string{ParserAuth}
	case "nginx", "apache", "apache2", "httpd", "haproxy", "caddy", "traefik":
		order = []string{ParserAccess}
	default:
		order = []string{ParserSSHD, ParserAuth, ParserAccess}
	}
	for _, p := range order {
		e, err := parseProgram(p, sl.Message)
		if err == nil {
			if svc, ok := strings.CutSuffix(sl.Program, "(pam_unix)"); ok && e.Method == "" {
				// Classic tag "sshd(pam_unix)": the service is in the tag.
				e.Method = svc + ":auth"
				sshPAMFailure(&e)
			}
			return withSyslog(e, sl), nil
		}
		perr.add(p, err)
	}
	return Entry{}, perr.error()
}

func parseProgram(parser, msg string) (Entry, error) {
	switch parser {
	case ParserSSHD:
		return parseSSHD(msg)
	case ParserAuth:
		return parseAuth(msg)
	case ParserAccess:
		return parseAccess(msg)
	}
	return Entry{}, errors.New("unknown parser")
}

func withSyslog(e Entry, sl Syslog) Entry {
	if e.Time.IsZero() {
		e.Time = sl.Time
	}
	if e.Host == "" {
		e.Host = sl.Host
	}
	e.Program = sl.Program
	e.PID = sl.PID
	e.Framing = sl.Framing
	e.Message = sl.Message
	return e
}

// cutCRI splits a CRI log line "TIME STREAM TAG MESSAGE" where STREAM is
// stdout or stderr and TAG is F (full) or P (partial).
func cutCRI(s string) (time.Time, string, bool) {
	if !looksLikeSyslogTime(s) || s[0] < '0' || s[0] > '9' {
		return time.Time{}, "", false
	}
	sp := strings.IndexByte(s, ' ')
	if sp < 0 {
		return time.Time{}, "", false
	}
	rest := s[sp+1:]
	var ok bool
	if rest, ok = strings.CutPrefix(rest, "stdout "); !ok {
		if rest, ok = strings.CutPrefix(rest, "stderr "); !ok {
			return time.Time{}, "", false
		}
	}
	if len(rest) < 2 || (rest[0] != 'F' && rest[0] != 'P') || rest[1] != ' ' {
		return time.Time{}, "", false
	}
	t, err := time.Parse(time.RFC3339Nano, s[:sp])
	if err != nil {
		return time.Time{}, "", false
	}
	return t, rest[2:], true
}
