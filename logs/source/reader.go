package source

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Reader delivers the lines of an io.Reader, typically standard input, until
// io.EOF. Gzip input is decompressed transparently.
type Reader struct {
	R           io.Reader
	Origin      string // Line.Origin; "stdin" when empty
	Member      string
	Host        string // tags every line; see File.Host
	MaxLineSize int    // longer lines are dropped and counted; DefaultMaxLineSize when 0
	Logger      *slog.Logger

	stats counters
}

// Stats returns the counters so far. It is safe to call while Run runs.
func (r *Reader) Stats() Stats { return r.stats.snapshot() }

// Run reads lines until io.EOF, ctx is done or h fails. When R has a
// SetReadDeadline method (os.Stdin on a pipe, net.Conn), cancelling ctx also
// interrupts a blocked read; otherwise cancellation is noticed at the next
// read that returns.
func (r *Reader) Run(ctx context.Context, h Handler) error {
	origin := r.Origin
	if origin == "" {
		origin = "stdin"
	}
	if d, ok := r.R.(interface{ SetReadDeadline(time.Time) error }); ok {
		stop := context.AfterFunc(ctx, func() { d.SetReadDeadline(time.Now()) })
		defer stop()
	}
	tag := tagger{member: r.Member, host: r.Host, origin: origin}
	err := replay(ctx, r.R, maxOrDefault(r.MaxLineSize), tag, &r.stats, h)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", origin, err)
	}
	return nil
}

// tagger fills in the Line fields other than Text.
type tagger struct {
	member, host, origin string
}

func (t tagger) line(text []byte) Line {
	return Line{Member: t.member, Host: t.host, Origin: t.origin, Text: text, Received: time.Now()}
}

var gzipMagic = []byte{0x1f, 0x8b}

// replay delivers every line of r, decompressing it first if it starts with
// the gzip magic number.
func replay(ctx context.Context, r io.Reader, max int, tag tagger, st *counters, h Handler) error {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && string(magic) == string(gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			st.errors.Add(1)
			return fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	lr := newLineReader(max)
	done := ctx.Done()
	eof := false
	for n := 0; ; n++ {
		// A non-blocking check every few lines keeps cancellation cheap.
		if n%256 == 0 {
			select {
			case <-done:
				return ctx.Err()
			default:
			}
		}
		line, oversize, ok := lr.next()
		if oversize {
			st.oversize.Add(1)
		}
		if ok {
			if err := deliver(ctx, line, tag, st, h); err != nil {
				return err
			}
			continue
		}
		if eof {
			line, oversize := lr.tail()
			if oversize {
				st.oversize.Add(1)
			}
			return deliver(ctx, line, tag, st, h)
		}
		// A reader may return data together with io.EOF: split it first.
		_, err := lr.fill(r)
		switch {
		case errors.Is(err, io.EOF):
			eof = true
		case err != nil:
			st.errors.Add(1)
			return err
		}
	}
}

// deliver hands one line to h, skipping empty lines.
func deliver(ctx context.Context, text []byte, tag tagger, st *counters, h Handler) error {
	if len(text) == 0 {
		return nil
	}
	st.line(len(text))
	if err := h(ctx, tag.line(text)); err != nil {
		return fmt.Errorf("handle line: %w", err)
	}
	return nil
}
