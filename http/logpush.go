package http

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
	"unicode"

	"github.com/occsimore/occsimore"
)

// LogIngester takes raw log lines of one member and host: it parses them,
// feeds the scenarios and stores what they detect. The log detector
// implements it.
type LogIngester interface {
	// IngestLines handles lines (without their line endings) in order. The
	// slices are only valid during the call.
	IngestLines(ctx context.Context, memberID, host string, lines [][]byte) (LogIngestResult, error)
	// LogStats returns what the member's lines did since the server started,
	// with samples of lines no parser took.
	LogStats(ctx context.Context, memberID string) (occsimore.LogStats, error)
}

// LogIngestResult counts what became of the lines of one call.
type LogIngestResult struct {
	Accepted int `json:"accepted"` // a parser took the line
	Unparsed int `json:"unparsed"` // no parser took it; counted and sampled, never fatal
}

// Limits of POST /v1/logs.
const (
	maxLogBodyBytes = 32 << 20
	maxLogLineBytes = 64 << 10
	maxHostLen      = 253
	// logChunk is how many lines one IngestLines call gets.
	logChunk = 4096
)

// LogPushLimits bound the bodies of POST /v1/logs held in memory at once. A
// push reserves its Content-Length (the largest body it may send when the
// length is unknown) before reading. One that does not fit waits up to Wait
// for pushes in flight to end; then it is answered, with nothing read, 429
// when its member is over its share and 503 when the server is, both with
// Retry-After. Sixteen concurrent pushes of 31 MB once took a server from
// 189 MB to 1.3 GB.
type LogPushLimits struct {
	MaxBytes          int64         // all members together; DefaultLogPushMaxBytes when 0
	MaxBytesPerMember int64         // one member; DefaultLogPushMaxBytesPerMember when 0
	Wait              time.Duration // DefaultLogPushWait when 0; negative: refuse at once
}

// Defaults of LogPushLimits: two full bodies per member, so that one
// member's pushes can keep two cores busy, and four on the server.
const (
	DefaultLogPushMaxBytes          = 4 * maxLogBodyBytes
	DefaultLogPushMaxBytesPerMember = 2 * maxLogBodyBytes
	DefaultLogPushWait              = 10 * time.Second
)

// logBudget counts the bytes of log pushes in flight. Its zero value is
// ready to use.
type logBudget struct {
	mu       sync.Mutex
	total    int64
	byMember map[string]int64
	changed  chan struct{} // closed by the next release, for waiters
	waiting  int           // pushes waiting for budget, for tests
}

// retryLogPush is the Retry-After of a push refused for lack of budget: a
// push in flight usually ends within seconds.
const retryLogPush = "2"

// take reserves n bytes for member, waiting up to wait for releases. It
// refuses with ERATELIMIT when the member would still go over memberMax and
// EUNAVAILABLE when the server would go over serverMax.
func (b *logBudget) take(ctx context.Context, member string, n, memberMax, serverMax int64, wait time.Duration) error {
	var timeout <-chan time.Time
	for {
		b.mu.Lock()
		err := b.tryLocked(member, n, memberMax, serverMax)
		if err == nil || wait <= 0 {
			b.mu.Unlock()
			return err
		}
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		changed := b.changed
		b.waiting++
		b.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		var done bool
		select {
		case <-changed:
		case <-timeout:
			done = true
		case <-ctx.Done():
			done = true
		}
		b.mu.Lock()
		b.waiting--
		b.mu.Unlock()
		if done {
			return err
		}
	}
}

func (b *logBudget) tryLocked(member string, n, memberMax, serverMax int64) error {
	if b.byMember[member]+n > memberMax {
		return occsimore.Errorf(occsimore.ERATELIMIT, "log pushes of this member in flight would exceed %d bytes; retry when one ends", memberMax)
	}
	if b.total+n > serverMax {
		return occsimore.Errorf(occsimore.EUNAVAILABLE, "log pushes in flight would exceed %d bytes on this server; retry shortly", serverMax)
	}
	if b.byMember == nil {
		b.byMember = make(map[string]int64)
	}
	b.byMember[member] += n
	b.total += n
	return nil
}

func (b *logBudget) release(member string, n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total -= n
	if b.byMember[member] -= n; b.byMember[member] <= 0 {
		delete(b.byMember, member)
	}
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
}

// limits returns the limits with defaults and the largest body a push may
// send, which the smallest of them bounds.
func (l LogPushLimits) limits() (serverMax, memberMax, maxBody int64, wait time.Duration) {
	serverMax, memberMax, wait = l.MaxBytes, l.MaxBytesPerMember, l.Wait
	if serverMax <= 0 {
		serverMax = DefaultLogPushMaxBytes
	}
	if memberMax <= 0 {
		memberMax = DefaultLogPushMaxBytesPerMember
	}
	if wait == 0 {
		wait = DefaultLogPushWait
	}
	return serverMax, memberMax, min(int64(maxLogBodyBytes), memberMax, serverMax), wait
}

type logPushResponse struct {
	Lines int `json:"lines"` // non-empty lines received
	LogIngestResult
	TooLong int `json:"too_long"` // lines over the limit, not handed on
}

// handlePushLogs takes raw log lines, one per line of the body. The body is
// read as lines whatever its Content-Type (text/plain is the right one), as
// shippers and `curl --data-binary` send various. Empty lines are skipped; a
// line over 64 KiB is counted and dropped.
func (s *Server) handlePushLogs(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	var host string
	err := eachParam(r.URL.Query(), "host", func(key, v string) error {
		if key != "host" {
			return errUnknownParam
		}
		host = v
		return validHost(v)
	})
	if err != nil {
		return err
	}
	serverMax, memberMax, maxBody, wait := s.LogPush.limits()
	if r.ContentLength > maxBody {
		return occsimore.Errorf(occsimore.ETOOLARGE, "request body must be at most %d bytes", maxBody)
	}
	reserve := maxBody
	if r.ContentLength >= 0 {
		reserve = r.ContentLength
	}
	if err := s.logBudget.take(r.Context(), p.Member.ID, reserve, memberMax, serverMax, wait); err != nil {
		w.Header().Set("Retry-After", retryLogPush)
		return err
	}
	defer s.logBudget.release(p.Member.ID, reserve)
	body, err := readLogBody(w, r, reserve, maxBody)
	if err != nil {
		return err
	}
	resp := logPushResponse{}
	lines := make([][]byte, 0, logChunk)
	for len(body) > 0 {
		var tooLong int
		lines, body, tooLong = cutLines(body, maxLogLineBytes, lines[:0])
		resp.Lines += len(lines) + tooLong
		resp.TooLong += tooLong
		if len(lines) == 0 {
			continue
		}
		res, err := s.Logs.IngestLines(r.Context(), p.Member.ID, host, lines)
		if err != nil {
			return fmt.Errorf("ingest log lines: %w", err)
		}
		resp.Accepted += res.Accepted
		resp.Unparsed += res.Unparsed
	}
	s.writeJSON(w, r, http.StatusOK, resp)
	return nil
}

// readLogBody reads the whole body, at most maxBody bytes, into a buffer of
// the size reserved for it, so that reading never holds more than the
// budget counts. It reads whole before ingesting, so that a body over the
// limit is refused without any of it ingested.
func readLogBody(w http.ResponseWriter, r *http.Request, reserve, maxBody int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, maxBody)
	var buf bytes.Buffer
	if r.ContentLength >= 0 {
		// ReadFrom wants bytes.MinRead bytes of room before each read:
		// with them, a body of the announced length never regrows it.
		buf.Grow(int(reserve) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(rd); err != nil {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, occsimore.Errorf(occsimore.ETOOLARGE, "request body must be at most %d bytes", mbe.Limit)
		}
		return nil, fmt.Errorf("read log lines: %w", err)
	}
	return buf.Bytes(), nil
}

// validHost checks a ?host= value: printable, without spaces, bounded.
func validHost(v string) error {
	if v == "" || len(v) > maxHostLen {
		return occsimore.FieldErrorf("host", "host is 1 to %d characters", maxHostLen)
	}
	for _, c := range v {
		if !unicode.IsPrint(c) || unicode.IsSpace(c) {
			return occsimore.FieldErrorf("host", "host %q has a space or control character", v)
		}
	}
	return nil
}

// cutLines appends the lines at the start of body to lines, up to its
// capacity, and returns them with the rest of body. It splits at \n,
// dropping a \r before it and empty lines; lines longer than max are left
// out and counted in tooLong. The lines share body's memory: cutting a
// chunk at a time keeps the index of a large body small.
func cutLines(body []byte, max int, lines [][]byte) (out [][]byte, rest []byte, tooLong int) {
	for len(body) > 0 && len(lines) < cap(lines) {
		line, after, _ := bytes.Cut(body, []byte{'\n'})
		body = after
		line = bytes.TrimSuffix(line, []byte{'\r'})
		switch {
		case len(line) == 0:
		case len(line) > max:
			tooLong++
		default:
			lines = append(lines, line)
		}
	}
	return lines, body, tooLong
}

// handleLogStats reports what the member's log lines did: counts by parser,
// unparsed lines with samples, and each scenario's activity.
func (s *Server) handleLogStats(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	if err := eachParam(r.URL.Query(), "", func(string, string) error { return errUnknownParam }); err != nil {
		return err
	}
	st, err := s.Logs.LogStats(r.Context(), p.Member.ID)
	if err != nil {
		return fmt.Errorf("log stats: %w", err)
	}
	s.writeJSON(w, r, http.StatusOK, st)
	return nil
}
