package parse

import (
	"strings"
	"testing"
	"time"
)

func TestJSONMapping(t *testing.T) {
	t.Parallel()
	m := &JSONMapping{
		Name: "app", Kind: KindAuthFailure,
		Time: "ts", IP: "client.addr", User: "user", Message: "msg", Status: "code",
		Extra: []string{"client.country", "attempts"}, Required: []string{"event"},
	}
	line := `{"ts":"2026-11-27T10:15:01+01:00","event":"login_failed","client":{"addr":"[2001:db8::9]:443","country":"FR"},"user":"eve","msg":"bad password","code":401,"attempts":3}`
	e, err := Parse([]byte(line), Hint{JSON: m})
	if err != nil {
		t.Fatal(err)
	}
	checkEntry(t, line, e, KindAuthFailure, "2001:db8::9", "eve")
	if got, want := e.Source, "app"; got != want {
		t.Errorf("Source = %q, want %q", got, want)
	}
	if got, want := e.Time, time.Date(2026, 11, 27, 9, 15, 1, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Time = %v, want %v", got, want)
	}
	if e.Status != 401 || e.Message != "bad password" || e.Fields["client.country"] != "FR" || e.Fields["attempts"] != "3" {
		t.Errorf("got %+v", e)
	}

	bare := &JSONMapping{}
	if _, err := bare.ParseString(`{"a":1}  `); err != nil {
		t.Errorf("bare object: %v", err)
	}
	if _, err := bare.ParseString(`{"a":1} {"a":2}`); err == nil {
		t.Error("two objects on one line parsed")
	}

	epoch := &JSONMapping{Time: "t", TimeLayout: "unix_ms", IP: "ip"}
	e, err = epoch.ParseString(`{"t":1764238501500,"ip":"192.0.2.1:80"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.Time, time.UnixMilli(1764238501500).UTC(); !got.Equal(want) {
		t.Errorf("Time = %v, want %v", got, want)
	}
	checkEntry(t, "epoch", e, KindJSON, "192.0.2.1", "")

	for _, bad := range []string{
		`{"ts":"2026-11-27T10:15:01Z","client":{"addr":"1.2.3.4"}}`,             // missing required
		`{"ts":"nope","event":1}`,                                               // bad time
		`{"ts":"2026-11-27T10:15:01Z","event":1,"client":{"addr":"not-an-ip"}}`, // bad ip
		`{"ts":"2026-11-27T10:15:01Z","event":1,"code":"abc"}`,                  // bad status
		`[1,2]`, `null`, `{`,
	} {
		if e, err := m.ParseString(bad); err == nil {
			t.Errorf("%s: parsed as %+v, want an error", bad, e)
		}
	}
}

func TestEnvoyCRI(t *testing.T) {
	t.Parallel()
	lines := readLines(t, "testdata/crowdsec/envoy-http-crawl-non_statics.log")
	for _, line := range lines {
		e, err := Parse([]byte(line), Hint{JSON: EnvoyAccessJSON()})
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		checkEntry(t, line, e, KindHTTPAccess, "10.0.0.13", "")
		if e.Framing != FramingCRI || e.Source != "envoy" || e.Method != "GET" || e.Status != 404 ||
			e.Host != "crawl.internal" || !strings.HasPrefix(e.Path, "/page-") {
			t.Errorf("%q: got %+v", line, e)
		}
	}
	e, err := Parse([]byte(lines[0]), Hint{JSON: EnvoyAccessJSON()})
	if err != nil {
		t.Fatal(err)
	}
	// start_time inside the JSON wins over the runtime's time.
	if got, want := e.Time, time.Date(2025, 12, 31, 16, 40, 0, 100e6, time.UTC); !got.Equal(want) {
		t.Errorf("Time = %v, want %v", got, want)
	}
	if _, err := Parse([]byte(lines[0]), Hint{}); err == nil {
		t.Error("JSON line without a mapping parsed")
	}
	nested := "2025-12-31T17:40:00Z stdout F 2025-12-31T17:40:00Z stdout F hello"
	if _, err := Parse([]byte(nested), Hint{}); err == nil {
		t.Error("nested CRI line parsed")
	}
	// CRI framing around an access line: the line's own time wins.
	e, err = Parse([]byte("2025-12-31T17:40:00Z stderr F 192.0.2.1 - - [31/Dec/2025:17:39:59 +0000] \"GET / HTTP/1.1\" 200 1"), Hint{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.Time, time.Date(2025, 12, 31, 17, 39, 59, 0, time.UTC); !got.Equal(want) || e.Framing != FramingCRI {
		t.Errorf("Time, Framing = %v, %q; want %v, cri", got, e.Framing, want)
	}
}
