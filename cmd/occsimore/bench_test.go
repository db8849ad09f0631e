package main

import (
	"encoding/json"
	"testing"
)

// TestBenchHTTP runs the open-loop load generator against a real server in
// another process and checks what it reports.
func TestBenchHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	dir := t.TempDir()
	c := &cli{t: t, env: []string{"OCCSIMORE_STORE_DATA_DIR=" + dir, "OCCSIMORE_SERVER_ADDR=127.0.0.1:0"}}
	c.mustRun("", "member", "add", "--slug", "bank", "--name", "Bank", "--sector", "banking")
	token := c.token("bank", "admin")
	srv := startServer(t, c.env)

	out := c.mustRun("", "bench", "http", "--url", srv.url, "--token", token, "--rate", "200", "--warmup", "500ms", "--duration", "1s", "-o", "json")
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("bench http -o json: %v\n%s", err, out)
	}
	if got, want := rep.Events, 200; got != want {
		t.Errorf("events = %d, want %d", got, want)
	}
	if rep.Errors != 0 {
		t.Errorf("%d requests failed", rep.Errors)
	}
	if !(0 < rep.P50Micros && rep.P50Micros <= rep.P99Micros && rep.P99Micros <= rep.P999Micros && rep.P999Micros <= rep.MaxMicros) {
		t.Errorf("quantiles out of order: %+v", rep)
	}
	// Latency from the actual send leaves out the generator's lateness, so
	// it can never exceed the latency from the scheduled start.
	if !(0 < rep.FromSendP50Micros && rep.FromSendP50Micros <= rep.P50Micros && rep.FromSendP99Micros <= rep.P99Micros) {
		t.Errorf("latency from send (p50 %.1f, p99 %.1f) against from schedule (p50 %.1f, p99 %.1f)",
			rep.FromSendP50Micros, rep.FromSendP99Micros, rep.P50Micros, rep.P99Micros)
	}

	// Without a valid token every request fails, and the report says so.
	out = c.mustRun("", "bench", "http", "--url", srv.url, "--token", "occ_tok_bad.bad", "--rate", "50", "--duration", "200ms", "-o", "json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Errors, rep.Events; got != want || got == 0 {
		t.Errorf("bad token: %d errors of %d requests, want all", got, want)
	}
}

// TestBenchScore runs the in-process benchmark one event at a time and in
// batches, over the same simulated transactions.
func TestBenchScore(t *testing.T) {
	c := newCLI(t)
	var reps []benchReport
	for _, batch := range []string{"0", "16"} {
		out := c.mustRun("", "bench", "score", "--customers", "200", "--days", "5", "--batch", batch, "-o", "json")
		var rep benchReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("bench score --batch %s: %v\n%s", batch, err, out)
		}
		if rep.Events == 0 || rep.Errors != 0 || rep.Features < 20 || rep.PerSecond <= 0 {
			t.Errorf("bench score --batch %s: %+v", batch, rep)
		}
		if len(rep.ReferenceMBs) != 2 || rep.ReferenceMBs[0] <= 0 || rep.ReferenceMBs[1] <= 0 {
			t.Errorf("bench score --batch %s: machine reference %v, want two speeds", batch, rep.ReferenceMBs)
		}
		reps = append(reps, rep)
	}
	if reps[0].Events != reps[1].Events {
		t.Errorf("batches scored %d events, one at a time %d", reps[1].Events, reps[0].Events)
	}
	if code, _, errOut := c.run("", "bench", "http", "--token", "x", "--warmup", "-1s"); code != exitUsage {
		t.Errorf("--warmup -1s: exit %d, want %d (usage); stderr %s", code, exitUsage, errOut)
	}
	if code, _, errOut := c.run("", "bench", "score", "--batch", "-1"); code != exitUsage {
		t.Errorf("--batch -1: exit %d, want %d (usage); stderr %s", code, exitUsage, errOut)
	}
}
