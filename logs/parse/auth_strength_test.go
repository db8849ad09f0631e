package parse

import "testing"

// TestParseAuthPAMMethod (issue 13): a PAM line names its service and
// facility in parentheses; it becomes Method, and a failure of the sshd
// service from an address counts as a failed ssh login, nothing else does.
func TestParseAuthPAMMethod(t *testing.T) {
	for _, tc := range []struct {
		msg, method, kind, ip, user, remoteUser string
		count                                   int
	}{
		{"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.1  user=root",
			"sshd:auth", KindSSHFailedPassword, "192.0.2.1", "root", "", 1},
		{"pam_sss(su-l:auth): authentication failure; logname=bob uid=1000 euid=0 tty=pts/1 ruser= rhost= user=root",
			"su-l:auth", KindAuthFailure, "", "root", "bob", 1},
		// sshd without an address (a host name) is not an ssh login failure.
		{"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=host.example user=root",
			"sshd:auth", KindAuthFailure, "", "root", "", 1},
		// A service that only starts with sshd is another service.
		{"pam_unix(sshdx:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.2 user=root",
			"sshdx:auth", KindAuthFailure, "192.0.2.2", "root", "", 1},
		// No parenthesis: no method, still a failure.
		{"pam_tally2): authentication failure; ruser=eve rhost=192.0.2.3 user=admin",
			"", KindAuthFailure, "192.0.2.3", "admin", "eve", 1},
		{"pam_unix(sshd:auth): check pass; user unknown", "sshd:auth", KindAuthFailure, "", "", "", 1},
		{"PAM 1 more authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.4  user=root",
			"", KindAuthFailure, "192.0.2.4", "root", "", 1},
		{"PAM 5 more authentication failures; logname=carol uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.5",
			"", KindAuthFailure, "192.0.2.5", "", "carol", 5},
	} {
		e, err := ParseAuth(tc.msg)
		if err != nil {
			t.Errorf("%q: %v", tc.msg, err)
			continue
		}
		checkEntry(t, tc.msg, e, tc.kind, tc.ip, tc.user)
		if e.Method != tc.method || e.RemoteUser != tc.remoteUser || e.Count != tc.count {
			t.Errorf("%q: Method %q, RemoteUser %q, Count %d, want %q, %q, %d", tc.msg, e.Method, e.RemoteUser, e.Count,
				tc.method, tc.remoteUser, tc.count)
		}
		if tc.msg == "pam_unix(sshd:auth): check pass; user unknown" && !e.InvalidUser {
			t.Errorf("%q: InvalidUser not set", tc.msg)
		}
	}
	for _, msg := range []string{
		"pam_unix(sshd:auth) authentication failure; user=root", // no "): "
		"pam_unix(sshd:auth): session opened for user root",
		"PAM 0 more authentication failures; user=root",
		"PAM 3 more authentication failures user=root", // no ';'
		"PAM  more authentication failures; user=root",
	} {
		if e, err := ParseAuth(msg); err == nil {
			t.Errorf("%q parsed as %+v, want an error", msg, e)
		}
	}
}
