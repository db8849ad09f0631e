package source

import (
	"bufio"
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// frames splits in with a framer over r and returns the messages and the
// oversize count. cut is the framer's cut-off (0: none).
func frames(r io.Reader, max, cut int) ([]string, int, error) {
	fr := &framer{max: max, cut: cut}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 16), max+maxLenDigits+2)
	sc.Split(fr.split)
	var out []string
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out, fr.oversize, sc.Err()
}

func TestFramer(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		want     []string
		oversize int
		max      int // 10 when 0
	}{
		{"lf", "<13>a\n<13>b\r\n", []string{"<13>a", "<13>b"}, 0, 0},
		{"lf last without newline", "<13>a\n<13>b", []string{"<13>a", "<13>b"}, 0, 0},
		{"octet", "5 <13>a6 <13>bc", []string{"<13>a", "<13>bc"}, 0, 0},
		{"octet with newline inside and between", "6 <13>a\n\n5 <13>b\n", []string{"<13>a", "<13>b"}, 0, 0},
		{"octet message holding a newline", "9 <13>a\nb c", []string{"<13>a\nb c"}, 0, 0},
		{"timestamp is not a length", "2026-11-27T10:00:00Z h p: m\n", []string{"2026-11-27T10:00:00Z h p: m"}, 0, 40},
		{"digits then text", "12ab\n", []string{"12ab"}, 0, 0},
		{"too many digits", "12345678901 x\n", []string{"12345678901 x"}, 0, 40},
		{"octet at max", "10 0123456789ok\n", []string{"0123456789", "ok"}, 0, 0},
		{"octet oversize", "11 0123456789Xok\n", []string{"ok"}, 1, 0},
		{"lf at max", "0123456789\nok\n", []string{"0123456789", "ok"}, 0, 0},
		{"lf at max crlf", "0123456789\r\nok\n", []string{"0123456789", "ok"}, 0, 0},
		{"lf oversize", "0123456789X\nok\n", []string{"ok"}, 1, 0},
		{"lf oversize long", strings.Repeat("y", 50) + "\nok\n", []string{"ok"}, 1, 0},
		{"lf oversize at eof", strings.Repeat("y", 11), nil, 1, 0},
		{"octet oversize huge", "99999 " + strings.Repeat("z", 40), nil, 1, 0},
		{"octet truncated at eof", "8 <13>a", nil, 0, 0},
		{"only separators", "\n\r\n\x00", nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, r := range map[string]io.Reader{
				"whole":   strings.NewReader(tc.in),
				"onebyte": iotest.OneByteReader(strings.NewReader(tc.in)),
			} {
				max := tc.max
				if max == 0 {
					max = 10
				}
				got, oversize, err := frames(r, max, 0)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !slices.Equal(got, tc.want) {
					t.Fatalf("%s: got %q, want %q", name, got, tc.want)
				}
				if got, want := oversize, tc.oversize; got != want {
					t.Fatalf("%s: oversize = %d, want %d", name, got, want)
				}
			}
		})
	}
}

// TestFramerCut checks that a message past the cut-off ends the stream after
// the messages before it, however the stream is cut into reads, while an
// oversize message within it is skipped as before.
func TestFramerCut(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		want   []string
		cutOff bool
	}{
		{"oversize within the cut-off", "ok\n" + strings.Repeat("y", 20) + "\nnext\n", []string{"ok", "next"}, false},
		{"lf line at the cut-off", strings.Repeat("y", 20) + "\nnext", []string{"next"}, false},
		{"lf line past the cut-off", "ok\n" + strings.Repeat("y", 21) + "\nnext\n", []string{"ok"}, true},
		{"endless line", "ok\n" + strings.Repeat("y", 500), []string{"ok"}, true},
		{"octet within the cut-off", "20 " + strings.Repeat("z", 20) + "next\n", []string{"next"}, false},
		{"octet past the cut-off", "ok\n21 " + strings.Repeat("z", 21) + "next\n", []string{"ok"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, r := range map[string]io.Reader{
				"whole":   strings.NewReader(tc.in),
				"onebyte": iotest.OneByteReader(strings.NewReader(tc.in)),
			} {
				got, _, err := frames(r, 10, 20)
				if !slices.Equal(got, tc.want) {
					t.Fatalf("%s: got %q, want %q", name, got, tc.want)
				}
				if (err == errEndless) != tc.cutOff || (err != nil && err != errEndless) {
					t.Fatalf("%s: err = %v, want endless %v", name, err, tc.cutOff)
				}
			}
		})
	}
}

// FuzzFramer checks that framing fails only on a message past the cut-off,
// never yields a message over the limit, and does not depend on how the
// stream is cut into reads.
func FuzzFramer(f *testing.F) {
	for _, s := range []string{
		"<13>a\n<13>b\r\n",
		"5 <13>a6 <13>bc",
		"11 0123456789Xok\n",
		"99999 zzz",
		"2026-11-27T10:00:00Z h p: m\n",
		"12345678901 x\n\n\x00",
	} {
		f.Add([]byte(s), uint8(10), false)
	}
	f.Add([]byte("ok\n"+strings.Repeat("y", 40)), uint8(10), true)
	f.Fuzz(func(t *testing.T, in []byte, m uint8, withCut bool) {
		max := int(m%64) + 1
		cut := 0
		if withCut {
			cut = 2 * max
		}
		whole, n1, err1 := frames(bytes.NewReader(in), max, cut)
		if err1 != nil && (cut == 0 || err1 != errEndless) {
			t.Fatalf("whole: %v", err1)
		}
		split, n2, err2 := frames(iotest.OneByteReader(bytes.NewReader(in)), max, cut)
		if err1 != err2 {
			t.Fatalf("whole read ended with %v, one-byte reads with %v", err1, err2)
		}
		if !slices.Equal(whole, split) || n1 != n2 {
			t.Fatalf("whole read gave %q (%d oversize), one-byte reads gave %q (%d)", whole, n1, split, n2)
		}
		for _, msg := range whole {
			if len(msg) > max {
				t.Fatalf("message of %d bytes over the limit %d: %q", len(msg), max, msg)
			}
		}
	})
}
