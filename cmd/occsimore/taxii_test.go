package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startServe runs `occsimore serve` in-process with c's environment and
// returns its URL; the server stops when the test ends.
func startServe(t *testing.T, c *cli) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		var out, errb bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: append(c.env, "OCCSIMORE_SERVER_ADDR=127.0.0.1:0"),
			wrap: checked(t), ready: func(u string) { urls <- u }}
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
		t.Fatalf("serve exited early: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start listening")
	}
	return ""
}

// taxiiCollection creates a collection through the CLI, grants member
// slug read and write on it, and returns its id.
func taxiiCollection(t *testing.T, c *cli, slug string) string {
	t.Helper()
	var col struct{ ID string }
	if err := json.Unmarshal([]byte(c.mustRun("", "taxii", "create", "--title", "group", "-o", "json")), &col); err != nil {
		t.Fatal(err)
	}
	c.mustRun("", "taxii", "grant", "--collection", col.ID, "--member", slug, "--read", "--write")
	return col.ID
}

func TestTAXIIPullFromPeerServer(t *testing.T) {
	a := newCLI(t)
	a.mustRun("", "member", "add", "--slug", "alpha", "--name", "A", "--sector", "banking")
	var tok struct{ Bearer string }
	if err := json.Unmarshal([]byte(a.mustRun("", "token", "create", "--member", "alpha", "--name", "peer", "--role", "admin", "-o", "json")), &tok); err != nil {
		t.Fatal(err)
	}
	colA := taxiiCollection(t, a, "alpha")
	url := startServe(t, a)

	var objs []string
	for i := range 3 {
		objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d",`+
			`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.%d']",`+
			`"pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, i, i))
	}
	objs = append(objs, strings.Replace(strings.Replace(objs[0], "203.0.113.0'", "203.0.113.0", 1), "-000000000000", "-000000000099", 1))
	req, _ := http.NewRequest("POST", url+"/taxii2/lab/collections/"+colA+"/objects/", strings.NewReader(`{"objects":[`+strings.Join(objs, ",")+`]}`))
	req.Header.Set("Authorization", "Bearer "+tok.Bearer)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		SuccessCount int `json:"success_count"`
		FailureCount int `json:"failure_count"`
		Failures     []struct{ ID, Message string }
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || err != nil {
		t.Fatalf("POST objects to a: %d, %v", resp.StatusCode, err)
	}
	// The STIX codec checks what a is given: the malformed pattern is
	// refused with its path, the rest kept.
	if st.SuccessCount != 3 || st.FailureCount != 1 || !strings.HasPrefix(st.Failures[0].Message, "/objects/3/pattern") {
		t.Fatalf("status of the POST = %+v", st)
	}

	b := newCLI(t)
	b.mustRun("", "member", "add", "--slug", "beta", "--name", "B", "--sector", "banking")
	colB := taxiiCollection(t, b, "beta")
	if code, _, errs := b.run("", "taxii", "pull"); code != exitConfig {
		t.Fatalf("pull without taxii.pull_url: exit %d (%s), want %d", code, errs, exitConfig)
	}
	b.env = append(b.env, "OCCSIMORE_TAXII_PULL_URL="+url+"/taxii2/lab/", "OCCSIMORE_TAXII_PULL_COLLECTION="+colA,
		"OCCSIMORE_TAXII_PULL_INTO="+colB, "OCCSIMORE_TAXII_PULL_MEMBER=beta", "OCCSIMORE_TAXII_PULL_TOKEN="+tok.Bearer)
	for i, want := range [][2]int{{3, 0}, {0, 3}} {
		var res struct{ Objects, Held int }
		if err := json.Unmarshal([]byte(b.mustRun("", "taxii", "pull", "-o", "json")), &res); err != nil {
			t.Fatal(err)
		}
		if res.Objects != want[0] || res.Held != want[1] {
			t.Fatalf("pull %d: %+v, want %d stored and %d held", i, res, want[0], want[1])
		}
	}
	var cols []struct {
		ID      string `json:"id"`
		CanRead bool   `json:"can_read"`
	}
	if err := json.Unmarshal([]byte(b.mustRun("", "taxii", "list", "--member", "beta", "-o", "json")), &cols); err != nil || len(cols) != 1 || cols[0].ID != colB || !cols[0].CanRead {
		t.Fatalf("taxii list = %+v, %v", cols, err)
	}
	// A wrong token is the peer's 401, a failure.
	b.env = append(b.env, "OCCSIMORE_TAXII_PULL_TOKEN=occ_tok_x.y")
	if code, _, errs := b.run("", "taxii", "pull"); code != exitFailure || !strings.Contains(errs, "401") {
		t.Fatalf("pull with a bad token: exit %d, %s", code, errs)
	}
}
