package ingest

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/journal"
)

// seedEvents adds the wire form of a few random events to f.
func seedEvents(f *testing.F, add func(b []byte)) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 8 {
		add(mustJSON(f, randomEvent(r)))
	}
}

// FuzzDecodeJSON checks DecodeJSON against encoding/json: whatever it
// accepts, encoding/json accepts as the same event, and its errors are
// EINVALID *occsimore.Errors.
func FuzzDecodeJSON(f *testing.F) {
	seedEvents(f, func(b []byte) { f.Add(b) })
	for _, s := range []string{
		`{"kind":"card.tx","time":"2018-04-01T00:00:31Z","attrs":{"a":"\ud83d\ude00"},"entities":[{"role":"x","id":"y"}]}`,
		`{"kind":"card.tx","time":"2018-04-01T00:00:31Z","lat":1e2,"lon":-0.5e-3,"success":null}`,
		`{"kind":"card.tx","kind":"x"}`, `[]`, `{"amount":01}`, "{\"card\":\"\xff\"}",
		`{"kind":"card.tx","time":"2018-04-01T00:00:31Z","card":"c","amount":1e160}`,
		`{"kind":"card.tx","time":"2018-04-01T00:00:31Z","card":"c","amount":1e15,"lat":-90,"lon":180.0}`,
		`{"kind":"card.tx","time":"2018-04-01T00:00:31Z","attrs":{"n":"-1e101","m":"nan","h":"0x1p2000"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got, ref occsimore.Event
		err := DecodeJSON(b, &got)
		if err != nil {
			if oe, ok := errors.AsType[*occsimore.Error](err); !ok || oe.Code != occsimore.EINVALID {
				t.Fatalf("error %v (%T) is not an EINVALID *occsimore.Error", err, err)
			}
			return
		}
		checkBounded(t, &got)
		if err := stdlibDecode(b, &ref); err != nil {
			t.Fatalf("DecodeJSON accepts %q, encoding/json rejects it: %v", b, err)
		}
		if d := diffEvents(&ref, &got); d != "" {
			t.Fatalf("%q: differs from encoding/json (-std +got):\n%s", b, d)
		}
		// The wire form of an accepted event decodes to it again.
		var again occsimore.Event
		if err := DecodeJSON(mustJSON(t, got), &again); err != nil {
			t.Fatalf("re-decoding %q: %v", b, err)
		}
		if d := diffEvents(&got, &again); d != "" {
			t.Fatalf("%q: re-decoded event differs (-first +second):\n%s", b, d)
		}
	})
}

// checkBounded fails t unless every number of an accepted event is within
// the documented bounds, which keep the profiles it feeds finite.
func checkBounded(t *testing.T, ev *occsimore.Event) {
	t.Helper()
	if !(ev.Amount >= 0 && ev.Amount <= occsimore.MaxAmount) {
		t.Fatalf("accepted amount %g", ev.Amount)
	}
	if !(ev.Lat >= -90 && ev.Lat <= 90 && ev.Lon >= -180 && ev.Lon <= 180) {
		t.Fatalf("accepted location %g, %g", ev.Lat, ev.Lon)
	}
	for k, v := range ev.Attrs {
		f, err := strconv.ParseFloat(v, 64)
		if errors.Is(err, strconv.ErrRange) && math.IsInf(f, 0) {
			t.Fatalf("accepted attribute %s = %q, which overflows", k, v)
		}
		if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) > occsimore.MaxAttrNumber {
			t.Fatalf("accepted attribute %s = %q", k, v)
		}
	}
}

// FuzzNDJSON checks that the reader returns, for every line, exactly what
// DecodeJSON says about it, in order, and always ends.
func FuzzNDJSON(f *testing.F) {
	seedEvents(f, func(b []byte) { f.Add(append(b, "\n\n{\"kind\":\r\n"...), 64) })
	f.Add([]byte("{}\n\n \n{\"kind\":\"card.tx\",\"time\":\"2018-04-01T00:00:31Z\"}"), 0)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		max = 1 + int(uint(max)%512)
		lines := strings.Split(string(in), "\n")
		if lines[len(lines)-1] == "" { // a final newline does not start a line
			lines = lines[:len(lines)-1]
		}
		d := NewNDJSON(bytes.NewReader(in), max)
		want := 1 // the next line expected
		for calls := 0; ; calls++ {
			if calls > len(lines) {
				t.Fatalf("%d calls for %d lines", calls, len(lines))
			}
			var ev occsimore.Event
			err := d.Next(&ev)
			if err == io.EOF {
				break
			}
			for want < d.Line() { // the lines skipped must be blank
				if !blank([]byte(lines[want-1])) {
					t.Fatalf("line %d %q was skipped", want, lines[want-1])
				}
				want++
			}
			if d.Line() != want {
				t.Fatalf("Line() = %d, want %d", d.Line(), want)
			}
			line := strings.TrimSuffix(lines[want-1], "\r")
			want++
			var ref occsimore.Event
			refErr := DecodeJSON([]byte(line), &ref)
			if len(line) > max {
				if occsimore.ErrorCode(err) != occsimore.ETOOLARGE {
					t.Fatalf("line %d of %d bytes (max %d): Next = %v, want ETOOLARGE", d.Line(), len(line), max, err)
				}
				continue
			}
			if err != nil {
				le, ok := errors.AsType[*LineError](err)
				if !ok || le.Line != d.Line() {
					t.Fatalf("Next = %v, want a LineError for line %d", err, d.Line())
				}
				if refErr == nil || le.Err.Error() != refErr.Error() {
					t.Fatalf("line %d %q: Next = %v, DecodeJSON = %v", d.Line(), line, err, refErr)
				}
				continue
			}
			if refErr != nil {
				t.Fatalf("line %d %q: Next accepts it, DecodeJSON = %v", d.Line(), line, refErr)
			}
			if diff := diffEvents(&ref, &ev); diff != "" {
				t.Fatalf("line %d: (-DecodeJSON +Next):\n%s", d.Line(), diff)
			}
		}
		for ; want <= len(lines); want++ {
			if !blank([]byte(lines[want-1])) {
				t.Fatalf("line %d %q was never read", want, lines[want-1])
			}
		}
	})
}

// FuzzCSV checks that the CSV reader ends, reports bad records as
// LineErrors and returns only valid events.
func FuzzCSV(f *testing.F) {
	sample, err := os.ReadFile(filepath.Join("testdata", "handbook_sample.csv"))
	if err != nil {
		f.Fatal(err)
	}
	_, body, _ := strings.Cut(string(sample), "\n")
	f.Add([]byte(body), false)
	f.Add([]byte("z,2018-04-01T10:00:00Z,c1,1,45,6,true,3215,\"a\nb\",d,1\n,,,,,,,,,,\nx,\"y\n"), true)
	f.Add([]byte("1,2018-04-01 00:00:31,1,2,1e160,31,0,0,0\n2,2018-04-01 00:00:32,1,2,1e400,32,0,0,0\n3,2018-04-01 00:00:33,1,2,NaN,33,0,0,0\n"), false)
	f.Fuzz(func(t *testing.T, body []byte, custom bool) {
		m, header := HandbookMapping(), "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_TIME_SECONDS,TX_TIME_DAYS,TX_FRAUD,TX_FRAUD_SCENARIO\n"
		if custom {
			m, header = testMapping(), testHeader
		}
		c, err := NewCSV(strings.NewReader(header+string(body)), m)
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.Count(body, []byte("\n")) + 1
		for calls := 0; ; calls++ {
			if calls > lines {
				t.Fatalf("%d calls for %d lines", calls, lines)
			}
			var ev occsimore.Event
			err := c.Next(&ev)
			if err == io.EOF {
				break
			}
			if c.Line() < 2 || c.Line() > lines+1 {
				t.Fatalf("Line() = %d, outside [2, %d]", c.Line(), lines+1)
			}
			if err != nil {
				le, ok := errors.AsType[*LineError](err)
				if !ok || le.Line < 2 || le.Line > lines+1 {
					t.Fatalf("Next = %v, want a LineError within the input", err)
				}
				if occsimore.ErrorCode(err) != occsimore.EINVALID {
					t.Fatalf("Next = %v, want EINVALID", err)
				}
				continue
			}
			if err := ev.Validate(); err != nil {
				t.Fatalf("line %d: invalid event returned: %v", c.Line(), err)
			}
			checkBounded(t, &ev)
			var got occsimore.Event
			if _, err := journal.DecodeEvent(journal.AppendEvent(nil, &ev), &got); err != nil {
				t.Fatalf("line %d: binary round trip: %v", c.Line(), err)
			}
			if d := diffEvents(&ev, &got); d != "" {
				t.Fatalf("line %d: binary round trip (-want +got):\n%s", c.Line(), d)
			}
		}
	})
}
