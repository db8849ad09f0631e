package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore"
)

func TestBinaryRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	var stream []byte
	var events []occsimore.Event
	for i := range 5000 {
		want := randomEvent(r)
		b := AppendEvent(nil, &want)
		var got occsimore.Event
		n, err := DecodeEvent(b, &got)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if n != len(b) {
			t.Fatalf("event %d: DecodeEvent used %d of %d bytes", i, n, len(b))
		}
		// Exact: nil stays nil, and the zone offset (hence the local hour) is kept.
		if d := cmp.Diff(want, got, sameTime); d != "" {
			t.Fatalf("event %d (-want +got):\n%s", i, d)
		}
		if again := AppendEvent(nil, &got); !bytes.Equal(again, b) {
			t.Fatalf("event %d: encoding is not stable:\n%x\n%x", i, b, again)
		}
		stream = AppendEvent(stream, &want)
		events = append(events, want)
	}
	// A stream of records decoded into one reused event.
	var ev occsimore.Event
	for i, want := range events {
		n, err := DecodeEvent(stream, &ev)
		if err != nil {
			t.Fatalf("stream event %d: %v", i, err)
		}
		if d := diffEvents(&want, &ev); d != "" {
			t.Fatalf("stream event %d (-want +got):\n%s", i, d)
		}
		stream = stream[n:]
	}
	if len(stream) != 0 {
		t.Fatalf("%d bytes left over", len(stream))
	}
}

func TestBinaryTimes(t *testing.T) {
	t.Parallel()
	local := time.FixedZone("CEST", 7200)
	for _, tm := range []time.Time{
		{},
		time.Unix(0, 0).UTC(),
		time.Date(2018, 4, 1, 23, 59, 59, 999999999, local),
		time.Date(2099, 12, 31, 23, 0, 0, 1, time.FixedZone("", -(3*3600+30*60))),
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), // before 1970: not valid, still exact
	} {
		ev := occsimore.Event{Kind: "card.tx", Time: tm}
		var got occsimore.Event
		if _, err := DecodeEvent(AppendEvent(nil, &ev), &got); err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(tm, got.Time, sameTime) || got.Time.Hour() != tm.Hour() || got.Time.IsZero() != tm.IsZero() {
			t.Errorf("time %v decodes as %v", tm, got.Time)
		}
	}
}

// TestBinaryAttrsOrder checks that equal events encode equally whatever
// their maps' history.
func TestBinaryAttrsOrder(t *testing.T) {
	t.Parallel()
	a := occsimore.Event{Kind: "k", Attrs: map[string]string{}}
	b := occsimore.Event{Kind: "k", Attrs: map[string]string{}}
	for i := range 20 {
		a.Attrs[string(rune('a'+i))] = "v"
		b.Attrs[string(rune('t'-i))] = "v"
	}
	if ea, eb := AppendEvent(nil, &a), AppendEvent(nil, &b); !bytes.Equal(ea, eb) {
		t.Fatalf("equal events encode differently:\n%x\n%x", ea, eb)
	}
}

func TestAppendBinaryAllocs(t *testing.T) {
	ev := randomEvent(rand.New(rand.NewPCG(5, 6)))
	ev.Entities = []occsimore.Entity{{Role: "device", ID: "d"}}
	ev.Attrs = map[string]string{}
	for i := range occsimore.MaxEventAttrs {
		ev.Attrs[strings.Repeat("k", i+1)] = "v"
	}
	buf := make([]byte, 0, 64<<10)
	if allocs := testing.AllocsPerRun(100, func() { buf = AppendEvent(buf[:0], &ev) }); allocs != 0 {
		t.Fatalf("AppendEvent allocates %v times, want 0", allocs)
	}
}

func TestDecodeBinaryReuse(t *testing.T) {
	ev := occsimore.Event{Kind: "k", Time: time.Unix(1, 0).UTC(), Card: "c",
		Entities: []occsimore.Entity{{Role: "device", ID: "d"}}, Attrs: map[string]string{"a": "b"}}
	b := AppendEvent(nil, &ev)
	got := occsimore.Event{Entities: make([]occsimore.Entity, 3, 4), Attrs: map[string]string{"old": "x"}, Amount: 7}
	array, attrs := &got.Entities[0], reflect.ValueOf(got.Attrs).Pointer()
	if _, err := DecodeEvent(b, &got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(ev, got, sameTime); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	if &got.Entities[0] != array || reflect.ValueOf(got.Attrs).Pointer() != attrs {
		t.Fatal("DecodeEvent did not reuse the event's storage")
	}
	// Only the four strings (kind, card, role, id) and the attribute's two allocate.
	if allocs := testing.AllocsPerRun(100, func() { _, _ = DecodeEvent(b, &got) }); allocs > 6 {
		t.Fatalf("DecodeEvent allocates %v times, want at most 6", allocs)
	}
}

// enc builds binary events by hand, for corrupt inputs.
type enc []byte

func (e enc) uv(v uint64) enc   { return binary.AppendUvarint(e, v) }
func (e enc) v(v int64) enc     { return binary.AppendVarint(e, v) }
func (e enc) s(v string) enc    { return appendString(e, v) }
func (e enc) raw(b ...byte) enc { return append(e, b...) }

// head is a valid start: version, flags, member, id, kind, time.
func head(flags byte) enc {
	return enc{EventVersion, flags}.s("m").s("id").s("card.tx").v(1522540831).uv(0).v(7200)
}

// tail is everything after the time of an empty event with n entities and
// attrs.
func (e enc) fixed() enc { return e.s("").s("").s("").s("").s("").s("") }

func TestDecodeBinaryErrors(t *testing.T) {
	t.Parallel()
	valid := head(0).fixed().uv(0).raw(0, 0, 0, 0, 0, 0, 0, 0).s("").s("").s("").s("").s("").s("").uv(0).uv(0)
	noAttrs := func() enc { return slices.Clone(valid[:len(valid)-1]) } // to append attributes to
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, io.ErrUnexpectedEOF},
		{"version", enc{2}, ErrCorruptEvent},
		{"unknown flag", head(8), ErrCorruptEvent},
		{"success without has-success", head(flagSuccess), ErrCorruptEvent},
		{"id too long", enc{EventVersion, 0}.s("m").s(strings.Repeat("x", occsimore.MaxEventIDLen+1)), ErrCorruptEvent},
		{"huge string length", enc{EventVersion, 0}.uv(1 << 60), io.ErrUnexpectedEOF},
		{"overlong varint", enc{EventVersion, 0}.raw(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), ErrCorruptEvent},
		{"nanoseconds", enc{EventVersion, 0}.s("").s("").s("").v(1).uv(1e9).v(0), ErrCorruptEvent},
		{"zone offset", enc{EventVersion, 0}.s("").s("").s("").v(1).uv(0).v(1 << 40), ErrCorruptEvent},
		{"card too long", head(0).s(strings.Repeat("c", occsimore.MaxEntityIDLen+1)), ErrCorruptEvent},
		{"too many entities", head(0).fixed().uv(occsimore.MaxEventEntities + 1), ErrCorruptEvent},
		{"entity count past the end", head(0).fixed().uv(3).s("a").s("b"), io.ErrUnexpectedEOF},
		{"asn", head(0).fixed().uv(0).raw(0, 0, 0, 0, 0, 0, 0, 0).s("").s("").s("").s("").s("").s("").uv(1 << 32), ErrCorruptEvent},
		{"too many attrs", noAttrs().uv(occsimore.MaxEventAttrs + 1), ErrCorruptEvent},
		{"attrs out of order", noAttrs().uv(2).s("b").s("1").s("a").s("2"), ErrCorruptEvent},
		{"attr twice", noAttrs().uv(2).s("a").s("1").s("a").s("2"), ErrCorruptEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev occsimore.Event
			_, err := DecodeEvent(tt.in, &ev)
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecodeEvent = %v, want %v", err, tt.want)
			}
		})
	}
	var ev occsimore.Event
	if n, err := DecodeEvent(valid, &ev); err != nil || n != len(valid) {
		t.Fatalf("the valid base: n = %d, err = %v", n, err)
	}
}

// TestDecodeBinaryTruncated cuts a full event at every length.
func TestDecodeBinaryTruncated(t *testing.T) {
	t.Parallel()
	ev := randomEvent(rand.New(rand.NewPCG(7, 8)))
	ev.HasLocation, ev.Lat, ev.Lon = true, 1, 2
	ev.Attrs = map[string]string{"a": "1", "b": "2"}
	ev.Entities = []occsimore.Entity{{Role: "device", ID: "d"}}
	b := AppendEvent(nil, &ev)
	for i := range len(b) {
		var got occsimore.Event
		if _, err := DecodeEvent(b[:i], &got); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("DecodeEvent of %d of %d bytes = %v, want io.ErrUnexpectedEOF", i, len(b), err)
		}
	}
}
