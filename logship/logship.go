// Package logship is the agent side of log detection for hosts without a
// syslog relay: it follows log files across rotation and ships their lines
// to an occsimore server's POST /v1/logs, in batches, with retries.
package logship

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/occsimore/occsimore/logsource"
)

// Limits of what waits in memory and of one request. The server takes up
// to 32 MiB per request; a request stays well under it.
const (
	MaxBuffer  = 64 << 20
	maxRequest = 8 << 20
	sendAt     = 1 << 20 // send before the tick once this much is waiting
	stopGrace  = 5 * time.Second
)

// ErrRefused is returned when the server refuses the token: retrying cannot
// help.
var ErrRefused = errors.New("logship: the server refused the token")

// Shipper follows files and ships their lines.
type Shipper struct {
	URL       string        // server base URL, e.g. https://occsimore.lab
	Token     string        // bearer token with the ingest role
	Host      string        // host of lines whose format names none (access logs)
	Every     time.Duration // send at least this often
	FromStart bool          // send what the files already hold, not only new lines
	Client    *http.Client  // nil: a client with a 30 s timeout
	Logger    *slog.Logger  // nil: discard
}

// Run follows files until ctx is done, then sends what is waiting and
// returns. A failed request is retried with backoff, its lines kept in
// memory up to MaxBuffer (beyond that, new lines are dropped and counted in
// the log). A request the server rejects as bad (4xx other than 408 and
// 429) is dropped and logged; a refused token stops Run with ErrRefused.
// Delivery is at least once: a request whose answer is lost (a timeout, a
// dropped connection) is sent again. A stop lets the request in flight and
// the final flush finish, for up to 5 s.
func (s *Shipper) Run(ctx context.Context, files []string) error {
	logger := s.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	every := s.Every
	if every <= 0 {
		every = time.Second
	}
	target := strings.TrimSuffix(s.URL, "/") + "/v1/logs"
	if s.Host != "" {
		target += "?host=" + url.QueryEscape(s.Host)
	}

	// Requests outlive ctx by a grace period: a stop in the middle of a
	// request would otherwise abandon lines the server already took, and
	// the final flush would send them twice.
	postCtx, postCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer postCancel()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(stopGrace, postCancel) })()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lines := make(chan []byte, 4096)
	errs := make(chan error, len(files))
	for _, path := range files {
		f := &logsource.File{Path: path, Host: s.Host, Follow: true, FromStart: s.FromStart, Logger: logger}
		go func() {
			errs <- f.Run(ctx, func(ctx context.Context, l logsource.Line) error {
				select {
				case lines <- bytes.Clone(l.Text):
				case <-ctx.Done():
				}
				return nil
			})
		}()
	}

	var buf bytes.Buffer
	dropped := 0
	add := func(l []byte) {
		if buf.Len()+len(l)+1 > MaxBuffer {
			dropped++
			if dropped == 1 || dropped%10000 == 0 {
				logger.Warn("ship buffer full; dropping lines", "bytes", buf.Len(), "dropped", dropped)
			}
			return
		}
		buf.Write(l)
		buf.WriteByte('\n')
	}
	send := func(ctx context.Context) error { return s.send(ctx, client, target, &buf, logger) }

	tick := time.NewTicker(every)
	defer tick.Stop()
	var backoff time.Duration
	var nextTry time.Time
	for {
		select {
		case l := <-lines:
			add(l)
			if buf.Len() < sendAt {
				continue
			}
		case <-tick.C:
		case err := <-errs:
			if err != nil {
				return err
			}
			continue
		case <-ctx.Done():
			// Last chance for what is buffered and what the followers had
			// already handed over.
			for drained := false; !drained; {
				select {
				case l := <-lines:
					add(l)
				default:
					drained = true
				}
			}
			if err := send(postCtx); err != nil {
				return fmt.Errorf("logship: %d bytes not sent: %w", buf.Len(), err)
			}
			return nil
		}
		if buf.Len() == 0 || time.Now().Before(nextTry) {
			continue
		}
		if err := send(postCtx); err != nil {
			if errors.Is(err, ErrRefused) {
				return err
			}
			backoff = min(max(2*backoff, time.Second), time.Minute)
			nextTry = time.Now().Add(backoff)
			logger.Warn("ship logs", "err", err, "retry_in", backoff, "waiting_bytes", buf.Len())
			tick.Reset(backoff)
			continue
		}
		if backoff > 0 {
			backoff = 0
			tick.Reset(every)
		}
	}
}

// send posts buf in requests of at most maxRequest bytes, cut at line
// ends, removing what the server took (or rejected as bad) from buf.
func (s *Shipper) send(ctx context.Context, client *http.Client, target string, buf *bytes.Buffer, logger *slog.Logger) error {
	for buf.Len() > 0 {
		body := buf.Bytes()
		if len(body) > maxRequest {
			cut := bytes.LastIndexByte(body[:maxRequest], '\n')
			if cut < 0 {
				cut = maxRequest - 1 // one huge line: the server counts it as too long
			}
			body = body[:cut+1]
		}
		err := s.post(ctx, client, target, body)
		var bad *badRequest
		switch {
		case errors.As(err, &bad):
			logger.Error("server rejected a batch of log lines; dropped", "bytes", len(body), "err", err)
		case err != nil:
			return err
		}
		buf.Next(len(body))
	}
	return nil
}

// badRequest is a 4xx answer that retrying would only repeat.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func (s *Shipper) post(ctx context.Context, client *http.Client, target string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("logship: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("logship: POST %s: %w", target, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch code := resp.StatusCode; {
	case code/100 == 2:
		return nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%w: %s: %s", ErrRefused, resp.Status, bytes.TrimSpace(msg))
	case code/100 == 4 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		return &badRequest{msg: fmt.Sprintf("POST %s: %s: %s", target, resp.Status, bytes.TrimSpace(msg))}
	default:
		return fmt.Errorf("logship: POST %s: %s: %s", target, resp.Status, bytes.TrimSpace(msg))
	}
}
