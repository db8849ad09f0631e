package http_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/occsimore/occsimore"
	occhttp "github.com/occsimore/occsimore/http"
)

// TestContextHandler: a line logged with a request's context carries the
// request's ID and member, also through a derived logger; one logged
// without says neither.
func TestContextHandler(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(occhttp.NewContextHandler(slog.NewTextHandler(&buf, nil)))
	if h := occhttp.NewContextHandler(logger.Handler()); h != logger.Handler() {
		t.Error("NewContextHandler wrapped a ContextHandler again")
	}

	// The server's middleware gives the request its ID.
	got := make(chan context.Context, 1)
	e := newEnv(t, nil, func(s *occhttp.Server) {
		s.Console = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Context() })
	})
	req, _ := http.NewRequest("GET", e.ts.URL+"/probe", nil)
	req.Header.Set("X-Request-ID", "req-abc123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqCtx := <-got
	ctx := occsimore.NewContextWithPrincipal(reqCtx, &occsimore.Principal{Member: &occsimore.Member{ID: "mem_x"}})

	logger.With("svc", "pipeline").ErrorContext(ctx, "store failed", "err", "boom")
	logger.Info("no request")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	for _, want := range []string{"request_id=req-abc123", "member=mem_x", "svc=pipeline", "err=boom"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("line %q lacks %s", lines[0], want)
		}
	}
	if strings.Contains(lines[1], "request_id") || strings.Contains(lines[1], "member") {
		t.Errorf("line without a request context says %q", lines[1])
	}
}
