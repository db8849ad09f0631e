package logs

import (
	"fmt"
	"strings"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/logs/parse"
)

// Batcher gathers lines into batches for Ingest. A line's bytes are copied
// into one arena shared by the batch, so that a reader may reuse its buffer
// and a batch costs one allocation, not one per line.
type Batcher struct {
	// Flush takes a full batch; its lines are valid only during the call.
	Flush    func(lines [][]byte) error
	maxLines int
	batch    [][]byte
	arena    []byte
}

// NewBatcher returns a Batcher of at most maxLines lines and arenaBytes
// bytes per batch (a longer line makes a batch of its own).
func NewBatcher(maxLines, arenaBytes int, flush func(lines [][]byte) error) *Batcher {
	return &Batcher{Flush: flush, maxLines: maxLines, batch: make([][]byte, 0, maxLines), arena: make([]byte, 0, arenaBytes)}
}

// Add copies line into the batch, flushing first when the arena is full and
// after when the batch is.
func (b *Batcher) Add(line []byte) error {
	if len(b.arena)+len(line) > cap(b.arena) {
		// Lines in the batch point into the arena: flush them before reuse.
		if err := b.Done(); err != nil {
			return err
		}
		if len(line) > cap(b.arena) {
			b.arena = make([]byte, 0, len(line))
		}
	}
	n := len(b.arena)
	b.arena = append(b.arena, line...)
	b.batch = append(b.batch, b.arena[n:len(b.arena):len(b.arena)])
	if len(b.batch) == b.maxLines {
		return b.Done()
	}
	return nil
}

// Done flushes the lines gathered so far, if any.
func (b *Batcher) Done() error {
	if len(b.batch) == 0 {
		return nil
	}
	err := b.Flush(b.batch)
	b.batch, b.arena = b.batch[:0], b.arena[:0]
	return err
}

// probeLines is how many first lines of a file must include one in a
// supported format.
const probeLines = 20

// FormatProbe stops a replay early when none of a file's first lines is in
// a format logs/parse knows, instead of reading it all to report nothing.
type FormatProbe struct {
	Path   string
	Hint   parse.Hint
	n      int
	parsed bool
	first  string
	reason string
}

// Check looks at the next line; it fails once probeLines lines went by
// without one that parses.
func (p *FormatProbe) Check(line []byte) error {
	if p.parsed || p.n >= probeLines {
		return nil
	}
	p.n++
	_, err := parse.Parse(line, p.Hint)
	if err == nil {
		p.parsed = true
		return nil
	}
	if p.n == 1 {
		p.first, p.reason = truncateLine(string(line), 200), err.Error()
	}
	if p.n == probeLines {
		return p.error()
	}
	return nil
}

// End reports a file shorter than probeLines of which no line parsed.
func (p *FormatProbe) End() error {
	if p.parsed || p.n == 0 {
		return nil
	}
	return p.error()
}

func (p *FormatProbe) error() error {
	return &occsimore.Error{Code: occsimore.EINVALID, Message: fmt.Sprintf(
		"none of the first %d lines of %s is in a supported format; line 1 %q: %s\nsupported formats:\n  - %s",
		p.n, p.Path, p.first, p.reason, strings.Join(parse.Formats(), "\n  - "))}
}

func truncateLine(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
