package taxii

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAcceptable(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                                    true,
		"application/taxii+json;version=2.1":  true,
		"application/taxii+json; version=2.1": true,
		"application/taxii+json":              true,
		"*/*":                                 true,
		"text/html, application/taxii+json;version=2.1;q=0.9": true,
		"application/taxii+json;version=2.0":                  false,
		"application/json":                                    false,
		"application/stix+json;version=2.1":                   false,
		"application/taxii+json;version=2.1;q=0":              false,
		"text/html":                                           false,
	} {
		if got := Acceptable(accept); got != want {
			t.Errorf("Acceptable(%q) = %v, want %v", accept, got, want)
		}
	}
	for ct, want := range map[string]bool{
		"application/taxii+json;version=2.1": true,
		"application/taxii+json":             true,
		"application/taxii+json;version=2.0": false,
		"application/json":                   false,
		"":                                   false,
		"application/stix+json;version=2.1":  false,
	} {
		if got := ContentTypeOK(ct); got != want {
			t.Errorf("ContentTypeOK(%q) = %v, want %v", ct, got, want)
		}
	}
}

func TestParseObject(t *testing.T) {
	o, err := ParseObject([]byte(`{"type":"indicator","id":"indicator--6770298f-0fd8-471a-ab8c-1c658a46574e",
		"spec_version":"2.1","created":"2016-11-03T12:30:59.000Z","modified":"2017-01-27T13:49:53.935382Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if o.Type != "indicator" || o.SpecVersion != "2.1" || !o.Version.Equal(time.Date(2017, 1, 27, 13, 49, 53, 935382000, time.UTC)) {
		t.Fatalf("ParseObject = %+v", o)
	}
	if strings.ContainsAny(string(o.Raw), "\n\t") {
		t.Fatalf("raw not compacted: %s", o.Raw)
	}
	// No spec_version: STIX 2.0. Only created: the version is created.
	o, err = ParseObject([]byte(`{"type":"malware","id":"malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec","created":"2017-01-27T13:49:53.997Z"}`))
	if err != nil || o.SpecVersion != "2.0" || o.Version.IsZero() {
		t.Fatalf("ParseObject 2.0 = %+v, %v", o, err)
	}
	for _, bad := range []string{
		`[]`, `{}`, `{"type":"indicator"}`,
		`{"type":"indicator","id":"malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec"}`,
		`{"type":"indicator","id":"indicator--nope"}`,
		`{"type":"indicator","id":"indicator--c0931cc6-c75e-47e5-9036-78fabc95d4ec","modified":"2017-01-27"}`,
		`{"type":"indicator","id":"indicator--c0931cc6-c75e-47e5-9036-78fabc95d4ec","modified":"2017-01-27T13:49:53+01:00"}`,
		`{"type":"indicator","id":"indicator--c0931cc6-c75e-47e5-9036-78fabc95d4ec","spec_version":"3.0"}`,
	} {
		if _, err := ParseObject([]byte(bad)); err == nil {
			t.Errorf("ParseObject(%s) accepted", bad)
		}
	}
}

func TestParseFilter(t *testing.T) {
	v := url.Values{
		"added_after":         {"2016-11-01T00:00:00Z"},
		"match[type]":         {"indicator,malware"},
		"match[id]":           {"indicator--6770298f-0fd8-471a-ab8c-1c658a46574e"},
		"match[version]":      {"first,2016-12-25T12:30:59.444Z"},
		"match[spec_version]": {"2.1"},
		"unrelated":           {"x"},
	}
	f, err := ParseFilter(v, EndpointObjects)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Types) != 2 || len(f.IDs) != 1 || !f.Versions.First || f.Versions.Last || len(f.Versions.Times) != 1 ||
		f.SpecVersions[0] != "2.1" || !f.AddedAfter.Equal(time.Date(2016, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("ParseFilter = %+v", f)
	}
	if f, _ := ParseFilter(url.Values{}, EndpointObjects); !f.Versions.Last || f.Versions.All {
		t.Fatalf("default version on objects = %+v, want last", f.Versions)
	}
	if f, _ := ParseFilter(url.Values{}, EndpointVersions); !f.Versions.All {
		t.Fatalf("default version on versions = %+v, want all", f.Versions)
	}
	if f, _ := ParseFilter(url.Values{"match[version]": {"first,all"}}, EndpointObjects); !f.Versions.All || f.Versions.First {
		t.Fatalf("all with first = %+v, want all alone", f.Versions)
	}
	for _, bad := range []url.Values{
		{"added_after": {"yesterday"}},
		{"match[type]": {"Indicator"}},
		{"match[id]": {"indicator--x"}},
		{"match[version]": {"latest"}},
		{"match[spec_version]": {"2.2"}},
		{"match[foo]": {"x"}},
		{"match[type]": {"indicator,"}},
		{"match[type]": {"indicator", "malware"}},
		{"match[type]": {strings.Repeat("ab,", 200) + "ab"}},
	} {
		if _, err := ParseFilter(bad, EndpointObjects); err == nil {
			t.Errorf("ParseFilter(%v) accepted", bad)
		}
	}
	if _, err := ParseFilter(url.Values{"match[type]": {"indicator"}}, EndpointObject); err == nil {
		t.Error("match[type] accepted on a single object")
	}
	if _, err := ParseFilter(url.Values{"match[version]": {"last"}}, EndpointVersions); err == nil {
		t.Error("match[version] accepted on versions")
	}
}

func TestParseQueryLimit(t *testing.T) {
	c := NewCursors([]byte("k"))
	for s, want := range map[string]int{"": 100, "1": 1, "100": 100, "5000": 100} {
		q, err := ParseQuery(url.Values{"limit": {s}}, EndpointObjects, 100, c, "s")
		if err != nil || q.Limit != want {
			t.Errorf("limit %q: %d, %v; want %d", s, q.Limit, err, want)
		}
	}
	for _, s := range []string{"0", "-1", "x", "1.5"} {
		if _, err := ParseQuery(url.Values{"limit": {s}}, EndpointObjects, 100, c, "s"); err == nil {
			t.Errorf("limit %q accepted", s)
		}
	}
}

func TestCursor(t *testing.T) {
	c := NewCursors([]byte("0123456789abcdef0123456789abcdef"))
	f, _ := ParseFilter(url.Values{"match[type]": {"indicator"}}, EndpointObjects)
	p := Position{DateAdded: time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC), Seq: 424242}
	s := c.Encode("mem_a/col", f, p)
	got, err := c.Decode("mem_a/col", f, s)
	if err != nil || !got.DateAdded.Equal(p.DateAdded) || got.Seq != p.Seq {
		t.Fatalf("Decode = %+v, %v; want %+v", got, err, p)
	}
	// Through ParseQuery, with the filter's values in another order.
	q, err := ParseQuery(url.Values{"match[type]": {"indicator"}, "next": {s}}, EndpointObjects, 10, c, "mem_a/col")
	if err != nil || q.After == nil || q.After.Seq != p.Seq {
		t.Fatalf("ParseQuery with next = %+v, %v", q, err)
	}
	other, _ := ParseFilter(url.Values{"match[type]": {"malware"}}, EndpointObjects)
	if _, err := c.Decode("mem_b/col", f, s); err == nil {
		t.Error("cursor accepted in another scope")
	}
	if _, err := c.Decode("mem_a/col", other, s); err == nil {
		t.Error("cursor accepted for another filter")
	}
	if _, err := NewCursors([]byte("another key")).Decode("mem_a/col", f, s); err == nil {
		t.Error("cursor accepted under another key")
	}
	// Flipping any byte of the cursor breaks it.
	for i := range len(s) {
		b := []byte(s)
		b[i] ^= 1
		if _, err := c.Decode("mem_a/col", f, string(b)); err == nil {
			t.Errorf("cursor with byte %d flipped accepted", i)
		}
	}
}
