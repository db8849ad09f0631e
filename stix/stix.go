// Package stix is a STIX 2.1 codec: the object types occsimore produces and
// consumes (indicator, sighting, identity, marking-definition, relationship,
// attack-pattern, report, bundle), deterministic identifiers, the STIX
// timestamp format, the patterning language, validation against the OASIS
// JSON schemas (embedded) and bundle import that keeps every valid object.
//
// It is pure logic: it reads and writes bytes, never files or the network.
package stix

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// SpecVersion is the STIX version every object produced here carries.
const SpecVersion = "2.1"

// Error is a rejected property or object: Path is a JSON Pointer (RFC 6901)
// into the document that was parsed, Reason says what is wrong with it.
type Error struct {
	Path   string
	Reason string
}

func (e *Error) Error() string {
	p := e.Path
	if p == "" {
		p = "/"
	}
	return p + ": " + e.Reason
}

func errAt(path, format string, args ...any) *Error {
	return &Error{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// pointer appends one reference token to a JSON Pointer, escaping as RFC 6901 says.
func pointer(base string, token string) string {
	token = strings.ReplaceAll(token, "~", "~0")
	token = strings.ReplaceAll(token, "/", "~1")
	return base + "/" + token
}

func pointerIndex(base string, i int) string { return base + "/" + strconv.Itoa(i) }

// SCONamespace is the UUIDv5 namespace STIX 2.1 §2.9 fixes for the
// deterministic identifiers of cyber-observable objects.
const SCONamespace = "00abedb4-aa42-466c-9c01-fed23315a9b7"

// producerNamespace is occsimore's own UUIDv5 namespace for the identifiers of
// the domain objects it derives from their content. §2.9 forbids the SCO
// namespace for SDOs and SROs; this one is uuid5(RFC 4122 DNS namespace,
// "occsimore.invalid") and must never change, or every re-export would become
// a new object.
var producerNamespace = uuid5(mustUUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), []byte("occsimore.invalid"))

func mustUUID(s string) [16]byte {
	u, ok := parseUUID(s)
	if !ok {
		panic("stix: bad uuid constant " + s)
	}
	return u
}

func uuid5(ns [16]byte, name []byte) [16]byte { return uuid.NewSHA1(ns, name) }

func formatUUID(u [16]byte) string { return uuid.UUID(u).String() }

func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	var h [32]byte
	copy(h[0:8], s[0:8])
	copy(h[8:12], s[9:13])
	copy(h[12:16], s[14:18])
	copy(h[16:20], s[19:23])
	copy(h[20:32], s[24:36])
	if _, err := hex.Decode(u[:], h[:]); err != nil {
		return u, false
	}
	return u, true
}

// NewID returns a random identifier (UUIDv4) for an object of type typ, what
// §2.9 recommends for objects whose content does not define them.
func NewID(typ string) string {
	var u [16]byte
	rand.Read(u[:]) // never fails (crypto/rand, Go 1.24+)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return typ + "--" + formatUUID(u)
}

// DerivedID returns a UUIDv5 identifier for a domain or relationship object
// whose identity is fixed by its content (the producer and the parts given),
// so that exporting the same indicator twice yields the same id and a new
// version rather than a duplicate. The name is the parts joined by NUL bytes
// under occsimore's namespace, never the SCO namespace (§2.9 forbids it).
// Callers must not pass a value they mean to hide: a UUIDv5 is an unkeyed
// hash.
func DerivedID(typ string, parts ...string) string {
	name := typ + "\x00" + strings.Join(parts, "\x00")
	return typ + "--" + formatUUID(uuid5(producerNamespace, []byte(name)))
}

// SCOID returns the identifier §2.9 defines for a cyber-observable object:
// UUIDv5 in SCONamespace over the canonical JSON (RFC 8785) of its
// id-contributing properties, given here as name/value string pairs, which
// covers the single-valued observables (ipv4-addr, ipv6-addr, domain-name,
// url, email-addr: "value").
func SCOID(typ string, props map[string]string) string {
	return typ + "--" + formatUUID(uuid5(mustUUID(SCONamespace), canonicalStrings(props)))
}

// canonicalStrings is RFC 8785 for an object of string values: members sorted
// by UTF-16 code units (equal to byte order for the ASCII property names STIX
// uses), strings escaped minimally.
func canonicalStrings(props map[string]string) []byte {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJCSString(b, k)
		b = append(b, ':')
		b = appendJCSString(b, props[k])
	}
	return append(b, '}')
}

func appendJCSString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// ValidID reports whether id is "typ--UUID" with an RFC 4122 UUID, the form
// §2.9 requires (and the version and variant nibbles the OASIS schema checks).
func ValidID(id, typ string) bool {
	t, u, ok := strings.Cut(id, "--")
	if !ok || (typ != "" && t != typ) || !validTypeName(t) {
		return false
	}
	uu, ok := parseUUID(u)
	if !ok {
		return false
	}
	v := uu[6] >> 4
	return v >= 1 && v <= 5 && uu[8]&0xc0 == 0x80
}

// IDType returns the type part of an identifier.
func IDType(id string) string {
	t, _, _ := strings.Cut(id, "--")
	return t
}

// validTypeName is §3.1's rule for type names: 3 to 250 characters of a-z,
// 0-9 and hyphen, starting with a letter, no double hyphen.
func validTypeName(t string) bool {
	if len(t) < 3 || len(t) > 250 || t[0] < 'a' || t[0] > 'z' || strings.Contains(t, "--") {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validPropertyName is §3.1's rule for property names, custom ones included:
// 3 to 250 characters of a-z, 0-9 and underscore, starting with a letter
// (which the OASIS properties schema requires).
func validPropertyName(p string) bool {
	if len(p) < 3 || len(p) > 250 || p[0] < 'a' || p[0] > 'z' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// TimestampLayout is the STIX timestamp with the millisecond precision §3.2
// requires for created and modified (and occsimore uses everywhere).
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// Timestamp is a STIX timestamp: RFC 3339 in UTC with a Z. It marshals with
// millisecond precision and parses any fractional precision, but only in UTC.
type Timestamp struct{ time.Time }

// TS converts a time to a Timestamp truncated to the millisecond, so that
// what is produced round-trips exactly.
func TS(t time.Time) Timestamp { return Timestamp{t.UTC().Truncate(time.Millisecond)} }

func (t Timestamp) String() string { return t.UTC().Format(TimestampLayout) }

func (t Timestamp) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimestampLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimestampLayout)
	return append(b, '"'), nil
}

func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("timestamp must be a string")
	}
	v, err := ParseTimestamp(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// ParseTimestamp parses a STIX timestamp (§3.2): YYYY-MM-DDTHH:MM:SS[.s+]Z.
func ParseTimestamp(s string) (time.Time, error) {
	if !timestampShape(s) {
		return time.Time{}, fmt.Errorf("timestamp %q is not RFC 3339 in UTC with a Z (YYYY-MM-DDTHH:MM:SS[.s+]Z)", s)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q: %w", s, err)
	}
	return v, nil
}

func timestampShape(s string) bool {
	if len(s) < 20 || s[len(s)-1] != 'Z' {
		return false
	}
	for i := 0; i < 19; i++ {
		c := s[i]
		switch i {
		case 4, 7:
			if c != '-' {
				return false
			}
		case 10:
			if c != 'T' {
				return false
			}
		case 13, 16:
			if c != ':' {
				return false
			}
		default:
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	frac := s[19 : len(s)-1]
	if frac == "" {
		return true
	}
	if frac[0] != '.' || len(frac) == 1 {
		return false
	}
	for i := 1; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return false
		}
	}
	return true
}
