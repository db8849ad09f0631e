// Package misp converts share indicators to and from MISP events (the MISP
// core format of MISP 2.4), writes MISP feeds (manifest.json, hashes.csv and
// one <uuid>.json per event) and reads MISP event JSON.
//
// It applies the same gates as the STIX path: TLP 2.0 enforcement before
// anything is written (TLP:RED never; AMBER and AMBER+STRICT only to the
// recipients share.MayExport allows) and customer-linked identifiers only as
// tokens, in a text attribute of category Other.
//
// It is pure logic: no file or network I/O beyond the writer given to
// WriteFeed and the bytes given to Import.
package misp

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Event is a MISP event as the core format writes it. Only the fields
// occsimore produces are modelled; every one is in the MISP 2.4 event schema
// (format/2.4/schema.json), which forbids any other.
type Event struct {
	UUID             string      `json:"uuid"`
	Info             string      `json:"info"`
	Date             string      `json:"date"`      // YYYY-MM-DD
	Timestamp        string      `json:"timestamp"` // Unix seconds, as a string
	PublishTimestamp string      `json:"publish_timestamp,omitempty"`
	Published        bool        `json:"published"`
	Analysis         string      `json:"analysis"`        // 0 initial, 1 ongoing, 2 completed
	ThreatLevelID    string      `json:"threat_level_id"` // 1 high, 2 medium, 3 low, 4 undefined
	Distribution     string      `json:"distribution"`    // 0 organisation, 1 community, 2 connected, 3 all
	Orgc             *Org        `json:"Orgc,omitempty"`
	Tag              []Tag       `json:"Tag,omitempty"`
	Attribute        []Attribute `json:"Attribute"`
	Galaxy           []Galaxy    `json:"Galaxy,omitempty"`
}

// Org is the creator organisation of an event.
type Org struct {
	Name string `json:"name,omitempty"`
	UUID string `json:"uuid"`
}

// Tag is a MISP tag; taxonomies are machine tags namespace:predicate="value".
type Tag struct {
	Name       string `json:"name"`
	Colour     string `json:"colour,omitempty"`
	Exportable bool   `json:"exportable,omitempty"`
}

// Attribute is one value of an event.
type Attribute struct {
	UUID         string `json:"uuid"`
	Type         string `json:"type"`
	Category     string `json:"category"`
	ToIDS        bool   `json:"to_ids"`
	Distribution string `json:"distribution"` // "5": inherit the event's
	Timestamp    string `json:"timestamp"`
	Comment      string `json:"comment,omitempty"`
	Value        string `json:"value"`
	Deleted      bool   `json:"deleted,omitempty"`
	Tag          []Tag  `json:"Tag,omitempty"`
	// Sighting is the MISP core format's list of sightings of the
	// attribute. The 2.4 schema does not list it: it is written only when
	// ExportOptions.Sightings asks for it.
	Sighting []Sighting `json:"Sighting,omitempty"`
}

// Sighting is one MISP sighting: someone saw the attribute's value at a time.
type Sighting struct {
	Type         string `json:"type"`          // "0" sighting, "1" false positive, "2" expiration
	DateSighting string `json:"date_sighting"` // Unix seconds
	Source       string `json:"source,omitempty"`
}

// Galaxy is a MISP galaxy (a family of clusters, e.g. MITRE ATT&CK attack
// patterns) with the clusters an event refers to.
type Galaxy struct {
	Name          string    `json:"name"`
	Type          string    `json:"type"`
	Description   string    `json:"description,omitempty"`
	GalaxyCluster []Cluster `json:"GalaxyCluster"`
}

// Cluster is one galaxy cluster (one attack pattern).
type Cluster struct {
	Type        string `json:"type"`
	Value       string `json:"value"`
	TagName     string `json:"tag_name"`
	Description string `json:"description,omitempty"`
	Source      string `json:"source,omitempty"`
}

// wrapped is the {"Event": {...}} document MISP writes for one event.
type wrapped struct {
	Event *Event `json:"Event"`
}

// MarshalEvent writes an event as MISP does: {"Event": {...}}, without
// HTML escaping (URLs keep their '&').
func MarshalEvent(e *Event) ([]byte, error) {
	return marshal(wrapped{e})
}

func marshal(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// namespace is occsimore's UUIDv5 namespace for MISP objects it derives
// from content (events, organisations), so that a re-export updates the
// same event instead of creating a new one.
var namespace = uuid.UUID{0x6f, 0x63, 0x63, 0x73, 0x2d, 0x6d, 0x69, 0x73, 0x70, 0x2d, 0x6e, 0x73, 0x2d, 0x76, 0x31, 0x00}

// DerivedUUID is a UUIDv5 (RFC 9562) over the parts in occsimore's MISP
// namespace. Never call it over a customer-linked value in clear: it is an
// unkeyed hash.
func DerivedUUID(parts ...string) string {
	return uuid.NewSHA1(namespace, []byte(strings.Join(parts, "\x00"))).String()
}

// validUUID accepts the 8-4-4-4-12 hex form, either case.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
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

// flexString decodes a JSON string or number: MISP writes ids and
// timestamps as strings, some producers as numbers.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if string(b) == "null" {
		*f = ""
		return nil
	}
	if _, err := strconv.ParseFloat(string(b), 64); err != nil {
		return fmt.Errorf("want a string or a number, got %.20s", b)
	}
	*f = flexString(b)
	return nil
}
