package journal

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/internal/eventtest"
)

var (
	sameTime    = eventtest.SameTime
	randomEvent = eventtest.RandomEvent
)

// FuzzDecodeBinary checks that corrupt input is an error, never a panic or
// an over-read, and that decode, encode, decode is stable.
func FuzzDecodeBinary(f *testing.F) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 8 {
		ev := randomEvent(r)
		f.Add(AppendEvent(nil, &ev))
	}
	f.Add([]byte{EventVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev occsimore.Event
		n, err := DecodeEvent(b, &ev)
		if err != nil {
			if !errors.Is(err, ErrCorruptEvent) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error %v is neither ErrCorruptEvent nor io.ErrUnexpectedEOF", err)
			}
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("n = %d for %d bytes", n, len(b))
		}
		enc := AppendEvent(nil, &ev)
		var again occsimore.Event
		m, err := DecodeEvent(enc, &again)
		if err != nil || m != len(enc) {
			t.Fatalf("re-decoding: n = %d of %d, err = %v", m, len(enc), err)
		}
		if d := cmp.Diff(ev, again, sameTime, cmpopts.EquateEmpty(), cmpopts.EquateNaNs()); d != "" {
			t.Fatalf("decode, encode, decode differs (-first +second):\n%s", d)
		}
		if enc2 := AppendEvent(nil, &again); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%x\n%x", enc, enc2)
		}
	})
}

// diffEvents is the difference between events, treating nil and empty
// slices and maps alike (decoders reuse storage).
func diffEvents(want, got *occsimore.Event) string {
	return cmp.Diff(want, got, sameTime, cmpopts.EquateEmpty())
}
