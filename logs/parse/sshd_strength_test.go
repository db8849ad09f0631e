package parse

import "testing"

// sshd messages at their edges (issue 13): every field the parser fills.
func TestParseSSHDFields(t *testing.T) {
	for _, tc := range []struct {
		msg, kind, ip, user, method, protocol string
		port, count                           int
		invalid                               bool
	}{
		{"Failed password for root from 192.0.2.1 port 22 ssh2", KindSSHFailedPassword, "192.0.2.1", "root", "password", "ssh2", 22, 1, false},
		{"Failed keyboard-interactive/pam for invalid user x from 192.0.2.1 port 5 ssh2", KindSSHFailedPassword, "192.0.2.1", "x", "keyboard-interactive/pam", "ssh2", 5, 1, true},
		{"Failed publickey for git from 192.0.2.1 port 6 ssh2: RSA SHA256:abc", KindSSHFailedAuth, "192.0.2.1", "git", "publickey", "ssh2", 6, 1, false},
		{"Failed none for invalid user  from 192.0.2.1 port 7 ssh2", KindSSHFailedAuth, "192.0.2.1", "", "none", "ssh2", 7, 1, true},
		{"Failed password for user from a from 192.0.2.1 port 8 ssh2", KindSSHFailedPassword, "192.0.2.1", "user from a", "password", "ssh2", 8, 1, false},
		{"Accepted publickey for ops from [2001:db8::5] port 9 ssh2", KindSSHAccepted, "2001:db8::5", "ops", "publickey", "ssh2", 9, 1, false},
		{"Accepted password for ops from ::ffff:192.0.2.9 port 10 sshX", KindSSHAccepted, "192.0.2.9", "ops", "password", "sshX", 10, 1, false},
		{"Invalid user  from 192.0.2.2 port 11", KindSSHInvalidUser, "192.0.2.2", "", "", "", 11, 1, true},
		{"Invalid user admin from 192.0.2.2", KindSSHInvalidUser, "192.0.2.2", "admin", "", "", 0, 1, true},
		{"User root from 192.0.2.3 not allowed because not listed in AllowUsers", KindSSHUserNotAllowed, "192.0.2.3", "root", "", "", 0, 1, false},
		{"error: maximum authentication attempts exceeded for invalid user z from 192.0.2.4 port 12 ssh2 [preauth]", KindSSHMaxAuth, "192.0.2.4", "z", "", "ssh2", 12, 1, true},
		{"Connection closed by 192.0.2.5 port 13", KindSSHDisconnect, "192.0.2.5", "", "", "", 13, 1, false},
		{"Connection closed by 192.0.2.5 port 13 [preauth]", KindSSHPreauthClose, "192.0.2.5", "", "", "", 13, 1, false},
		{"Connection closed by authenticating user root 192.0.2.5 port 14 [preauth]", KindSSHPreauthClose, "192.0.2.5", "root", "", "", 14, 1, false},
		{"Connection closed by invalid user bob 192.0.2.5 port 15", KindSSHPreauthClose, "192.0.2.5", "bob", "", "", 15, 1, true},
		{"Connection reset by user amy 192.0.2.5 port 16", KindSSHDisconnect, "192.0.2.5", "amy", "", "", 16, 1, false},
		{"Disconnecting invalid user q 192.0.2.6 port 17: Too many authentication failures [preauth]", KindSSHMaxAuth, "192.0.2.6", "q", "", "", 17, 1, true},
		{"Disconnecting authenticating user r 192.0.2.6 port 18: Change of username", KindSSHPreauthClose, "192.0.2.6", "r", "", "", 18, 1, false},
		{"Received disconnect from 192.0.2.7 port 19:11: Bye Bye [preauth]", KindSSHPreauthClose, "192.0.2.7", "", "", "", 19, 1, false},
		{"Received disconnect from 192.0.2.7 port 20:11: disconnected by user", KindSSHDisconnect, "192.0.2.7", "", "", "", 20, 1, false},
		{"Did not receive identification string from 192.0.2.8 port 21", KindSSHNoIdent, "192.0.2.8", "", "", "", 21, 1, false},
		{"Unable to negotiate with 192.0.2.9 port 22: no matching key exchange method found", KindSSHBadKex, "192.0.2.9", "", "", "", 22, 1, false},
		{"Bad protocol version identification 'GET /' from 192.0.2.10 port 23", KindSSHBadProtocol, "192.0.2.10", "", "", "", 23, 1, false},
		{"Protocol major versions differ for 192.0.2.11: SSH-2.0 vs. SSH-1.5", KindSSHBadProtocol, "192.0.2.11", "", "", "", 0, 1, false},
		{"Timeout before authentication for 192.0.2.12 port 24", KindSSHAuthTimeout, "192.0.2.12", "", "", "", 24, 1, false},
		{"refused connect from example.org (192.0.2.13)", KindSSHRefused, "192.0.2.13", "", "", "", 0, 1, false},
		{"message repeated 3 times: [ Failed password for root from 192.0.2.14 port 25 ssh2]", KindSSHFailedPassword, "192.0.2.14", "root", "password", "ssh2", 25, 3, false},
		{"message repeated 1 times: [ Failed password for root from 192.0.2.14 port 25 ssh2]", KindSSHFailedPassword, "192.0.2.14", "root", "password", "ssh2", 25, 1, false},
	} {
		e, err := ParseSSHD(tc.msg)
		if err != nil {
			t.Errorf("%q: %v", tc.msg, err)
			continue
		}
		checkEntry(t, tc.msg, e, tc.kind, tc.ip, tc.user)
		if e.Method != tc.method || e.Protocol != tc.protocol || e.Port != tc.port || e.Count != tc.count || e.InvalidUser != tc.invalid {
			t.Errorf("%q: method %q protocol %q port %d count %d invalid %v", tc.msg, e.Method, e.Protocol, e.Port, e.Count, e.InvalidUser)
		}
	}
	for _, msg := range []string{
		"Failed for root from 192.0.2.1",
		"Failed password for root from nowhere port 1",
		"Failed password for root",
		"Connection closed by somebody 192.0.2.5 port 1",
		"refused connect from example.org",
		"refused connect from example.org )(",
		"message repeated 0 times: [ x]",
		"Protocol major versions differ",
		"Server listening on 0.0.0.0 port 22.",
		"Disconnected from user amy 192.0.2.5 port x",
	} {
		if e, err := ParseSSHD(msg); err == nil {
			t.Errorf("%q parsed as %+v, want an error", msg, e)
		}
	}
}

func TestParseIPEdges(t *testing.T) {
	for s, want := range map[string]string{"[::1]": "::1", "::ffff:10.0.0.1": "10.0.0.1", "10.0.0.1": "10.0.0.1",
		"0000:0000:0000:0000:0000:ffff:192.168.100.200": "192.168.100.200"} {
		if ip, ok := parseIP(s); !ok || ip.String() != want {
			t.Errorf("parseIP(%q) = %v, %v, want %s", s, ip, ok, want)
		}
	}
	for _, s := range []string{"", "[]", "[", "[1.2.3.4", "1.2.3.4]", "0000:0000:0000:0000:0000:ffff:192.168.100.2000"} {
		if ip, ok := parseIP(s); ok {
			t.Errorf("parseIP(%q) = %v, want not ok", s, ip)
		}
	}
}
