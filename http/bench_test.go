package http_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
	occhttp "github.com/occsimore/occsimore/http"
)

// BenchmarkPostEvent runs POST /v1/events through the server's handler,
// with the real pipeline (engine, fsynced journal, SQLite alerts), and
// reports what the handler allocates per request; net/http's connection
// handling comes on top. The garbage per request sets how often the
// collector runs under load.
func BenchmarkPostEvent(b *testing.B) {
	// The token and member caches, as `occsimore serve` wires them.
	e := newEnv(b, nil, func(s *occhttp.Server) {
		s.Tokens = auth.NewTokenCache(s.Tokens, 5*time.Second, s.Now)
		s.Members = auth.NewMemberCache(s.Members)
	})
	m := e.member("bank", false)
	_, bearer := e.token(m, occsimore.RoleIngest, 0)
	h := e.srv.Handler()
	var body []byte
	rd := bytes.NewReader(nil)
	req, err := http.NewRequestWithContext(b.Context(), "POST", "/v1/events", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = "127.0.0.1:4242"
	req.Body = io.NopCloser(rd)
	w := &discard{h: http.Header{}}
	post := func(i int) {
		body = append(body[:0], `{"kind":"card.tx","time":"2026-11-27T09:00:00Z","card":"c`...)
		body = strconv.AppendInt(body, int64(i%5000), 10)
		body = append(body, `","terminal":"t`...)
		body = strconv.AppendInt(body, int64(i%800), 10)
		body = append(body, `","amount":`...)
		body = strconv.AppendInt(body, int64(10+i%90), 10)
		body = append(body, `,"country":"FR"}`...)
		rd.Reset(body)
		w.status = 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	for i := range 5000 { // every card has a profile
		post(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		post(i)
	}
}

// discard is a ResponseWriter that keeps only the status; its header map is
// reused, as net/http's own is per connection.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header { return d.h }
func (d *discard) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}
func (d *discard) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	return len(p), nil
}
