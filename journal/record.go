package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/occsimore/occsimore"
)

// Kind is the type of a record.
type Kind byte

const (
	KindEvents Kind = 1 // a batch of one member's events
	KindLabel  Kind = 2 // an analyst's label on an alert
)

func (k Kind) String() string {
	switch k {
	case KindEvents:
		return "events"
	case KindLabel:
		return "label"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// Record is one entry of the journal.
type Record struct {
	Kind     Kind
	MemberID string
	Events   []occsimore.Event // KindEvents; every event's MemberID is MemberID on replay
	Label    Label             // KindLabel
}

// Label is an analyst's verdict on an alert, with every entity the alert
// touched, so that replay feeds the behaviour engine exactly what the live
// path fed it.
type Label struct {
	AlertID   string
	Entities  []occsimore.Entity
	Fraud     bool
	EventTime time.Time // stored in nanoseconds, read back in UTC
	LabelTime time.Time // likewise
}

// MaxRecordSize bounds the payload of one record. It keeps a corrupt length
// from making the reader allocate gigabytes.
const MaxRecordSize = 64 << 20

// maxHeader is the largest frame header: a uvarint length, a CRC-32C and the
// kind byte.
const maxHeader = binary.MaxVarintLen64 + 4 + 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by every error about a malformed record.
var ErrCorrupt = errors.New("corrupt record")

// errShort means the data ends inside a frame: a torn write at the tail.
var errShort = fmt.Errorf("%w: truncated frame", ErrCorrupt)

// appendPayload appends the payload of rec, without its frame.
func appendPayload(dst []byte, rec *Record) ([]byte, error) {
	dst = appendString(dst, rec.MemberID)
	switch rec.Kind {
	case KindEvents:
		dst = binary.AppendUvarint(dst, uint64(len(rec.Events)))
		for i := range rec.Events {
			dst = AppendEvent(dst, &rec.Events[i])
		}
	case KindLabel:
		l := &rec.Label
		dst = appendString(dst, l.AlertID)
		dst = binary.AppendUvarint(dst, uint64(len(l.Entities)))
		for _, e := range l.Entities {
			dst = appendString(dst, e.Role)
			dst = appendString(dst, e.ID)
		}
		fraud := byte(0)
		if l.Fraud {
			fraud = 1
		}
		dst = append(dst, fraud)
		dst = binary.AppendVarint(dst, l.EventTime.UnixNano())
		dst = binary.AppendVarint(dst, l.LabelTime.UnixNano())
	default:
		return dst, fmt.Errorf("unknown record kind %d", rec.Kind)
	}
	if len(dst) > MaxRecordSize {
		return dst, occsimore.Errorf(occsimore.ETOOLARGE, "journal record of %d bytes exceeds %d", len(dst), MaxRecordSize)
	}
	return dst, nil
}

// frameHeader returns the header of a frame holding payload.
func frameHeader(hdr *[maxHeader]byte, kind Kind, payload []byte) []byte {
	b := binary.AppendUvarint(hdr[:0], uint64(len(payload)))
	crc := crc32.Update(crc32.Checksum([]byte{byte(kind)}, castagnoli), castagnoli, payload)
	b = binary.LittleEndian.AppendUint32(b, crc)
	return append(b, byte(kind))
}

// decodeFrame parses the frame at the start of b and returns its kind, its
// payload (aliasing b) and its total size. It returns errShort if b ends
// inside the frame.
func decodeFrame(b []byte) (kind Kind, payload []byte, n int, err error) {
	size, k := binary.Uvarint(b)
	switch {
	case k == 0:
		return 0, nil, 0, errShort
	case k < 0 || size > MaxRecordSize:
		return 0, nil, 0, fmt.Errorf("%w: bad length", ErrCorrupt)
	}
	end := k + 5 + int(size)
	if len(b) < end {
		return 0, nil, 0, errShort
	}
	crc := binary.LittleEndian.Uint32(b[k:])
	kind = Kind(b[k+4])
	payload = b[k+5 : end]
	if got := crc32.Update(crc32.Checksum(b[k+4:k+5], castagnoli), castagnoli, payload); got != crc {
		return 0, nil, 0, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return kind, payload, end, nil
}

// decodePayload fills rec from a payload of the given kind. An events
// record reuses rec.Events' backing array; a label record has nil Events.
func decodePayload(kind Kind, b []byte, rec *Record) error {
	d := decoder{b: b}
	evs := rec.Events[:0]
	*rec = Record{Kind: kind, MemberID: d.string()}
	switch kind {
	case KindEvents:
		n := d.uvarint()
		// Every event takes at least one byte: a corrupt count must not
		// allocate more than the payload could hold.
		if n > uint64(len(d.b)) {
			return fmt.Errorf("%w: %d events in %d bytes", ErrCorrupt, n, len(d.b))
		}
		for range n {
			if d.err != nil {
				break
			}
			evs = append(evs, occsimore.Event{})
			ev := &evs[len(evs)-1]
			m, err := DecodeEvent(d.b, ev)
			if err != nil {
				return fmt.Errorf("%w: event %d: %w", ErrCorrupt, len(evs)-1, err)
			}
			d.b = d.b[m:]
			ev.MemberID = rec.MemberID
		}
		rec.Events = evs
	case KindLabel:
		l := &rec.Label
		l.AlertID = d.string()
		n := d.uvarint()
		if n > uint64(len(d.b)) {
			return fmt.Errorf("%w: %d entities in %d bytes", ErrCorrupt, n, len(d.b))
		}
		if n > 0 {
			l.Entities = make([]occsimore.Entity, 0, n)
		}
		for range n {
			l.Entities = append(l.Entities, occsimore.Entity{Role: d.string(), ID: d.string()})
		}
		switch d.byte() {
		case 0:
		case 1:
			l.Fraud = true
		default:
			d.fail("bad fraud flag")
		}
		l.EventTime = time.Unix(0, d.varint()).UTC()
		l.LabelTime = time.Unix(0, d.varint()).UTC()
	default:
		return fmt.Errorf("%w: unknown kind %d", ErrCorrupt, kind)
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.b))
	}
	return nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decoder reads payload fields; the first error sticks and later reads
// return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, msg)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("short payload")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("string overruns payload")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
