package http_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/sqlite"
)

// TestReadyzFailsOnceShutdownBegins holds a request in flight, so that the
// graceful shutdown waits for it, and asks the server's handler for
// /readyz: ready before the shutdown, not ready (503) as soon as it begins,
// while the request still runs.
func TestReadyzFailsOnceShutdownBegins(t *testing.T) {
	db, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	started, release, shuttingDown := make(chan struct{}), make(chan struct{}), make(chan struct{})
	srv := occhttp.NewServer(occhttp.DefaultConfig(), slog.New(slog.DiscardHandler))
	srv.Members, srv.Tokens, srv.Users = db, db, db
	srv.Ready = db.Ping
	srv.Console = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})
	occhttp.SetOnShutdown(srv, func() { close(shuttingDown) })
	readyz := func() int {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	slow := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err == nil {
			resp.Body.Close()
		}
		slow <- err
	}()
	<-started
	if got := readyz(); got != http.StatusOK {
		t.Fatalf("readyz before shutdown: %d, want 200", got)
	}
	cancel()
	<-shuttingDown
	if got := readyz(); got != http.StatusServiceUnavailable {
		t.Errorf("readyz once shutdown began: %d, want 503", got)
	}
	close(release)
	if err := <-slow; err != nil {
		t.Errorf("in-flight request: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}
