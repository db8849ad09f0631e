package http

import (
	"bytes"
	"testing"
)

// FuzzCutLines cuts a body a chunk of at most chunk lines at a time, as
// handlePushLogs does, and checks that every non-empty input line is either
// handed on or counted, in order, whatever the chunk size.
func FuzzCutLines(f *testing.F) {
	for _, s := range []string{"", "\n", "a\r\nb\n\nc", "\r\r\n", "long line here\nx", "a\rb"} {
		f.Add([]byte(s), 4, uint8(2))
	}
	f.Fuzz(func(t *testing.T, body []byte, max int, chunk uint8) {
		if max < 1 || max > 1<<16 {
			return
		}
		var lines [][]byte
		tooLong := 0
		buf := make([][]byte, 0, int(chunk%8)+1)
		for rest, calls := body, 0; len(rest) > 0; calls++ {
			if calls > len(body) {
				t.Fatalf("%d calls for %d bytes", calls, len(body))
			}
			var got [][]byte
			var n int
			got, rest, n = cutLines(rest, max, buf[:0])
			if len(got) > cap(buf) {
				t.Fatalf("%d lines in a chunk of %d", len(got), cap(buf))
			}
			lines = append(lines, got...)
			tooLong += n
		}
		var want [][]byte
		wantLong := 0
		for _, l := range bytes.Split(body, []byte{'\n'}) {
			l = bytes.TrimSuffix(l, []byte{'\r'})
			switch {
			case len(l) == 0:
			case len(l) > max:
				wantLong++
			default:
				want = append(want, l)
			}
		}
		if tooLong != wantLong || len(lines) != len(want) {
			t.Fatalf("cutLines(%q, %d): %d lines, %d too long; want %d, %d", body, max, len(lines), tooLong, len(want), wantLong)
		}
		for i := range lines {
			if !bytes.Equal(lines[i], want[i]) || bytes.IndexByte(lines[i], '\n') >= 0 {
				t.Fatalf("line %d = %q, want %q", i, lines[i], want[i])
			}
		}
	})
}
