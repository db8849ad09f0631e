package http

import (
	"bytes"
	"testing"
)

func FuzzSplitLines(f *testing.F) {
	for _, s := range []string{"", "\n", "a\r\nb\n\nc", "\r\r\n", "long line here\nx", "a\rb"} {
		f.Add([]byte(s), 4)
	}
	f.Fuzz(func(t *testing.T, body []byte, max int) {
		if max < 1 || max > 1<<16 {
			return
		}
		lines, tooLong := splitLines(body, max)
		// Every non-empty input line is either handed on or counted, in order.
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
			t.Fatalf("splitLines(%q, %d): %d lines, %d too long; want %d, %d", body, max, len(lines), tooLong, len(want), wantLong)
		}
		for i := range lines {
			if !bytes.Equal(lines[i], want[i]) || bytes.IndexByte(lines[i], '\n') >= 0 {
				t.Fatalf("line %d = %q, want %q", i, lines[i], want[i])
			}
		}
	})
}
