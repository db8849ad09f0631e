package logs

import (
	"fmt"
	"strings"
	"testing"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/logs/parse"
)

// TestBatcher: batches hold at most their lines and bytes, a long line
// makes one of its own, and every line reaches Flush intact although the
// reader reuses its buffer.
func TestBatcher(t *testing.T) {
	t.Parallel()
	var got []string
	var sizes []int
	b := NewBatcher(3, 16, func(lines [][]byte) error {
		sizes = append(sizes, len(lines))
		for _, l := range lines {
			got = append(got, string(l))
		}
		return nil
	})
	buf := make([]byte, 0, 64)
	want := []string{"aaaa", "bbbb", "cccc", "dd", "a line longer than the arena", "e", "ffffffff", "gggggggg", "h"}
	for _, l := range want {
		buf = append(buf[:0], l...) // the reader's buffer, reused
		if err := b.Add(buf); err != nil {
			t.Fatal(err)
		}
		clear(buf)
	}
	if err := b.Done(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("flushed %q, want %q", got, want)
	}
	if fmt.Sprint(sizes) != "[3 1 1 3 1]" { // the arena keeps the long line's size
		t.Errorf("batch sizes %v, want [3 1 1 3 1]", sizes)
	}
	if err := b.Done(); err != nil || len(sizes) != 5 {
		t.Errorf("an empty Done flushed: %v, %v", sizes, err)
	}
}

// TestFormatProbe fails a file whose first lines are in no known format,
// and passes one with a known line among them.
func TestFormatProbe(t *testing.T) {
	t.Parallel()
	hint := parse.Hint{Years: &parse.Years{Year: 2026}}
	junk := []byte("not a log line at all")
	p := &FormatProbe{Path: "x.log", Hint: hint}
	var err error
	for range probeLines {
		if err = p.Check(junk); err != nil {
			break
		}
	}
	if occsimore.ErrorCode(err) != occsimore.EINVALID || !strings.Contains(err.Error(), "x.log") {
		t.Fatalf("after %d junk lines: %v, want EINVALID naming the file", probeLines, err)
	}
	short := &FormatProbe{Path: "y.log", Hint: hint}
	short.Check(junk)
	if err := short.End(); err == nil {
		t.Error("a short file of junk passed")
	}
	good := &FormatProbe{Path: "z.log", Hint: hint}
	good.Check(junk)
	good.Check([]byte("Nov 27 04:43:53 web-1 sshd[812]: Invalid user admin from 203.0.113.5 port 52344"))
	for range 2 * probeLines {
		if err := good.Check(junk); err != nil {
			t.Fatalf("a file with a known line failed: %v", err)
		}
	}
	if err := good.End(); err != nil {
		t.Fatal(err)
	}
	if (&FormatProbe{}).End() != nil {
		t.Error("an empty file failed")
	}
}
