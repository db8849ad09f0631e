package source_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore/logs/source"
)

// follow starts a follower on path with a short poll interval.
func follow(t *testing.T, path string, fromStart bool) (<-chan source.Line, *source.File, func() error) {
	t.Helper()
	h, ch := collect()
	src := &source.File{Path: path, Member: "bank", Follow: true, FromStart: fromStart, Poll: 2 * time.Millisecond}
	stop := run(t, func(ctx context.Context) error { return src.Run(ctx, h) })
	return ch, src, stop
}

func TestFollowRenameRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.log")
	appendFile(t, path, "a1\na2\n")
	ch, src, stop := follow(t, path, true)
	got := texts(t, ch, 2)

	// The writer appends, logrotate renames, the writer (not yet told to
	// reopen) appends to the renamed file and a half line, then reopens a
	// new file at the old path.
	appendFile(t, path, "a3\n")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path+".1", "a4\na5 without newline")
	appendFile(t, path, "b1\nb2\n")
	got = append(got, texts(t, ch, 5)...)
	// A line written after the switch proves nothing was repeated before it.
	appendFile(t, path, "b3\n")
	got = append(got, texts(t, ch, 1)...)

	want := []string{"a1", "a2", "a3", "a4", "a5 without newline", "b1", "b2", "b3"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
	if got, want := src.Stats().Lines, uint64(len(want)); got != want {
		t.Fatalf("Stats.Lines = %d, want %d", got, want)
	}
}

func TestFollowCopyTruncate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	appendFile(t, path, "first long line of the old file\nsecond long line of the old file\n")
	ch, _, _ := follow(t, path, true)
	got := texts(t, ch, 2)

	// copytruncate: copy aside, truncate in place, the writer goes on at 0.
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".1", old, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, "n1\n")
	got = append(got, texts(t, ch, 1)...)
	appendFile(t, path, "n2\n")
	got = append(got, texts(t, ch, 1)...)

	want := []string{"first long line of the old file", "second long line of the old file", "n1", "n2"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestFollowPartialLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	appendFile(t, path, "")
	ch, _, _ := follow(t, path, true)
	// A line written in two pieces is delivered once, whole.
	appendFile(t, path, "hal")
	appendFile(t, path, "f and half\nnext\n")
	if got, want := texts(t, ch, 2), []string{"half and half", "next"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestFollowFileCreatedLater(t *testing.T) {
	path := filepath.Join(t.TempDir(), "later.log")
	ch, _, _ := follow(t, path, true)
	appendFile(t, path, "hello\n")
	if got, want := string(next(t, ch).Text), "hello"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestFollowStartsAtEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.log")
	appendFile(t, path, strings.Repeat("old line\n", 50))
	ch, _, _ := follow(t, path, false)
	// Whether the follower has opened the file yet is unknown, so keep
	// appending until a line arrives: it must be a new one.
	stopWriting := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 0; ; i++ {
			select {
			case <-stopWriting:
				return
			case <-time.After(time.Millisecond):
			}
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			fmt.Fprintf(f, "new %d\n", i)
			f.Close()
		}
	}()
	l := next(t, ch)
	close(stopWriting)
	<-writerDone
	if got := string(l.Text); !strings.HasPrefix(got, "new ") {
		t.Fatalf("first line = %q, want a line appended after the start", got)
	}
}

// resumeFrom follows path from a saved position and returns the lines it
// delivers first.
func resumeFrom(t *testing.T, path string, pos source.Position, n int) []source.Line {
	t.Helper()
	h, ch := collect()
	src := &source.File{Path: path, Follow: true, Resume: &pos, Poll: 2 * time.Millisecond}
	stop := run(t, func(ctx context.Context) error { return src.Run(ctx, h) })
	defer stop()
	var out []source.Line
	for range n {
		out = append(out, next(t, ch))
	}
	return out
}

// TestFollowResume: each line's Pos is the offset just after it; a run
// resumed at a line's Pos continues with the next line, and a position
// that no longer fits the file (rotated or truncated meanwhile) reads the
// file from its start.
func TestFollowResume(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.log")
	content := "one\r\ntwo\nthree\n"
	appendFile(t, path, content)
	ch, _, stop := follow(t, path, true)
	first := []source.Line{next(t, ch), next(t, ch), next(t, ch)}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{5, 9, 15} {
		if got := first[i].Pos.Offset; got != want {
			t.Fatalf("line %q: Pos.Offset %d, want %d", first[i].Text, got, want)
		}
	}
	if first[0].Pos.Ino == 0 {
		t.Fatal("Pos carries no inode")
	}

	appendFile(t, path, "four\n")
	if got := resumeFrom(t, path, first[1].Pos, 2); string(got[0].Text) != "three" || string(got[1].Text) != "four" {
		t.Fatalf("resumed after line two: got %q, %q; want three, four", got[0].Text, got[1].Text)
	}

	// Rotated while stopped: the path names a new file.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, "new1\nnew2\n")
	if got := resumeFrom(t, path, first[0].Pos, 1); string(got[0].Text) != "new1" {
		t.Fatalf("resumed on a rotated path: got %q, want new1", got[0].Text)
	}

	// Truncated while stopped: the same file, shorter than the position.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, "x\n")
	pos := resumeFrom(t, path, source.Position{}, 1)[0].Pos // any line gives the identity
	pos.Offset = 100
	if got := resumeFrom(t, path, pos, 1); string(got[0].Text) != "x" {
		t.Fatalf("resumed on a truncated file: got %q, want x", got[0].Text)
	}
}
