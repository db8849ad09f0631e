package source_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/occsimore/occsimore/logs/source"
)

const sampleLog = "Nov 27 10:15:01 web1 sshd[42]: Failed password for root from 203.0.113.9 port 22 ssh2\r\n" +
	"\n" +
	"plain line without a syslog header\n" +
	"<34>1 2026-11-27T10:15:01.003Z db2 sshd 123 - - Accepted publickey for deploy\n" +
	"last line without newline"

func TestReaderLines(t *testing.T) {
	for name, wrap := range map[string]func(*bytes.Reader) *source.Reader{
		"whole":   func(r *bytes.Reader) *source.Reader { return &source.Reader{R: r} },
		"onebyte": func(r *bytes.Reader) *source.Reader { return &source.Reader{R: iotest.OneByteReader(r)} },
	} {
		t.Run(name, func(t *testing.T) {
			src := wrap(bytes.NewReader([]byte(sampleLog)))
			src.Member = "bank"
			var got []source.Line
			err := src.Run(t.Context(), func(_ context.Context, l source.Line) error {
				l.Text = bytes.Clone(l.Text)
				got = append(got, l)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := []struct{ text, host string }{
				{"Nov 27 10:15:01 web1 sshd[42]: Failed password for root from 203.0.113.9 port 22 ssh2", ""},
				{"plain line without a syslog header", ""},
				{"<34>1 2026-11-27T10:15:01.003Z db2 sshd 123 - - Accepted publickey for deploy", ""},
				{"last line without newline", ""},
			}
			if got, want := len(got), len(want); got != want {
				t.Fatalf("got %d lines, want %d", got, want)
			}
			for i, w := range want {
				if got, want := string(got[i].Text), w.text; got != want {
					t.Errorf("line %d = %q, want %q", i, got, want)
				}
				if got, want := got[i].Host, w.host; got != want {
					t.Errorf("line %d host = %q, want %q", i, got, want)
				}
				if got, want := got[i].Member, "bank"; got != want {
					t.Errorf("line %d member = %q, want %q", i, got, want)
				}
				if got, want := got[i].Origin, "stdin"; got != want {
					t.Errorf("line %d origin = %q, want %q", i, got, want)
				}
				if got[i].Received.IsZero() {
					t.Errorf("line %d has no receive time", i)
				}
			}
			st := src.Stats()
			if got, want := st.Lines, uint64(4); got != want {
				t.Errorf("Stats.Lines = %d, want %d", got, want)
			}
			var bytes uint64
			for _, w := range want {
				bytes += uint64(len(w.text))
			}
			if got, want := st.Bytes, bytes; got != want {
				t.Errorf("Stats.Bytes = %d, want %d", got, want)
			}
		})
	}
}

func TestReaderFixedHost(t *testing.T) {
	h, ch := collect()
	src := &source.Reader{R: strings.NewReader(sampleLog), Host: "collector", Origin: "upload"}
	if err := src.Run(t.Context(), h); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		l := next(t, ch)
		if got, want := l.Host, "collector"; got != want {
			t.Fatalf("host = %q, want %q (line %q)", got, want, l.Text)
		}
		if got, want := l.Origin, "upload"; got != want {
			t.Fatalf("origin = %q, want %q", got, want)
		}
	}
}

func TestReaderOversize(t *testing.T) {
	for _, size := range []int{1, 2, 3, 100} {
		long := strings.Repeat("x", 16+size)
		in := "short one\n" + long + "\nexactly16bytes!!\r\n" + long + "\nafter\n" + long
		for name, r := range map[string]func() *source.Reader{
			"whole":   func() *source.Reader { return &source.Reader{R: strings.NewReader(in)} },
			"onebyte": func() *source.Reader { return &source.Reader{R: iotest.OneByteReader(strings.NewReader(in))} },
		} {
			src := r()
			src.MaxLineSize = 16
			var got []string
			err := src.Run(t.Context(), func(_ context.Context, l source.Line) error {
				got = append(got, string(l.Text))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"short one", "exactly16bytes!!", "after"}; !slices.Equal(got, want) {
				t.Fatalf("%s, %d over: got %q, want %q", name, size, got, want)
			}
			if got, want := src.Stats().Oversize, uint64(3); got != want {
				t.Fatalf("%s, %d over: Stats.Oversize = %d, want %d", name, size, got, want)
			}
		}
	}
}

func TestReaderHandlerError(t *testing.T) {
	stopErr := errors.New("pipeline full")
	src := &source.Reader{R: strings.NewReader("a\nb\nc\nd\n")}
	n := 0
	err := src.Run(t.Context(), func(context.Context, source.Line) error {
		n++
		if n == 2 {
			return stopErr
		}
		return nil
	})
	if !errors.Is(err, stopErr) {
		t.Fatalf("Run error = %v, want %v", err, stopErr)
	}
	if got, want := n, 2; got != want {
		t.Fatalf("handler called %d times, want %d", got, want)
	}
}

func TestReaderCancelledPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	defer pr.Close()
	h, ch := collect()
	src := &source.Reader{R: pr}
	stop := run(t, func(ctx context.Context) error { return src.Run(ctx, h) })
	if _, err := pw.WriteString("one\n"); err != nil {
		t.Fatal(err)
	}
	if got, want := string(next(t, ch).Text), "one"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// The reader is now blocked on an open, silent pipe: cancelling must
	// interrupt it.
	if err := stop(); err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
}

func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFileReplayGzip(t *testing.T) {
	dir := t.TempDir()
	// Two gzip members, as `cat a.gz b.gz` gives.
	data := append(gzipBytes(t, "Nov 27 10:15:01 web1 sshd[42]: one\n"), gzipBytes(t, "two\nthree")...)
	path := filepath.Join(dir, "auth.log.2.gz")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h, ch := collect()
	src := &source.File{Path: path, Member: "pharma"}
	if err := src.Run(t.Context(), h); err != nil {
		t.Fatal(err)
	}
	close(ch)
	var got []string
	for l := range ch {
		got = append(got, string(l.Text))
	}
	if want := []string{"Nov 27 10:15:01 web1 sshd[42]: one", "two", "three"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got, want := src.Stats().Lines, uint64(3); got != want {
		t.Fatalf("Stats.Lines = %d, want %d", got, want)
	}
}

func TestFileReplayPlainAndOrigin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, ch := collect()
	src := &source.File{Path: path, Member: "meteo", Host: "edge1"}
	if err := src.Run(t.Context(), h); err != nil {
		t.Fatal(err)
	}
	l := next(t, ch)
	if got, want := l.Origin, "file:"+path; got != want {
		t.Fatalf("origin = %q, want %q", got, want)
	}
	if got, want := l.Host, "edge1"; got != want {
		t.Fatalf("host = %q, want %q", got, want)
	}
	if got, want := l.Member, "meteo"; got != want {
		t.Fatalf("member = %q, want %q", got, want)
	}
}

func TestFileReplayCorruptGzip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.gz")
	data := gzipBytes(t, strings.Repeat("a line of text\n", 100))
	data = data[:len(data)/2]
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	src := &source.File{Path: path}
	err := src.Run(t.Context(), func(context.Context, source.Line) error { return nil })
	if err == nil {
		t.Fatal("replay of a truncated gzip file succeeded")
	}
	if got, want := src.Stats().Errors, uint64(1); got != want {
		t.Fatalf("Stats.Errors = %d, want %d", got, want)
	}
}

func TestFileReplayMissing(t *testing.T) {
	src := &source.File{Path: filepath.Join(t.TempDir(), "nope.log")}
	err := src.Run(t.Context(), func(context.Context, source.Line) error { return nil })
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Run = %v, want an error wrapping os.ErrNotExist", err)
	}
}

// FuzzReaderLines checks that line splitting never yields a line over the
// limit or holding a newline, and does not depend on how input is cut.
func FuzzReaderLines(f *testing.F) {
	f.Add([]byte(sampleLog), uint8(16))
	f.Add([]byte("a\r\n\r\nbb\nccc"), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, m uint8) {
		max := int(m%64) + 1
		if bytes.HasPrefix(in, []byte{0x1f, 0x8b}) {
			t.Skip("gzip input is covered by compress/gzip")
		}
		read := func(r io.Reader) ([]string, source.Stats) {
			src := &source.Reader{R: r, Host: "h", MaxLineSize: max}
			var out []string
			err := src.Run(t.Context(), func(_ context.Context, l source.Line) error {
				out = append(out, string(l.Text))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return out, src.Stats()
		}
		whole, st1 := read(bytes.NewReader(in))
		split, st2 := read(iotest.OneByteReader(bytes.NewReader(in)))
		if !slices.Equal(whole, split) || st1 != st2 {
			t.Fatalf("whole read gave %q %+v, one-byte reads gave %q %+v", whole, st1, split, st2)
		}
		for _, l := range whole {
			if len(l) > max || len(l) == 0 || strings.ContainsRune(l, '\n') {
				t.Fatalf("bad line %q (max %d)", l, max)
			}
		}
	})
}
