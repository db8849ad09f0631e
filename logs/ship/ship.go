// Package ship is the agent side of log detection for hosts without a
// syslog relay: it follows log files across rotation and ships their lines
// to an occsimore server's POST /v1/logs, in batches, with retries.
package ship

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

	"github.com/occsimore/occsimore/logs/source"
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
var ErrRefused = errors.New("ship: the server refused the token")

// Shipper follows files and ships their lines.
type Shipper struct {
	URL       string        // server base URL, e.g. https://occsimore.lab
	Token     string        // bearer token with the ingest role
	Host      string        // host of lines whose format names none (access logs)
	Every     time.Duration // send at least this often
	FromStart bool          // send what the files already hold, not only new lines
	Client    *http.Client  // nil: a client with a 30 s timeout
	Logger    *slog.Logger  // nil: discard

	// StateFile, if set, keeps how far each file's lines were accepted by
	// the server, so that a restart resumes there (FromStart then only
	// applies to files the state does not know).
	StateFile string
}

// shipped is a line waiting to be sent, with where it ends in its file.
type shipped struct {
	file int
	text []byte
	pos  source.Position
}

// mark says that once the first end bytes ever buffered are sent, file is
// sent up to pos.
type mark struct {
	end  int64
	file int
	pos  source.Position
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
	st, err := loadState(s.StateFile)
	if err != nil {
		return err
	}
	lines := make(chan shipped, 4096)
	errs := s.follow(ctx, files, st, lines, logger)
	out := &outbox{st: st, files: files, stateFile: s.StateFile, logger: logger}
	send := func(ctx context.Context) error {
		before := out.buf.Len()
		err := s.send(ctx, client, target, &out.buf, logger)
		out.sent(before - out.buf.Len())
		return err
	}

	tick := time.NewTicker(every)
	defer tick.Stop()
	var backoff time.Duration
	var nextTry time.Time
	for {
		select {
		case l := <-lines:
			out.add(l)
			if out.buf.Len() < sendAt {
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
					out.add(l)
				default:
					drained = true
				}
			}
			if err := send(postCtx); err != nil {
				return fmt.Errorf("ship: %d bytes not sent: %w", out.buf.Len(), err)
			}
			return nil
		}
		if out.buf.Len() == 0 || time.Now().Before(nextTry) {
			continue
		}
		if err := send(postCtx); err != nil {
			if errors.Is(err, ErrRefused) {
				return err
			}
			backoff = min(max(2*backoff, time.Second), time.Minute)
			nextTry = time.Now().Add(backoff)
			logger.Warn("ship logs", "err", err, "retry_seconds", backoff.Seconds(), "waiting_bytes", out.buf.Len())
			tick.Reset(backoff)
			continue
		}
		if backoff > 0 {
			backoff = 0
			tick.Reset(every)
		}
	}
}

// follow starts a follower per file, from the position the state file
// kept for it, handing copies of its lines to lines. Each follower's end
// is sent on the returned channel.
func (s *Shipper) follow(ctx context.Context, files []string, st *state, lines chan<- shipped, logger *slog.Logger) <-chan error {
	errs := make(chan error, len(files))
	for i, path := range files {
		f := &source.File{Path: path, Host: s.Host, Follow: true, FromStart: s.FromStart, Logger: logger}
		if pos, ok := st.Files[stateKey(path)]; ok {
			f.Resume = &pos
		}
		go func() {
			errs <- f.Run(ctx, func(ctx context.Context, l source.Line) error {
				select {
				case lines <- shipped{file: i, text: bytes.Clone(l.Text), pos: l.Pos}:
				case <-ctx.Done():
				}
				return nil
			})
		}()
	}
	return errs
}

// outbox holds the lines waiting to be sent, and where in its file each
// ends, so that the state file moves only past lines the server took.
type outbox struct {
	buf       bytes.Buffer
	added     int64  // bytes ever buffered
	sentBytes int64  // bytes ever sent (or dropped as bad)
	marks     []mark // in end order; consecutive lines of one file share one
	dropped   int
	st        *state
	files     []string
	stateFile string
	logger    *slog.Logger
}

// add buffers l, or drops it when the buffer is full.
func (o *outbox) add(l shipped) {
	if o.buf.Len()+len(l.text)+1 > MaxBuffer {
		o.dropped++
		if o.dropped == 1 || o.dropped%10000 == 0 {
			o.logger.Warn("ship buffer full; dropping lines", "bytes", o.buf.Len(), "dropped", o.dropped)
		}
		return
	}
	o.buf.Write(l.text)
	o.buf.WriteByte('\n')
	o.added += int64(len(l.text)) + 1
	if o.stateFile == "" {
		return
	}
	if n := len(o.marks); n > 0 && o.marks[n-1].file == l.file {
		o.marks[n-1].end, o.marks[n-1].pos = o.added, l.pos
	} else {
		o.marks = append(o.marks, mark{end: o.added, file: l.file, pos: l.pos})
	}
}

// sent records that n more bytes left the buffer and saves the position of
// every file whose lines are all gone.
func (o *outbox) sent(n int) {
	o.sentBytes += int64(n)
	done := 0
	for done < len(o.marks) && o.marks[done].end <= o.sentBytes {
		o.st.Files[stateKey(o.files[o.marks[done].file])] = o.marks[done].pos
		done++
	}
	if done > 0 {
		o.marks = append(o.marks[:0], o.marks[done:]...)
		if err := o.st.save(o.stateFile); err != nil {
			o.logger.Warn("save ship state", "err", err)
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
		return fmt.Errorf("ship: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("ship: POST %s: %w", target, err)
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
		return fmt.Errorf("ship: POST %s: %s: %s", target, resp.Status, bytes.TrimSpace(msg))
	}
}
