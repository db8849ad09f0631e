package parse

import (
	"errors"
	"strings"
)

var errAuthUnknown = errors.New("not a recognised PAM, su, sudo or login message")

// ParseAuth parses one Linux authentication message (the syslog message
// part): PAM "authentication failure" lines from any service, sudo, su and
// login. Program-specific forms are recognised by their text, so the caller
// need not know the program.
func ParseAuth(msg string) (Entry, error) { return parseAuth(msg) }

func parseAuth(msg string) (Entry, error) {
	e := Entry{Source: ParserAuth, Count: 1}
	msg, e.Count = cutRepeated(msg)
	msg = strings.TrimRight(msg, " ")
	switch {
	case strings.HasPrefix(msg, "pam_"):
		// pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root
		i := strings.Index(msg, "): ")
		if i < 0 {
			return Entry{}, errAuthUnknown
		}
		module := msg[:i]
		if j := strings.IndexByte(module, '('); j >= 0 {
			e.Method = module[j+1:] // "sshd:auth", service and PAM facility
		}
		body := msg[i+len("): "):]
		switch {
		case strings.HasPrefix(body, "authentication failure;"):
			e.Kind = KindAuthFailure
			pamFailure(&e, body[len("authentication failure;"):])
			sshPAMFailure(&e)
		case strings.HasPrefix(body, "auth could not identify password for ["):
			e.Kind = KindAuthFailure
			u := body[len("auth could not identify password for ["):]
			e.User = strings.TrimSuffix(u, "]")
		case strings.HasPrefix(body, "check pass; user unknown"):
			e.Kind, e.InvalidUser = KindAuthFailure, true
		default:
			return Entry{}, errAuthUnknown
		}
	case strings.HasPrefix(msg, "authentication failure;"):
		// Classic PAM, service and module in the tag, e.g.
		// "sshd(pam_unix)[19939]: authentication failure; logname= uid=0
		// euid=0 tty=NODEVssh ruser= rhost=218.188.2.4": the caller
		// (dispatchSyslog) sets Method from the tag.
		e.Kind = KindAuthFailure
		pamFailure(&e, msg[len("authentication failure;"):])
	case msg == "check pass; user unknown":
		e.Kind, e.InvalidUser = KindAuthFailure, true
	case strings.HasPrefix(msg, "PAM ") && strings.Contains(msg, " more authentication failure"):
		// PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root
		r := msg[len("PAM "):]
		sp := strings.IndexByte(r, ' ')
		n, ok := atoi(r[:max(sp, 0)])
		semi := strings.IndexByte(r, ';')
		if !ok || n < 1 || semi < 0 {
			return Entry{}, errAuthUnknown
		}
		e.Kind, e.Count = KindAuthFailure, n
		pamFailure(&e, r[semi+1:])
	case strings.HasPrefix(msg, "FAILED SU (to "):
		// FAILED SU (to root) alice on pts/0
		e.Kind = KindAuthFailure
		suUsers(&e, msg[len("FAILED SU (to "):])
	case strings.HasPrefix(msg, "(to ") || strings.HasPrefix(msg, "Successful su for "):
		e.Kind = KindAuthSuccess
		if r, ok := strings.CutPrefix(msg, "(to "); ok {
			suUsers(&e, r)
		} else {
			// Successful su for root by alice
			r := msg[len("Successful su for "):]
			if i := strings.Index(r, " by "); i >= 0 {
				e.User, e.RemoteUser = r[:i], r[i+len(" by "):]
			} else {
				e.User = r
			}
		}
	case strings.HasPrefix(msg, "FAILED LOGIN "):
		// FAILED LOGIN (1) on '/dev/tty1' FOR 'root', Authentication failure
		// FAILED LOGIN 1 FROM 10.0.0.1 FOR root, Authentication failure
		e.Kind = KindAuthFailure
		r := msg[len("FAILED LOGIN "):]
		if i := strings.Index(r, " FROM "); i >= 0 {
			host := r[i+len(" FROM "):]
			if sp := strings.IndexByte(host, ' '); sp >= 0 {
				host = host[:sp]
			}
			if ip, ok := parseIP(strings.Trim(host, "'")); ok {
				e.SourceIP = ip
			}
		}
		if i := strings.Index(r, " FOR "); i >= 0 {
			u := r[i+len(" FOR "):]
			if j := strings.IndexByte(u, ','); j >= 0 {
				u = u[:j]
			}
			e.User = strings.Trim(u, "'")
		}
	case strings.HasPrefix(msg, "ROOT LOGIN "):
		e.Kind, e.User = KindAuthSuccess, "root"
	default:
		// sudo: "alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh"
		if !sudoLine(&e, msg) {
			return Entry{}, errAuthUnknown
		}
	}
	return e, nil
}

// pamFailure reads the key=value list of a PAM authentication failure.
func pamFailure(e *Entry, kv string) {
	e.User = pamField(kv, "user")
	e.RemoteUser = pamField(kv, "ruser")
	if e.RemoteUser == "" {
		e.RemoteUser = pamField(kv, "logname")
	}
	if rhost := pamField(kv, "rhost"); rhost != "" {
		if ip, ok := parseIP(rhost); ok {
			e.SourceIP = ip
		}
	}
}

// sshPAMFailure makes a PAM authentication failure of sshd from a client
// address a failed ssh login, so the ssh scenarios count it as CrowdSec's
// sshd parser does (ssh_failed-auth). The "PAM N more authentication
// failures" summary stays auth_failure: sshd logged each of those attempts.
func sshPAMFailure(e *Entry) {
	if e.Kind == KindAuthFailure && e.SourceIP.IsValid() && strings.HasPrefix(e.Method, "sshd:") {
		e.Kind = KindSSHFailedPassword
	}
}

// suUsers parses "root) alice on pts/0".
func suUsers(e *Entry, s string) {
	i := strings.IndexByte(s, ')')
	if i < 0 {
		return
	}
	e.User = s[:i]
	r := strings.TrimPrefix(s[i+1:], " ")
	if j := strings.Index(r, " on "); j >= 0 {
		r = r[:j]
	}
	e.RemoteUser = r
}

func sudoLine(e *Entry, msg string) bool {
	msg = strings.TrimLeft(msg, " ")
	i := strings.Index(msg, " : ")
	if i <= 0 || strings.IndexByte(msg[:i], ' ') >= 0 {
		return false
	}
	rest := msg[i+len(" : "):]
	if !strings.Contains(rest, "COMMAND=") && !strings.Contains(rest, "TTY=") {
		return false
	}
	e.RemoteUser = msg[:i]
	e.User = sudoField(rest, "USER")
	switch {
	case strings.HasPrefix(rest, "TTY="):
		e.Kind = KindSudoCommand
	case strings.Contains(rest, "incorrect password attempt"):
		e.Kind = KindAuthFailure
	case strings.HasPrefix(rest, "user NOT in sudoers"),
		strings.HasPrefix(rest, "command not allowed"),
		strings.HasPrefix(rest, "user NOT authorized on host"):
		e.Kind = KindSudoDenied
	default:
		return false
	}
	e.Program = "sudo"
	return true
}

// pamField returns the value of " key=value" in a PAM key list.
func pamField(kv, key string) string {
	for kv != "" {
		kv = strings.TrimLeft(kv, " ")
		sp := strings.IndexByte(kv, ' ')
		tok := kv
		if sp >= 0 {
			tok, kv = kv[:sp], kv[sp:]
		} else {
			kv = ""
		}
		if v, ok := strings.CutPrefix(tok, key+"="); ok {
			return v
		}
	}
	return ""
}

// sudoField returns the value of "KEY=value" in a " ; "-separated list.
func sudoField(s, key string) string {
	for part := range strings.SplitSeq(s, " ; ") {
		if v, ok := strings.CutPrefix(part, key+"="); ok {
			return v
		}
	}
	return ""
}
