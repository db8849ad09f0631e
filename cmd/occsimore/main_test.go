package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
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
		{"unknown command", "", []string{"nope"}, exitUsage, `unknown command "nope"`},
		{"unknown subcommand", "", []string{"member", "lst"}, exitUsage, `unknown command "lst" for "occsimore member"`},
		{"missing config file", "", []string{"--config", "/nonexistent/occsimore.toml", "member", "list"}, exitConfig, "/nonexistent/occsimore.toml"},
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

// TestErrorPrintedOnce checks an error reads as one sentence: one prefix, no
// application code, no repeated segment, and the field when there is one.
func TestErrorPrintedOnce(t *testing.T) {
	c := newCLI(t)
	missing := t.TempDir() + "/nothere.csv"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"score", missing}, "occsimore: open " + missing + ": no such file or directory\n"},
		{"missing config", []string{"--config", missing, "member", "list"}, "occsimore: config: open " + missing + ": no such file or directory\n"},
		{"field", []string{"member", "add", "--slug", "9x", "--name", "X", "--sector", "banking"}, "(field slug)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, errs := c.run("", tc.args...)
			if !strings.HasSuffix(errs, tc.want) || strings.Count(errs, "occsimore:") != 1 || strings.Contains(errs, "not_found") || strings.Contains(errs, "invalid:") {
				t.Fatalf("stderr %q, want one line ending %q", errs, tc.want)
			}
		})
	}
}

// TestSuggestions checks a mistyped command or flag is answered with the
// nearest names, and a made-up one with none.
func TestSuggestions(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args    []string
		suggest string
	}{
		{[]string{"membr", "list"}, "\tmember\n"},
		{[]string{"member", "lst"}, "\tlist\n"},
		{[]string{"member", "list", "--outpt", "json"}, "\t--output"},
		{[]string{"token", "list", "--membre", "bank"}, "\t--member"},
		{[]string{"serve", "--adr", "127.0.0.1:0"}, "\t--addr"},
		{[]string{"member", "list", "--zzzzzz"}, ""},
	} {
		code, _, errs := c.run("", tc.args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, code, exitUsage)
		}
		if got := strings.Contains(errs, "Did you mean this?"); got != (tc.suggest != "") || !strings.Contains(errs, tc.suggest) {
			t.Errorf("%v: stderr %q, want suggestion %q", tc.args, errs, tc.suggest)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"addr", "addr", 0}, {"adr", "addr", 1}, {"outpt", "output", 1}, {"membre", "member", 2}, {"kitten", "sitting", 3}, {"", "abc", 3}} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
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
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: c.env, wrap: checked(t), ready: func(u string) { urls <- u }}
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

// TestServeFlagsOverrideConfig runs serve with --addr and --data-dir over
// configuration that points elsewhere, and checks the flags win.
func TestServeFlagsOverrideConfig(t *testing.T) {
	envDir, flagDir := t.TempDir(), t.TempDir()
	env := []string{"OCCSIMORE_STORE_DATA_DIR=" + envDir, "OCCSIMORE_SERVER_ADDR=256.0.0.1:1"}
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: env, wrap: checked(t), ready: func(u string) { urls <- u }}
	go func() {
		root := m.rootCommand()
		root.SetArgs([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", flagDir})
		done <- root.ExecuteContext(ctx)
	}()
	select {
	case u := <-urls:
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("serving on %s, want 127.0.0.1", u)
		}
	case err := <-done:
		t.Fatalf("serve exited early: %v\n%s", err, errb.String())
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start listening")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if ents, _ := os.ReadDir(flagDir); len(ents) == 0 {
		t.Error("--data-dir holds nothing: the store was opened elsewhere")
	}
	if ents, _ := os.ReadDir(envDir); len(ents) != 0 {
		t.Errorf("store.data_dir from the environment was used despite --data-dir: %v", ents)
	}
}

// TestServeBusyPort checks a port already taken ends serve with the
// dependency-unavailable code and a hint how to choose another.
func TestServeBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := newCLI(t)
	code, _, errs := c.run("", "serve", "--addr", ln.Addr().String())
	want := "address " + ln.Addr().String() + " is in use: pass --addr or set server.addr"
	if code != exitUnavailable || !strings.Contains(errs, want) {
		t.Fatalf("exit %d, stderr %q; want %d and %q", code, errs, exitUnavailable, want)
	}
}
