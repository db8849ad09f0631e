package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore/simulate"
)

// freePort returns a loopback port that was free a moment ago, for a
// listener whose address must be configured before it starts.
func freePort(t *testing.T, network string) string {
	t.Helper()
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
}

// token creates a token of role for member and returns its bearer string.
func (c *cli) token(member, role string) string {
	c.t.Helper()
	var tok struct{ Bearer string }
	if err := json.Unmarshal([]byte(c.mustRun("", "token", "create", "--member", member, "--name", role, "--role", role, "-o", "json")), &tok); err != nil || tok.Bearer == "" {
		c.t.Fatalf("token create printed no bearer: %v", err)
	}
	return tok.Bearer
}

// serveInProcess runs `occsimore serve` with env until the test ends and
// returns its URL.
func serveInProcess(t *testing.T, env []string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	var errb bytes.Buffer
	go func() {
		var out bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: env, wrap: checked(t), ready: func(u string) { urls <- u }}
		root := m.rootCommand()
		root.SetArgs([]string{"serve"})
		done <- root.ExecuteContext(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case u := <-urls:
		return u
	case err := <-done:
		t.Fatalf("serve exited early: %v; log: %s", err, errb.String())
	case <-time.After(2 * time.Minute): // a failure guard, not a timing assertion
		t.Fatal("serve did not start listening")
	}
	return ""
}

func getJSON(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %d, body not JSON: %v", url, resp.StatusCode, err)
	}
	return resp.StatusCode
}

// TestSyslogToBouncer sends ssh brute force over real UDP and TCP syslog
// sockets and over HTTP push, and checks that each attacking address is
// banned and reaches a bouncer's decision stream, while an oversize message
// is refused without stopping the listener.
func TestSyslogToBouncer(t *testing.T) {
	c := newCLI(t)
	udp, tcp := freePort(t, "udp"), freePort(t, "tcp")
	c.env = append(c.env,
		"OCCSIMORE_SERVER_ADDR=127.0.0.1:0",
		"OCCSIMORE_LOGS_SYSLOG_UDP="+udp,
		"OCCSIMORE_LOGS_SYSLOG_TCP="+tcp,
		"OCCSIMORE_LOGS_SYSLOG_MEMBER=bank",
		"OCCSIMORE_LOGS_MAX_MESSAGE_BYTES=1024",
		"OCCSIMORE_LOGS_GEOIP_DIR=",
	)
	c.mustRun("", "member", "add", "--slug", "bank", "--name", "Bank", "--sector", "banking")
	reader, ingest := c.token("bank", "reader"), c.token("bank", "ingest")
	url := serveInProcess(t, c.env)

	line := func(ip string, i int) string {
		ts := time.Now().Add(time.Duration(i) * time.Second).Format(time.Stamp)
		return fmt.Sprintf("<38>%s web-1 sshd[4242]: Failed password for root from %s port %d ssh2", ts, ip, 40000+i)
	}
	// UDP: one datagram per message.
	uc, err := net.Dial("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	for i := range 8 {
		if _, err := uc.Write([]byte(line("45.10.0.1", i))); err != nil {
			t.Fatal(err)
		}
	}
	// TCP: octet-counted frames, an oversize one amid them.
	tc, err := net.Dial("tcp", tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	var frames bytes.Buffer
	for i := range 8 {
		msg := line("45.20.0.2", i)
		if i == 3 {
			huge := strings.Repeat("x", 2000)
			fmt.Fprintf(&frames, "%d %s", len(huge), huge)
		}
		fmt.Fprintf(&frames, "%d %s", len(msg), msg)
	}
	if _, err := tc.Write(frames.Bytes()); err != nil {
		t.Fatal(err)
	}
	// HTTP push.
	var push bytes.Buffer
	for i := range 8 {
		push.WriteString(strings.TrimPrefix(line("45.30.0.3", i), "<38>") + "\n")
	}
	push.WriteString("not a log line at all\n")
	req, _ := http.NewRequest("POST", url+"/v1/logs?host=web-2", &push)
	req.Header.Set("Authorization", "Bearer "+ingest)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var pushed struct{ Accepted, Unparsed int }
	json.NewDecoder(resp.Body).Decode(&pushed)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 || pushed.Accepted != 8 || pushed.Unparsed != 1 {
		t.Fatalf("POST /v1/logs: %d, %+v; want 8 accepted, 1 unparsed", resp.StatusCode, pushed)
	}

	want := []string{"45.10.0.1", "45.20.0.2", "45.30.0.3"}
	var banned []string
	deadline := time.Now().Add(time.Minute) // a failure guard: UDP delivery is asynchronous
	for {
		var list struct {
			Decisions []struct {
				Action, Scope, Value, Scenario string
			}
		}
		if code := getJSON(t, url+"/v1/decisions", reader, &list); code != http.StatusOK {
			t.Fatalf("GET /v1/decisions: %d", code)
		}
		banned = banned[:0]
		for _, d := range list.Decisions {
			if d.Action == "ban" && d.Scope == "ip" && strings.HasPrefix(d.Scenario, "ssh-bf") && !slices.Contains(banned, d.Value) {
				banned = append(banned, d.Value)
			}
		}
		slices.Sort(banned)
		if slices.Equal(banned, want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !slices.Equal(banned, want) {
		t.Fatalf("banned %v, want %v", banned, want)
	}

	// A bouncer starting now gets all three as new.
	var stream struct {
		New []struct{ Value string } `json:"new"`
	}
	if code := getJSON(t, url+"/v1/decisions/stream?startup=true", reader, &stream); code != http.StatusOK {
		t.Fatalf("stream: %d", code)
	}
	var got []string
	for _, d := range stream.New {
		if !slices.Contains(got, d.Value) {
			got = append(got, d.Value)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("bouncer startup got %v, want %v", got, want)
	}
}

// TestLogsReplayAndExplain replays simulated logs with the CLI and checks
// the planted attackers are found, and explains single lines.
func TestLogsReplayAndExplain(t *testing.T) {
	c := newCLI(t)
	c.env = append(c.env, "OCCSIMORE_LOGS_GEOIP_DIR=")
	cfg := simulate.DefaultAttackLogs()
	cfg.Start, cfg.BackgroundPerDay = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), 300
	var buf bytes.Buffer
	planted := map[string]bool{}
	for i, l := range cfg.Day(0) {
		buf.WriteString(l.Text + "\n")
		if i == 10 {
			buf.WriteString("garbage that no parser takes\n")
		}
		if strings.HasPrefix(l.Attack, "ssh-bf") {
			planted[l.Source] = true
		}
	}
	path := filepath.Join(t.TempDir(), "day.log")
	os.WriteFile(path, buf.Bytes(), 0o600)

	var sum replaySummary
	if err := json.Unmarshal([]byte(c.mustRun("", "logs", "replay", path, "--top", "0", "-o", "json")), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Unparsed != 1 || sum.Parsed != sum.Lines-1 || sum.Stored {
		t.Fatalf("summary %d lines, %d parsed, %d unparsed, stored %v", sum.Lines, sum.Parsed, sum.Unparsed, sum.Stored)
	}
	found := map[string]bool{}
	for _, s := range sum.Sources {
		if slices.Contains(s.Scenarios, "ssh-bf") {
			found[s.Source] = true
		}
	}
	if len(planted) == 0 {
		t.Fatal("the simulated day planted no ssh brute force")
	}
	for ip := range planted {
		if !found[ip] {
			t.Errorf("planted ssh brute force from %s not reported", ip)
		}
	}

	// Standard input gives the same result.
	var fromStdin replaySummary
	if err := json.Unmarshal([]byte(c.mustRun(buf.String(), "logs", "replay", "-", "--top", "0", "-o", "json")), &fromStdin); err != nil {
		t.Fatal(err)
	}
	if fromStdin.Lines != sum.Lines || fromStdin.Attacks != sum.Attacks {
		t.Fatalf("stdin: %d lines %d attacks; file: %d lines %d attacks", fromStdin.Lines, fromStdin.Attacks, sum.Lines, sum.Attacks)
	}

	// --member stores the attacks.
	c.mustRun("", "member", "add", "--slug", "bank", "--name", "Bank", "--sector", "banking")
	if err := json.Unmarshal([]byte(c.mustRun("", "logs", "replay", path, "--member", "bank", "-o", "json")), &sum); err != nil {
		t.Fatal(err)
	}
	if !sum.Stored || sum.Attacks == 0 {
		t.Fatalf("replay --member: stored %v, %d attacks", sum.Stored, sum.Attacks)
	}

	var ex explanation
	out := c.mustRun("", "logs", "explain", "Nov 27 04:43:53 web-1 sshd[812]: Invalid user admin from 203.0.113.5 port 52344", "-o", "json")
	if err := json.Unmarshal([]byte(out), &ex); err != nil {
		t.Fatal(err)
	}
	if ex.Parser != "sshd" || ex.Kind != "ssh_invalid_user" || ex.Fields["source_ip"] != "203.0.113.5" || ex.Fields["user"] != "admin" || !slices.Contains(ex.Scenarios, "ssh-bf") {
		t.Fatalf("explain = %+v", ex)
	}
	code, _, errs := c.run("", "logs", "explain", "garbage that no parser takes")
	if code != exitInvalid || !strings.Contains(errs, "no parser matched") {
		t.Fatalf("explain garbage: exit %d, %s", code, errs)
	}
	if code, _, errs := c.run("", "logs", "replay", "/nonexistent.log"); code != exitNotFound || !strings.Contains(errs, "/nonexistent.log") {
		t.Fatalf("replay of a missing file: exit %d, %s", code, errs)
	}
}

// TestLogsFollowShips follows a file across a rename rotation with
// `occsimore logs follow` and checks that every line reaches the server,
// and that a brute force written to it ends as a ban.
func TestLogsFollowShips(t *testing.T) {
	c := newCLI(t)
	c.env = append(c.env, "OCCSIMORE_SERVER_ADDR=127.0.0.1:0", "OCCSIMORE_LOGS_GEOIP_DIR=")
	c.mustRun("", "member", "add", "--slug", "bank", "--name", "Bank", "--sector", "banking")
	reader, ingest := c.token("bank", "reader"), c.token("bank", "ingest")
	url := serveInProcess(t, c.env)

	dir := t.TempDir()
	path := filepath.Join(dir, "auth.log")
	write := func(name string, ip string, n int) {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for i := range n {
			ts := time.Now().Add(time.Duration(i) * time.Second).Format(time.Stamp)
			fmt.Fprintf(f, "%s web-1 sshd[77]: Failed password for root from %s port %d ssh2\n", ts, ip, 50000+i)
		}
	}
	write(path, "45.40.0.1", 3)

	tokenFile := filepath.Join(dir, "ingest.token")
	if err := os.WriteFile(tokenFile, []byte(ingest+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	follow := func() (context.CancelFunc, chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			var out, errb bytes.Buffer
			m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: c.env}
			root := m.rootCommand()
			root.SetArgs([]string{"logs", "follow", "--url", url, "--token-file", tokenFile, "--every", "100ms",
				"--from-start", "--state", filepath.Join(dir, "follow.state"), path})
			done <- root.ExecuteContext(ctx)
		}()
		return cancel, done
	}
	cancel, done := follow()
	waitLines := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(time.Minute) // a failure guard, not a timing assertion
		for {
			var st struct{ Lines int64 }
			getJSON(t, url+"/v1/logs/stats", reader, &st)
			if st.Lines >= want {
				if st.Lines > want {
					t.Fatalf("server got %d lines, want %d: a line was sent twice", st.Lines, want)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("server got %d lines, want %d", st.Lines, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitLines(3)

	// Rotation: the old file renamed, a new one created at the path.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	write(path, "45.40.0.2", 4)
	waitLines(7)

	// A brute force in the new file ends as a ban.
	write(path, "45.40.0.3", 8)
	waitLines(15)
	// The line count moves before the request's attacks are stored, so the
	// decision is awaited (a failure guard, not a timing assertion).
	deadline := time.Now().Add(time.Minute)
	for {
		var list struct{ Decisions []struct{ Value string } }
		getJSON(t, url+"/v1/decisions", reader, &list)
		if slices.ContainsFunc(list.Decisions, func(d struct{ Value string }) bool { return d.Value == "45.40.0.3" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no decision for the brute force: %+v", list.Decisions)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("logs follow: %v", err)
	}

	// Lines written while the agent is down are sent after its restart,
	// and the 15 already sent are not sent again.
	write(path, "45.40.0.4", 2)
	cancel, done = follow()
	waitLines(17)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("logs follow after a restart: %v", err)
	}
}

// TestLogsReplayYearsAndDecisions: year-less lines are dated from the
// file's modification time or --year, decisions that have ended are listed
// and not stored, and a file in no supported format exits 6.
func TestLogsReplayYearsAndDecisions(t *testing.T) {
	c := newCLI(t)
	c.env = append(c.env, "OCCSIMORE_LOGS_GEOIP_DIR=")
	dir := t.TempDir()
	var b strings.Builder
	for i := range 12 {
		fmt.Fprintf(&b, "Dec 10 08:00:%02d web-1 sshd[4%d]: Failed password for root from 45.1.2.3 port 4000 ssh2\n", i, i)
	}
	path := filepath.Join(dir, "auth.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	// Modified on Dec 6: the Dec 10 lines are of the year before.
	mtime := time.Date(time.Now().Year(), 12, 6, 9, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	var sum replaySummary
	if err := json.Unmarshal([]byte(c.mustRun("", "logs", "replay", path, "-o", "json")), &sum); err != nil {
		t.Fatal(err)
	}
	// ssh-bf and ssh-slow-bf overflow on the same burst: one decision.
	if len(sum.Decisions) != 1 || sum.Decisions[0].Attacks != sum.Attacks || sum.Attacks < 2 || sum.InForce != 0 ||
		sum.Decisions[0].InForce || sum.Decisions[0].From.Year() != mtime.Year()-1 {
		t.Fatalf("decisions %+v, in force %d, %d attacks; want one ended ban of the year before counting the attacks", sum.Decisions, sum.InForce, sum.Attacks)
	}
	if err := json.Unmarshal([]byte(c.mustRun("", "logs", "replay", path, "--year", "2031", "-o", "json")), &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Decisions) == 0 || sum.Decisions[0].From.Year() != 2031 || !sum.Decisions[0].InForce {
		t.Fatalf("--year 2031: decisions %+v, want a ban of 2031 in force", sum.Decisions)
	}
	// Stored with --member: the ended ban is not, so bouncers never get it.
	c.mustRun("", "member", "add", "--slug", "bank", "--name", "Bank", "--sector", "banking")
	if err := json.Unmarshal([]byte(c.mustRun("", "logs", "replay", path, "--member", "bank", "-o", "json")), &sum); err != nil {
		t.Fatal(err)
	}
	if !sum.Stored || sum.InForce != 0 {
		t.Fatalf("replay --member: stored %v, %d in force", sum.Stored, sum.InForce)
	}
	if code, _, errs := c.run("", "logs", "replay", path, "--year", "12"); code != exitUsage || !strings.Contains(errs, "--year") {
		t.Fatalf("--year 12: exit %d, %s", code, errs)
	}

	bad := filepath.Join(dir, "app.log")
	if err := os.WriteFile(bad, []byte(strings.Repeat("INFO starting worker pool\n", 30)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := c.run("", "logs", "replay", bad)
	if code != exitInvalid || !strings.Contains(errs, "supported format") || !strings.Contains(errs, "Apache error logs") || !strings.Contains(errs, "app.log") {
		t.Fatalf("unsupported file: exit %d, %s", code, errs)
	}
}
