package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/occsimore/occsimore"
)

// ErrCorruptEvent is wrapped by DecodeEvent's errors about malformed input;
// truncated input wraps io.ErrUnexpectedEOF instead.
var ErrCorruptEvent = errors.New("corrupt binary event")

// EventVersion is the first byte of every binary event.
const EventVersion = 1

// Flags of the binary form.
const (
	flagLocation = 1 << iota
	flagHasSuccess
	flagSuccess
	flagsKnown = flagLocation | flagHasSuccess | flagSuccess
)

// AppendEvent appends the binary form of ev to dst, for the journal. It
// holds every field, MemberID included. Strings are a uvarint length then
// bytes; the time is its unix seconds (varint), nanoseconds (uvarint) and
// zone offset in seconds (varint), so the local hour survives; the amount,
// lat and lon are IEEE 754 little-endian; attributes are in key order, so
// equal events encode equally.
//
// Version 1, after the version byte:
//
//	flags, member, id, kind, seconds, nanoseconds, offset,
//	card, customer, terminal, merchant, user, ip,
//	len(entities), {role, id}..., amount, currency, country, [lat, lon],
//	mcc, channel, device, user_agent, asn, len(attrs), {key, value}...
//
// It does not allocate when dst has room. ev should be valid (see
// occsimore.Event.Validate): DecodeEvent rejects events over its limits.
func AppendEvent(dst []byte, ev *occsimore.Event) []byte {
	var flags byte
	if ev.HasLocation {
		flags |= flagLocation
	}
	if ev.HasSuccess {
		flags |= flagHasSuccess
	}
	if ev.Success {
		flags |= flagSuccess
	}
	dst = append(dst, EventVersion, flags)
	dst = appendString(dst, ev.MemberID)
	dst = appendString(dst, ev.ID)
	dst = appendString(dst, ev.Kind)
	_, offset := ev.Time.Zone()
	dst = binary.AppendVarint(dst, ev.Time.Unix())
	dst = binary.AppendUvarint(dst, uint64(ev.Time.Nanosecond()))
	dst = binary.AppendVarint(dst, int64(offset))
	for _, s := range [...]string{ev.Card, ev.Customer, ev.Terminal, ev.Merchant, ev.User, ev.IP} {
		dst = appendString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(ev.Entities)))
	for _, e := range ev.Entities {
		dst = appendString(dst, e.Role)
		dst = appendString(dst, e.ID)
	}
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(ev.Amount))
	dst = appendString(dst, ev.Currency)
	dst = appendString(dst, ev.Country)
	if ev.HasLocation {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(ev.Lat))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(ev.Lon))
	}
	for _, s := range [...]string{ev.MCC, ev.Channel, ev.Device, ev.UserAgent} {
		dst = appendString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(ev.ASN))
	dst = binary.AppendUvarint(dst, uint64(len(ev.Attrs)))
	if len(ev.Attrs) == 0 {
		return dst
	}
	var arr [occsimore.MaxEventAttrs]string // sorts on the stack
	keys := arr[:0]
	for k := range ev.Attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dst = appendString(dst, k)
		dst = appendString(dst, ev.Attrs[k])
	}
	return dst
}

// DecodeEvent decodes the event AppendEvent wrote at the start of b into
// ev and returns the number of bytes it used. It checks the structure and
// the limits of occsimore.Event (counts and id lengths) but does not call
// Validate. Decoded times are in UTC when their offset is 0 and in a fixed
// zone of their offset otherwise.
//
// ev's Entities array and Attrs map are reused (an empty one stays empty
// rather than nil), so never decode into an event whose slices or maps are
// still in use elsewhere. On error ev holds a partial event.
func DecodeEvent(b []byte, ev *occsimore.Event) (n int, err error) {
	ents, attrs := ev.Entities[:0], ev.Attrs
	clear(attrs)
	*ev = occsimore.Event{}
	r := binReader{b: b}
	if len(b) == 0 {
		return 0, r.truncated("version")
	}
	if b[0] != EventVersion {
		return 0, fmt.Errorf("decode binary event: version %d: %w", b[0], ErrCorruptEvent)
	}
	r.pos = 1
	flags, err := r.byte("flags")
	if err != nil {
		return 0, err
	}
	if flags&^flagsKnown != 0 || flags&flagSuccess != 0 && flags&flagHasSuccess == 0 {
		return 0, r.corrupt("flags")
	}
	ev.HasLocation = flags&flagLocation != 0
	ev.HasSuccess = flags&flagHasSuccess != 0
	ev.Success = flags&flagSuccess != 0

	const unbounded = math.MaxInt // bounded by the input's length only
	if ev.MemberID, err = r.string("member", unbounded); err != nil {
		return 0, err
	}
	if ev.ID, err = r.string("id", occsimore.MaxEventIDLen); err != nil {
		return 0, err
	}
	if ev.Kind, err = r.string("kind", unbounded); err != nil {
		return 0, err
	}
	sec, err := r.varint("time")
	if err != nil {
		return 0, err
	}
	nsec, err := r.uvarint("time")
	if err != nil {
		return 0, err
	}
	offset, err := r.varint("zone offset")
	if err != nil {
		return 0, err
	}
	if nsec >= 1e9 || offset < math.MinInt32 || offset > math.MaxInt32 {
		return 0, r.corrupt("time")
	}
	ev.Time = time.Unix(sec, int64(nsec)).UTC()
	if offset != 0 {
		ev.Time = ev.Time.In(time.FixedZone("", int(offset)))
	}
	for _, f := range [...]struct {
		dst  *string
		name string
	}{
		{&ev.Card, "card"}, {&ev.Customer, "customer"}, {&ev.Terminal, "terminal"},
		{&ev.Merchant, "merchant"}, {&ev.User, "user"}, {&ev.IP, "ip"},
	} {
		if *f.dst, err = r.string(f.name, occsimore.MaxEntityIDLen); err != nil {
			return 0, err
		}
	}
	ne, err := r.count("entities", occsimore.MaxEventEntities)
	if err != nil {
		return 0, err
	}
	ev.Entities = ents
	for range ne {
		var e occsimore.Entity
		if e.Role, err = r.string("entity role", unbounded); err != nil {
			return 0, err
		}
		if e.ID, err = r.string("entity id", occsimore.MaxEntityIDLen); err != nil {
			return 0, err
		}
		ev.Entities = append(ev.Entities, e)
	}
	if ev.Amount, err = r.float("amount"); err != nil {
		return 0, err
	}
	if ev.Currency, err = r.string("currency", unbounded); err != nil {
		return 0, err
	}
	if ev.Country, err = r.string("country", unbounded); err != nil {
		return 0, err
	}
	if ev.HasLocation {
		if ev.Lat, err = r.float("lat"); err != nil {
			return 0, err
		}
		if ev.Lon, err = r.float("lon"); err != nil {
			return 0, err
		}
	}
	for _, f := range [...]struct {
		dst  *string
		name string
	}{{&ev.MCC, "mcc"}, {&ev.Channel, "channel"}, {&ev.Device, "device"}, {&ev.UserAgent, "user agent"}} {
		if *f.dst, err = r.string(f.name, unbounded); err != nil {
			return 0, err
		}
	}
	asn, err := r.uvarint("asn")
	if err != nil {
		return 0, err
	}
	if asn > math.MaxUint32 {
		return 0, r.corrupt("asn")
	}
	ev.ASN = uint32(asn)
	na, err := r.count("attributes", occsimore.MaxEventAttrs)
	if err != nil {
		return 0, err
	}
	ev.Attrs = attrs
	if na > 0 && ev.Attrs == nil {
		ev.Attrs = make(map[string]string, na)
	}
	prev := ""
	for i := range na {
		k, err := r.string("attribute name", unbounded)
		if err != nil {
			return 0, err
		}
		if i > 0 && k <= prev { // AppendEvent sorts keys; this also rules out duplicates
			return 0, r.corrupt("attribute order")
		}
		v, err := r.string("attribute value", unbounded)
		if err != nil {
			return 0, err
		}
		ev.Attrs[k], prev = v, k
	}
	return r.pos, nil
}

// binReader reads the parts of a binary event, checking every length
// against the bytes left before allocating.
type binReader struct {
	b   []byte
	pos int
}

func (r *binReader) corrupt(what string) error {
	return fmt.Errorf("decode binary event: %s at byte %d: %w", what, r.pos, ErrCorruptEvent)
}

func (r *binReader) truncated(what string) error {
	return fmt.Errorf("decode binary event: %s at byte %d: %w", what, r.pos, io.ErrUnexpectedEOF)
}

func (r *binReader) byte(what string) (byte, error) {
	if r.pos >= len(r.b) {
		return 0, r.truncated(what)
	}
	r.pos++
	return r.b[r.pos-1], nil
}

func (r *binReader) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(r.b[r.pos:])
	switch {
	case n == 0:
		return 0, r.truncated(what)
	case n < 0:
		return 0, r.corrupt(what)
	}
	r.pos += n
	return v, nil
}

func (r *binReader) varint(what string) (int64, error) {
	v, n := binary.Varint(r.b[r.pos:])
	switch {
	case n == 0:
		return 0, r.truncated(what)
	case n < 0:
		return 0, r.corrupt(what)
	}
	r.pos += n
	return v, nil
}

// count reads a number of entries, each at least two bytes long.
func (r *binReader) count(what string, limit int) (int, error) {
	v, err := r.uvarint(what)
	if err != nil {
		return 0, err
	}
	if v > uint64(limit) {
		return 0, r.corrupt(what)
	}
	if v*2 > uint64(len(r.b)-r.pos) {
		return 0, r.truncated(what)
	}
	return int(v), nil
}

func (r *binReader) string(what string, limit int) (string, error) {
	v, err := r.uvarint(what)
	if err != nil {
		return "", err
	}
	if v > uint64(limit) {
		return "", r.corrupt(what)
	}
	if v > uint64(len(r.b)-r.pos) {
		return "", r.truncated(what)
	}
	s := string(r.b[r.pos : r.pos+int(v)])
	r.pos += int(v)
	return s, nil
}

func (r *binReader) float(what string) (float64, error) {
	if len(r.b)-r.pos < 8 {
		return 0, r.truncated(what)
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.pos:]))
	r.pos += 8
	return v, nil
}
