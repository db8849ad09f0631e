package simulate

import (
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Attack kinds planted in simulated logs. The names follow the CrowdSec hub
// scenarios they resemble.
const (
	AttackSSHBruteForce      = "ssh-bf"
	AttackSSHSlowBruteForce  = "ssh-slow-bf"
	AttackSSHUserEnum        = "ssh-user-enum"
	AttackCredentialStuffing = "credential-stuffing"
	AttackHTTPProbing        = "http-probing"
	AttackHTTPSensitiveFiles = "http-sensitive-files"
	AttackHTTPSQLi           = "http-sqli-probing"
	AttackHTTPPathTraversal  = "http-path-traversal"
	AttackHTTPBadUserAgent   = "http-bad-user-agent"
	AttackHTTPAdminProbing   = "http-admin-probing"
	AttackHTTPLoginBF        = "http-login-bf"
)

// attackKinds and their relative frequencies: ssh brute force dominates, as
// on any host exposed to the Internet.
var attackKinds = []struct {
	name   string
	weight float64
}{
	{AttackSSHBruteForce, 30}, {AttackSSHSlowBruteForce, 6}, {AttackSSHUserEnum, 8},
	{AttackCredentialStuffing, 6}, {AttackHTTPProbing, 14}, {AttackHTTPSensitiveFiles, 10},
	{AttackHTTPSQLi, 6}, {AttackHTTPPathTraversal, 5}, {AttackHTTPBadUserAgent, 6},
	{AttackHTTPAdminProbing, 5}, {AttackHTTPLoginBF, 4},
}

// AttackKinds lists the attack kinds the log simulator plants.
func AttackKinds() []string {
	out := make([]string, len(attackKinds))
	for i, k := range attackKinds {
		out[i] = k.name
	}
	return out
}

// AttackLogsConfig configures simulated sshd and web access logs with
// planted attacks. Start from DefaultAttackLogs.
type AttackLogsConfig struct {
	Start time.Time // first day; only its UTC date counts
	Days  int
	Seed  uint64
	// Hosts are the machines writing the logs; each runs sshd and a web
	// server.
	Hosts []string
	// AttacksPerDay is the mean number of attacks on a weekday at Start.
	// Weekends see WeekendFactor of it, and the mean grows by Trend per day
	// (0.01 is 1 % a day, compounded).
	AttacksPerDay float64
	WeekendFactor float64
	Trend         float64
	// Surge multiplies the mean of the last day: a wave to anticipate.
	Surge float64
	// BackgroundPerDay is the mean number of legitimate lines a day
	// (successful logins and ordinary web requests).
	BackgroundPerDay float64
}

// DefaultAttackLogs is eight weeks of logs from two hosts with about 40
// attacks a weekday, rising slightly, and a wave on the last day.
func DefaultAttackLogs() AttackLogsConfig {
	return AttackLogsConfig{
		Start:            time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
		Days:             56,
		Seed:             1,
		Hosts:            []string{"web-1", "bastion"},
		AttacksPerDay:    40,
		WeekendFactor:    0.6,
		Trend:            0.005,
		Surge:            3,
		BackgroundPerDay: 2000,
	}
}

// Validate checks the configuration.
func (c AttackLogsConfig) Validate() error {
	switch {
	case c.Days < 1 || c.Days > 3660:
		return fmt.Errorf("simulate: days %d must be between 1 and 3660", c.Days)
	case len(c.Hosts) == 0:
		return fmt.Errorf("simulate: at least one host is required")
	case c.AttacksPerDay < 0 || c.BackgroundPerDay < 0 || c.WeekendFactor < 0 || c.Surge < 0:
		return fmt.Errorf("simulate: rates must not be negative")
	case c.Trend <= -1 || c.Trend > 1:
		return fmt.Errorf("simulate: trend %g must be in (-1, 1]", c.Trend)
	}
	return nil
}

// LogLine is one simulated log line. Attack and Source say what planted it
// (both empty for legitimate traffic), so that detections can be scored.
type LogLine struct {
	Time   time.Time
	Host   string
	Text   string // an RFC 3164 syslog line (sshd) or a combined access-log line
	Attack string
	Source string // the attacking IP
}

// ExpectedAttacks is the mean number of attacks planted on day d (0-based).
func (c AttackLogsConfig) ExpectedAttacks(d int) float64 {
	day := time.Date(c.Start.Year(), c.Start.Month(), c.Start.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, d)
	mean := c.AttacksPerDay * math.Pow(1+c.Trend, float64(d))
	if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
		mean *= c.WeekendFactor
	}
	if d == c.Days-1 {
		mean *= c.Surge
	}
	return mean
}

// AttackLogs yields the configured days of log lines in time order.
func AttackLogs(cfg AttackLogsConfig) (iter.Seq[LogLine], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return func(yield func(LogLine) bool) {
		for d := range cfg.Days {
			for _, l := range cfg.Day(d) {
				if !yield(l) {
					return
				}
			}
		}
	}, nil
}

// Day returns the lines of day d (0-based), sorted by time. Each day has its
// own random stream, so a day can be generated alone (the live demo does).
func (c AttackLogsConfig) Day(d int) []LogLine {
	r := newStream(c.Seed, streamAttackLogs, uint64(d))
	day := time.Date(c.Start.Year(), c.Start.Month(), c.Start.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, d)
	g := logGen{r: r, day: day, hosts: c.Hosts}
	nb := poisson(r, c.BackgroundPerDay, math.Exp(-c.BackgroundPerDay))
	for range nb {
		g.background()
	}
	mean := c.ExpectedAttacks(d)
	na := poisson(r, mean, math.Exp(-mean))
	var total float64
	for _, k := range attackKinds {
		total += k.weight
	}
	for range na {
		x := r.Float64() * total
		kind := attackKinds[len(attackKinds)-1].name
		for _, k := range attackKinds {
			if x < k.weight {
				kind = k.name
				break
			}
			x -= k.weight
		}
		g.attack(kind)
	}
	slices.SortStableFunc(g.lines, func(a, b LogLine) int { return a.Time.Compare(b.Time) })
	return g.lines
}

type logGen struct {
	r     *rand.Rand
	day   time.Time
	hosts []string
	lines []LogLine
}

var (
	habitualUsers = []string{"deploy", "alice", "bob", "backup", "ci", "monitor", "carol", "dave"}
	staffNames    = []string{"anna.meyer", "louis.martin", "sofia.rossi", "jan.devries", "emma.dubois", "lukas.weber", "chloe.bernard", "marco.bianchi", "lea.moreau", "paul.schmidt", "ines.garcia", "hugo.lambert", "nora.jensen", "tom.peeters", "eva.novak", "max.fischer", "julia.costa", "leo.roux", "mia.wagner", "noah.fontaine", "zoe.keller", "adam.lefevre", "lina.berg", "oscar.haas", "clara.petit", "felix.braun", "alice.girard", "victor.morel", "sara.lind", "elias.vogel"}
	guessedUsers  = []string{"root", "admin", "test", "user", "oracle", "postgres", "ubuntu", "guest", "git", "ftp", "pi", "support", "mysql", "www", "jenkins", "hadoop", "nagios", "ansible", "ec2-user", "centos"}
	legitPaths    = []string{"/", "/index.html", "/static/app.css", "/static/app.js", "/api/forecast?city=Paris", "/api/forecast?city=Lyon", "/about", "/contact", "/images/logo.png", "/news", "/login"}
	legitAgents   = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
	}
	probePaths     = []string{"/old/", "/backup/", "/test.php", "/shell.php", "/cgi-bin/test.cgi", "/vendor/", "/new/", "/blog/", "/wp/", "/site/", "/demo/", "/tmp/", "/upload.php", "/info.php", "/x.php", "/api/v1/", "/portal/", "/cms/", "/dev/", "/staging/"}
	sensitivePaths = []string{"/.env", "/.git/config", "/.aws/credentials", "/config.php.bak", "/wp-config.php.old", "/.htpasswd", "/backup.sql", "/db.sql.gz", "/.DS_Store", "/id_rsa", "/.ssh/id_rsa", "/server-status", "/web.config", "/.svn/entries"}
	sqliParams     = []string{"' OR '1'='1", "' UNION SELECT NULL,NULL--", "' AND SLEEP(5)--", "' AND EXTRACTVALUE(1,CONCAT(0x7e,@@version))--", "';WAITFOR DELAY '0:0:5'--", "' ORDER BY 1--", "' UNION ALL SELECT table_name FROM information_schema.tables--"}
	traversalPaths = []string{"/../../../../etc/passwd", "/static/..%2f..%2f..%2fetc%2fpasswd", "/download?file=../../../../etc/shadow", "/index.php?page=....//....//etc/passwd", "/cgi-bin/.%2e/.%2e/.%2e/bin/sh"}
	badAgents      = []string{"sqlmap/1.8.4#stable (https://sqlmap.org)", "Nikto/2.5.0", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)", "zgrab/0.x", "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)", "WPScan v3.8.25 (https://wpscan.com/wpscan)", "gobuster/3.6"}
	adminPaths     = []string{"/admin", "/administrator/", "/wp-admin/", "/phpmyadmin/", "/manager/html", "/admin/login.php", "/cpanel", "/webadmin/", "/adminer.php", "/pma/"}
	loginPaths     = []string{"/wp-login.php", "/login", "/user/login", "/api/auth/login"}
)

// at is a uniform time within the day, at least span before its end.
func (g *logGen) at(span time.Duration) time.Time {
	room := 24*time.Hour - span
	if room <= 0 {
		room = time.Second
	}
	return g.day.Add(time.Duration(g.r.Int64N(int64(room))))
}

// attackerIP is a public address from a /16 attackers favour. Synthetic
// blocks, never private ones (CrowdSec whitelists those).
func (g *logGen) attackerIP() string {
	firsts := [...]int{45, 61, 89, 103, 112, 115, 138, 141, 159, 162, 176, 185, 193, 194, 212, 218}
	return strconv.Itoa(firsts[g.r.IntN(len(firsts))]) + "." + strconv.Itoa(g.r.IntN(256)) + "." +
		strconv.Itoa(g.r.IntN(256)) + "." + strconv.Itoa(1+g.r.IntN(254))
}

func (g *logGen) host() string { return g.hosts[g.r.IntN(len(g.hosts))] }

func (g *logGen) sshd(t time.Time, host, msg, attack, src string) {
	// RFC 3164: "Nov  7 04:03:02 host sshd[pid]: msg"; the day is space-padded.
	b := make([]byte, 0, 64+len(msg))
	b = t.AppendFormat(b, time.Stamp)
	b = append(b, ' ')
	b = append(b, host...)
	b = append(b, " sshd["...)
	b = strconv.AppendInt(b, int64(1000+g.r.IntN(60000)), 10)
	b = append(b, "]: "...)
	b = append(b, msg...)
	g.lines = append(g.lines, LogLine{Time: t, Host: host, Text: string(b), Attack: attack, Source: src})
}

func (g *logGen) access(t time.Time, host, ip, method, path string, status, size int, agent, attack string) {
	b := make([]byte, 0, 160+len(path)+len(agent))
	b = append(b, ip...)
	b = append(b, " - - ["...)
	b = t.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, path...)
	b = append(b, " HTTP/1.1\" "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(size), 10)
	b = append(b, ` "-" "`...)
	b = append(b, agent...)
	b = append(b, '"')
	src := ""
	if attack != "" {
		src = ip
	}
	g.lines = append(g.lines, LogLine{Time: t, Host: host, Text: string(b), Attack: attack, Source: src})
}

func (g *logGen) port() string { return strconv.Itoa(32768 + g.r.IntN(28000)) }

// background is one legitimate line: mostly web requests, some ssh logins
// from the office network, and the occasional mistyped password.
func (g *logGen) background() {
	t := g.at(0)
	host := g.host()
	switch x := g.r.IntN(100); {
	case x < 6:
		ip := "10.20." + strconv.Itoa(g.r.IntN(4)) + "." + strconv.Itoa(10+g.r.IntN(40))
		user := habitualUsers[g.r.IntN(len(habitualUsers))]
		if x == 0 {
			g.sshd(t, host, "Failed password for "+user+" from "+ip+" port "+g.port()+" ssh2", "", "")
			t = t.Add(time.Duration(5+g.r.IntN(20)) * time.Second)
		}
		g.sshd(t, host, "Accepted publickey for "+user+" from "+ip+" port "+g.port()+" ssh2: ED25519 SHA256:q9Fv1mXlY0m4cN7rA2bKkJ3eP8sT5uW6xZ1yQ0vB4dE", "", "")
	default:
		ip := strconv.Itoa(80+g.r.IntN(10)) + "." + strconv.Itoa(g.r.IntN(256)) + "." + strconv.Itoa(g.r.IntN(256)) + "." + strconv.Itoa(1+g.r.IntN(254))
		path := legitPaths[g.r.IntN(len(legitPaths))]
		status, size := 200, 512+g.r.IntN(40000)
		if g.r.IntN(50) == 0 {
			status, size = 404, 162
		}
		g.access(t, host, ip, "GET", path, status, size, legitAgents[g.r.IntN(len(legitAgents))], "")
	}
}

// attack plants one attack of kind from one source.
func (g *logGen) attack(kind string) {
	ip := g.attackerIP()
	host := g.host()
	agent := legitAgents[g.r.IntN(len(legitAgents))]
	switch kind {
	case AttackSSHBruteForce:
		n := 8 + g.r.IntN(30)
		t := g.at(time.Duration(n) * 3 * time.Second)
		user := guessedUsers[g.r.IntN(4)]
		for range n {
			g.sshd(t, host, "Failed password for "+user+" from "+ip+" port "+g.port()+" ssh2", kind, ip)
			t = t.Add(time.Duration(500+g.r.IntN(2500)) * time.Millisecond)
		}
	case AttackSSHSlowBruteForce:
		// Under the fast scenario's rate, yet still one try a minute or so.
		n := 20 + g.r.IntN(12)
		t := g.at(time.Duration(n) * 30 * time.Second)
		for range n {
			user := guessedUsers[g.r.IntN(3)]
			g.sshd(t, host, "Failed password for "+user+" from "+ip+" port "+g.port()+" ssh2", kind, ip)
			t = t.Add(time.Duration(11+g.r.IntN(17)) * time.Second)
		}
	case AttackSSHUserEnum:
		n := 10 + g.r.IntN(15)
		t := g.at(time.Duration(n) * 4 * time.Second)
		for i := range n {
			user := guessedUsers[(i+g.r.IntN(3))%len(guessedUsers)]
			g.sshd(t, host, "Invalid user "+user+" from "+ip+" port "+g.port(), kind, ip)
			t = t.Add(time.Duration(300+g.r.IntN(600)) * time.Millisecond)
			g.sshd(t, host, "Failed password for invalid user "+user+" from "+ip+" port "+g.port()+" ssh2", kind, ip)
			t = t.Add(time.Duration(1+g.r.IntN(3)) * time.Second)
		}
	case AttackCredentialStuffing:
		// Leaked credentials tried against many existing accounts, one try
		// each, from one source.
		n := 15 + g.r.IntN(25)
		t := g.at(time.Duration(n) * 2 * time.Second)
		first := g.r.IntN(len(staffNames))
		for i := range n {
			user := staffNames[(first+i)%len(staffNames)]
			g.sshd(t, host, "Failed password for "+user+" from "+ip+" port "+g.port()+" ssh2", kind, ip)
			t = t.Add(time.Duration(200+g.r.IntN(1800)) * time.Millisecond)
		}
	case AttackHTTPProbing:
		n := 15 + g.r.IntN(40)
		t := g.at(time.Duration(n) * time.Second)
		for range n {
			g.access(t, host, ip, "GET", probePaths[g.r.IntN(len(probePaths))]+strconv.Itoa(g.r.IntN(1000)), 404, 162, agent, kind)
			t = t.Add(time.Duration(100+g.r.IntN(900)) * time.Millisecond)
		}
	case AttackHTTPSensitiveFiles:
		n := 6 + g.r.IntN(10)
		t := g.at(time.Duration(n) * time.Second)
		for i := range n {
			g.access(t, host, ip, "GET", sensitivePaths[(i+g.r.IntN(2))%len(sensitivePaths)], 404, 162, agent, kind)
			t = t.Add(time.Duration(100+g.r.IntN(900)) * time.Millisecond)
		}
	case AttackHTTPSQLi:
		// A scanner walks the payloads over several parameters: every
		// request differs.
		n := 12 + g.r.IntN(12)
		t := g.at(time.Duration(n) * time.Second)
		for i := range n {
			q := strconv.Itoa(1+i) + sqliParams[g.r.IntN(len(sqliParams))]
			g.access(t, host, ip, "GET", "/news?id="+urlEscape(q), 500, 310, agent, kind)
			t = t.Add(time.Duration(100+g.r.IntN(400)) * time.Millisecond)
		}
	case AttackHTTPPathTraversal:
		n := 6 + g.r.IntN(8)
		t := g.at(time.Duration(n) * time.Second)
		for range n {
			g.access(t, host, ip, "GET", traversalPaths[g.r.IntN(len(traversalPaths))], 400, 150, agent, kind)
			t = t.Add(time.Duration(200+g.r.IntN(800)) * time.Millisecond)
		}
	case AttackHTTPBadUserAgent:
		n := 3 + g.r.IntN(10)
		t := g.at(time.Duration(n) * time.Second)
		bad := badAgents[g.r.IntN(len(badAgents))]
		for range n {
			g.access(t, host, ip, "GET", legitPaths[g.r.IntN(len(legitPaths))], 200, 1024, bad, kind)
			t = t.Add(time.Duration(100+g.r.IntN(900)) * time.Millisecond)
		}
	case AttackHTTPAdminProbing:
		n := 6 + g.r.IntN(8)
		t := g.at(time.Duration(n) * time.Second)
		for i := range n {
			g.access(t, host, ip, "GET", adminPaths[(i+g.r.IntN(3))%len(adminPaths)], 404, 162, agent, kind)
			t = t.Add(time.Duration(200+g.r.IntN(800)) * time.Millisecond)
		}
	case AttackHTTPLoginBF:
		n := 12 + g.r.IntN(30)
		t := g.at(time.Duration(n) * 2 * time.Second)
		path := loginPaths[g.r.IntN(len(loginPaths))]
		for range n {
			g.access(t, host, ip, "POST", path, 401, 64, agent, kind)
			t = t.Add(time.Duration(300+g.r.IntN(1500)) * time.Millisecond)
		}
	default:
		panic("simulate: unknown attack kind " + kind)
	}
}

// urlEscape percent-encodes what a client would in a query value.
func urlEscape(s string) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)*2)
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
			b = append(b, c)
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}
