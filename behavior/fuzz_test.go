package behavior

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// FuzzProcess feeds arbitrary field values through Validate, Process and
// Score: nothing may panic, an event Validate refuses is refused, and an
// accepted event gets a finite score.
func FuzzProcess(f *testing.F) {
	f.Add(uint8(0), "card1", 42.5, 48.8, 2.3, true, "FR", int64(1700000000), uint32(0), false, false, "dev", "5411")
	f.Add(uint8(1), "user1", 0.0, 91.0, 2.3, true, "fr", int64(-5), uint32(3215), true, true, "", "54x1")
	f.Add(uint8(0), "", math.Inf(1), math.NaN(), 500.0, false, "", int64(5000000000), uint32(1), true, false, "d", "")
	e := newTestEngine(f)
	f.Fuzz(func(t *testing.T, kind uint8, id string, amount, lat, lon float64, hasLoc bool, country string, unix int64, asn uint32, success, hasSuccess bool, device, mcc string) {
		ev := occsimore.Event{
			MemberID: "mem_fuzz", Kind: []string{"card.tx", "auth.login", "other"}[int(kind)%3], Time: time.Unix(unix, 0),
			Card: id, Customer: id, Terminal: id, User: id, IP: id, Amount: amount, Country: country,
			Lat: lat, Lon: lon, HasLocation: hasLoc, ASN: asn, Success: success, HasSuccess: hasSuccess, Device: device, MCC: mcc,
		}
		verr := ev.Validate()
		var res Result
		err := e.Process(&ev, &res)
		if verr != nil && err == nil {
			t.Fatalf("Process accepted an event Validate refuses: %v", verr)
		}
		if err == nil {
			if math.IsNaN(res.Score) || math.IsInf(res.Score, 0) {
				t.Fatalf("score %v", res.Score)
			}
			for _, r := range res.TopReasons() {
				_ = r.String()
			}
			// Every number an accepted event leaves behind stays finite,
			// so that its profile can always be shown.
			assertFiniteProfile(t, e, "mem_fuzz", ev)
		}
		_ = e.Score(&ev, &res)
		_ = e.Label("mem_fuzz", "terminal", id, success, ev.Time, ev.Time)
		_, _ = e.Profile("mem_fuzz", "card", id)
	})
}

// FuzzReadSnapshot feeds arbitrary bytes to ReadSnapshot, seeded with a
// real snapshot: it must fail cleanly or leave a usable engine.
func FuzzReadSnapshot(f *testing.F) {
	src := newTestEngine(f)
	for i, ev := range cardTemplates(3, 6) { // small: the fuzzer minimises new inputs
		ev.Time = simStart.Add(time.Duration(i) * time.Minute)
		mustProcess(f, src, ev)
	}
	var buf bytes.Buffer
	if err := src.WriteSnapshot(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(snapMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		e := newTestEngine(t)
		if err := e.ReadSnapshot(bytes.NewReader(data)); err != nil {
			if occsimore.ErrorCode(err) != occsimore.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		ev := cardEv("mem_bank", "card0", simStart.Add(200*time.Minute), 10)
		var res Result
		_ = e.Process(&ev, &res)
		_, _ = e.Profile("mem_bank", "card", "card0")
		var out bytes.Buffer
		if err := e.WriteSnapshot(&out); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParseDuration: no panic, and what String writes reads back.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"7d", "1.5d", "36h", "90s", "-1d", "1e5d", "d", "1h30m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, d, d.String(), back, err)
		}
	})
}

// FuzzSpecJSON decodes arbitrary JSON as a spec and builds an engine from
// it: an invalid spec is refused, never a panic.
func FuzzSpecJSON(f *testing.F) {
	for _, s := range DefaultSpecs() {
		b, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"kind":"x","thresholds":{"review":1,"block":2},"roles":[{"role":"card","categorical":[{"attr":"attrs.a","top_k":16,"half_life":"1s"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Spec
		if json.Unmarshal(data, &s) != nil {
			return
		}
		verr := s.Validate()
		cfg := DefaultConfig()
		cfg.Specs = []Spec{s}
		e, err := NewEngine(cfg)
		if verr != nil && err == nil {
			t.Fatalf("NewEngine accepted a spec Validate refuses: %v", verr)
		}
		if err != nil {
			return
		}
		ev := occsimore.Event{MemberID: "m", Kind: s.Kind, Time: simStart, Card: "c", User: "u", Amount: 1,
			Attrs: map[string]string{"a": "1.5"}, Entities: []occsimore.Entity{{Role: "acct", ID: "a1"}}}
		var res Result
		_ = e.Process(&ev, &res)
		if res.NFeatures != len(e.FeatureNames(s.Kind)) && res.Kind == s.Kind {
			t.Fatalf("%d features, %d names", res.NFeatures, len(e.FeatureNames(s.Kind)))
		}
	})
}
