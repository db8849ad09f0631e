package scenario

import (
	"bytes"
	"net/url"
	"strings"
	"time"

	"github.com/occsimore/occsimore/logs/parse"
)

// Env is what a scenario's filter, groupby, distinct, values and cancel_on
// expressions see: the entry as evt, a few fields derived from its HTTP path,
// and helper functions over built-in word lists.
//
// The detector boxes one Env per entry and runs every scenario over that one
// value: expr reads the fields of a non-addressable struct without copying
// them, and calls func-typed fields of common signatures without reflection,
// so evaluating a scenario allocates nothing.
type Env struct {
	Evt parse.Entry `expr:"evt"`

	// Derived from Evt.Path.
	URLPath string `expr:"path"`   // the path before '?'
	Args    string `expr:"args"`   // the query after '?', "" when none
	File    string `expr:"file"`   // the last segment of path ("wp-login.php")
	Static  bool   `expr:"static"` // path names a static resource (.css, .js, images, fonts)

	IsSensitiveFile  func(string) bool `expr:"isSensitiveFile"`  // dotfiles, dumps, backups, credentials
	IsPathTraversal  func(string) bool `expr:"isPathTraversal"`  // ../, /etc/passwd, php://... after URL decoding
	IsSQLiProbe      func(string) bool `expr:"isSQLiProbe"`      // union select, sleep(, information_schema...
	IsBadUserAgent   func(string) bool `expr:"isBadUserAgent"`   // scanners and attack tools
	IsAdminInterface func(string) bool `expr:"isAdminInterface"` // /phpmyadmin, /wp-admin, /manager...
	IsCVEProbe       func(string) bool `expr:"isCVEProbe"`       // paths of widely exploited CVEs
	IsLoginURL       func(string) bool `expr:"isLoginURL"`       // /wp-login.php, /login, /signin...
}

// helperEnv is the template every Env starts from.
var helperEnv = Env{
	IsSensitiveFile:  isSensitiveFile,
	IsPathTraversal:  isPathTraversal,
	IsSQLiProbe:      isSQLiProbe,
	IsBadUserAgent:   isBadUserAgent,
	IsAdminInterface: isAdminInterface,
	IsCVEProbe:       isCVEProbe,
	IsLoginURL:       isLoginURL,
}

// setEntry fills env from e without allocating.
func (env *Env) setEntry(e *parse.Entry) {
	env.Evt = *e
	p := e.Path
	env.URLPath, env.Args, _ = strings.Cut(p, "?")
	env.File = env.URLPath[strings.LastIndexByte(env.URLPath, '/')+1:]
	env.Static = isStatic(env.File)
}

// BucketEnv is what a conditional scenario's condition sees: the state of
// the bucket the entry was just poured into.
type BucketEnv struct {
	Events    int           `expr:"events"`     // events in the bucket, distinct ones only when the scenario has distinct
	Distinct  int           `expr:"distinct"`   // distinct values collected
	Span      time.Duration `expr:"span"`       // last event time minus first
	Points    int           `expr:"points"`     // moments in the bucket: events more than the scenario's merge apart
	Gap       time.Duration `expr:"gap"`        // time since the previous moment
	MedianGap time.Duration `expr:"median_gap"` // median gap over the last window moments

	// ParseDuration is duration("10m"): a constant argument is folded at
	// compile time, where expr's builtin would parse it on every run.
	ParseDuration func(string) time.Duration `expr:"duration"`
}

var staticExt = map[string]bool{
	"css": true, "js": true, "mjs": true, "map": true, "png": true, "jpg": true, "jpeg": true,
	"gif": true, "ico": true, "svg": true, "webp": true, "avif": true, "bmp": true,
	"woff": true, "woff2": true, "ttf": true, "otf": true, "eot": true,
	"mp4": true, "webm": true, "mp3": true, "ogg": true,
}

// isStatic reports whether a file name has a static resource's extension.
// It lowercases at most a short extension on the stack.
func isStatic(file string) bool {
	i := strings.LastIndexByte(file, '.')
	if i < 0 || len(file)-i-1 > 5 {
		return false
	}
	var buf [5]byte
	ext := buf[:0]
	for j := i + 1; j < len(file); j++ {
		c := file[j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		ext = append(ext, c)
	}
	return staticExt[string(ext)]
}

// needles turns a lowercase word list into byte slices for containsAnyFold.
func needles(words ...string) [][]byte {
	out := make([][]byte, len(words))
	for i, w := range words {
		out[i] = []byte(w)
	}
	return out
}

// containsAnyFold reports whether s contains any of the lowercase needles,
// ignoring ASCII case. It lowercases s once into a stack buffer and lets
// bytes.Contains do the searching.
func containsAnyFold(s string, needles [][]byte) bool {
	var buf [1024]byte
	var b []byte
	if len(s) <= len(buf) {
		b = buf[:len(s)]
	} else {
		b = make([]byte, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	for _, n := range needles {
		if bytes.Contains(b, n) {
			return true
		}
	}
	return false
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// decoded undoes up to three rounds of percent-encoding (probes double
// encode to slip past filters). It allocates only when s has a '%' or '+'.
func decoded(s string) string {
	for range 3 {
		if strings.IndexByte(s, '%') < 0 {
			break
		}
		u, err := url.PathUnescape(s)
		if err != nil || u == s {
			break
		}
		s = u
	}
	return s
}

// The word lists below are occsimore's own, written for the same attack
// classes as CrowdSec's sec-lists; entries are lowercase.

var sensitiveSuffixes = []string{
	".sql", ".sql.gz", ".sql.zip", ".sql.bz2", ".sql.tar", ".sql.7z", ".dump", ".bak", ".old", ".orig", ".swp",
	".bash_history", ".bashrc", ".profile", ".sh_history", ".zsh_history", ".mysql_history", ".psql_history",
	".cache", ".config", ".cvs", ".cvsignore", ".env", ".env.local", ".env.production", ".forward",
	".git", ".git/head", ".git/config", ".gitignore", ".hg", ".svn", ".svn/entries", ".ds_store",
	".htaccess", ".htpasswd", ".passwd", ".pwd", ".rhosts", ".netrc", ".npmrc", ".pgpass", ".ssh",
	".ssh/id_rsa", ".ssh/id_ed25519", ".aws", ".aws/credentials", "aws/credentials", ".docker/config.json",
	".subversion", ".history", ".listing", ".perf", ".hta",
	"id_rsa", "id_dsa", "wp-config.php.bak", "wp-config.php~", "config.php.bak", "web.config.bak",
	"composer.lock", "composer.json", "debug.log", "error.log", "access.log", "phpinfo.php", "server-status",
	"docker-compose.yml", "backup.zip", "backup.tar.gz", "database.sql", "dump.sql",
}

// isSensitiveFile reports whether a path (or raw request) asks for a
// dotfile, a dump, a backup or a credentials file.
func isSensitiveFile(p string) bool { return pathHasSuffix(p, sensitiveSuffixes) }

// pathHasSuffix reports whether a path, without its query and trailing
// slashes, ends with one of suffixes, ignoring case.
func pathHasSuffix(p string, suffixes []string) bool {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	p = strings.TrimRight(p, "/")
	for _, s := range suffixes {
		if hasSuffixFold(p, s) {
			return true
		}
	}
	return false
}

var traversalNeedles = needles(
	"../", "..\\", "/etc/passwd", "/etc/shadow", "/etc/hosts", "/etc/group", "/proc/self/",
	"/var/log/", "win.ini", "boot.ini", "system32", "global.asa", "c:/", "c:\\",
	"=file://", "=php://", "=zip://", "=expect://", "=data://", "=phar://",
)

// isPathTraversal reports whether s, once URL-decoded, reaches outside the
// web root or into system files.
func isPathTraversal(s string) bool {
	return containsAnyFold(decoded(s), traversalNeedles)
}

var sqliNeedles = needles(
	"@@version", "xp_cmdshell", "information_schema", "union all select", "union select", ",null,null",
	"benchmark(", "load_file(", "substr(", "substring(", "selectchar(", "||chr(", "distinct(",
	"pg_sleep(", "sleep(", "waitfor delay", "upper(", "hex(", "md5(", "concat(", "char(", "extractvalue(",
	"updatexml(", "' or '1'='1", "\" or \"1\"=\"1", "' or 1=1", " or 1=1--", "order by 1--",
)

// isSQLiProbe reports whether a query string (or path), once URL-decoded,
// carries SQL-injection probe tokens.
func isSQLiProbe(s string) bool {
	if s == "" {
		return false
	}
	if strings.IndexByte(s, '+') >= 0 {
		s = strings.ReplaceAll(s, "+", " ")
	}
	return containsAnyFold(decoded(s), sqliNeedles)
}

var badAgents = needles(
	"nikto", "sqlmap", "nmap", "masscan", "zgrab", "nuclei", "wpscan", "dirbuster", "gobuster", "dirb/",
	"feroxbuster", "ffuf", "wfuzz", "acunetix", "nessus", "openvas", "whatweb", "zmeu", "havij", "fimap",
	"jorgee", "httrack", "netsparker", "appscan", "w3af", "arachni", "skipfish", "paros", "burp", "webinspect",
	"qualys", "censysinspect", "shodan", "morfeus", "muhstik", "libwhisker", "jbrofuzz", "sqlninja",
	"bsqlbf", "commix", "hydra", "medusa", "x-scan", "zollard", "mozlila", "python-requests/0.", "go-http-client/1.1 scan",
	"masscan-ng", "l9explore", "l9tcpid", "xfa1", "nimbostratus", "sysscan", "t0phackteam", "webshag",
	"blackwidow", "grabber", "scanbot", "vega/", "zermelo", "interesh", "fuzz faster",
)

// isBadUserAgent reports whether a user agent names a scanner or an
// attack tool.
func isBadUserAgent(ua string) bool {
	if ua == "" {
		return false
	}
	return containsAnyFold(ua, badAgents)
}

var adminPrefixes = []string{
	"/phpmyadmin", "/pma", "/myadmin", "/mysqladmin", "/adminer", "/admin", "/administrator", "/wp-admin",
	"/manager/html", "/manager/status", "/host-manager", "/solr/", "/phpinfo", "/boaform/", "/kcfinder/",
	"/+cscoe+/", "/dana-na/", "/remote/login", "/sitecore/admin", "/sitecore/login", "/web/database/manager",
	"/jenkins", "/console", "/actuator", "/cpanel", "/webmin", "/plesk", "/login.action", "/owa/",
	"/hnap1", "/cgi-bin/luci", "/jmx-console", "/axis2-admin", "/zabbix", "/grafana/login", "/portainer",
}

// isAdminInterface reports whether a path probes an administration
// interface.
func isAdminInterface(p string) bool {
	for _, n := range adminPrefixes {
		if hasPrefixFold(p, n) {
			return true
		}
	}
	return false
}

var cvePaths = needles(
	"/_ignition/execute-solution",                         // CVE-2021-3129 Laravel Ignition
	"/setup.cgi",                                          // CVE-2020-27866 Netgear
	"/cgi/networkdiag.cgi",                                // CVE-2021-36380 Sunhillo
	"/global-protect/login.esp",                           // CVE-2024-3400 PAN-OS
	"/cgi-bin/nas_sharing.cgi",                            // CVE-2024-3272 D-Link NAS
	"/server/node_upgrade_srv.js",                         // CVE-2018-12031 Eaton
	"/webinterface/login.html",                            // CVE-2024-4040 CrushFTP
	"/vendor/phpunit/phpunit/src/util/php/eval-stdin.php", // CVE-2017-9841
	"/mgmt/tm/util/bash",                                  // CVE-2022-1388 F5 BIG-IP
	"/api/v2/cmdb/system/admin",                           // CVE-2022-40684 FortiOS
	"/cgi-bin/.%2e/",                                      // CVE-2021-41773 Apache
	"/cgi-bin/%2e%2e/",                                    // CVE-2021-41773 Apache
	"/autodiscover/autodiscover.json",                     // CVE-2022-41082 ProxyNotShell
	"/remote/fgt_lang",                                    // CVE-2018-13379 FortiOS
	"/vpn/../vpns/",                                       // CVE-2019-19781 Citrix
	"/solr/admin/cores?action=",                           // Log4Shell probes
	"/hnap1/",                                             // D-Link HNAP
	"/boaform/admin/formlogin",                            // CVE-2020-8958
	"/goform/set_lancfg",                                  // Tenda
	"/shell?cd+/tmp",                                      // Mirai
)

// isCVEProbe reports whether a path is one that exploits of widely
// targeted CVEs request.
func isCVEProbe(p string) bool {
	return containsAnyFold(p, cvePaths)
}

var loginSuffixes = []string{
	"/wp-login.php", "/xmlrpc.php", "/login", "/login.php", "/signin", "/sign_in", "/sign-in", "/logon",
	"/user/login", "/users/sign_in", "/account/login", "/auth/login", "/api/login", "/api/auth",
	"/session", "/sessions", "/oauth/token", "/j_security_check", "/j_spring_security_check",
	"/administrator/index.php", "/admin/login", "/index.php/login", "/owa/auth.owa", "/remote/logincheck",
}

// isLoginURL reports whether a path is a login endpoint.
func isLoginURL(p string) bool { return pathHasSuffix(p, loginSuffixes) }
