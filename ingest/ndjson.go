package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/occsimore/occsimore"
)

// DefaultMaxLineBytes bounds an NDJSON line when NewNDJSON is given no limit.
// A valid event is far smaller even with every attribute escaped.
const DefaultMaxLineBytes = 1 << 20

// LineError is a bad line (or CSV record) of a batch. The reader that
// returned it goes on with the next line, so one bad line never stops a
// stream.
type LineError struct {
	Line   int    // from 1
	Field  string // event field the error is about, if any
	Column string // CSV column of Field, if any
	Err    error  // an *occsimore.Error
}

func (e *LineError) Error() string {
	msg := e.Err.Error()
	if oe, ok := errors.AsType[*occsimore.Error](e.Err); ok {
		msg = oe.Message
	}
	switch {
	case e.Field != "" && e.Column != "":
		return fmt.Sprintf("line %d: field %s (column %s): %s", e.Line, e.Field, e.Column, msg)
	case e.Field != "":
		return fmt.Sprintf("line %d: field %s: %s", e.Line, e.Field, msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, msg)
}

func (e *LineError) Unwrap() error { return e.Err }

// NDJSONReader reads events from newline-delimited JSON, one event object a
// line (see DecodeJSON).
type NDJSONReader struct {
	r    *bufio.Reader
	max  int
	line int
	long []byte // a line split across buffer fills
	err  error  // sticky end of input or read error
	dec  jsonDecoder
}

// NewNDJSON returns a reader of the events in r. Lines longer than
// maxLineBytes (DefaultMaxLineBytes if it is 0 or less), not counting the
// line ending, are rejected without being buffered whole.
func NewNDJSON(r io.Reader, maxLineBytes int) *NDJSONReader {
	if maxLineBytes <= 0 {
		maxLineBytes = DefaultMaxLineBytes
	}
	return &NDJSONReader{r: bufio.NewReaderSize(r, min(maxLineBytes+2, 64<<10)), max: maxLineBytes}
}

// Line returns the number, from 1, of the line the last call to Next read.
func (d *NDJSONReader) Line() int { return d.line }

// Next decodes the next event into ev (see DecodeJSON for how ev is reused),
// skipping blank lines. It returns io.EOF at the end of input and a
// *LineError for a bad line; the following call reads the line after it.
// Any other error comes from the underlying reader and ends the stream.
func (d *NDJSONReader) Next(ev *occsimore.Event) error {
	for {
		line, err := d.readLine()
		if err != nil {
			return err
		}
		if blank(line) {
			continue
		}
		if err := d.dec.decode(line, ev); err != nil {
			return &LineError{Line: d.line, Field: occsimore.ErrorField(err), Err: err}
		}
		return nil
	}
}

// readLine returns the next line without its line ending. The bytes are
// valid until the next call.
func (d *NDJSONReader) readLine() ([]byte, error) {
	if d.err != nil {
		return nil, d.err
	}
	d.long = d.long[:0]
	n := 0 // bytes of the line read so far
	tooLong := false
	for {
		chunk, err := d.r.ReadSlice('\n')
		n += len(chunk)
		switch {
		case err == bufio.ErrBufferFull:
			// A '\r' may end the chunk, so the line is surely too long only
			// past max+1 bytes; the exact check is done at the end.
			if n > d.max+1 {
				tooLong = true
			}
			if !tooLong {
				d.long = append(d.long, chunk...)
			}
			continue
		case err == io.EOF:
			if n == 0 {
				d.err = io.EOF
				return nil, io.EOF
			}
			d.err = io.EOF // return this last line now, io.EOF next time
		case err != nil:
			d.err = fmt.Errorf("read line %d: %w", d.line+1, err)
			return nil, d.err
		}
		d.line++
		line := chunk
		if len(d.long) > 0 {
			d.long = append(d.long, chunk...)
			line = d.long
		}
		line = trimEOL(line)
		if tooLong || len(line) > d.max {
			return nil, &LineError{Line: d.line, Err: occsimore.Errorf(occsimore.ETOOLARGE, "line is longer than %d bytes", d.max)}
		}
		return line, nil
	}
}

// trimEOL drops a final "\n" and a "\r" before it or at the end of input,
// as bufio.ScanLines does.
func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// blank reports whether b holds only JSON whitespace.
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}
