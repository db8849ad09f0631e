package ingest

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/occsimore/occsimore"
)

// DecodeJSON decodes one event in its JSON wire form (see occsimore.Event)
// from b into ev, then validates it.
//
// It is stricter than encoding/json: field names match exactly, and an
// unknown field, a field given twice, invalid UTF-8, a lone UTF-16 surrogate
// or anything after the object is an error. null means absent. Every error is
// an *occsimore.Error with code EINVALID whose Field is the JSON field it is
// about ("" when the input is not an object); syntax errors give the offset
// of the offending byte, counted from 0.
//
// ev.MemberID is kept, every other field is overwritten. To save allocations
// ev.Entities' array and ev.Attrs' map are reused, so never decode into an
// event whose slices or maps are still in use elsewhere. On error ev holds a
// partial event.
//
// It is a scanner written for this one schema: encoding/json took about five
// times as long, with 20-30 allocations per event, a large share of the
// ingest path's budget (see BenchmarkDecodeJSON).
func DecodeJSON(b []byte, ev *occsimore.Event) error {
	var d jsonDecoder
	return d.decode(b, ev)
}

// jsonDecoder holds the input being scanned and a scratch buffer for strings
// with escapes, reused across events by NDJSONReader.
type jsonDecoder struct {
	data    []byte
	pos     int
	scratch []byte
}

// Bits of the top-level fields, to reject a field given twice.
const (
	bitID uint32 = 1 << iota
	bitKind
	bitTime
	bitCard
	bitCustomer
	bitTerminal
	bitMerchant
	bitUser
	bitIP
	bitEntities
	bitAmount
	bitCurrency
	bitCountry
	bitLat
	bitLon
	bitMCC
	bitChannel
	bitDevice
	bitUserAgent
	bitASN
	bitSuccess
	bitAttrs
)

func (d *jsonDecoder) decode(b []byte, ev *occsimore.Event) error {
	d.data, d.pos = b, 0
	resetEvent(ev)
	err := d.event(ev)
	d.data = nil // do not keep the caller's buffer alive
	if err != nil {
		return err
	}
	return ev.Validate()
}

// resetEvent clears ev for decoding, keeping MemberID and the storage of
// Entities and Attrs.
func resetEvent(ev *occsimore.Event) {
	ents, attrs := ev.Entities[:0], ev.Attrs
	clear(attrs)
	*ev = occsimore.Event{MemberID: ev.MemberID, Entities: ents, Attrs: attrs}
}

func (d *jsonDecoder) event(ev *occsimore.Event) error {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return occsimore.FieldErrorf("", "empty input, want an event object")
	}
	if c := d.data[d.pos]; c != '{' {
		if k := kindOf(c); k != "" {
			return occsimore.FieldErrorf("", "want an event object, got %s", k)
		}
		return d.unexpected("", "looking for the event object")
	}
	d.pos++
	var seen uint32
	var hasLat, hasLon bool
	for first := true; ; first = false {
		name, done, err := d.member("", first)
		if err != nil {
			return err
		}
		if done {
			break
		}
		var (
			field string
			bit   uint32
			dst   *string // for the plain string fields
		)
		switch string(name) {
		case "id":
			field, bit, dst = "id", bitID, &ev.ID
		case "kind":
			field, bit, dst = "kind", bitKind, &ev.Kind
		case "time":
			field, bit = "time", bitTime
		case "card":
			field, bit, dst = "card", bitCard, &ev.Card
		case "customer":
			field, bit, dst = "customer", bitCustomer, &ev.Customer
		case "terminal":
			field, bit, dst = "terminal", bitTerminal, &ev.Terminal
		case "merchant":
			field, bit, dst = "merchant", bitMerchant, &ev.Merchant
		case "user":
			field, bit, dst = "user", bitUser, &ev.User
		case "ip":
			field, bit, dst = "ip", bitIP, &ev.IP
		case "entities":
			field, bit = "entities", bitEntities
		case "amount":
			field, bit = "amount", bitAmount
		case "currency":
			field, bit, dst = "currency", bitCurrency, &ev.Currency
		case "country":
			field, bit, dst = "country", bitCountry, &ev.Country
		case "lat":
			field, bit = "lat", bitLat
		case "lon":
			field, bit = "lon", bitLon
		case "mcc":
			field, bit, dst = "mcc", bitMCC, &ev.MCC
		case "channel":
			field, bit, dst = "channel", bitChannel, &ev.Channel
		case "device":
			field, bit, dst = "device", bitDevice, &ev.Device
		case "user_agent":
			field, bit, dst = "user_agent", bitUserAgent, &ev.UserAgent
		case "asn":
			field, bit = "asn", bitASN
		case "success":
			field, bit = "success", bitSuccess
		case "attrs":
			field, bit = "attrs", bitAttrs
		default:
			name := clip(string(name))
			return occsimore.FieldErrorf(name, "unknown field %q", name)
		}
		if seen&bit != 0 {
			return occsimore.FieldErrorf(field, "field %q given twice", field)
		}
		seen |= bit
		if dst != nil {
			s, null, err := d.stringValue(field)
			if err != nil {
				return err
			}
			if !null {
				*dst = intern(s)
			}
			continue
		}
		if err := d.value(ev, field, bit, &hasLat, &hasLon); err != nil {
			return err
		}
	}
	if hasLat != hasLon {
		missing := "lon"
		if hasLon {
			missing = "lat"
		}
		return occsimore.FieldErrorf(missing, "lat and lon must be given together")
	}
	ev.HasLocation = hasLat
	d.skipSpace()
	if d.pos < len(d.data) {
		return d.syntaxAt(d.pos, "", "unexpected data after the event object")
	}
	return nil
}

// value reads the value of a field that is not a plain string into ev;
// hasLat and hasLon record a latitude and a longitude given.
func (d *jsonDecoder) value(ev *occsimore.Event, field string, bit uint32, hasLat, hasLon *bool) error {
	switch bit {
	case bitTime:
		s, null, err := d.stringValue(field)
		if err != nil {
			return err
		}
		if !null {
			if err := ev.Time.UnmarshalText(s); err != nil {
				return occsimore.FieldErrorf(field, "time: want an RFC 3339 time, got %q", clip(string(s)))
			}
		}
	case bitAmount, bitLat, bitLon:
		f, null, err := d.floatValue(field)
		if err != nil {
			return err
		}
		switch {
		case null:
		case bit == bitAmount:
			ev.Amount = f
		case bit == bitLat:
			ev.Lat, *hasLat = f, true
		default:
			ev.Lon, *hasLon = f, true
		}
	case bitASN:
		num, null, err := d.numberValue(field, "an integer")
		if err != nil {
			return err
		}
		if !null {
			u, err := strconv.ParseUint(string(num), 10, 32)
			if err != nil {
				return occsimore.FieldErrorf(field, "asn: want an integer in [0, 4294967295], got %s", clip(string(num)))
			}
			ev.ASN = uint32(u)
		}
	case bitSuccess:
		b, null, err := d.boolValue(field)
		if err != nil {
			return err
		}
		if !null {
			ev.Success, ev.HasSuccess = b, true
		}
	case bitEntities:
		if err := d.entities(ev); err != nil {
			return err
		}
	case bitAttrs:
		if err := d.attrs(ev); err != nil {
			return err
		}
	}
	return nil
}

// entities reads the value of "entities": null or an array of {role, id}.
func (d *jsonDecoder) entities(ev *occsimore.Event) error {
	const field = "entities"
	if d.pos >= len(d.data) {
		return d.eof(field)
	}
	switch c := d.data[d.pos]; c {
	case 'n':
		return d.literal("null", field)
	case '[':
		d.pos++
	default:
		return d.typeErr(field, "an array", c)
	}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return nil
	}
	for i := 0; ; i++ {
		if i == occsimore.MaxEventEntities {
			return occsimore.FieldErrorf(field, "at most %d extra entities", occsimore.MaxEventEntities)
		}
		d.skipSpace()
		e, err := d.entity(i)
		if err != nil {
			return err
		}
		ev.Entities = append(ev.Entities, e)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.eof(field)
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return nil
		default:
			return d.unexpected(field, "after an entity, want ',' or ']'")
		}
	}
}

// entity reads the i-th object of "entities". Errors name the field
// "entities", as Validate does, and give the index in the message.
func (d *jsonDecoder) entity(i int) (occsimore.Entity, error) {
	const field = "entities"
	var e occsimore.Entity
	if d.pos >= len(d.data) {
		return e, d.eof(field)
	}
	if c := d.data[d.pos]; c != '{' {
		if k := kindOf(c); k != "" {
			return e, occsimore.FieldErrorf(field, "entities[%d]: want an object, got %s", i, k)
		}
		return e, d.unexpected(field, "looking for an entity")
	}
	d.pos++
	var seenRole, seenID bool
	for first := true; ; first = false {
		name, done, err := d.member(field, first)
		if err != nil {
			return e, err
		}
		if done {
			return e, nil
		}
		var dst *string
		switch string(name) {
		case "role":
			if seenRole {
				return e, occsimore.FieldErrorf(field, "entities[%d]: field \"role\" given twice", i)
			}
			seenRole, dst = true, &e.Role
		case "id":
			if seenID {
				return e, occsimore.FieldErrorf(field, "entities[%d]: field \"id\" given twice", i)
			}
			seenID, dst = true, &e.ID
		default:
			return e, occsimore.FieldErrorf(field, "entities[%d]: unknown field %q", i, clip(string(name)))
		}
		if d.pos >= len(d.data) {
			return e, d.eof(field)
		}
		if c := d.data[d.pos]; c != '"' {
			if k := kindOf(c); k != "" {
				return e, occsimore.FieldErrorf(field, "entities[%d].%s: want a string, got %s", i, name, k)
			}
			return e, d.unexpected(field, "looking for a value")
		}
		s, err := d.str(field)
		if err != nil {
			return e, err
		}
		*dst = string(s)
	}
}

// attrs reads the value of "attrs": null or an object of strings.
func (d *jsonDecoder) attrs(ev *occsimore.Event) error {
	const field = "attrs"
	if d.pos >= len(d.data) {
		return d.eof(field)
	}
	switch c := d.data[d.pos]; c {
	case 'n':
		return d.literal("null", field)
	case '{':
		d.pos++
	default:
		return d.typeErr(field, "an object", c)
	}
	for first := true; ; first = false {
		name, done, err := d.member(field, first)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		k := string(name) // before the value overwrites the scratch buffer
		if d.pos >= len(d.data) {
			return d.eof(field)
		}
		if c := d.data[d.pos]; c != '"' {
			if kd := kindOf(c); kd != "" {
				k = clip(k)
				return occsimore.FieldErrorf("attrs."+k, "attrs.%s: want a string, got %s", k, kd)
			}
			return d.unexpected(field, "looking for a value")
		}
		v, err := d.str(field)
		if err != nil {
			return err
		}
		if _, dup := ev.Attrs[k]; dup {
			k = clip(k)
			return occsimore.FieldErrorf("attrs."+k, "attribute %q given twice", k)
		}
		if len(ev.Attrs) == occsimore.MaxEventAttrs {
			return occsimore.FieldErrorf(field, "at most %d attributes", occsimore.MaxEventAttrs)
		}
		if ev.Attrs == nil {
			ev.Attrs = make(map[string]string)
		}
		ev.Attrs[k] = string(v)
	}
}

// member reads the next member name of an object whose '{' has been read,
// and the ':' after it, leaving d.pos at the value. It returns done at the
// closing brace. field names the object, for errors.
func (d *jsonDecoder) member(field string, first bool) (name []byte, done bool, err error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, false, d.eof(field)
	}
	switch c := d.data[d.pos]; {
	case c == '}':
		d.pos++
		return nil, true, nil
	case !first && c == ',':
		d.pos++
		d.skipSpace()
	case !first:
		return nil, false, d.unexpected(field, "after a value, want ',' or '}'")
	}
	if d.pos >= len(d.data) {
		return nil, false, d.eof(field)
	}
	if d.data[d.pos] != '"' {
		return nil, false, d.unexpected(field, "looking for a field name")
	}
	if name, err = d.str(field); err != nil {
		return nil, false, err
	}
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, false, d.eof(field)
	}
	if d.data[d.pos] != ':' {
		return nil, false, d.unexpected(field, "after a field name, want ':'")
	}
	d.pos++
	d.skipSpace()
	return name, false, nil
}

// stringValue reads a string or null. The bytes are valid until the next
// string is read.
func (d *jsonDecoder) stringValue(field string) (s []byte, null bool, err error) {
	if d.pos >= len(d.data) {
		return nil, false, d.eof(field)
	}
	switch c := d.data[d.pos]; c {
	case '"':
		s, err = d.str(field)
		return s, false, err
	case 'n':
		return nil, true, d.literal("null", field)
	default:
		return nil, false, d.typeErr(field, "a string", c)
	}
}

func (d *jsonDecoder) floatValue(field string) (f float64, null bool, err error) {
	num, null, err := d.numberValue(field, "a number")
	if err != nil || null {
		return 0, null, err
	}
	f, err = strconv.ParseFloat(string(num), 64)
	if err != nil { // the syntax was checked: the number is out of range
		return 0, false, occsimore.FieldErrorf(field, "%s: number %s is out of range", field, clip(string(num)))
	}
	return f, false, nil
}

// numberValue reads a number, checking its JSON syntax, or null.
func (d *jsonDecoder) numberValue(field, want string) (num []byte, null bool, err error) {
	if d.pos >= len(d.data) {
		return nil, false, d.eof(field)
	}
	c := d.data[d.pos]
	if c == 'n' {
		return nil, true, d.literal("null", field)
	}
	if c != '-' && (c < '0' || c > '9') {
		return nil, false, d.typeErr(field, want, c)
	}
	start, i := d.pos, d.pos
	if c == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
		return i > j
	}
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case !digits():
		return nil, false, d.badNumber(field, i)
	}
	if i < len(d.data) && d.data[i] == '.' {
		i++
		if !digits() {
			return nil, false, d.badNumber(field, i)
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false, d.badNumber(field, i)
		}
	}
	d.pos = i
	return d.data[start:i], false, nil
}

func (d *jsonDecoder) boolValue(field string) (b, null bool, err error) {
	if d.pos >= len(d.data) {
		return false, false, d.eof(field)
	}
	switch c := d.data[d.pos]; c {
	case 't':
		return true, false, d.literal("true", field)
	case 'f':
		return false, false, d.literal("false", field)
	case 'n':
		return false, true, d.literal("null", field)
	default:
		return false, false, d.typeErr(field, "a boolean", c)
	}
}

func (d *jsonDecoder) literal(lit, field string) error {
	for i := 0; i < len(lit); i++ {
		if d.pos >= len(d.data) {
			return d.eof(field)
		}
		if d.data[d.pos] != lit[i] {
			return d.unexpected(field, "in literal "+lit)
		}
		d.pos++
	}
	return nil
}

// str reads the string starting at d.pos. Without escapes it returns a
// subslice of the input; otherwise the unescaped bytes in d.scratch.
func (d *jsonDecoder) str(field string) ([]byte, error) {
	start := d.pos + 1
	ascii := true
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			s := d.data[start:i]
			if !ascii && !utf8.Valid(s) {
				return nil, d.syntaxAt(start-1, field, "invalid UTF-8 in string")
			}
			d.pos = i + 1
			return s, nil
		case c == '\\':
			return d.strEscaped(field, start, i)
		case c < 0x20:
			return nil, d.syntaxAt(i, field, fmt.Sprintf("control character %#02x in string", c))
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, d.eof(field)
}

// strEscaped finishes str from the first backslash, at i.
func (d *jsonDecoder) strEscaped(field string, start, i int) ([]byte, error) {
	buf := append(d.scratch[:0], d.data[start:i]...)
	defer func() { d.scratch = buf[:0] }()
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return nil, d.syntaxAt(start-1, field, "invalid UTF-8 in string")
			}
			d.pos = i + 1
			return buf, nil
		case c < 0x20:
			return nil, d.syntaxAt(i, field, fmt.Sprintf("control character %#02x in string", c))
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(d.data) {
			return nil, d.eof(field)
		}
		switch e := d.data[i+1]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(d.data[i+2:])
			if !ok {
				return nil, d.syntaxAt(i, field, "invalid \\u escape in string")
			}
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if rest := d.data[i+6:]; len(rest) >= 2 && rest[0] == '\\' && rest[1] == 'u' {
					r2, ok = hex4(rest[2:])
				}
				if r = utf16.DecodeRune(r, r2); !ok || r == utf8.RuneError {
					return nil, d.syntaxAt(i, field, "lone UTF-16 surrogate in string")
				}
				i += 6
			}
			buf = utf8.AppendRune(buf, r)
			i += 4
		default:
			return nil, d.syntaxAt(i, field, fmt.Sprintf("invalid escape %s in string", quoteByte(e)))
		}
		i += 2
	}
	return nil, d.eof(field)
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// kindOf names the JSON type of a value starting with c, or "" if no value
// starts with c.
func kindOf(c byte) string {
	switch {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || c >= '0' && c <= '9':
		return "number"
	}
	return ""
}

// typeErr reports a value of the wrong type starting with c, or a syntax
// error if no value starts with c.
func (d *jsonDecoder) typeErr(field, want string, c byte) error {
	got := kindOf(c)
	if got == "" {
		return d.unexpected(field, "looking for a value")
	}
	return occsimore.FieldErrorf(field, "%s: want %s, got %s", field, want, got)
}

func (d *jsonDecoder) syntaxAt(off int, field, msg string) error {
	return occsimore.FieldErrorf(field, "syntax error at byte %d: %s", off, msg)
}

func (d *jsonDecoder) eof(field string) error {
	return d.syntaxAt(len(d.data), field, "unexpected end of input")
}

func (d *jsonDecoder) unexpected(field, context string) error {
	return d.syntaxAt(d.pos, field, "invalid character "+quoteByte(d.data[d.pos])+" "+context)
}

func (d *jsonDecoder) badNumber(field string, i int) error {
	if i >= len(d.data) {
		return d.eof(field)
	}
	return d.syntaxAt(i, field, "invalid character "+quoteByte(d.data[i])+" in number")
}

func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte %#02x", c)
}

// clip shortens hostile input quoted back in error messages.
func clip(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// intern returns common short values without allocating.
func intern(b []byte) string {
	switch string(b) {
	case "card.tx":
		return "card.tx"
	case "auth.login":
		return "auth.login"
	case "EUR":
		return "EUR"
	case "USD":
		return "USD"
	case "GBP":
		return "GBP"
	case "CHF":
		return "CHF"
	case "pos":
		return "pos"
	case "ecom":
		return "ecom"
	case "atm":
		return "atm"
	case "web":
		return "web"
	case "mobile":
		return "mobile"
	}
	return string(b)
}
