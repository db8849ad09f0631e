package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// cli runs occsimore in-process with a data directory of its own.
type cli struct {
	t   *testing.T
	env []string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, env: []string{"OCCSIMORE_STORE_DATA_DIR=" + t.TempDir()}}
}

func (c *cli) run(stdin string, args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(stdin), &out, &errb, c.env)
	return code, out.String(), errb.String()
}

func (c *cli) mustRun(stdin string, args ...string) string {
	c.t.Helper()
	code, out, errs := c.run(stdin, args...)
	if code != exitOK {
		c.t.Fatalf("occsimore %s: exit %d, stderr %s", strings.Join(args, " "), code, errs)
	}
	return out
}

func TestAdministrationRoundTrip(t *testing.T) {
	c := newCLI(t)
	c.mustRun("", "member", "add", "--slug", "bank", "--name", "Bank", "--sector", "banking")

	var members []struct{ Slug, Sector string }
	if err := json.Unmarshal([]byte(c.mustRun("", "member", "list", "-o", "json")), &members); err != nil {
		t.Fatal(err)
	}
	if len(members) != 1 || members[0].Slug != "bank" || members[0].Sector != "banking" {
		t.Fatalf("members = %+v", members)
	}

	var created struct {
		ID     string `json:"id"`
		Role   string `json:"role"`
		Bearer string `json:"bearer"`
	}
	out := c.mustRun("", "token", "create", "--member", "bank", "--name", "gw", "--role", "ingest", "--output", "json")
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Bearer, "occ_"+created.ID+".") || created.Role != "ingest" {
		t.Fatalf("created = %+v", created)
	}
	if list := c.mustRun("", "token", "list", "--member", "bank"); strings.Contains(list, created.Bearer) || !strings.Contains(list, created.ID) {
		t.Fatalf("token list must show the ID and never the secret:\n%s", list)
	}
	c.mustRun("", "token", "revoke", "--member", "bank", created.ID)
	if list := c.mustRun("", "token", "list", "--member", "bank"); !strings.Contains(list, "revoked") {
		t.Fatalf("token not shown revoked:\n%s", list)
	}

	c.mustRun("a long enough password\n", "user", "add", "--member", "bank", "--email", "ana@bank.example", "--name", "Ana", "--role", "analyst", "--password-stdin")
	c.mustRun("another long password\n", "user", "passwd", "--member", "bank", "--email", "ana@bank.example", "--password-stdin")
}

func TestExitCodes(t *testing.T) {
	c := newCLI(t)
	c.mustRun("", "member", "add", "--slug", "bank", "--name", "Bank", "--sector", "banking")
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{"unknown flag", "", []string{"member", "list", "--nope"}, exitUsage, "unknown flag"},
		{"extra argument", "", []string{"version", "extra"}, exitUsage, "unknown command"},
		{"bad output", "", []string{"version", "-o", "yaml"}, exitUsage, "--output"},
		{"missing member flag", "", []string{"token", "list"}, exitUsage, "--member is required"},
		{"unknown member", "", []string{"token", "list", "--member", "ghost"}, exitNotFound, "ghost"},
		{"duplicate member", "", []string{"member", "add", "--slug", "bank", "--name", "B", "--sector", "banking"}, exitConflict, ""},
		{"bad sector", "", []string{"member", "add", "--slug", "x2", "--name", "X", "--sector", "mining"}, exitInvalid, "sector"},
		{"bad role", "", []string{"token", "create", "--member", "bank", "--name", "n", "--role", "god"}, exitInvalid, "role"},
		{"short password", "short\n", []string{"user", "add", "--member", "bank", "--email", "a@b.example", "--name", "A", "--password-stdin"}, exitInvalid, "password"},
		{"blank password", "            \n", []string{"user", "add", "--member", "bank", "--email", "a@b.example", "--name", "A", "--password-stdin"}, exitInvalid, "password"},
		{"common password", "Password2024!\n", []string{"user", "add", "--member", "bank", "--email", "a@b.example", "--name", "A", "--password-stdin"}, exitInvalid, "common"},
		{"common new password", "iloveyou1234\n", []string{"user", "passwd", "--member", "bank", "--email", "ana@bank.example", "--password-stdin"}, exitInvalid, "common"},
		{"invalid UTF-8 email", "tram lilac ferry oboe\n", []string{"user", "add", "--member", "bank", "--email", "\xff@b.example", "--name", "A", "--password-stdin"}, exitInvalid, "email"},
		{"invalid UTF-8 token name", "", []string{"token", "create", "--member", "bank", "--name", "ci\xfe", "--role", "reader"}, exitInvalid, "name"},
		{"invalid UTF-8 member name", "", []string{"member", "add", "--slug", "utf-x", "--name", "X\xc3", "--sector", "other"}, exitInvalid, "name"},
		{"no terminal", "", []string{"user", "add", "--member", "bank", "--email", "a@b.example", "--name", "A"}, exitUsage, "--password-stdin"},
		{"unknown revoke", "", []string{"token", "revoke", "--member", "bank", "tok_nothere"}, exitNotFound, "tok_nothere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := c.run(tc.stdin, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, errs)
			}
			if !strings.Contains(errs, tc.msg) {
				t.Fatalf("stderr %q does not mention %q", errs, tc.msg)
			}
		})
	}
}

func TestConfigErrorExitCode(t *testing.T) {
	c := newCLI(t)
	c.env = append(c.env, "OCCSIMORE_SERVER_ADRESS=x")
	code, _, errs := c.run("", "member", "list")
	if code != exitConfig || !strings.Contains(errs, "OCCSIMORE_SERVER_ADRESS") {
		t.Fatalf("exit %d, stderr %q; want %d naming the variable", code, errs, exitConfig)
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	m := &Main{}
	root := m.rootCommand()
	for _, cmd := range root.Commands() {
		args := strings.Fields(cmd.CommandPath())[1:]
		for _, sub := range append([]*cobra.Command{cmd}, cmd.Commands()...) {
			path := args
			if sub != cmd {
				path = append(append([]string{}, args...), sub.Name())
			}
			c := newCLI(t)
			code, out, _ := c.run("", append(path, "--help")...)
			if code != exitOK || !strings.Contains(out, "Usage:") {
				t.Errorf("occsimore %s --help: exit %d, output %q", strings.Join(path, " "), code, out)
			}
		}
	}
}

func TestServeAnswersAndShutsDown(t *testing.T) {
	c := newCLI(t)
	c.env = append(c.env, "OCCSIMORE_SERVER_ADDR=127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		var out, errb bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: c.env, ready: func(u string) { urls <- u }}
		root := m.rootCommand()
		root.SetArgs([]string{"serve"})
		if err := root.ExecuteContext(ctx); err != nil {
			t.Errorf("serve: %v; log: %s", err, errb.String())
			done <- exitCode(err)
			return
		}
		done <- exitOK
	}()
	var url string
	select {
	case url = <-urls:
	case code := <-done:
		t.Fatalf("serve exited early with %d", code)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start listening")
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
		}
	}
	resp, err := http.Get(url + "/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusUnauthorized; got != want {
		t.Errorf("GET /v1/me without token = %d, want %d", got, want)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("serve exit %d after cancel, want 0", code)
	}
}

func TestEngineSpecsFile(t *testing.T) {
	c := newCLI(t)
	c.mustRun("", "member", "add", "--slug", "bank", "--name", "Bank", "--sector", "banking")
	specs := c.mustRun("", "engine", "specs")
	if !strings.Contains(specs, `kind = "card.tx"`) || !strings.Contains(specs, `kind = "auth.login"`) {
		t.Fatalf("default specs lack the built-in kinds:\n%.400s", specs)
	}
	path := t.TempDir() + "/specs.toml"
	os.WriteFile(path, []byte(specs+"\n[[member]]\nslug = \"bank\"\nkind = \"card.tx\"\nreview = 3\nblock = 6\n"), 0o600)
	c.env = append(c.env, "OCCSIMORE_ENGINE_SPECS_FILE="+path, "OCCSIMORE_SERVER_ADDR=127.0.0.1:0")
	if out := c.mustRun("", "engine", "specs"); !strings.Contains(out, `slug = "bank"`) {
		t.Fatalf("engine specs does not show the file's member thresholds:\n%.300s", out)
	}

	// A member the store does not know is a configuration error at start.
	os.WriteFile(path, []byte(specs+"\n[[member]]\nslug = \"ghost\"\nreview = 3\nblock = 6\n"), 0o600)
	if code, _, errs := c.run("", "serve"); code != exitConfig || !strings.Contains(errs, "ghost") {
		t.Fatalf("serve with an unknown member in the specs: exit %d, %s", code, errs)
	}
}
