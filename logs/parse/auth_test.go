package parse

import "testing"

func TestParseAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line, program, kind, ip, user, remoteUser string
	}{
		{"Nov 2 15:40:14 workshop sshd[28179]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=5.33.63.160 user=workshop", "sshd", KindSSHFailedPassword, "5.33.63.160", "workshop", ""},
		{"Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ", "sshd(pam_unix)", KindSSHFailedPassword, "218.188.2.4", "", ""},
		{"Jun 15 02:04:59 combo sshd(pam_unix)[20882]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=220-135-151-1.hinet-ip.hinet.net  user=root", "sshd(pam_unix)", KindAuthFailure, "", "root", ""},
		{"Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown", "sshd(pam_unix)", KindAuthFailure, "", "", ""},
		{"Jul  2 04:11:01 combo su(pam_unix)[2990]: authentication failure; logname=bob uid=500 euid=0 tty= ruser=bob rhost=  user=root", "su(pam_unix)", KindAuthFailure, "", "root", "bob"},
		{"Dec  9 06:11:02 web sshd[4120]: message repeated 4 times: [ pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.44  user=root]", "sshd", KindSSHFailedPassword, "203.0.113.44", "root", ""},
		{"Mar  1 09:00:00 h su[812]: pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 tty=pts/0 ruser=alice rhost=  user=root", "su", KindAuthFailure, "", "root", "alice"},
		{"Mar  1 09:00:01 h su[812]: FAILED SU (to root) alice on pts/0", "su", KindAuthFailure, "", "root", "alice"},
		{"Mar  1 09:00:02 h su[813]: (to root) alice on pts/0", "su", KindAuthSuccess, "", "root", "alice"},
		{"Mar  1 09:00:03 h sudo[900]:    alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash", "sudo", KindAuthFailure, "", "root", "alice"},
		{"Mar  1 09:00:04 h sudo[901]: mallory : user NOT in sudoers ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/usr/bin/id", "sudo", KindSudoDenied, "", "root", "mallory"},
		{"Mar  1 09:00:05 h sudo[902]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update", "sudo", KindSudoCommand, "", "root", "alice"},
		{"Mar  1 09:00:06 h sudo[903]: pam_unix(sudo:auth): auth could not identify password for [alice]", "sudo", KindAuthFailure, "", "alice", ""},
		{"Mar  1 09:00:07 h login[700]: FAILED LOGIN (1) on '/dev/tty1' FOR 'root', Authentication failure", "login", KindAuthFailure, "", "root", ""},
		{"Mar  1 09:00:08 h login[701]: FAILED LOGIN 2 FROM 192.0.2.50 FOR admin, Authentication failure", "login", KindAuthFailure, "192.0.2.50", "admin", ""},
		{"Mar  1 09:00:09 h vsftpd[55]: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=anonymous rhost=::ffff:198.51.100.9", "vsftpd", KindAuthFailure, "198.51.100.9", "", "anonymous"},
		{"Mar  1 09:00:10 h sshd[56]: PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.60  user=root", "sshd", KindAuthFailure, "192.0.2.60", "root", ""},
	}
	for _, tc := range tests {
		e, err := Parse([]byte(tc.line), Hint{Year: 2026})
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		checkEntry(t, tc.line, e, tc.kind, tc.ip, tc.user)
		if got, want := e.Source, ParserAuth; got != want {
			t.Errorf("%q: Source = %q, want %q", tc.line, got, want)
		}
		if got, want := e.Program, tc.program; got != want {
			t.Errorf("%q: Program = %q, want %q", tc.line, got, want)
		}
		if got, want := e.RemoteUser, tc.remoteUser; got != want {
			t.Errorf("%q: RemoteUser = %q, want %q", tc.line, got, want)
		}
	}
	for _, tc := range tests[1:4] {
		if e, _ := Parse([]byte(tc.line), Hint{Year: 2005}); e.Method != "sshd:auth" {
			t.Errorf("%q: Method = %q, want sshd:auth", tc.line, e.Method)
		}
	}
	if e, _ := Parse([]byte(tests[5].line), Hint{}); e.Count != 4 {
		t.Errorf("repeated PAM failure: Count = %d, want 4", e.Count)
	}
	if e, _ := Parse([]byte(tests[len(tests)-1].line), Hint{}); e.Count != 2 {
		t.Errorf("PAM 2 more: Count = %d, want 2", e.Count)
	}
	for _, msg := range []string{"", "PAM x more authentication failures; user=root", "pam_unix(su:session): session opened for user root", "alice : hello", "random text"} {
		if e, err := ParseAuth(msg); err == nil {
			t.Errorf("%q parsed as %q, want an error", msg, e.Kind)
		}
	}
}
