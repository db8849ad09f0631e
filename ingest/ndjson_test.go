package ingest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/occsimore/occsimore"
)

// ndjsonEvent is a line of a test batch and the event it holds.
func ndjsonEvent(id string) (string, occsimore.Event) {
	line := fmt.Sprintf(`{"id":%q,"kind":"card.tx","time":"2018-04-01T00:00:31Z","card":"c1","amount":12.5}`, id)
	return line, occsimore.Event{ID: id, Kind: "card.tx", Time: time.Date(2018, 4, 1, 0, 0, 31, 0, time.UTC), Card: "c1", Amount: 12.5}
}

// readAll reads a stream to its end, returning the events and the errors.
func readAll(t *testing.T, next func(*occsimore.Event) error, line func() int) (events []occsimore.Event, lineErrs []*LineError, lines []int) {
	t.Helper()
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("the reader does not end")
		}
		var ev occsimore.Event
		err := next(&ev)
		if err == io.EOF {
			return events, lineErrs, lines
		}
		lines = append(lines, line())
		if err != nil {
			le, ok := errors.AsType[*LineError](err)
			if !ok {
				t.Fatalf("Next: %v (%T), want a *LineError", err, err)
			}
			lineErrs = append(lineErrs, le)
			continue
		}
		events = append(events, ev)
	}
}

func TestNDJSONBatch(t *testing.T) {
	t.Parallel()
	a, evA := ndjsonEvent("a")
	b, evB := ndjsonEvent("b")
	c, evC := ndjsonEvent("c")
	const max = 200
	in := strings.Join([]string{
		a,
		"",
		`{"kind":"card.tx","time":"2018-04-01T00:00:31Z","amount":-3}`,
		b + "\r",
		`{"kind":`,
		" \t ",
		`{"kind":"card.tx","card":"` + strings.Repeat("x", 100_000) + `"}`,
		`{"kind":"card.tx","time":"2018-04-01T00:00:31Z","amount":"3"}`,
		c, // no newline at the end
	}, "\n")
	d := NewNDJSON(strings.NewReader(in), max)
	events, errs, lines := readAll(t, d.Next, d.Line)

	want := []occsimore.Event{evA, evB, evC}
	if got, want := len(events), len(want); got != want {
		t.Fatalf("got %d events, want %d", got, want)
	}
	for i := range want {
		if diff := diffEvents(&want[i], &events[i]); diff != "" {
			t.Errorf("event %d (-want +got):\n%s", i, diff)
		}
	}
	if got, want := fmt.Sprint(lines), "[1 3 4 5 7 8 9]"; got != want {
		t.Errorf("Line() after each Next = %s, want %s", got, want)
	}
	wantErrs := []struct {
		line        int
		field, code string
		text        string
	}{
		{3, "amount", occsimore.EINVALID, "line 3: field amount: amount -3 is negative"},
		{5, "kind", occsimore.EINVALID, "line 5: field kind: syntax error at byte 8: unexpected end of input"},
		{7, "", occsimore.ETOOLARGE, "line 7: line is longer than 200 bytes"},
		{8, "amount", occsimore.EINVALID, "line 8: field amount: amount: want a number, got string"},
	}
	if got, want := len(errs), len(wantErrs); got != want {
		t.Fatalf("got %d line errors %v, want %d", got, errs, want)
	}
	for i, w := range wantErrs {
		le := errs[i]
		if le.Line != w.line || le.Field != w.field || le.Error() != w.text {
			t.Errorf("error %d = {%d %q %q}, want {%d %q %q}", i, le.Line, le.Field, le.Error(), w.line, w.field, w.text)
		}
		if got := occsimore.ErrorCode(le); got != w.code {
			t.Errorf("error %d: code %q, want %q", i, got, w.code)
		}
		if _, ok := errors.AsType[*occsimore.Error](le); !ok {
			t.Errorf("error %d: no *occsimore.Error in the chain", i)
		}
	}
	if err := d.Next(new(occsimore.Event)); err != io.EOF {
		t.Fatalf("Next after the end = %v, want io.EOF", err)
	}
}

// TestNDJSONLineLimit checks the limit at its boundary, with and without a
// carriage return, and lines longer than the read buffer.
func TestNDJSONLineLimit(t *testing.T) {
	t.Parallel()
	pad := func(n int) string { // a valid event line of exactly n bytes
		line, _ := ndjsonEvent("p")
		return line[:len(line)-1] + strings.Repeat(" ", n-len(line)) + "}"
	}
	tests := []struct {
		name    string
		max     int
		in      string
		tooLong bool
	}{
		{"exactly max", 100, pad(100) + "\n", false},
		{"exactly max with CRLF", 100, pad(100) + "\r\n", false},
		{"exactly max at EOF", 100, pad(100), false},
		{"one over", 100, pad(101) + "\n", true},
		{"one over with CRLF", 100, pad(101) + "\r\n", true},
		{"one over at EOF", 100, pad(101), true},
		{"longer than the buffer", 200_000, pad(150_000) + "\n", false},
		{"much longer than the buffer", 200_000, pad(500_000) + "\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			atEOF := !strings.HasSuffix(in, "\n")
			if !atEOF {
				after, _ := ndjsonEvent("after")
				in += after + "\n"
			}
			d := NewNDJSON(strings.NewReader(in), tt.max)
			var ev occsimore.Event
			err := d.Next(&ev)
			if got := occsimore.ErrorCode(err) == occsimore.ETOOLARGE; got != tt.tooLong {
				t.Fatalf("Next = %v, want too long: %v", err, tt.tooLong)
			}
			if !tt.tooLong && err != nil {
				t.Fatal(err)
			}
			if got, want := d.Line(), 1; got != want {
				t.Fatalf("Line() = %d, want %d", got, want)
			}
			err = d.Next(&ev)
			if atEOF {
				if err != io.EOF {
					t.Fatalf("Next = %v, want io.EOF", err)
				}
				return
			}
			if err != nil { // the stream goes on
				t.Fatal(err)
			}
			if got, want := ev.ID, "after"; got != want {
				t.Fatalf("next event id = %q, want %q", got, want)
			}
			if got, want := d.Line(), 2; got != want {
				t.Fatalf("Line() = %d, want %d", got, want)
			}
		})
	}
}

// TestNDJSONBigEvent reads a valid line that spans several buffer fills.
func TestNDJSONBigEvent(t *testing.T) {
	t.Parallel()
	_, ev := ndjsonEvent("big")
	ev.Attrs = map[string]string{}
	for i := range occsimore.MaxEventAttrs {
		ev.Attrs[fmt.Sprintf("a%d", i)] = strings.Repeat("\x01", 512) // escaped as \u0001
	}
	line := mustJSON(t, ev)
	if len(line) < 64<<10 {
		t.Fatalf("line is only %d bytes", len(line))
	}
	d := NewNDJSON(strings.NewReader(string(line)+"\n"+string(line)), 0)
	for i := range 2 {
		var got occsimore.Event
		if err := d.Next(&got); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if diff := diffEvents(&ev, &got); diff != "" {
			t.Fatalf("event %d (-want +got):\n%s", i, diff)
		}
	}
	if err := d.Next(new(occsimore.Event)); err != io.EOF {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
}

func TestNDJSONReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	a, _ := ndjsonEvent("a")
	d := NewNDJSON(io.MultiReader(strings.NewReader(a+"\n"), iotest.ErrReader(boom)), 0)
	if err := d.Next(new(occsimore.Event)); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the error is sticky
		err := d.Next(new(occsimore.Event))
		if !errors.Is(err, boom) {
			t.Fatalf("Next = %v, want %v", err, boom)
		}
		if _, ok := errors.AsType[*LineError](err); ok {
			t.Fatalf("a read error is a LineError: %v", err)
		}
		if got, want := err.Error(), "read line 2: boom"; got != want {
			t.Fatalf("error = %q, want %q", got, want)
		}
	}
}

func TestNDJSONEmpty(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "\n", "\r\n \n\t\n"} {
		d := NewNDJSON(strings.NewReader(in), 0)
		if err := d.Next(new(occsimore.Event)); err != io.EOF {
			t.Fatalf("Next(%q) = %v, want io.EOF", in, err)
		}
	}
}
