package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/occsimore/occsimore/simulate"
)

// serveChildEnv, when set, makes TestServeChild run `occsimore serve` as the
// child process that TestKill9HTTP starts and kills.
const serveChildEnv = "OCCSIMORE_TEST_SERVE_CHILD"

func TestServeChild(t *testing.T) {
	if os.Getenv(serveChildEnv) == "" {
		t.Skip("runs only as the child process of TestKill9HTTP")
	}
	// Its exchanges are checked against the OpenAPI document and the
	// violations reported on standard error, which startServer reads.
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	report := &lineReporter{w: os.Stderr}
	m := &Main{Stdin: strings.NewReader(""), Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ(),
		wrap: func(h http.Handler) http.Handler { return c.Handler(report, h) }}
	root := m.rootCommand()
	root.SetArgs([]string{"serve"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "occsimore: %s\n", errorMessage(err))
		os.Exit(exitCode(err))
	}
	os.Exit(exitOK)
}

// server is a child `occsimore serve` process.
type server struct {
	cmd *exec.Cmd
	url string
}

var servingURL = regexp.MustCompile(`msg=serving url=(http://\S+)`)

func startServer(t *testing.T, env []string) *server {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestServeChild$")
	cmd.Env = append(append(os.Environ(), env...), serveChildEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	var violations []string // exchanges the child found not to conform
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if m := servingURL.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
			if v, ok := violation(sc.Text()); ok {
				violations = append(violations, v)
			}
		}
		close(urls)
	}()
	select {
	case u, ok := <-urls:
		if !ok {
			t.Fatal("server exited before listening")
		}
		s := &server{cmd: cmd, url: u}
		t.Cleanup(func() {
			s.kill()
			<-read
			for _, v := range violations {
				t.Errorf("child server: %s", v)
			}
		})
		return s
	case <-time.After(2 * time.Minute): // a failure guard, not a timing assertion
		cmd.Process.Kill()
		t.Fatal("server did not start")
	}
	return nil
}

func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd.Wait()
	}
}

// post sends one NDJSON batch and reports whether it was acknowledged: a
// 200 with every result line read.
func (s *server) post(token string, lines []string) (bool, error) {
	body := strings.Join(lines, "\n") + "\n"
	req, err := http.NewRequest("POST", s.url+"/v1/events:batch", strings.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, nil // killed before answering: not acknowledged
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("batch: status %d: %s", resp.StatusCode, out)
	}
	if n := bytes.Count(out, []byte("\n")); n < len(lines) {
		return false, nil // cut short by the kill
	}
	return true, nil
}

func (s *server) entity(t *testing.T, token, role, id string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", s.url+"/v1/entities/"+role+"/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return ""
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET entity %s/%s: %d %s", role, id, resp.StatusCode, b)
	}
	// The two servers' members have different IDs; everything else must match.
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	delete(v, "member_id")
	b, _ = json.Marshal(v)
	return string(b)
}

// TestKill9HTTP kills `occsimore serve` with SIGKILL while a batch is in
// flight, restarts it on the same data directory, and checks that every
// acknowledged event is there and that the restarted state equals an
// uninterrupted server's fed the same events. Both then take the rest of
// the stream and must still agree.
// TestKill9HTTP kills a server in the middle of a stream of batches, in both
// durability modes: fsync before every answer, and a sync interval, where an
// answer waits only for the write to the operating system, which a killed
// process cannot lose.
func TestKill9HTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	for _, interval := range []string{"0s", "50ms"} {
		t.Run("journal_sync_interval="+interval, func(t *testing.T) { testKill9HTTP(t, interval) })
	}
}

func testKill9HTTP(t *testing.T, syncInterval string) {
	cfg := simulate.DefaultCards()
	cfg.Customers, cfg.Terminals, cfg.Days = 200, 400, 8
	w, err := simulate.NewCardWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	nw := w.NewNDJSONWriter(&buf, false)
	for tx := range w.Transactions() {
		if err := nw.Write(tx); err != nil {
			t.Fatal(err)
		}
	}
	if err := nw.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	const batch = 100
	var batches [][]string
	for i := 0; i < len(lines); i += batch {
		batches = append(batches, lines[i:min(i+batch, len(lines))])
	}
	if len(batches) < 10 {
		t.Fatalf("only %d batches", len(batches))
	}

	// Two stores: the one that crashes and the uninterrupted reference.
	type store struct {
		env   []string
		token string
	}
	newStore := func() store {
		dir := t.TempDir()
		env := []string{
			"OCCSIMORE_STORE_DATA_DIR=" + dir,
			"OCCSIMORE_SERVER_ADDR=127.0.0.1:0",
			"OCCSIMORE_ENGINE_CHECKPOINT_EVERY=1000", // snapshots amid the stream
			"OCCSIMORE_SERVER_TOKEN_CACHE_TTL=0s",
			"OCCSIMORE_ENGINE_JOURNAL_SYNC_INTERVAL=" + syncInterval,
		}
		c := &cli{t: t, env: env}
		c.mustRun("", "member", "add", "--slug", "bank", "--name", "Bank", "--sector", "banking")
		return store{env: env, token: c.token("bank", "admin")}
	}
	crashing, reference := newStore(), newStore()

	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	killAfter := 3 + r.IntN(len(batches)-6)
	srv := startServer(t, crashing.env)
	acked := 0
	for i := range killAfter {
		ok, err := srv.post(crashing.token, batches[i])
		if err != nil || !ok {
			t.Fatalf("batch %d before the kill: ok=%v err=%v", i, ok, err)
		}
		acked = i + 1
	}
	// The next batch is in flight when the kill lands.
	inflight := make(chan bool, 1)
	go func() {
		ok, _ := srv.post(crashing.token, batches[killAfter])
		inflight <- ok
	}()
	time.Sleep(time.Duration(r.IntN(20)) * time.Millisecond)
	srv.kill()
	if <-inflight {
		acked++
	}
	t.Logf("killed after %d acknowledged batches of %d", acked, len(batches))

	srv = startServer(t, crashing.env)
	ref := startServer(t, reference.env)

	// Which events did the restarted server keep? Every acknowledged one, and
	// perhaps the in-flight batch (a journal record is all or nothing).
	cards := map[string]bool{}
	for _, l := range lines {
		var ev struct {
			Entities map[string]string `json:"entities"`
			Card     string            `json:"card"`
		}
		json.Unmarshal([]byte(l), &ev)
		if id := ev.Card + ev.Entities["card"]; id != "" {
			cards[id] = true
		}
	}
	ids := make([]string, 0, len(cards))
	for id := range cards {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	total := func(s *server, token string) int {
		n := 0
		for _, id := range ids {
			var v struct{ Events int }
			if b := s.entity(t, token, "card", id); b != "" {
				json.Unmarshal([]byte(b), &v)
			}
			n += v.Events
		}
		return n
	}
	count := func(bs [][]string) int {
		n := 0
		for _, b := range bs {
			n += len(b)
		}
		return n
	}
	kept := total(srv, crashing.token)
	switch {
	case kept == count(batches[:acked]):
	case acked == killAfter && kept == count(batches[:killAfter+1]):
		acked = killAfter + 1 // the unacknowledged batch was journaled whole
	default:
		t.Fatalf("restarted server has %d card events; acknowledged %d (in-flight batch %d)",
			kept, count(batches[:acked]), len(batches[killAfter]))
	}
	for i := range acked {
		if ok, err := ref.post(reference.token, batches[i]); err != nil || !ok {
			t.Fatalf("reference batch %d: ok=%v err=%v", i, ok, err)
		}
	}
	compare := func(when string) {
		t.Helper()
		diffs := 0
		for _, id := range ids {
			a, b := srv.entity(t, crashing.token, "card", id), ref.entity(t, reference.token, "card", id)
			if a != b {
				if diffs < 3 {
					t.Errorf("%s: card %s differs\nrestarted:     %s\nuninterrupted: %s", when, id, a, b)
				}
				diffs++
			}
		}
		if diffs > 0 {
			t.Fatalf("%s: %d of %d cards differ", when, diffs, len(ids))
		}
	}
	compare("after restart")

	// The restarted server resumes: the rest of the stream leaves both equal.
	for i := acked; i < len(batches); i++ {
		for _, s := range []struct {
			srv   *server
			token string
		}{{srv, crashing.token}, {ref, reference.token}} {
			if ok, err := s.srv.post(s.token, batches[i]); err != nil || !ok {
				t.Fatalf("batch %d after restart: ok=%v err=%v", i, ok, err)
			}
		}
	}
	compare("after the rest of the stream")
}
