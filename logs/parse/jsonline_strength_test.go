package parse

import (
	"testing"
	"time"
)

// JSON lines at their edges (issue 13).
func TestJSONMappingEdges(t *testing.T) {
	m := &JSONMapping{Time: "ts", TimeLayout: "unix_ms", IP: "client.addr", User: "u", Status: "st", Extra: []string{"n", "b", "o", "missing"}}
	e, err := m.ParseString(`{"ts": 1700000000123, "client": {"addr": "[2001:db8::1]:443"}, "u": "amy", "st": "404", "n": 7, "b": true, "o": {"k": [1]}}`)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(1700000000, 123e6).UTC(); !e.Time.Equal(want) {
		t.Errorf("time %v, want %v", e.Time, want)
	}
	if e.SourceIP.String() != "2001:db8::1" || e.User != "amy" || e.Status != 404 || e.Source != "json" || e.Kind != KindJSON || e.Count != 1 {
		t.Errorf("entry %+v", e)
	}
	if e.Fields["n"] != "7" || e.Fields["b"] != "true" || e.Fields["o"] != `{"k":[1]}` || len(e.Fields) != 3 {
		t.Errorf("fields %v", e.Fields)
	}
	for _, tc := range []struct {
		m    *JSONMapping
		line string
		ok   bool
	}{
		{&JSONMapping{Time: "t", TimeLayout: "unix"}, `{"t": 1e15}`, true},
		{&JSONMapping{Time: "t", TimeLayout: "unix"}, `{"t": 1.0000001e15}`, false},
		{&JSONMapping{Time: "t", TimeLayout: "unix"}, `{"t": -1e15}`, true},
		{&JSONMapping{Time: "t", TimeLayout: "unix"}, `{"t": "1"}`, false},
		{&JSONMapping{Time: "t"}, `{"t": 1}`, false},
		{&JSONMapping{Time: "t"}, `{}`, false},
		{&JSONMapping{IP: "ip"}, `{"ip": "192.0.2.1:80"}`, true},
		{&JSONMapping{IP: "ip"}, `{"ip": "192.0.2.1:x"}`, false},
		{&JSONMapping{IP: "ip"}, `{"ip": ":80"}`, false},
		{&JSONMapping{IP: "ip"}, `{"ip": "-"}`, true},
		{&JSONMapping{IP: "ip"}, `{"ip": ""}`, true},
		{&JSONMapping{Status: "s"}, `{"s": "2xx"}`, false},
		{&JSONMapping{Required: []string{"a.b"}}, `{"a": {"b": null}}`, true},
		{&JSONMapping{Required: []string{"a.b"}}, `{"a": "b"}`, false},
		{&JSONMapping{}, `{} {}`, false},
		{&JSONMapping{}, `null`, false},
		{&JSONMapping{}, `[1]`, false},
	} {
		_, err := tc.m.ParseString(tc.line)
		if (err == nil) != tc.ok {
			t.Errorf("%+v on %s: err = %v, want ok %v", tc.m, tc.line, err, tc.ok)
		}
	}
	e, err = (&JSONMapping{Time: "t", TimeLayout: "unix"}).ParseString(`{"t": 1700000000.5}`)
	if err != nil || !e.Time.Equal(time.Unix(1700000000, 5e8)) {
		t.Errorf("fractional epoch: %v, %v", e.Time, err)
	}
	e, err = (&JSONMapping{IP: "ip"}).ParseString(`{"ip": "-"}`)
	if err != nil || e.SourceIP.IsValid() {
		t.Errorf(`"-" address: %v, %v`, e.SourceIP, err)
	}
	e, err = (&JSONMapping{Name: "envoy", Kind: KindHTTPAccess}).ParseString(`{}`)
	if err != nil || e.Source != "envoy" || e.Kind != KindHTTPAccess {
		t.Errorf("named mapping: %+v, %v", e, err)
	}
}
