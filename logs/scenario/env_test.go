package scenario

import (
	"testing"
	"time"
)

func TestHelpers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fn   func(string) bool
		in   string
		want bool
	}{
		{"sensitive", isSensitiveFile, "/.git/HEAD", true},
		{"sensitive", isSensitiveFile, "/backup/db.SQL.gz?x=1", true},
		{"sensitive", isSensitiveFile, "/.env/", true},
		{"sensitive", isSensitiveFile, "/environment", false},
		{"traversal", isPathTraversal, "/%252E%252E%252Ffoo1", true},
		{"traversal", isPathTraversal, "/%2Fetc%2Fpasswd", true},
		{"traversal", isPathTraversal, "/c:/win.ini", true},
		{"traversal", isPathTraversal, "/index.php?page=php://filter/resource=x", true},
		{"traversal", isPathTraversal, "/docs/a..b/c", false},
		{"sqli", isSQLiProbe, "a=%20UNION%20ALL%20SELECT%20", true},
		{"sqli", isSQLiProbe, "id=1+union+select+2", true},
		{"sqli", isSQLiProbe, "q=sleepy+cats", false},
		{"sqli", isSQLiProbe, "", false},
		{"agent", isBadUserAgent, "Mozilla/5.00 (Nikto/2.1.5) (Evasions:None)", true},
		{"agent", isBadUserAgent, "sqlmap/1.7.2#stable (https://sqlmap.org)", true},
		{"agent", isBadUserAgent, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/117.0", false},
		{"admin", isAdminInterface, "/phpmyadmin2017/index.php", true},
		{"admin", isAdminInterface, "/+CSCOE+/logon.html", true},
		{"admin", isAdminInterface, "/blog/admin-tips", false},
		{"cve", isCVEProbe, "/_ignition/execute-solution", true},
		{"cve", isCVEProbe, "/cgi/networkDiag.cgi", true},
		{"cve", isCVEProbe, "/setup", false},
		{"login", isLoginURL, "/wp-login.php", true},
		{"login", isLoginURL, "/users/sign_in?next=/", true},
		{"login", isLoginURL, "/blog/login-tips", false},
		{"static", isStatic, "app.CSS", true},
		{"static", isStatic, "index.php", false},
		{"static", isStatic, "noext", false},
	} {
		if got := tc.fn(tc.in); got != tc.want {
			t.Errorf("%s(%q) = %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestFormatSpan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"12s", "12s"}, {"10m30s", "10m30s"}, {"2h0m0s", "2h"}, {"1h5m0s", "1h5m"}, {"10m0s", "10m"}, {"250ms", "250ms"},
	} {
		d, err := time.ParseDuration(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := formatSpan(d); got != tc.want {
			t.Errorf("formatSpan(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
