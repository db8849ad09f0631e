package http

import (
	"bytes"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
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

// TestLogBudgetWaits checks that a push over the budget waits for one in
// flight to end and then goes ahead, that one still over it when its wait
// ends is refused, and that the refusals tell a member's share from the
// server's.
func TestLogBudgetWaits(t *testing.T) {
	var b logBudget
	ctx := t.Context()
	if err := b.take(ctx, "a", 600, 1000, 1500, -1); err != nil {
		t.Fatal(err)
	}
	if err := b.take(ctx, "a", 600, 1000, 1500, -1); occsimore.ErrorCode(err) != occsimore.ERATELIMIT {
		t.Fatalf("over the member's share: %v, want ERATELIMIT", err)
	}
	if err := b.take(ctx, "b", 800, 1000, 1500, -1); err != nil {
		t.Fatal(err)
	}
	if err := b.take(ctx, "c", 200, 1000, 1500, -1); occsimore.ErrorCode(err) != occsimore.EUNAVAILABLE {
		t.Fatalf("over the server's budget: %v, want EUNAVAILABLE", err)
	}
	// A waiter goes ahead once a push ends.
	done := make(chan error, 1)
	go func() { done <- b.take(ctx, "a", 600, 1000, 1500, time.Hour) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) { // a failure guard, not a timing assertion
				t.Fatalf("%s: not within 20s", what)
			}
		}
	}
	waiting := func() int { b.mu.Lock(); defer b.mu.Unlock(); return b.waiting }
	waitFor("the push waiting", func() bool { return waiting() == 1 })
	b.release("b", 800) // not enough for a's share: a still waits
	select {
	case err := <-done:
		t.Fatalf("took %v before a's own push ended", err)
	default:
	}
	waitFor("the push waiting again", func() bool { return waiting() == 1 })
	b.release("a", 600)
	if err := <-done; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	// A waiter whose wait ends is refused, and leaves no trace.
	if err := b.take(ctx, "a", 600, 1000, 1500, time.Millisecond); occsimore.ErrorCode(err) != occsimore.ERATELIMIT {
		t.Fatalf("after its wait: %v, want ERATELIMIT", err)
	}
	b.release("a", 600)
	if b.total != 0 || len(b.byMember) != 0 || waiting() != 0 {
		t.Fatalf("budget not back to empty: total %d, members %v, waiting %d", b.total, b.byMember, b.waiting)
	}
}
