package http_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/sqlite"
)

// TestShutdownDelayKeepsServing cancels a server with a shutdown delay: a
// new connection is still served, and /readyz answers 503, until the delay
// has passed; then Serve returns and the port refuses connections.
func TestShutdownDelayKeepsServing(t *testing.T) {
	t.Parallel()
	db, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := occhttp.DefaultConfig()
	// Long enough for the checks below on a loaded machine; the test
	// waits for it once.
	cfg.ShutdownDelay = 8 * time.Second
	srv := occhttp.NewServer(cfg, slog.New(slog.DiscardHandler))
	srv.Members, srv.Tokens, srv.Users = db, db, db
	srv.Ready = db.Ping
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	// A fresh connection per request: a kept-alive one would not show that
	// the listener still accepts.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	status := func(path string) (int, error) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := status("/readyz"); err != nil || code != http.StatusOK {
		t.Fatalf("readyz before shutdown: %d, %v", code, err)
	}
	cancelled := time.Now()
	cancel()
	for {
		code, err := status("/readyz")
		if err != nil {
			t.Fatalf("readyz during the delay: %v", err)
		}
		if code == http.StatusServiceUnavailable {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, err := status("/healthz"); err != nil || code != http.StatusOK {
		t.Errorf("a new connection during the delay: %d, %v; want 200", code, err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(cancelled); waited < cfg.ShutdownDelay {
		t.Errorf("Serve returned %v after the cancel, before the %v delay", waited, cfg.ShutdownDelay)
	}
	if _, err := status("/healthz"); err == nil {
		t.Error("the port still accepts after Serve returned")
	}
}
