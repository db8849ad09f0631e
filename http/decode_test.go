package http_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/occsimore/occsimore"
	occhttp "github.com/occsimore/occsimore/http"
)

// decodeTarget resembles a request body with nesting, to exercise paths.
type decodeTarget struct {
	Name   string         `json:"name"`
	Role   occsimore.Role `json:"role"`
	Count  int            `json:"count"`
	Labels []string       `json:"labels"`
	Window struct {
		From  int   `json:"from"`
		Hours []int `json:"hours"`
	} `json:"window"`
}

func decodeString(body string, v any) error {
	return occhttp.Decode(httptest.NewRequest("POST", "/", strings.NewReader(body)), v)
}

func TestDecode(t *testing.T) {
	cases := []struct {
		body  string
		code  string
		field string
	}{
		{`{"name":"x","count":3,"labels":["a"],"window":{"from":1,"hours":[1,2]}}`, "", ""},
		{` {"name":"x"} ` + "\n", "", ""},
		{``, occsimore.EINVALID, ""},
		{`   `, occsimore.EINVALID, ""},
		{`{"name":"x"}{"name":"y"}`, occsimore.EINVALID, ""},
		{`{"name":"x"} trailing`, occsimore.EINVALID, ""},
		{`{"nmae":"x"}`, occsimore.EINVALID, "nmae"},
		{`{"window":{"form":1}}`, occsimore.EINVALID, "form"},
		{`{"count":"3"}`, occsimore.EINVALID, "count"},
		{`{"count":1.5}`, occsimore.EINVALID, "count"},
		{`{"count":1e99}`, occsimore.EINVALID, "count"},
		{`{"window":{"hours":[1,"2"]}}`, occsimore.EINVALID, "window.hours"},
		{`{"name":"x","role": admin}`, occsimore.EINVALID, "role"},
		{`{"name":"x","labels":["a",}`, occsimore.EINVALID, "labels.1"},
		{`{"name":"x","window":{"hours":[1,2,x]}}`, occsimore.EINVALID, "window.hours.2"},
		{`{"name":"x","window":{"from":`, occsimore.EINVALID, "window.from"},
		{`{"name":"unterminated`, occsimore.EINVALID, "name"},
		{`[1,2]`, occsimore.EINVALID, ""},
		{`"text"`, occsimore.EINVALID, ""},
		{`{"name":"x",}`, occsimore.EINVALID, "name"},
		{`{"labels":[x]}`, occsimore.EINVALID, "labels.0"},
		{`{"labels":["a" "b"]}`, occsimore.EINVALID, "labels.1"},
		// Invalid UTF-8 used to become U+FFFD silently.
		{"{\"name\":\"\xff@x.example\"}", occsimore.EINVALID, "name"},
		{"{\"name\":\"ok\",\"labels\":[\"a\",\"b\xc3\"]}", occsimore.EINVALID, "labels.1"},
		{"{\"window\":{\"from\":1},\"role\":\"adm\xe9in\"}", occsimore.EINVALID, "role"},
		{"{\"name\":\"caf\xc3\xa9\"}", "", ""},
	}
	for _, c := range cases {
		var v decodeTarget
		err := decodeString(c.body, &v)
		if got, want := occsimore.ErrorCode(err), c.code; got != want {
			t.Errorf("%s: code %q, want %q (%v)", c.body, got, want, err)
			continue
		}
		if got, want := occsimore.ErrorField(err), c.field; got != want {
			t.Errorf("%s: field %q, want %q (%v)", c.body, got, want, err)
		}
		if c.field != "" && !strings.Contains(occsimore.ErrorMessage(err), c.field) {
			t.Errorf("%s: message %q does not name field %s", c.body, occsimore.ErrorMessage(err), c.field)
		}
	}
}

func TestDecodeValues(t *testing.T) {
	var v decodeTarget
	if err := decodeString(`{"name":"x","role":"admin","count":3,"window":{"hours":[4]}}`, &v); err != nil {
		t.Fatal(err)
	}
	if got, want := v.Name+"/"+string(v.Role), "x/admin"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := v.Window.Hours[0], 4; got != want {
		t.Errorf("hours[0] = %d, want %d", got, want)
	}
}

// FuzzDecode checks that arbitrary bodies never panic, never surface as
// internal errors, and are accepted only when they are one valid JSON value
// that survives a round trip.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"name":"x","count":3,"labels":["a"],"window":{"from":1,"hours":[1,2]}}`,
		`{"name":"x","role": admin}`, `{"window":{"hours":[1,"2"]}}`, `{"a":1}`, `[`, `{"name":"\u00e9"}`, `null`, "{\"name\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v decodeTarget
		err := decodeString(string(body), &v)
		if err != nil {
			if got := occsimore.ErrorCode(err); got != occsimore.EINVALID {
				t.Fatalf("code %q for %q, want invalid (%v)", got, body, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if !utf8.Valid(body) {
			t.Fatalf("accepted invalid UTF-8 %q", body)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var again decodeTarget
		if err := decodeString(string(b), &again); err != nil {
			t.Fatalf("re-encoded value %s rejected: %v", b, err)
		}
	})
}

// TestInvalidUTF8Refused: tokens, users, decisions and members used to store
// "\xff@x.example" as U+FFFD; each now answers 400 naming the field.
func TestInvalidUTF8Refused(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, path, bearer, body, field string
	}{
		{"user email", "/v1/users", f.bankAdmin, "{\"email\":\"\xff@x.example\",\"name\":\"X\",\"role\":\"reader\",\"password\":\"tram lilac ferry oboe\"}", "email"},
		{"user name", "/v1/users", f.bankAdmin, "{\"email\":\"x@x.example\",\"name\":\"X\xc3\",\"role\":\"reader\",\"password\":\"tram lilac ferry oboe\"}", "name"},
		{"token name", "/v1/tokens", f.bankAdmin, "{\"name\":\"ci \xfe\",\"role\":\"reader\"}", "name"},
		{"decision value", "/v1/decisions", f.bankAdmin, "{\"action\":\"ban\",\"scope\":\"user\",\"value\":\"bob\xff\",\"duration\":\"1h\"}", "value"},
		{"decision scenario", "/v1/decisions", f.bankAdmin, "{\"action\":\"ban\",\"scope\":\"ip\",\"value\":\"192.0.2.1\",\"duration\":\"1h\",\"scenario\":\"\xe2\x82\"}", "scenario"},
		{"member name", "/v1/members", f.opsAdmin, "{\"slug\":\"utf-probe\",\"name\":\"Probe \xff\",\"sector\":\"other\"}", "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(t, "POST", tc.path, tc.bearer, tc.body)
			if p := r.problem(t); r.status != http.StatusBadRequest || p.Field != tc.field || !strings.Contains(p.Detail, "UTF-8") {
				t.Fatalf("status %d body %s, want 400 naming field %s as not UTF-8", r.status, r.body, tc.field)
			}
		})
	}
}
