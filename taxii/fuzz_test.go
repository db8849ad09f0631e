package taxii

import (
	"net/url"
	"testing"
	"time"
)

// FuzzParseQuery feeds arbitrary query strings and cursors to the filter
// and cursor parsers: they must never panic, and an accepted cursor must be
// one the server issued (same position back).
func FuzzParseQuery(f *testing.F) {
	c := NewCursors([]byte("fuzz key, fuzz key, fuzz key 123"))
	base, _ := ParseFilter(url.Values{}, EndpointObjects)
	issued := c.Encode("scope", base, Position{DateAdded: time.Unix(1700000000, 123000).UTC(), Seq: 7})
	f.Add("added_after=2016-11-01T00:00:00Z&limit=10", "")
	f.Add("match[type]=indicator,malware&match[version]=first,last", "")
	f.Add("match[version]=2016-12-25T12:30:59.444Z&match[spec_version]=2.0,2.1", "")
	f.Add("match[id]=indicator--6770298f-0fd8-471a-ab8c-1c658a46574e", issued)
	f.Add("limit=-1&match[foo]=1", "AQ")
	f.Add("", issued)
	f.Fuzz(func(t *testing.T, raw, next string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if next != "" {
			v.Set("next", next)
		}
		for _, ep := range []Endpoint{EndpointObjects, EndpointObject, EndpointVersions, EndpointDelete} {
			q, err := ParseQuery(v, ep, 1000, c, "scope")
			if err != nil {
				continue
			}
			if q.Limit < 1 || q.Limit > 1000 {
				t.Fatalf("limit %d out of [1, 1000]", q.Limit)
			}
			if q.After != nil && next != issued {
				// Only a cursor byte for byte equal to... or decoding to the
				// same signed body may pass.
				again := c.Encode("scope", q.Filter, *q.After)
				if _, err := c.Decode("scope", q.Filter, again); err != nil {
					t.Fatalf("re-encoded cursor rejected: %v", err)
				}
				if again != next {
					t.Fatalf("cursor %q accepted but the server would issue %q for its position", next, again)
				}
			}
		}
	})
}

// FuzzParseObject checks that object parsing never panics and that what it
// accepts is consistent.
func FuzzParseObject(f *testing.F) {
	f.Add(`{"type":"indicator","id":"indicator--6770298f-0fd8-471a-ab8c-1c658a46574e","spec_version":"2.1","modified":"2017-01-27T13:49:53.935Z"}`)
	f.Add(`{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`)
	f.Add(`{"type":1}`)
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseObject([]byte(s))
		if err != nil {
			return
		}
		if !ValidID(o.ID) || !ValidType(o.Type) || (o.SpecVersion != "2.0" && o.SpecVersion != "2.1") {
			t.Fatalf("accepted %+v", o)
		}
	})
}
