package parse

import (
	"errors"
	"net/netip"
	"strings"
)

var (
	errSSHUnknown = errors.New("not a recognised sshd message")
	errSSHAddr    = errors.New("sshd message without a client IP address")
	errSSHUser    = errors.New("unrecognised user qualifier")
)

// ParseSSHD parses one OpenSSH server message (the syslog message part, not
// the framed line). Only messages that carry a client address are recognised:
// failures, invalid users, successful logins, pre-authentication
// disconnects, protocol and key-exchange errors.
func ParseSSHD(msg string) (Entry, error) { return parseSSHD(msg) }

func parseSSHD(msg string) (Entry, error) {
	e := Entry{Source: ParserSSHD, Count: 1}
	msg, e.Count = cutRepeated(msg)
	msg = strings.TrimRight(msg, " ")
	msg, preauth := strings.CutSuffix(msg, " [preauth]")
	msg = strings.TrimRight(msg, " ")
	if m, ok := strings.CutPrefix(msg, "error: "); ok {
		msg = m
	} else if m, ok := strings.CutPrefix(msg, "fatal: "); ok {
		msg = m
	}

	var err error
	switch {
	case strings.HasPrefix(msg, "Failed "):
		err = sshAuthResult(&e, msg[len("Failed "):], false)
	case strings.HasPrefix(msg, "Accepted "):
		err = sshAuthResult(&e, msg[len("Accepted "):], true)
	case strings.HasPrefix(msg, "Invalid user "):
		e.Kind, e.InvalidUser = KindSSHInvalidUser, true
		err = userFrom(&e, msg[len("Invalid user "):])
	case strings.HasPrefix(msg, "User ") && strings.Index(msg, " not allowed because ") >= len("User "):
		e.Kind = KindSSHUserNotAllowed
		body := msg[len("User "):strings.Index(msg, " not allowed because ")]
		err = userFrom(&e, body)
	case strings.HasPrefix(msg, "maximum authentication attempts exceeded for "):
		e.Kind = KindSSHMaxAuth
		body := msg[len("maximum authentication attempts exceeded for "):]
		if b, ok := strings.CutPrefix(body, "invalid user "); ok {
			body, e.InvalidUser = b, true
		}
		err = userFrom(&e, body)
	case strings.HasPrefix(msg, "Connection closed by "):
		err = sshClosed(&e, msg[len("Connection closed by "):], preauth)
	case strings.HasPrefix(msg, "Connection reset by "):
		err = sshClosed(&e, msg[len("Connection reset by "):], preauth)
	case strings.HasPrefix(msg, "Disconnected from "):
		err = sshClosed(&e, msg[len("Disconnected from "):], preauth)
	case strings.HasPrefix(msg, "Disconnecting "):
		// Disconnecting invalid user X IP port N: Too many authentication failures
		body, reason, _ := strings.Cut(msg[len("Disconnecting "):], ": ")
		var head string
		if head, err = addrTail(&e, body); err != nil {
			break
		}
		if err = userQualifier(&e, head); err != nil {
			break
		}
		e.Kind = KindSSHPreauthClose
		if strings.HasPrefix(reason, "Too many authentication failures") {
			e.Kind = KindSSHMaxAuth
		}
	case strings.HasPrefix(msg, "Received disconnect from "):
		e.Kind = KindSSHDisconnect
		if preauth {
			e.Kind = KindSSHPreauthClose
		}
		err = addrHere(&e, msg[len("Received disconnect from "):])
	case strings.HasPrefix(msg, "Did not receive identification string from "):
		e.Kind = KindSSHNoIdent
		err = addrHere(&e, msg[len("Did not receive identification string from "):])
	case strings.HasPrefix(msg, "Unable to negotiate with "):
		e.Kind = KindSSHBadKex
		err = addrHere(&e, msg[len("Unable to negotiate with "):])
	case strings.HasPrefix(msg, "banner exchange: Connection from "):
		e.Kind = KindSSHBadProtocol
		err = addrHere(&e, msg[len("banner exchange: Connection from "):])
	case strings.HasPrefix(msg, "Bad protocol version identification "),
		strings.HasPrefix(msg, "Protocol major versions differ for "),
		strings.HasPrefix(msg, "Magic value check failed "):
		e.Kind = KindSSHBadProtocol
		i := strings.LastIndex(msg, " from ")
		if i < 0 {
			if j := strings.Index(msg, " for "); j >= 0 {
				err = addrHere(&e, msg[j+len(" for "):])
				break
			}
			err = errSSHAddr
			break
		}
		err = addrHere(&e, msg[i+len(" from "):])
	case strings.HasPrefix(msg, "Timeout before authentication for "):
		e.Kind = KindSSHAuthTimeout
		err = addrHere(&e, msg[len("Timeout before authentication for "):])
	case strings.HasPrefix(msg, "ssh_dispatch_run_fatal: Connection from "):
		e.Kind = KindSSHDispatchFatal
		body := msg[len("ssh_dispatch_run_fatal: Connection from "):]
		if i := strings.Index(body, ": "); i >= 0 {
			body = body[:i]
		}
		var head string
		head, err = addrTail(&e, body)
		if err == nil && head != "" {
			err = userQualifier(&e, head)
		}
	case strings.HasPrefix(msg, "refused connect from "):
		// tcp wrappers: "refused connect from NAME (IP)"
		e.Kind = KindSSHRefused
		open, close := strings.LastIndexByte(msg, '('), strings.LastIndexByte(msg, ')')
		if open < 0 || close < open {
			err = errSSHAddr
			break
		}
		err = setAddr(&e, msg[open+1:close])
	default:
		return Entry{}, errSSHUnknown
	}
	if err != nil {
		return Entry{}, err
	}
	return e, nil
}

// sshAuthResult parses "METHOD for [invalid user ]USER from IP port N ssh2[: KEY]".
func sshAuthResult(e *Entry, s string, accepted bool) error {
	i := strings.Index(s, " for ")
	if i <= 0 {
		return errSSHUnknown
	}
	e.Method, s = s[:i], s[i+len(" for "):]
	if b, ok := strings.CutPrefix(s, "invalid user "); ok {
		s, e.InvalidUser = b, true
	}
	switch {
	case accepted:
		e.Kind = KindSSHAccepted
	case e.Method == "password" || e.Method == "keyboard-interactive/pam":
		e.Kind = KindSSHFailedPassword
	default:
		e.Kind = KindSSHFailedAuth
	}
	return userFrom(e, s)
}

// userFrom parses "USER from IP[ port N][ PROTO[: ...]]". The last " from "
// wins, so user names containing " from " survive.
func userFrom(e *Entry, s string) error {
	i := strings.LastIndex(s, " from ")
	if i < 0 {
		if strings.HasPrefix(s, "from ") { // empty user name
			i = -1
		} else {
			return errSSHAddr
		}
	}
	if i >= 0 {
		e.User = s[:i]
	}
	return addrHere(e, s[i+len(" from "):])
}

// addrHere parses "IP[ port N][...]" at the start of s and, for
// "ssh2"-style suffixes, the protocol.
func addrHere(e *Entry, s string) error {
	ip, port, rest, ok := addrAt(s)
	if !ok {
		return errSSHAddr
	}
	e.SourceIP, e.Port = ip, port
	if p, ok := strings.CutPrefix(rest, " "); ok {
		if j := strings.IndexAny(p, ": "); j >= 0 {
			p = p[:j]
		}
		if strings.HasPrefix(p, "ssh") {
			e.Protocol = p
		}
	}
	return nil
}

// sshClosed parses what follows "Connection closed by", "Connection reset
// by" and "Disconnected from": "[authenticating |invalid ]user X IP port N"
// or "IP port N".
func sshClosed(e *Entry, s string, preauth bool) error {
	head, err := addrTail(e, s)
	if err != nil {
		return err
	}
	if head != "" {
		if err := userQualifier(e, head); err != nil {
			return err
		}
	}
	e.Kind = KindSSHDisconnect
	if preauth || strings.HasPrefix(head, "authenticating ") || e.InvalidUser {
		e.Kind = KindSSHPreauthClose
	}
	return nil
}

// userQualifier parses "authenticating user X", "invalid user X" or "user X".
func userQualifier(e *Entry, head string) error {
	switch {
	case strings.HasPrefix(head, "authenticating user "):
		e.User = head[len("authenticating user "):]
	case strings.HasPrefix(head, "invalid user "):
		e.User, e.InvalidUser = head[len("invalid user "):], true
	case strings.HasPrefix(head, "user "):
		e.User = head[len("user "):]
	default:
		return errSSHUser
	}
	return nil
}

// addrTail parses "[HEAD ]IP[ port N]" and returns HEAD.
func addrTail(e *Entry, s string) (string, error) {
	if i := strings.LastIndex(s, " port "); i >= 0 {
		if p, ok := atoi(s[i+len(" port "):]); ok {
			e.Port = p
			s = s[:i]
		}
	}
	head, tok := "", s
	if sp := strings.LastIndexByte(s, ' '); sp >= 0 {
		head, tok = s[:sp], s[sp+1:]
	}
	if err := setAddr(e, tok); err != nil {
		return "", err
	}
	return head, nil
}

func setAddr(e *Entry, s string) error {
	ip, ok := parseIP(s)
	if !ok {
		return errSSHAddr
	}
	e.SourceIP = ip
	return nil
}

// addrAt parses "IP" or "IP port N" at the start of s and returns the rest.
func addrAt(s string) (ip netip.Addr, port int, rest string, ok bool) {
	tok := s
	if sp := strings.IndexByte(s, ' '); sp >= 0 {
		tok, rest = s[:sp], s[sp:]
	}
	tok = strings.TrimRight(tok, ":,")
	if ip, ok = parseIP(tok); !ok {
		return ip, 0, "", false
	}
	if r, found := strings.CutPrefix(rest, " port "); found {
		j := 0
		for j < len(r) && isDigit(r[j]) {
			j++
		}
		if j > 0 {
			port, _ = atoi(r[:j])
			rest = r[j:]
		}
	}
	return ip, port, rest, true
}

// parseIP parses an address, dropping brackets and unmapping IPv4-mapped
// IPv6 (::ffff:1.2.3.4 becomes 1.2.3.4) so one client has one key.
func parseIP(s string) (netip.Addr, bool) {
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	if s == "" || len(s) > 45 {
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

// cutRepeated undoes rsyslog's "message repeated N times: [ MSG]".
func cutRepeated(msg string) (string, int) {
	rest, ok := strings.CutPrefix(msg, "message repeated ")
	if !ok {
		return msg, 1
	}
	sp := strings.IndexByte(rest, ' ')
	if sp < 0 {
		return msg, 1
	}
	n, ok := atoi(rest[:sp])
	if !ok || n < 1 {
		return msg, 1
	}
	body, ok := strings.CutPrefix(rest[sp:], " times: [")
	if !ok {
		return msg, 1
	}
	// rsyslog keeps the message's leading space: "[ Failed ...]".
	return strings.TrimSuffix(strings.TrimPrefix(body, " "), "]"), n
}
