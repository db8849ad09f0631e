package occsimore_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

func validEvent() occsimore.Event {
	return occsimore.Event{
		MemberID: "mem_a", ID: "ev1", Kind: "card.tx", Time: time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC),
		Card: "c1", Customer: "u1", Terminal: "t1", Merchant: "m1", Amount: 12.5, Currency: "EUR", Country: "FR",
		Lat: 48.85, Lon: 2.35, HasLocation: true, MCC: "5411", Channel: "pos",
		Entities: []occsimore.Entity{{Role: "account", ID: "acc1"}}, Attrs: map[string]string{"plan": "gold"},
	}
}

func TestEventValidate(t *testing.T) {
	if err := (&occsimore.Event{Kind: "auth.login", Time: time.Unix(1e9, 0), User: "u"}).Validate(); err != nil {
		t.Errorf("minimal login: %v", err)
	}
	ev := validEvent()
	if err := ev.Validate(); err != nil {
		t.Fatalf("valid event: %v", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*occsimore.Event)
		field string
	}{
		{"empty kind", func(e *occsimore.Event) { e.Kind = "" }, "kind"},
		{"kind with capitals", func(e *occsimore.Event) { e.Kind = "Card.TX" }, "kind"},
		{"zero time", func(e *occsimore.Event) { e.Time = time.Time{} }, "time"},
		{"time before 1970", func(e *occsimore.Event) { e.Time = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC) }, "time"},
		{"time after 2100", func(e *occsimore.Event) { e.Time = time.Date(2100, 1, 2, 0, 0, 0, 0, time.UTC) }, "time"},
		{"negative amount", func(e *occsimore.Event) { e.Amount = -0.01 }, "amount"},
		{"NaN amount", func(e *occsimore.Event) { e.Amount = math.NaN() }, "amount"},
		{"infinite amount", func(e *occsimore.Event) { e.Amount = math.Inf(1) }, "amount"},
		{"huge finite amount", func(e *occsimore.Event) { e.Amount = 1e160 }, "amount"},
		{"amount above the bound", func(e *occsimore.Event) { e.Amount = math.Nextafter(occsimore.MaxAmount, math.Inf(1)) }, "amount"},
		{"huge numeric attribute", func(e *occsimore.Event) { e.Attrs = map[string]string{"limit": "1e160"} }, "attrs.limit"},
		{"negative huge numeric attribute", func(e *occsimore.Event) { e.Attrs = map[string]string{"limit": "-1.5e100"} }, "attrs.limit"},
		{"numeric attribute overflowing float64", func(e *occsimore.Event) { e.Attrs = map[string]string{"limit": "1e400"} }, "attrs.limit"},
		{"hexadecimal attribute overflowing", func(e *occsimore.Event) { e.Attrs = map[string]string{"limit": "0x1p2000"} }, "attrs.limit"},
		{"lowercase country", func(e *occsimore.Event) { e.Country = "fr" }, "country"},
		{"three-letter country", func(e *occsimore.Event) { e.Country = "FRA" }, "country"},
		{"currency", func(e *occsimore.Event) { e.Currency = "€" }, "currency"},
		{"lat out of range", func(e *occsimore.Event) { e.Lat = 90.5 }, "lat"},
		{"lat NaN", func(e *occsimore.Event) { e.Lat = math.NaN() }, "lat"},
		{"lon out of range", func(e *occsimore.Event) { e.Lon = -180.1 }, "lon"},
		{"location without flag", func(e *occsimore.Event) { e.HasLocation = false }, "lat"},
		{"mcc", func(e *occsimore.Event) { e.MCC = "54a1" }, "mcc"},
		{"long card id", func(e *occsimore.Event) { e.Card = strings.Repeat("x", 257) }, "card"},
		{"long id", func(e *occsimore.Event) { e.ID = strings.Repeat("x", 129) }, "id"},
		{"long user agent", func(e *occsimore.Event) { e.UserAgent = strings.Repeat("x", 513) }, "user_agent"},
		{"success without flag", func(e *occsimore.Event) { e.Success = true }, "success"},
		{"entity with a fixed role", func(e *occsimore.Event) { e.Entities = []occsimore.Entity{{Role: "card", ID: "x"}} }, "entities"},
		{"entity twice", func(e *occsimore.Event) {
			e.Entities = []occsimore.Entity{{Role: "acct", ID: "x"}, {Role: "acct", ID: "y"}}
		}, "entities"},
		{"entity without id", func(e *occsimore.Event) { e.Entities = []occsimore.Entity{{Role: "acct"}} }, "entities"},
		{"attribute name", func(e *occsimore.Event) { e.Attrs = map[string]string{"Bad Name": "x"} }, "attrs"},
		{"attribute value", func(e *occsimore.Event) { e.Attrs = map[string]string{"k": strings.Repeat("x", 513)} }, "attrs.k"},
	} {
		ev := validEvent()
		tc.edit(&ev)
		err := ev.Validate()
		if got, want := occsimore.ErrorCode(err), occsimore.EINVALID; got != want {
			t.Errorf("%s: code %q (%v), want %q", tc.name, got, err, want)
			continue
		}
		if got, want := occsimore.ErrorField(err), tc.field; got != want {
			t.Errorf("%s: field %q, want %q", tc.name, got, want)
		}
	}
}

// TestEventValidateNumbers checks the values at and inside the numeric
// bounds, and attribute text that only looks like a number, are accepted.
func TestEventValidateNumbers(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*occsimore.Event)
	}{
		{"amount at the bound", func(e *occsimore.Event) { e.Amount = occsimore.MaxAmount }},
		{"zero amount", func(e *occsimore.Event) { e.Amount = 0 }},
		{"location at the poles and antimeridian", func(e *occsimore.Event) { e.Lat, e.Lon = -90, 180 }},
		{"numeric attribute at the bound", func(e *occsimore.Event) { e.Attrs = map[string]string{"limit": "-1e100"} }},
		{"card number as text", func(e *occsimore.Event) { e.Attrs = map[string]string{"pan": "4111111111111111"} }},
		{"words nan and inf", func(e *occsimore.Event) { e.Attrs = map[string]string{"a": "nan", "b": "Inf", "c": "-infinity"} }},
		{"hexadecimal text", func(e *occsimore.Event) { e.Attrs = map[string]string{"hash": "0xdeadbeef"} }},
		{"text with digits", func(e *occsimore.Event) { e.Attrs = map[string]string{"a": "1e", "b": "2fa", "c": ".", "d": "1e400x"} }},
		{"tiny number", func(e *occsimore.Event) { e.Attrs = map[string]string{"a": "1e-400"} }},
	} {
		ev := validEvent()
		tc.edit(&ev)
		if err := ev.Validate(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestEventValidateAllocs(t *testing.T) {
	ev := validEvent()
	ev.Attrs["score"] = "12.5e3" // read by ParseFloat, which must not allocate either
	if got := testing.AllocsPerRun(100, func() { _ = ev.Validate() }); got != 0 {
		t.Errorf("Validate allocates %g times", got)
	}
}

func TestEventEntityID(t *testing.T) {
	ev := validEvent()
	for role, want := range map[string]string{"card": "c1", "customer": "u1", "terminal": "t1", "merchant": "m1", "user": "", "account": "acc1", "nope": ""} {
		if got := ev.EntityID(role); got != want {
			t.Errorf("EntityID(%q) = %q, want %q", role, got, want)
		}
	}
}

func TestEventJSON(t *testing.T) {
	ev := validEvent()
	ev.Success, ev.HasSuccess = false, true
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"kind":"card.tx"`, `"lat":48.85`, `"success":false`, `"entities":[{"role":"account","id":"acc1"}]`} {
		if !strings.Contains(s, want) {
			t.Errorf("%s lacks %s", s, want)
		}
	}
	if strings.Contains(s, "mem_a") || strings.Contains(s, "has_") {
		t.Errorf("%s shows the member or a flag", s)
	}
	back := occsimore.Event{MemberID: "mem_server"}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.MemberID != "mem_server" {
		t.Errorf("member = %q: the wire must not set it", back.MemberID)
	}
	back.MemberID = ev.MemberID
	if !back.Time.Equal(ev.Time) || back.Lat != ev.Lat || !back.HasLocation || !back.HasSuccess || back.Success || back.Attrs["plan"] != "gold" || back.Card != "c1" {
		t.Errorf("round trip: got %+v, want %+v", back, ev)
	}

	// Absent optional values stay unset; a zero location is still a
	// location.
	var min occsimore.Event
	if err := json.Unmarshal([]byte(`{"kind":"auth.login","time":"2025-03-03T10:00:00+02:00","user":"u","lat":0,"lon":0}`), &min); err != nil {
		t.Fatal(err)
	}
	if !min.HasLocation || min.HasSuccess || min.Time.Hour() != 10 {
		t.Errorf("got %+v", min)
	}
	if err := json.Unmarshal([]byte(`{"kind":"x","lat":1}`), &min); occsimore.ErrorField(err) != "lat" {
		t.Errorf("lat without lon: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"kind":"x","member_id":"mem_other"}`), &min); err != nil || min.MemberID != "" {
		t.Errorf("member_id from the wire: %v, %q", err, min.MemberID)
	}
}

// FuzzEventJSON decodes arbitrary JSON as an event: no panic, and an event
// that decodes and validates survives a round trip.
func FuzzEventJSON(f *testing.F) {
	b, _ := json.Marshal(validEvent())
	f.Add(b)
	f.Add([]byte(`{"kind":"auth.login","time":"2025-03-03T10:00:00Z","user":"u","success":true,"asn":3215}`))
	f.Add([]byte(`{"lat":1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev occsimore.Event
		if json.Unmarshal(data, &ev) != nil || ev.Validate() != nil {
			return
		}
		out, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var back occsimore.Event
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("valid event invalid after a round trip: %v", err)
		}
		if back.Kind != ev.Kind || !back.Time.Equal(ev.Time) || back.HasLocation != ev.HasLocation || back.Amount != ev.Amount {
			t.Fatalf("round trip changed %+v into %+v", ev, back)
		}
	})
}
