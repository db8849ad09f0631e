package scenario

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/logs/parse"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// mustScenarios compiles scenarios from YAML text.
func mustScenarios(t testing.TB, text string) []*Scenario {
	t.Helper()
	ss, err := ParseScenarios("test.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// sshFail is a failed password for user from ip at t0+sec seconds.
func sshFail(ip, user string, sec float64) *parse.Entry {
	return &parse.Entry{
		Time: t0.Add(time.Duration(sec * float64(time.Second))), Kind: parse.KindSSHFailedPassword, Source: parse.ParserSSHD,
		Count: 1, SourceIP: netip.MustParseAddr(ip), User: user, Host: "bastion",
	}
}

func feedAll(d *Detector, es ...*parse.Entry) []Overflow {
	var out []Overflow
	for _, e := range es {
		out = append(out, d.Feed(e)...)
	}
	return out
}

const leakyYAML = `
name: bf
type: leaky
filter: evt.Kind == "ssh_failed_password"
values: evt.User
capacity: 5
leakspeed: 10s
blackhole: 1m
message: "{events} failed logins for {values} users in {span}"
labels: {service: ssh, classification: [attack.T1110, attack.T1589], remediation: true}
remediation: {action: ban, duration: 4h, scope: ip}
`

func TestLeakyOverflowsOnTheEventPastCapacity(t *testing.T) {
	t.Parallel()
	d := NewDetector(mustScenarios(t, leakyYAML), Options{})
	users := []string{"root", "admin", "root", "oracle", "pi", "root"}
	for i, u := range users[:5] {
		if ovs := d.Feed(sshFail("192.0.2.7", u, float64(i)*2)); len(ovs) != 0 {
			t.Fatalf("event %d overflowed: %+v", i+1, ovs)
		}
	}
	// Five events in 8s leaked 0.8: the bucket holds 4.2, so the sixth
	// (at 10s: 4.2-0.2+1 = 5) still fits and the seventh overflows.
	if ovs := d.Feed(sshFail("192.0.2.7", users[5], 10)); len(ovs) != 0 {
		t.Fatalf("sixth event overflowed: %+v", ovs)
	}
	ovs := d.Feed(sshFail("192.0.2.7", "guest", 12))
	if got, want := len(ovs), 1; got != want {
		t.Fatalf("%d overflows, want %d", got, want)
	}
	ov := ovs[0]
	if got, want := ov.Message, "bf: 7 failed logins for 5 users in 12s"; got != want {
		t.Errorf("Message = %q, want %q", got, want)
	}
	if got, want := ov.Source, "192.0.2.7"; got != want {
		t.Errorf("Source = %q, want %q", got, want)
	}
	if got, want := ov.Values, []string{"root", "admin", "oracle", "pi", "guest"}; !slices.Equal(got, want) {
		t.Errorf("Values = %v, want %v", got, want)
	}
	if !ov.First.Equal(t0) || !ov.Last.Equal(t0.Add(12*time.Second)) {
		t.Errorf("First, Last = %v, %v", ov.First, ov.Last)
	}
	if got, want := ov.Labels["classification"], "attack.T1110,attack.T1589"; got != want {
		t.Errorf("classification label = %q, want %q", got, want)
	}
	// Blackholed for a minute, then counted afresh.
	for i := range 10 {
		if ovs := d.Feed(sshFail("192.0.2.7", "root", 13+float64(i))); len(ovs) != 0 {
			t.Fatalf("overflow during blackhole: %+v", ovs)
		}
	}
	var again []Overflow
	for i := range 6 {
		again = append(again, d.Feed(sshFail("192.0.2.7", "root", 80+float64(i)/10))...)
	}
	if got, want := len(again), 1; got != want {
		t.Fatalf("after blackhole: %d overflows, want %d", got, want)
	}
	st := d.Stats()
	if got, want := st[0].Overflows, int64(2); got != want {
		t.Errorf("Overflows = %d, want %d", got, want)
	}
	if got, want := st[0].Fed, int64(7+10+6); got != want {
		t.Errorf("Fed = %d, want %d", got, want)
	}
}

func TestLeakyLeaksBelowCapacity(t *testing.T) {
	t.Parallel()
	d := NewDetector(mustScenarios(t, leakyYAML), Options{})
	// One failure every 10s leaks as fast as it fills: never overflows.
	for i := range 100 {
		if ovs := d.Feed(sshFail("192.0.2.7", "root", float64(i*10))); len(ovs) != 0 {
			t.Fatalf("event %d overflowed: %+v", i, ovs)
		}
	}
}

func TestGroupsAreSeparate(t *testing.T) {
	t.Parallel()
	d := NewDetector(mustScenarios(t, leakyYAML), Options{})
	var es []*parse.Entry
	for i := range 5 {
		es = append(es, sshFail("192.0.2.1", "root", float64(i)), sshFail("192.0.2.2", "root", float64(i)))
	}
	if ovs := feedAll(d, es...); len(ovs) != 0 {
		t.Fatalf("overflow with 5 events per source: %+v", ovs)
	}
	ovs := feedAll(d, sshFail("192.0.2.2", "root", 5))
	if len(ovs) != 1 || ovs[0].Source != "192.0.2.2" {
		t.Fatalf("overflows = %+v, want one for 192.0.2.2", ovs)
	}
}

func TestRepeatedMessageCounts(t *testing.T) {
	t.Parallel()
	d := NewDetector(mustScenarios(t, leakyYAML), Options{})
	e := sshFail("192.0.2.9", "root", 0)
	e.Count = 6 // "message repeated 6 times"
	ovs := d.Feed(e)
	if got, want := len(ovs), 1; got != want {
		t.Fatalf("%d overflows, want %d", got, want)
	}
	if got, want := ovs[0].Events, 6; got != want {
		t.Errorf("Events = %d, want %d", got, want)
	}
}

func TestDistinctDropsRepeats(t *testing.T) {
	t.Parallel()
	ss := mustScenarios(t, `
name: enum
type: leaky
filter: evt.Kind == "ssh_failed_password"
distinct: evt.User
capacity: 3
leakspeed: 1m
message: "{values} users: {list}"
`)
	d := NewDetector(ss, Options{})
	for i := range 20 {
		if ovs := d.Feed(sshFail("198.51.100.3", "root", float64(i))); len(ovs) != 0 {
			t.Fatalf("repeats of one user overflowed: %+v", ovs)
		}
	}
	ovs := feedAll(d, sshFail("198.51.100.3", "a", 21), sshFail("198.51.100.3", "b", 22), sshFail("198.51.100.3", "c", 23))
	if got, want := len(ovs), 1; got != want {
		t.Fatalf("%d overflows, want %d", got, want)
	}
	if got, want := ovs[0].Message, "enum: 4 users: root, a, b, c"; got != want {
		t.Errorf("Message = %q, want %q", got, want)
	}
}

func TestTriggerAndSkipPrivate(t *testing.T) {
	t.Parallel()
	ss := mustScenarios(t, `
name: canary
type: trigger
filter: evt.User startsWith "canary-"
blackhole: 1m
labels: {remediation: false}
`)
	for _, tc := range []struct {
		ip          string
		skipPrivate bool
		want        int
	}{
		{"203.0.113.5", false, 1},
		{"203.0.113.5", true, 1},
		{"10.1.2.3", false, 1},
		{"10.1.2.3", true, 0},
		{"127.0.0.1", true, 0},
	} {
		d := NewDetector(ss, Options{SkipPrivate: tc.skipPrivate})
		ovs := feedAll(d, sshFail(tc.ip, "canary-1", 0), sshFail(tc.ip, "canary-2", 1))
		if got := len(ovs); got != tc.want {
			t.Errorf("%s skipPrivate=%v: %d overflows, want %d", tc.ip, tc.skipPrivate, got, tc.want)
		}
		if len(ovs) > 0 && ovs[0].Action != occsimore.ActionAlert {
			t.Errorf("Action = %q, want alert (labels.remediation false)", ovs[0].Action)
		}
	}
}

func TestCounterReportsWhenTheWindowCloses(t *testing.T) {
	t.Parallel()
	ss := mustScenarios(t, `
name: sudo-denied
type: counter
filter: evt.Kind == "sudo_denied"
groupby: evt.User
capacity: 2
duration: 1h
remediation: {action: alert, scope: user}
`)
	d := NewDetector(ss, Options{})
	denied := func(user string, min int) *parse.Entry {
		return &parse.Entry{Time: t0.Add(time.Duration(min) * time.Minute), Kind: parse.KindSudoDenied, Count: 1, User: user}
	}
	if ovs := feedAll(d, denied("bob", 0), denied("bob", 10), denied("bob", 20), denied("eve", 30)); len(ovs) != 0 {
		t.Fatalf("counter overflowed before its window closed: %+v", ovs)
	}
	// Bob's window closes at 60 min; the next line (any kind) reports it.
	ovs := d.Feed(&parse.Entry{Time: t0.Add(61 * time.Minute), Kind: parse.KindSSHAccepted, Count: 1})
	if len(ovs) != 1 || ovs[0].Source != "bob" || ovs[0].Events != 3 || ovs[0].Scope != occsimore.ScopeUser {
		t.Fatalf("overflows = %+v, want bob with 3 events", ovs)
	}
	// Eve had 1 event, not more than capacity 2: nothing at Flush.
	if ovs := d.Flush(t0.Add(3 * time.Hour)); len(ovs) != 0 {
		t.Fatalf("Flush = %+v, want none", ovs)
	}
	if got := d.Buckets(); got != 0 {
		t.Errorf("%d buckets left after Flush", got)
	}
}

func TestConditionalTimeBasedWithCancel(t *testing.T) {
	t.Parallel()
	ss, err := BuiltinScenarios()
	if err != nil {
		t.Fatal(err)
	}
	only := func(names ...string) []*Scenario {
		var out []*Scenario
		for _, s := range ss {
			if slices.Contains(names, s.Name) {
				out = append(out, s)
			}
		}
		return out
	}
	d := NewDetector(only("ssh-time-based-bf"), Options{})
	min := func(m int) float64 { return float64(m * 60) }
	// 20 minutes apart: the fourth failure overflows.
	ovs := feedAll(d, sshFail("192.0.2.50", "root", 0), sshFail("192.0.2.50", "a", min(20)),
		sshFail("192.0.2.50", "b", min(40)))
	if len(ovs) != 0 {
		t.Fatalf("overflow after 3 failures: %+v", ovs)
	}
	ovs = d.Feed(sshFail("192.0.2.50", "c", min(60)))
	if len(ovs) != 1 || ovs[0].Action != occsimore.ActionBan || ovs[0].Events != 4 {
		t.Fatalf("overflows = %+v, want one ban with 4 events", ovs)
	}
	// A success in between empties the bucket.
	accepted := sshFail("192.0.2.51", "root", min(150))
	accepted.Kind = parse.KindSSHAccepted
	ovs = feedAll(d, sshFail("192.0.2.51", "root", min(100)), sshFail("192.0.2.51", "root", min(120)),
		sshFail("192.0.2.51", "root", min(140)), accepted, sshFail("192.0.2.51", "root", min(160)))
	if len(ovs) != 0 {
		t.Fatalf("overflow despite a successful login: %+v", ovs)
	}
	// Fast failures have a small median gap.
	ovs = feedAll(d, sshFail("192.0.2.52", "x", min(200)), sshFail("192.0.2.52", "x", min(200)+2),
		sshFail("192.0.2.52", "x", min(200)+4), sshFail("192.0.2.52", "x", min(260)))
	if len(ovs) != 0 {
		t.Fatalf("overflow with a 2s median gap: %+v", ovs)
	}
}

func TestIdleBucketsExpire(t *testing.T) {
	t.Parallel()
	d := NewDetector(mustScenarios(t, leakyYAML), Options{})
	for i := range 1000 {
		d.Feed(sshFail(fmt.Sprintf("198.18.%d.%d", i/256, i%256), "root", 0))
	}
	if got, want := d.Buckets(), 1000; got != want {
		t.Fatalf("Buckets = %d, want %d", got, want)
	}
	// One event leaks in 10s; the sweep a minute later frees them all.
	d.Feed(sshFail("192.0.2.1", "root", 61))
	if got, want := d.Buckets(), 1; got != want {
		t.Errorf("Buckets after a minute = %d, want %d", got, want)
	}
}

func TestMaxBucketsDropsNewGroups(t *testing.T) {
	t.Parallel()
	d := NewDetector(mustScenarios(t, leakyYAML), Options{MaxBuckets: 10})
	for i := range 20 {
		d.Feed(sshFail(fmt.Sprintf("198.18.0.%d", i), "root", 0))
	}
	if got, want := d.Buckets(), 10; got != want {
		t.Errorf("Buckets = %d, want %d", got, want)
	}
	if got, want := d.Stats()[0].Dropped, int64(10); got != want {
		t.Errorf("Dropped = %d, want %d", got, want)
	}
	// Existing groups still count.
	var ovs []Overflow
	for i := range 5 {
		ovs = append(ovs, d.Feed(sshFail("198.18.0.0", "root", float64(i)/10))...)
	}
	if got, want := len(ovs), 1; got != want {
		t.Errorf("%d overflows for an existing group, want %d", got, want)
	}
}

func TestRangeScopeAndRemediation(t *testing.T) {
	t.Parallel()
	ss := mustScenarios(t, strings.Replace(leakyYAML, "scope: ip", "scope: range", 1))
	d := NewDetector(ss, Options{})
	var ovs []Overflow
	for i := range 6 {
		ovs = append(ovs, d.Feed(sshFail("203.0.113.77", "root", float64(i)))...)
	}
	if len(ovs) != 1 {
		t.Fatalf("%d overflows, want 1", len(ovs))
	}
	ov := ovs[0]
	if got, want := ov.Source, "203.0.113.0/24"; got != want {
		t.Errorf("Source = %q, want %q", got, want)
	}
	now := t0.Add(time.Hour)
	a := ov.Attack("mem_1", now)
	if a.MemberID != "mem_1" || a.Scenario != "bf" || a.Scope != occsimore.ScopeRange || a.Source != "203.0.113.0/24" ||
		a.Events != 6 || a.Host != "bastion" || !a.Start.Equal(t0) || !a.CreatedAt.Equal(now) || a.ID == "" {
		t.Errorf("Attack = %+v", a)
	}
	if got, want := a.Labels["service"], "ssh"; got != want {
		t.Errorf("Attack label service = %q, want %q", got, want)
	}
	r := ov.Remediation("mem_1", a.ID)
	if r.Action != occsimore.ActionBan || r.Scope != occsimore.ScopeRange || r.Value != "203.0.113.0/24" ||
		r.Origin != "logs" || r.AttackID != a.ID {
		t.Errorf("Remediation = %+v", r)
	}
	if got, want := r.Until, t0.Add(5*time.Second+4*time.Hour); !got.Equal(want) {
		t.Errorf("Until = %v, want %v", got, want)
	}
}

func TestCredentialStuffingOneUserManySources(t *testing.T) {
	t.Parallel()
	ss, err := BuiltinScenarios()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(ss, Options{})
	var ovs []Overflow
	for i := range 6 {
		ovs = append(ovs, d.Feed(sshFail(fmt.Sprintf("198.51.100.%d", i+1), "alice", float64(i*5)))...)
	}
	var got *Overflow
	for i := range ovs {
		if ovs[i].Scenario == "credential-stuffing-one-user" {
			got = &ovs[i]
		}
	}
	if got == nil {
		t.Fatalf("no credential-stuffing-one-user overflow in %+v", ovs)
	}
	if got.Source != "alice" || got.Scope != occsimore.ScopeUser || got.Action != occsimore.ActionCaptcha || len(got.Values) != 6 {
		t.Errorf("overflow = %+v", got)
	}
	if want := "credential-stuffing-one-user: 6 addresses failed to log in as alice in 25s: 198.51.100.1, 198.51.100.2, 198.51.100.3, 198.51.100.4, 198.51.100.5, …"; got.Message != want {
		t.Errorf("Message = %q, want %q", got.Message, want)
	}
}

func TestCredentialStuffingManyUsersCloudTrail(t *testing.T) {
	t.Parallel()
	ss, err := BuiltinScenarios()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(ss, Options{})
	var ovs []Overflow
	for i := range 16 {
		line := fmt.Sprintf(`{"eventVersion":"1.08","eventTime":"2026-03-01T10:00:%02dZ","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.200","userAgent":"Mozilla/5.0","userIdentity":{"type":"IAMUser","userName":"user%d"},"responseElements":{"ConsoleLogin":"Failure"}}`, i, i)
		e, err := parse.Parse([]byte(line), parse.Hint{})
		if err != nil {
			t.Fatal(err)
		}
		ovs = append(ovs, d.Feed(&e)...)
	}
	if len(ovs) != 1 || ovs[0].Scenario != "credential-stuffing-many-users" || ovs[0].Source != "203.0.113.200" {
		t.Fatalf("overflows = %+v, want one credential-stuffing-many-users for 203.0.113.200", ovs)
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	ss, err := BuiltinScenarios()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(ss, Options{})
	for _, tc := range []struct {
		line string
		want []string
	}{
		{`Feb 12 14:10:21 sd-126005 sshd[16378]: Invalid user pascal from 35.188.49.176 port 53502`,
			[]string{"credential-stuffing-many-users", "ssh-bf", "ssh-bf_user-enum", "ssh-compromise", "ssh-slow-bf", "ssh-slow-bf_user-enum", "ssh-time-based-bf", "ssh-time-based-bf_user-enum"}},
		{`127.0.0.1 - - [30/Sep/2021:09:58:05 +0200] "GET /.env HTTP/1.1" 404 162 "-" "curl/7.68.0"`,
			[]string{"http-probing", "http-crawl-non_statics", "http-sensitive-files"}},
		{`127.0.0.1 - - [30/Sep/2021:09:58:05 +0200] "GET /static/app.css HTTP/1.1" 200 162 "-" "Mozilla/5.0"`, nil},
		{`127.0.0.1 - - [30/Sep/2021:09:58:05 +0200] "GET /foo?id=1%20union%20select%20 HTTP/1.1" 200 162 "-" "sqlmap/1.7"`,
			[]string{"http-crawl-non_statics", "http-sqli-probing", "http-bad-user-agent"}},
	} {
		e, err := parse.Parse([]byte(tc.line), parse.Hint{Year: 2026})
		if err != nil {
			t.Fatal(err)
		}
		got := d.Explain(&e)
		slices.Sort(got)
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Explain(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

// replayBuiltin feeds syslog lines of 2026 through the built-in scenarios.
func replayBuiltin(t *testing.T, lines ...string) []Overflow {
	t.Helper()
	ss, err := BuiltinScenarios()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(ss, Options{})
	var out []Overflow
	for _, l := range lines {
		e, err := parse.Parse([]byte(l), parse.Hint{Year: 2026})
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, d.Feed(&e)...)
	}
	return append(out, d.Flush(d.Now().Add(24*time.Hour))...)
}

func scenarioSources(ovs []Overflow, scenario string) []string {
	var out []string
	for _, ov := range ovs {
		if ov.Scenario == scenario && !slices.Contains(out, ov.Source) {
			out = append(out, ov.Source)
		}
	}
	return out
}

func TestMaxAuthTriesCountsTheSessionsAttempts(t *testing.T) {
	t.Parallel()
	// Three sessions that each exhaust MaxAuthTries, with sshd's failures
	// not logged one by one: 18 attempts in a minute, a brute force.
	var lines []string
	for i, pid := range []int{101, 102, 103} {
		lines = append(lines, fmt.Sprintf("Mar  1 10:00:%02d h sshd[%d]: error: maximum authentication attempts exceeded for root from 198.51.100.40 port %d ssh2 [preauth]", i*20, pid, 4000+i),
			fmt.Sprintf("Mar  1 10:00:%02d h sshd[%d]: Disconnecting authenticating user root 198.51.100.40 port %d: Too many authentication failures [preauth]", i*20, pid, 4000+i))
	}
	if got := scenarioSources(replayBuiltin(t, lines...), "ssh-bf"); !slices.Equal(got, []string{"198.51.100.40"}) {
		t.Errorf("ssh-bf sources = %v, want 198.51.100.40", got)
	}
	// A session whose six failures sshd logged is not counted twice: five
	// failures spread over a minute and the limit line stay under ssh-bf.
	lines = nil
	for i := range 6 {
		lines = append(lines, fmt.Sprintf("Mar  1 10:%02d:%02d h sshd[200]: Failed password for alice from 198.51.100.41 port 5000 ssh2", i/3, (i%3)*20))
	}
	lines = append(lines, "Mar  1 10:01:50 h sshd[200]: error: maximum authentication attempts exceeded for alice from 198.51.100.41 port 5000 ssh2 [preauth]")
	ss, err := BuiltinScenarios()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(ss, Options{})
	for _, l := range lines {
		e, err := parse.Parse([]byte(l), parse.Hint{Year: 2026})
		if err != nil {
			t.Fatal(err)
		}
		d.Feed(&e)
		if e.Kind == parse.KindSSHMaxAuth {
			for _, st := range d.Stats() {
				if st.Name == "ssh-bf" && st.Fed != 6 {
					t.Errorf("ssh-bf fed %d entries, want the 6 failures only (limit line already counted)", st.Fed)
				}
			}
		}
	}
}

func TestMessageWithoutUserNames(t *testing.T) {
	t.Parallel()
	var lines []string
	for i := range 7 {
		lines = append(lines, fmt.Sprintf("Mar  1 10:00:%02d h sshd[%d]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.42", i, 300+i))
	}
	ovs := replayBuiltin(t, lines...)
	if got := scenarioSources(ovs, "ssh-bf"); !slices.Equal(got, []string{"198.51.100.42"}) {
		t.Fatalf("ssh-bf sources = %v, want 198.51.100.42 (PAM failures count)", got)
	}
	for _, ov := range ovs {
		if strings.Contains(ov.Message, " 0 users") {
			t.Errorf("message %q", ov.Message)
		}
	}
}

func TestCompromiseAfterBruteForce(t *testing.T) {
	t.Parallel()
	var lines []string
	// 147 failures on "deploy" from one address over 49 minutes, then a
	// login from it: a compromise, naming the account.
	for i := range 147 {
		lines = append(lines, fmt.Sprintf("Mar  1 10:%02d:%02d h sshd[%d]: Failed password for deploy from 198.51.100.60 port 4000 ssh2", i*20/60, i*20%60, 500+i/3))
	}
	lines = append(lines, "Mar  1 11:30:00 h sshd[999]: Accepted password for deploy from 198.51.100.60 port 4100 ssh2")
	// A user who mistyped twice, then logged in: nothing.
	lines = append(lines,
		"Mar  1 12:00:00 h sshd[1001]: Failed password for alice from 192.0.2.70 port 4200 ssh2",
		"Mar  1 12:00:05 h sshd[1001]: Failed password for alice from 192.0.2.70 port 4200 ssh2",
		"Mar  1 12:00:09 h sshd[1001]: Accepted password for alice from 192.0.2.70 port 4200 ssh2")
	// Bots hammer root from many addresses; the admin logs in by key.
	for i := range 30 {
		lines = append(lines, fmt.Sprintf("Mar  1 13:%02d:%02d h sshd[%d]: Failed password for root from 203.0.113.%d port 4000 ssh2", i/6, i%6*10, 2000+i, i+1))
	}
	lines = append(lines, "Mar  1 13:06:00 h sshd[3000]: Accepted publickey for root from 192.0.2.71 port 4300 ssh2: ED25519 SHA256:abc")
	ovs := replayBuiltin(t, lines...)
	var found []Overflow
	for _, ov := range ovs {
		if strings.HasPrefix(ov.Scenario, "ssh-compromise") {
			found = append(found, ov)
		}
	}
	if len(found) != 2 {
		t.Fatalf("compromise overflows %+v, want ssh-compromise and ssh-compromise-account", found)
	}
	for _, ov := range found {
		if ov.User != "deploy" || ov.Labels["severity"] != "critical" || !strings.Contains(ov.Message, "deploy") {
			t.Errorf("%s: user %q, labels %v, message %q; want the account deploy, severity critical", ov.Scenario, ov.User, ov.Labels, ov.Message)
		}
		switch ov.Scenario {
		case "ssh-compromise":
			if ov.Source != "198.51.100.60" || ov.Action != occsimore.ActionBan {
				t.Errorf("ssh-compromise: source %s action %s", ov.Source, ov.Action)
			}
		case "ssh-compromise-account":
			if ov.Source != "deploy" || ov.Scope != occsimore.ScopeUser || ov.Action != occsimore.ActionAlert {
				t.Errorf("ssh-compromise-account: source %s scope %s action %s", ov.Source, ov.Scope, ov.Action)
			}
		}
	}
	t.Log(found[0].Message)
}

func TestSlowBruteForceBansForADay(t *testing.T) {
	t.Parallel()
	// Five failures over 96 minutes: under every rate, yet a brute force.
	// Each attempt writes three lines (PAM, sshd, disconnect): one moment.
	var lines []string
	for i := range 5 {
		at := fmt.Sprintf("Mar  1 %02d:%02d", 10+i*24/60, i*24%60)
		lines = append(lines,
			fmt.Sprintf("%s:00 h sshd[%d]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.80  user=root", at, 700+i),
			fmt.Sprintf("%s:02 h sshd[%d]: Failed password for root from 198.51.100.80 port 4000 ssh2", at, 700+i),
			fmt.Sprintf("%s:03 h sshd[%d]: Connection closed by authenticating user root 198.51.100.80 port 4000 [preauth]", at, 700+i))
	}
	var bans int
	ovs := replayBuiltin(t, lines...)
	if got := scenarioSources(ovs, "ssh-time-based-bf"); !slices.Equal(got, []string{"198.51.100.80"}) {
		t.Errorf("ssh-time-based-bf sources = %v, want 198.51.100.80", got)
	}
	for _, ov := range ovs {
		if ov.Source != "198.51.100.80" {
			continue
		}
		if ov.Action != occsimore.ActionBan || ov.Duration < 24*time.Hour {
			t.Errorf("%s: %s for %v, want a ban of at least 24h", ov.Scenario, ov.Action, ov.Duration)
		}
		bans++
	}
	if bans == 0 {
		t.Fatal("slow brute force not reported")
	}
}
