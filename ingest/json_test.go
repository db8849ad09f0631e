package ingest

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	in := `{
		"id": "tx-1", "kind": "card.tx", "time": "2018-04-01T10:17:43.5+02:00",
		"card": "4961", "customer": "c-4961", "terminal": "3412", "merchant": "m-88",
		"user": "ana", "ip": "192.0.2.7",
		"entities": [{"role": "device", "id": "d-1"}, {"id": "acct-9", "role": "account"}],
		"amount": 225.41, "currency": "EUR", "country": "FR", "lat": 45.19, "lon": 5.72,
		"mcc": "5411", "channel": "pos", "device": "ios", "user_agent": "Mozilla/5.0 \"quoted\" \u00e9\ud83d\ude00",
		"asn": 3215, "success": false, "attrs": {"region": "alps", "esc": "a\\b\/c\n"}
	}`
	ev := occsimore.Event{MemberID: "mem_1"}
	if err := DecodeJSON([]byte(in), &ev); err != nil {
		t.Fatal(err)
	}
	want := occsimore.Event{
		MemberID: "mem_1", ID: "tx-1", Kind: "card.tx",
		Time: time.Date(2018, 4, 1, 10, 17, 43, 5e8, time.FixedZone("", 7200)),
		Card: "4961", Customer: "c-4961", Terminal: "3412", Merchant: "m-88", User: "ana", IP: "192.0.2.7",
		Entities: []occsimore.Entity{{Role: "device", ID: "d-1"}, {Role: "account", ID: "acct-9"}},
		Amount:   225.41, Currency: "EUR", Country: "FR", Lat: 45.19, Lon: 5.72, HasLocation: true,
		MCC: "5411", Channel: "pos", Device: "ios", UserAgent: "Mozilla/5.0 \"quoted\" é😀",
		ASN: 3215, Success: false, HasSuccess: true,
		Attrs: map[string]string{"region": "alps", "esc": "a\\b/c\n"},
	}
	if d := diffEvents(&want, &ev); d != "" {
		t.Fatalf("event mismatch (-want +got):\n%s", d)
	}
	if got, want := ev.Time.Hour(), 10; got != want {
		t.Fatalf("local hour = %d, want %d", got, want)
	}
}

func TestDecodeJSONAccepts(t *testing.T) {
	t.Parallel()
	const base = `"kind":"card.tx","time":"2018-04-01T00:00:31Z"`
	tests := []struct {
		name string
		in   string
		want func(*occsimore.Event)
	}{
		{"null is absent", `{` + base + `,"id":null,"amount":null,"lat":null,"lon":null,"success":null,"entities":null,"attrs":null,"asn":null}`, func(*occsimore.Event) {}},
		{"escaped field name", `{"\u006bind":"card.tx","time":"2018-04-01T00:00:31Z"}`, func(*occsimore.Event) {}},
		{"escaped time", `{"kind":"card.tx","time":"2018-04-01T00:00:31\u005a"}`, func(*occsimore.Event) {}},
		{"empty arrays and objects", `{` + base + `,"entities":[],"attrs":{}}`, func(*occsimore.Event) {}},
		{"whitespace", " \t\r\n{ " + base + " , \"amount\" : 1e2 }\r\n ", func(ev *occsimore.Event) { ev.Amount = 100 }},
		{"negative zero", `{` + base + `,"amount":-0.0}`, func(*occsimore.Event) {}},
		{"success true", `{` + base + `,"success":true}`, func(ev *occsimore.Event) { ev.Success, ev.HasSuccess = true, true }},
		{"surrogate pair and nul", `{` + base + `,"card":"\ud83d\ude00\u0000"}`, func(ev *occsimore.Event) { ev.Card = "😀\x00" }},
		{"max asn", `{` + base + `,"asn":4294967295}`, func(ev *occsimore.Event) { ev.ASN = 4294967295 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := occsimore.Event{Kind: "card.tx", Time: time.Date(2018, 4, 1, 0, 0, 31, 0, time.UTC)}
			tt.want(&want)
			var ev occsimore.Event
			if err := DecodeJSON([]byte(tt.in), &ev); err != nil {
				t.Fatal(err)
			}
			if d := diffEvents(&want, &ev); d != "" {
				t.Fatalf("event mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	t.Parallel()
	const base = `"kind":"card.tx","time":"2018-04-01T00:00:31Z"`
	many := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, ",")
	}
	tests := []struct {
		name, in, field, msg string
	}{
		{"empty", " \n", "", "empty input"},
		{"array", `[1]`, "", "want an event object, got array"},
		{"null", `null`, "", "want an event object, got null"},
		{"garbage", `x`, "", "syntax error at byte 0: invalid character 'x' looking for the event object"},
		{"unknown field", `{` + base + `,"amout":3}`, "amout", `unknown field "amout"`},
		{"field names are case sensitive", `{"Kind":"card.tx"}`, "Kind", `unknown field "Kind"`},
		{"member is not on the wire", `{"member_id":"mem_2"}`, "member_id", `unknown field "member_id"`},
		{"long unknown field is clipped", `{"` + strings.Repeat("x", 100) + `":1}`, strings.Repeat("x", 64) + "...", "unknown field"},
		{"field twice", `{` + base + `,"kind":"auth.login"}`, "kind", `field "kind" given twice`},
		{"amount string", `{` + base + `,"amount":"3"}`, "amount", "amount: want a number, got string"},
		{"card number", `{` + base + `,"card":4961}`, "card", "card: want a string, got number"},
		{"success string", `{` + base + `,"success":"yes"}`, "success", "success: want a boolean, got string"},
		{"time number", `{"kind":"card.tx","time":1522540831}`, "time", "time: want a string, got number"},
		{"time layout", `{"kind":"card.tx","time":"2018-04-01 00:00:31"}`, "time", `time: want an RFC 3339 time, got "2018-04-01 00:00:31"`},
		{"amount out of range", `{` + base + `,"amount":1e400}`, "amount", "amount: number 1e400 is out of range"},
		{"asn too big", `{` + base + `,"asn":4294967296}`, "asn", "asn: want an integer in [0, 4294967295], got 4294967296"},
		{"asn fraction", `{` + base + `,"asn":1.5}`, "asn", "got 1.5"},
		{"asn negative", `{` + base + `,"asn":-1}`, "asn", "got -1"},
		{"lat without lon", `{` + base + `,"lat":45}`, "lon", "lat and lon must be given together"},
		{"lon without lat", `{` + base + `,"lon":5,"lat":null}`, "lat", "lat and lon must be given together"},
		{"entities object", `{` + base + `,"entities":{}}`, "entities", "entities: want an array, got object"},
		{"entity number", `{` + base + `,"entities":[1]}`, "entities", "entities[0]: want an object, got number"},
		{"entity unknown field", `{` + base + `,"entities":[{"role":"device","id":"d","x":1}]}`, "entities", `entities[0]: unknown field "x"`},
		{"entity id number", `{` + base + `,"entities":[{"role":"device","id":"d"},{"role":"x","id":1}]}`, "entities", "entities[1].id: want a string, got number"},
		{"entity role twice", `{` + base + `,"entities":[{"role":"a","role":"b"}]}`, "entities", `entities[0]: field "role" given twice`},
		{"entity fixed role", `{` + base + `,"entities":[{"role":"card","id":"c"}]}`, "entities", `role "card" has its own field`},
		{"too many entities", `{` + base + `,"entities":[` + many(17, func(i int) string { return fmt.Sprintf(`{"role":"r%d","id":"x"}`, i) }) + `]}`, "entities", "at most 16 extra entities"},
		{"entities trailing comma", `{` + base + `,"entities":[{"role":"a","id":"b"},]}`, "entities", "invalid character ']' looking for an entity"},
		{"attrs array", `{` + base + `,"attrs":[]}`, "attrs", "attrs: want an object, got array"},
		{"attr number", `{` + base + `,"attrs":{"region":1}}`, "attrs.region", "attrs.region: want a string, got number"},
		{"attr null", `{` + base + `,"attrs":{"region":null}}`, "attrs.region", "attrs.region: want a string, got null"},
		{"attr twice", `{` + base + `,"attrs":{"a":"1","a":"2"}}`, "attrs.a", `attribute "a" given twice`},
		{"attr name", `{` + base + `,"attrs":{"Region":"x"}}`, "attrs", `attribute name "Region"`},
		{"too many attrs", `{` + base + `,"attrs":{` + many(33, func(i int) string { return fmt.Sprintf(`"a%d":"x"`, i) }) + `}}`, "attrs", "at most 32 attributes"},
		{"trailing comma", `{"kind":"card.tx",}`, "", "syntax error at byte 18: invalid character '}' looking for a field name"},
		{"missing colon", `{"kind" "card.tx"}`, "", "syntax error at byte 8: invalid character '\"' after a field name, want ':'"},
		{"missing comma", `{"kind":"card.tx" "x":1}`, "", "syntax error at byte 18: invalid character '\"' after a value, want ',' or '}'"},
		{"bad number", `{"amount":12.}`, "amount", "syntax error at byte 13: invalid character '}' in number"},
		{"leading zero", `{"amount":01}`, "", "syntax error at byte 11: invalid character '1' after a value"},
		{"truncated string", `{"kind":"card`, "kind", "syntax error at byte 13: unexpected end of input"},
		{"truncated object", `{"kind":"card.tx"`, "", "syntax error at byte 17: unexpected end of input"},
		{"bad literal", `{"success":tru}`, "success", "syntax error at byte 14: invalid character '}' in literal true"},
		{"bad escape", `{"card":"a\x"}`, "card", `syntax error at byte 10: invalid escape 'x' in string`},
		{"short unicode escape", `{"card":"\u12"}`, "card", `invalid \u escape`},
		{"lone surrogate", `{"card":"\ud800"}`, "card", "lone UTF-16 surrogate"},
		{"reversed surrogates", `{"card":"\ude00\ud83d"}`, "card", "lone UTF-16 surrogate"},
		{"invalid UTF-8", "{\"card\":\"a\xffb\"}", "card", "syntax error at byte 8: invalid UTF-8 in string"},
		{"invalid UTF-8 after escape", "{\"card\":\"\\n\xff\"}", "card", "invalid UTF-8 in string"},
		{"control character", "{\"card\":\"a\nb\"}", "card", "syntax error at byte 10: control character 0x0a in string"},
		{"data after", `{` + base + `} {}`, "", "unexpected data after the event object"},
		{"negative amount", `{` + base + `,"amount":-3}`, "amount", "amount -3 is negative"},
		{"huge amount", `{` + base + `,"amount":1e160}`, "amount", "amount 1e+160 is above the bound 1e+15"},
		{"huge numeric attribute", `{` + base + `,"attrs":{"limit":"1e160"}}`, "attrs.limit", "number 1e160 is outside [-1e+100, 1e+100]"},
		{"no kind", `{"time":"2018-04-01T00:00:31Z"}`, "kind", "kind \"\" must be"},
		{"null time", `{"kind":"card.tx","time":null}`, "time", "time is required"},
		{"time before 1970", `{"kind":"card.tx","time":"1969-12-31T23:59:59Z"}`, "time", "between 1970 and 2100"},
		{"currency", `{` + base + `,"currency":"eur"}`, "currency", "three uppercase letters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev occsimore.Event
			err := DecodeJSON([]byte(tt.in), &ev)
			if err == nil {
				t.Fatalf("DecodeJSON(%s) = nil, want an error", tt.in)
			}
			wantInvalid(t, err, tt.field, tt.msg)
		})
	}
}

func TestDecodeJSONErrorText(t *testing.T) {
	t.Parallel()
	err := DecodeJSON([]byte(`{"amount":"3"}`), new(occsimore.Event))
	if got, want := err.Error(), "occsimore: invalid: amount: want a number, got string (field amount)"; got != want {
		t.Fatalf("error = %q, want %q", got, want)
	}
}

// TestDecodeJSONRoundTrip decodes the wire form of many random events and
// checks the result against the event and against encoding/json.
func TestDecodeJSONRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	var got, ref occsimore.Event
	for i := range 3000 {
		want := randomEvent(r)
		if err := want.Validate(); err != nil {
			t.Fatalf("random event %d is invalid: %v", i, err)
		}
		b := mustJSON(t, want)
		want.MemberID, got.MemberID, ref.MemberID = "", "", ""
		if err := DecodeJSON(b, &got); err != nil {
			t.Fatalf("event %d: DecodeJSON(%s): %v", i, b, err)
		}
		if d := diffEvents(&want, &got); d != "" {
			t.Fatalf("event %d %s: mismatch (-want +got):\n%s", i, b, d)
		}
		if err := stdlibDecode(b, &ref); err != nil {
			t.Fatalf("event %d: stdlib: %v", i, err)
		}
		if d := diffEvents(&ref, &got); d != "" {
			t.Fatalf("event %d %s: differs from encoding/json (-std +got):\n%s", i, b, d)
		}
	}
}

func TestDecodeJSONReuse(t *testing.T) {
	t.Parallel()
	ev := occsimore.Event{
		MemberID: "mem_1",
		Entities: make([]occsimore.Entity, 1, 4),
		Attrs:    map[string]string{"old": "x"},
		Amount:   9, HasLocation: true, Lat: 1, Lon: 2,
	}
	array, attrs := &ev.Entities[:1][0], reflect.ValueOf(ev.Attrs).Pointer()
	in := `{"kind":"card.tx","time":"2018-04-01T00:00:31Z","entities":[{"role":"device","id":"d"}],"attrs":{"new":"y"}}`
	if err := DecodeJSON([]byte(in), &ev); err != nil {
		t.Fatal(err)
	}
	want := occsimore.Event{
		MemberID: "mem_1", Kind: "card.tx", Time: time.Date(2018, 4, 1, 0, 0, 31, 0, time.UTC),
		Entities: []occsimore.Entity{{Role: "device", ID: "d"}}, Attrs: map[string]string{"new": "y"},
	}
	if d := diffEvents(&want, &ev); d != "" {
		t.Fatalf("event mismatch (-want +got):\n%s", d)
	}
	if &ev.Entities[0] != array {
		t.Error("Entities' array was not reused")
	}
	if reflect.ValueOf(ev.Attrs).Pointer() != attrs {
		t.Error("Attrs' map was not reused")
	}
}

// TestDecodeJSONAllocs checks that decoding allocates only the event's own
// strings: common values (kind, EUR, pos) and hour-aligned zones are free.
func TestDecodeJSONAllocs(t *testing.T) {
	in := []byte(`{"id":"tx-1","kind":"card.tx","time":"2018-04-01T00:02:10+02:00","card":"4961","terminal":"3412","amount":81.51,"currency":"EUR","country":"FR","channel":"pos"}`)
	var ev occsimore.Event
	allocs := testing.AllocsPerRun(100, func() {
		if err := DecodeJSON(in, &ev); err != nil {
			t.Fatal(err)
		}
	})
	if got, want := allocs, 4.0; got > want { // id, card, terminal, country
		t.Fatalf("DecodeJSON allocates %v times, want at most %v", got, want)
	}
}
