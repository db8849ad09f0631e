package taxii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// Cursors issues and checks next cursors. A cursor is the position where a
// page ended, signed with HMAC-SHA-256 over the position, the scope (member
// and collection) and the filter: a client can neither forge a position nor
// carry a cursor to another query or another member.
type Cursors struct {
	key []byte
}

// NewCursors returns cursors under key, which should be at least 32 random
// bytes. Servers behind one address share the key; a new key invalidates
// the cursors issued under the old one (clients then restart from
// added_after).
func NewCursors(key []byte) *Cursors {
	return &Cursors{key: append([]byte(nil), key...)}
}

const (
	cursorVersion = 1
	macLen        = 16
	// maxCursorLen bounds the text Decode looks at.
	maxCursorLen = 128
)

// ErrCursor is the error of a next value that is not a valid cursor for the
// query.
var ErrCursor = errors.New("next is not a cursor issued for this query")

// Encode returns the cursor for position p of a query with filter f in scope.
func (c *Cursors) Encode(scope string, f Filter, p Position) string {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+macLen)
	b = append(b, cursorVersion)
	b = binary.AppendVarint(b, p.DateAdded.UnixMicro())
	b = binary.AppendVarint(b, p.Seq)
	b = append(b, c.mac(scope, f, b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode checks a cursor and returns its position.
func (c *Cursors) Decode(scope string, f Filter, s string) (Position, error) {
	if len(s) > maxCursorLen {
		return Position{}, ErrCursor
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) < 1+macLen || b[0] != cursorVersion {
		return Position{}, ErrCursor
	}
	body, sum := b[:len(b)-macLen], b[len(b)-macLen:]
	if !hmac.Equal(sum, c.mac(scope, f, body)) {
		return Position{}, ErrCursor
	}
	rest := body[1:]
	added, n := binary.Varint(rest)
	if n <= 0 {
		return Position{}, ErrCursor
	}
	rest = rest[n:]
	seq, n := binary.Varint(rest)
	if n <= 0 || n != len(rest) {
		return Position{}, ErrCursor
	}
	return Position{DateAdded: time.UnixMicro(added).UTC(), Seq: seq}, nil
}

func (c *Cursors) mac(scope string, f Filter, body []byte) []byte {
	h := hmac.New(sha256.New, c.key)
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(f.canonical()))
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum(nil)[:macLen]
}
