package source

import (
	"bytes"
	"io"
)

// lineReader splits a byte stream into newline-terminated lines in one
// reused buffer. Unlike bufio.Reader it keeps an unterminated tail across
// io.EOF, which a follower needs while a writer is halfway through a line,
// and it drops (and reports) lines longer than max instead of failing.
type lineReader struct {
	buf        []byte
	start, end int
	max        int
	skipping   bool // discarding the rest of an oversize line
}

func newLineReader(max int) *lineReader {
	// Room for a line of max bytes and its "\r\n".
	return &lineReader{buf: make([]byte, max+2), max: max}
}

// next returns the next complete line without its "\n" or "\r\n". ok is
// false when no complete line is buffered; oversize reports that a line was
// dropped since the last call.
func (lr *lineReader) next() (line []byte, oversize, ok bool) {
	for {
		data := lr.buf[lr.start:lr.end]
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if lr.skipping {
				lr.start, lr.end = 0, 0
			} else if len(data) == len(lr.buf) {
				lr.skipping, oversize = true, true
				lr.start, lr.end = 0, 0
			}
			return nil, oversize, false
		}
		lr.start += i + 1
		if lr.skipping {
			lr.skipping = false
			continue
		}
		line = trimCR(data[:i])
		if len(line) > lr.max {
			oversize = true
			continue
		}
		return line, oversize, true
	}
}

// fill reads once from r into the free end of the buffer.
func (lr *lineReader) fill(r io.Reader) (int, error) {
	if lr.start > 0 {
		lr.end = copy(lr.buf, lr.buf[lr.start:lr.end])
		lr.start = 0
	}
	n, err := r.Read(lr.buf[lr.end:])
	lr.end += n
	return n, err
}

// tail returns and consumes the unterminated rest of the buffer, for the
// last line of a stream that does not end in a newline.
func (lr *lineReader) tail() (line []byte, oversize bool) {
	data := lr.buf[lr.start:lr.end]
	skipping := lr.skipping
	lr.start, lr.end, lr.skipping = 0, 0, false
	switch {
	case skipping:
		return nil, false
	case len(data) > lr.max:
		return nil, true
	}
	return trimCR(data), false
}

// reset forgets everything buffered, after a truncation.
// buffered is how many bytes were read but not yet returned as lines.
func (lr *lineReader) buffered() int { return lr.end - lr.start }

func (lr *lineReader) reset() {
	lr.start, lr.end, lr.skipping = 0, 0, false
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
