// Package source delivers raw log lines from the edges of the system: log
// files (replayed once, or followed across rotation), a syslog server on UDP
// and TCP, and any io.Reader such as standard input.
//
// Every source hands each line to a Handler, tagged with the member it
// belongs to and the host that wrote it. Sources reuse their buffers:
// Line.Text is valid only until the Handler returns, so a Handler that keeps
// a line must copy it. This keeps replay free of per-line allocations.
package source

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/occsimore/occsimore/logs/parse"
)

// Line is one raw log line and where it came from.
type Line struct {
	Member   string // slug of the member the line belongs to
	Host     string // host that wrote the line
	Origin   string // source, e.g. "file:/var/log/auth.log", "syslog-udp", "syslog-tcp", "stdin"
	Text     []byte // without the trailing newline; valid only during the Handler call
	Received time.Time
	Pos      Position // followed files only: where the line ends in its file
}

// Position is a place in a followed file: the file's identity (device and
// inode, so that a rotated file is not mistaken for its successor) and a
// byte offset. Saved after the last line handled, it lets File.Resume
// continue there after a restart.
type Position struct {
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	Offset int64  `json:"offset"`
}

// Handler receives lines. A non-nil error stops the source, which returns it
// wrapped. The syslog server calls its Handler from several goroutines at
// once; the file and reader sources call it from one.
type Handler func(ctx context.Context, l Line) error

// Stats counts what a source has seen.
type Stats struct {
	Lines    uint64 // lines handed to the Handler
	Bytes    uint64 // bytes of those lines
	Oversize uint64 // lines or messages rejected for exceeding the maximum size
	Errors   uint64 // read, decode and connection errors
	Refused  uint64 // TCP connections refused because a limit was reached (syslog only)
	Cut      uint64 // TCP connections cut for an endless message (syslog only)
}

// DefaultMaxLineSize bounds a line or syslog message when none is configured.
const DefaultMaxLineSize = 64 << 10

// counters are the live, concurrency-safe form of Stats.
type counters struct {
	lines, bytes, oversize, errors, refused, cut atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Lines:    c.lines.Load(),
		Bytes:    c.bytes.Load(),
		Oversize: c.oversize.Load(),
		Errors:   c.errors.Load(),
		Refused:  c.refused.Load(),
		Cut:      c.cut.Load(),
	}
}

func (c *counters) line(n int) {
	c.lines.Add(1)
	c.bytes.Add(uint64(n))
}

// syslogHost returns the HOSTNAME of a syslog line, or "" when the line has
// no syslog header. The year is irrelevant to the host, so any will do.
func syslogHost(text []byte) string {
	sl, err := parse.ParseSyslog(text, 2000, time.UTC)
	if err != nil {
		return ""
	}
	return sl.Host
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func maxOrDefault(n int) int {
	if n <= 0 {
		return DefaultMaxLineSize
	}
	return n
}
