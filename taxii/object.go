package taxii

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Object is one version of a STIX object as TAXII sees it: the properties
// that identify, filter and order it, and the raw JSON, kept as sent.
type Object struct {
	ID          string
	Type        string
	SpecVersion string // "2.1", or "2.0" for an object without spec_version
	// Version is modified, else created; zero for an object with neither
	// (a cyber observable), whose version is then its date_added.
	Version time.Time
	Raw     json.RawMessage
}

// MaxObjectBytes bounds one object's JSON.
const MaxObjectBytes = 1 << 20

// ParseObject reads the TAXII-relevant properties of one STIX object and
// keeps its JSON (compacted). It checks only what TAXII needs: an id of the
// form type--uuid matching type, and RFC 3339 timestamps.
func ParseObject(raw []byte) (Object, error) {
	if len(raw) > MaxObjectBytes {
		return Object{}, fmt.Errorf("object of %d bytes is over the limit of %d", len(raw), MaxObjectBytes)
	}
	var p struct {
		ID          *string `json:"id"`
		Type        *string `json:"type"`
		SpecVersion *string `json:"spec_version"`
		Created     *string `json:"created"`
		Modified    *string `json:"modified"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return Object{}, fmt.Errorf("object is not a JSON object: %w", err)
	}
	if p.ID == nil || p.Type == nil {
		return Object{}, fmt.Errorf("object has no id or no type")
	}
	o := Object{ID: *p.ID, Type: *p.Type, SpecVersion: "2.0"}
	if !ValidType(o.Type) {
		return Object{}, fmt.Errorf("type %q is not a STIX type name", o.Type)
	}
	if !ValidID(o.ID) || !strings.HasPrefix(o.ID, o.Type+"--") {
		return Object{}, fmt.Errorf("id %q is not %s--<uuid>", o.ID, o.Type)
	}
	if p.SpecVersion != nil {
		if *p.SpecVersion != "2.0" && *p.SpecVersion != "2.1" {
			return Object{}, fmt.Errorf("spec_version %q is neither 2.0 nor 2.1", *p.SpecVersion)
		}
		o.SpecVersion = *p.SpecVersion
	}
	for _, ts := range []struct {
		name string
		v    *string
	}{{"created", p.Created}, {"modified", p.Modified}} {
		if ts.v == nil {
			continue
		}
		t, err := ParseTime(*ts.v)
		if err != nil {
			return Object{}, fmt.Errorf("%s: %w", ts.name, err)
		}
		o.Version = t // modified comes last, so it wins
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return Object{}, fmt.Errorf("object: %w", err)
	}
	o.Raw = b.Bytes()
	return o, nil
}

// ParseTime parses a STIX or TAXII timestamp: RFC 3339 in UTC (Z), any
// number of fractional digits. The result is truncated to the microsecond,
// the store's precision.
func ParseTime(s string) (time.Time, error) {
	if !strings.HasSuffix(s, "Z") {
		return time.Time{}, fmt.Errorf("timestamp %q is not in UTC (Z)", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q is not RFC 3339", s)
	}
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("timestamp %q is out of range", s)
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

// ValidType reports whether s is a STIX type name: 3 to 250 characters of
// lowercase letters, digits and hyphens.
func ValidType(s string) bool {
	if len(s) < 3 || len(s) > 250 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidID reports whether s is a STIX identifier: type--uuid.
func ValidID(s string) bool {
	typ, u, ok := strings.Cut(s, "--")
	return ok && ValidType(typ) && ValidUUID(u)
}

// ValidUUID reports whether s is a UUID in its 8-4-4-4-12 lowercase or
// uppercase hexadecimal form.
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// NewUUID returns a random (version 4) UUID, for collection and status IDs.
func NewUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
