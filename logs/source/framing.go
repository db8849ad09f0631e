package source

import (
	"bytes"
	"errors"
)

// maxLenDigits bounds the MSG-LEN of octet counting; more digits than this
// cannot be a length, so the frame is taken as newline-delimited.
const maxLenDigits = 10

// framer splits a syslog TCP stream into messages (RFC 6587). Each message
// picks its own framing: octet counting ("LEN SP MSG") when it starts with
// digits followed by a space, non-transparent framing (MSG LF) otherwise.
// Messages longer than max are dropped and counted in oversize; the stream
// goes on with the next message, unless cut is positive and the message is
// longer than cut: an endless line, or a frame declaring such a length, then
// ends the stream with errEndless, since skipping it would let one sender
// hold a connection with no message ever delivered. Its split method is a
// bufio.SplitFunc for a Scanner whose buffer holds at least
// max+maxLenDigits+2 bytes.
type framer struct {
	max      int
	cut      int  // a message longer than this ends the stream; 0: never
	oversize int  // messages dropped so far
	skip     int  // octet-counted bytes of an oversize message still to drop
	skipLine bool // dropping an oversize LF-framed message up to its LF
	skipped  int  // bytes of that message dropped so far
}

// errEndless ends a stream whose message runs past framer.cut.
var errEndless = errors.New("message longer than the cut-off: endless line")

// endless reports whether an LF-framed message of n bytes (before its LF,
// a CR included) is over the cut-off.
func (f *framer) endless(n int) bool { return f.cut > 0 && n > f.cut }

func (f *framer) split(data []byte, atEOF bool) (advance int, token []byte, err error) {
	for {
		if f.skip > 0 {
			n := min(f.skip, len(data))
			f.skip -= n
			advance += n
			data = data[n:]
			if f.skip > 0 {
				return advance, nil, nil
			}
		}
		if f.skipLine {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				f.skipped += len(data)
				if f.endless(f.skipped) {
					return 0, nil, errEndless
				}
				return advance + len(data), nil, nil
			}
			if f.endless(f.skipped + i) {
				return 0, nil, errEndless
			}
			f.skipLine = false
			advance += i + 1
			data = data[i+1:]
		}
		// Separators between frames (some octet-counting senders add a LF).
		i := 0
		for i < len(data) && (data[i] == '\n' || data[i] == '\r' || data[i] == 0) {
			i++
		}
		advance += i
		data = data[i:]
		if len(data) == 0 {
			return advance, nil, nil
		}
		if n, hdr, ok := octetCount(data); ok {
			if f.cut > 0 && n > f.cut {
				f.oversize++
				return 0, nil, errEndless
			}
			if n > f.max {
				f.oversize++
				f.skip = n
				advance += hdr
				data = data[hdr:]
				continue
			}
			if len(data) < hdr+n {
				if atEOF {
					return advance + len(data), nil, nil // a truncated last frame
				}
				return advance, nil, nil
			}
			return advance + hdr + n, trimNewline(data[hdr : hdr+n]), nil
		} else if hdr < 0 && !atEOF {
			return advance, nil, nil // only digits so far: need more to decide
		}
		i = bytes.IndexByte(data, '\n')
		if i < 0 && f.endless(len(data)) {
			f.oversize++
			return 0, nil, errEndless
		}
		if i >= 0 && f.endless(i) {
			f.oversize++
			return 0, nil, errEndless
		}
		if i < 0 {
			if len(data) > f.max+1 { // no LF within max+2 bytes: too long
				f.oversize++
				f.skipLine, f.skipped = true, len(data)
				return advance + len(data), nil, nil
			}
			if !atEOF {
				return advance, nil, nil
			}
			i = len(data) // the last message, without its LF
		}
		adv := min(i+1, len(data))
		msg := trimCR(data[:i])
		if len(msg) > f.max {
			f.oversize++
			advance += adv
			data = data[adv:]
			continue
		}
		return advance + adv, msg, nil
	}
}

// octetCount parses the "MSG-LEN SP" header at the start of data. ok is true
// for a complete header, with n the message length and hdr the header
// length. hdr is -1 when data holds only digits, too few to decide.
func octetCount(data []byte) (n, hdr int, ok bool) {
	if len(data) == 0 || data[0] < '1' || data[0] > '9' {
		return 0, 0, false
	}
	for i, c := range data {
		switch {
		case c >= '0' && c <= '9':
			if i >= maxLenDigits {
				return 0, 0, false
			}
			n = n*10 + int(c-'0')
		case c == ' ':
			return n, i + 1, true
		default:
			return 0, 0, false
		}
	}
	return 0, -1, false
}

// trimNewline drops a trailing "\n" or "\r\n" that some senders put inside
// an octet-counted frame.
func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	return trimCR(b)
}
