package http_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const customBouncer = "/usr/bin/crowdsec-custom-bouncer"

// TestCrowdSecBouncer runs Debian's crowdsec-custom-bouncer, unchanged,
// against the server: it must apply the member's bans and lift the one an
// analyst deletes.
func TestCrowdSecBouncer(t *testing.T) {
	if _, err := os.Stat(customBouncer); err != nil {
		t.Skipf("%s is missing; install it with `apt-get install crowdsec-custom-bouncer` (scripts/deps.sh does) to run CrowdSec's own bouncer against the server", customBouncer)
	}
	f := newFixture(t)
	ban := f.decide(t, `{"action":"ban","scope":"ip","value":"192.0.2.1","duration":"4h","scenario":"ssh-bf"}`)
	f.decide(t, `{"action":"ban","scope":"range","value":"198.51.100.0/24","duration":"4h","scenario":"http-probing"}`)

	dir := t.TempDir()
	applied := filepath.Join(dir, "applied")
	script := filepath.Join(dir, "apply.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$1 $2\" >> "+applied+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "bouncer.yaml")
	if err := os.WriteFile(cfg, []byte(strings.Join([]string{
		"bin_path: " + script,
		"feed_via_stdin: false",
		"total_retries: 0",
		"scenarios_containing: []",
		"scenarios_not_containing: []",
		"origins: []",
		"piddir: " + dir,
		"update_frequency: 100ms",
		"cache_retention_duration: 10s",
		"daemonize: false",
		"log_mode: stdout",
		"log_dir: " + dir,
		"log_level: info",
		"api_url: " + f.ts.URL + "/crowdsec/",
		"api_key: " + f.bankReader,
		"prometheus:",
		"  enabled: false",
		"  listen_addr: 127.0.0.1",
		"  listen_port: 0",
	}, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, customBouncer, "-c", cfg)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("bouncer output:\n%s", out.String())
		}
	}()

	waitApplied := func(want []string) {
		t.Helper()
		deadline := time.Now().Add(time.Minute) // a failure guard, not a timing assertion
		for {
			b, _ := os.ReadFile(applied)
			var got []string
			for l := range strings.Lines(string(b)) {
				got = append(got, strings.TrimSpace(l))
			}
			slices.Sort(got)
			if slices.Equal(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the bouncer applied %q, want %q", got, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitApplied([]string{"add 192.0.2.1", "add 198.51.100.0/24"})
	if r := f.do(t, "DELETE", "/v1/decisions/"+strconv.FormatInt(ban.ID, 10), f.bankAnalyst, ""); r.status != 204 {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	f.decide(t, `{"action":"ban","scope":"ip","value":"2001:db8::9","duration":"1h"}`)
	waitApplied([]string{"add 192.0.2.1", "add 198.51.100.0/24", "add 2001:db8::9", "del 192.0.2.1"})
}
