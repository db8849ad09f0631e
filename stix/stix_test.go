package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 10, 30, 0, 123456789, time.UTC)

var (
	validatorOnce sync.Once
	validator     *Validator
	validatorErr  error
)

func testValidator(t testing.TB) *Validator {
	t.Helper()
	validatorOnce.Do(func() { validator, validatorErr = NewValidator() })
	if validatorErr != nil {
		t.Fatal(validatorErr)
	}
	return validator
}

func intp(i int) *int { return &i }

// sampleObjects is one object of every type occsimore produces, built the
// way the share package builds them.
func sampleObjects(t testing.TB) []Object {
	t.Helper()
	member := &Identity{Common: NewCommon("identity", DerivedID("identity", "member", "mem_a"), t0), Name: "Member A", IdentityClass: "organization", Sectors: []string{"financial-services"}}
	ap := &AttackPattern{Common: NewCommon("attack-pattern", DerivedID("attack-pattern", "ssh-bf"), t0), Name: "SSH brute force",
		KillChainPhases: []KillChainPhase{{KillChainName: "mitre-attack", PhaseName: "credential-access"}}}
	ap.ExternalReferences = []ExternalReference{{SourceName: "capec", ExternalID: "CAPEC-49"}}
	pat, err := IPPattern("198.51.100.7")
	if err != nil {
		t.Fatal(err)
	}
	ind := &Indicator{Common: NewCommon("indicator", DerivedID("indicator", member.ID, "ip", "198.51.100.7"), t0),
		Name: "ssh brute force source", IndicatorTypes: []string{"malicious-activity"}, Pattern: pat, PatternType: "stix", PatternVersion: "2.1",
		ValidFrom: TS(t0), ValidUntil: TS(t0.Add(24 * time.Hour))}
	ind.CreatedByRef = member.ID
	ind.Confidence = intp(80)
	ind.ObjectMarkingRefs = []string{TLPGreen.MarkingRef()}
	rel := &Relationship{Common: NewCommon("relationship", DerivedID("relationship", ind.ID, "indicates", ap.ID), t0), RelationshipType: "indicates", SourceRef: ind.ID, TargetRef: ap.ID}
	sig := &Sighting{Common: NewCommon("sighting", DerivedID("sighting", ind.ID, member.ID), t0), SightingOfRef: ind.ID, Count: intp(12),
		FirstSeen: TS(t0.Add(-time.Hour)), LastSeen: TS(t0), WhereSightedRefs: []string{member.ID}}
	rep := &Report{Common: NewCommon("report", NewID("report"), t0), Name: "consortium feed", Published: TS(t0), ReportTypes: []string{"threat-report"},
		ObjectRefs: []string{ind.ID, ap.ID, rel.ID}}
	objs := []Object{member, ap, ind, rel, sig, rep}
	for tl := TLPClear; tl <= TLPRed; tl++ {
		objs = append(objs, TLPMarking(tl))
	}
	return objs
}

// TestProducedObjectsConformToSchemas: every type produced validates against
// the OASIS schema of its type (embedded copy) and parses back to the same bytes.
func TestProducedObjectsConformToSchemas(t *testing.T) {
	v := testValidator(t)
	seen := map[string]bool{}
	for _, o := range sampleObjects(t) {
		raw, err := Marshal(o)
		if err != nil {
			t.Fatalf("Marshal(%s): %v", o.ObjectID(), err)
		}
		if err := v.Validate(raw); err != nil {
			t.Errorf("%s does not validate: %v\n%s", o.ObjectType(), err, raw)
		}
		back, err := ParseObject(raw)
		if err != nil {
			t.Fatalf("ParseObject(%s): %v", raw, err)
		}
		again, err := Marshal(back)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raw, again) {
			t.Errorf("round trip changed %s:\n%s\n%s", o.ObjectType(), raw, again)
		}
		seen[o.ObjectType()] = true
	}
	b, err := NewBundle(sampleObjects(t)...)
	if err != nil {
		t.Fatal(err)
	}
	braw, _ := json.Marshal(b)
	if err := v.Validate(braw); err != nil {
		t.Errorf("bundle does not validate: %v", err)
	}
	for _, typ := range []string{"indicator", "sighting", "identity", "marking-definition", "relationship", "attack-pattern", "report"} {
		if !seen[typ] {
			t.Errorf("no %s produced", typ)
		}
	}
	// The validator is not a rubber stamp: the same indicator with a bad
	// property fails the schema.
	var m map[string]any
	raw, _ := Marshal(sampleObjects(t)[2])
	json.Unmarshal(raw, &m)
	m["valid_from"] = "yesterday"
	bad, _ := json.Marshal(m)
	err = v.Validate(bad)
	var se *Error
	if !errors.As(err, &se) || se.Path != "/valid_from" {
		t.Errorf("schema error for a bad valid_from = %v, want one at /valid_from", err)
	}
}

func TestTimestamps(t *testing.T) {
	b, _ := json.Marshal(TS(time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))))
	if got, want := string(b), `"2026-01-02T02:04:05.000Z"`; got != want {
		t.Errorf("timestamp = %s, want %s", got, want)
	}
	for _, ok := range []string{"2016-01-01T00:00:00Z", "2016-01-01T00:00:00.1Z", "2016-01-01T00:00:00.123456Z"} {
		if _, err := ParseTimestamp(ok); err != nil {
			t.Errorf("ParseTimestamp(%s): %v", ok, err)
		}
	}
	for _, bad := range []string{"2016-01-01T00:00:00+00:00", "2016-01-01 00:00:00Z", "2016-01-01T00:00:00.Z", "2016-13-01T00:00:00Z", "2016-01-01"} {
		if _, err := ParseTimestamp(bad); err == nil {
			t.Errorf("ParseTimestamp(%s) accepted it", bad)
		}
	}
}

func TestIDs(t *testing.T) {
	// Cross-checked with Python: uuid.uuid5(UUID('00abedb4-…'), '{"value":"198.51.100.3"}').
	if got, want := SCOID("ipv4-addr", map[string]string{"value": "198.51.100.3"}), "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"; got != want {
		t.Errorf("SCOID = %s, want %s", got, want)
	}
	a, b := DerivedID("indicator", "m", "ip", "1.2.3.4"), DerivedID("indicator", "m", "ip", "1.2.3.4")
	if a != b || !ValidID(a, "indicator") {
		t.Errorf("DerivedID not deterministic or not valid: %s %s", a, b)
	}
	if DerivedID("indicator", "m", "ip", "1.2.3.5") == a || DerivedID("indicator", "m", "ip1.2.3.4") == a {
		t.Error("DerivedID collides on different parts")
	}
	if strings.Contains(a, "00abedb4") || a[len("indicator--")+14] != '5' {
		t.Errorf("DerivedID %s is not a UUIDv5", a)
	}
	n := NewID("report")
	if !ValidID(n, "report") || n[len("report--")+14] != '4' || n == NewID("report") {
		t.Errorf("NewID %s is not a fresh UUIDv4", n)
	}
	for _, bad := range []string{"indicator--1234", "indicator-28bb3599-77cd-5a82-a950-b5bc3caf07c4", "Indicator--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "indicator--28bb3599-77cd-0a82-a950-b5bc3caf07c4", "indicator--28bb3599-77cd-5a82-c950-b5bc3caf07c4"} {
		if ValidID(bad, "indicator") {
			t.Errorf("ValidID(%s) = true", bad)
		}
	}
}

func TestMarshalRejectsInvalid(t *testing.T) {
	for _, c := range []struct {
		name, path string
		mutate     func(*Indicator)
	}{
		{"modified before created", "/modified", func(x *Indicator) { x.Modified = TS(t0.Add(-time.Second)) }},
		{"bad pattern", "/pattern", func(x *Indicator) { x.Pattern = "[ipv4-addr:value = ]" }},
		{"no pattern type", "/pattern_type", func(x *Indicator) { x.PatternType = "" }},
		{"valid_until before valid_from", "/valid_until", func(x *Indicator) { x.ValidUntil = TS(t0.Add(-time.Hour)) }},
		{"confidence", "/confidence", func(x *Indicator) { x.Confidence = intp(101) }},
		{"id of another type", "/id", func(x *Indicator) { x.ID = DerivedID("malware", "x") }},
		{"marking ref", "/object_marking_refs/0", func(x *Indicator) { x.ObjectMarkingRefs = []string{"tlp:green"} }},
		{"custom property name", "/X-Bad", func(x *Indicator) { x.Custom = map[string]json.RawMessage{"X-Bad": []byte(`1`)} }},
	} {
		ind := sampleObjects(t)[2].(*Indicator)
		c.mutate(ind)
		_, err := Marshal(ind)
		var se *Error
		if !errors.As(err, &se) || se.Path != c.path {
			t.Errorf("%s: Marshal error = %v, want one at %s", c.name, err, c.path)
		}
	}
}

func TestParseObjectErrorsNamePathAndReason(t *testing.T) {
	raw, _ := Marshal(sampleObjects(t)[2])
	set := func(k string, v any) []byte {
		var m map[string]any
		json.Unmarshal(raw, &m)
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return b
	}
	for _, c := range []struct {
		raw          []byte
		path, reason string
	}{
		{set("pattern", 5), "/pattern", "is a JSON number, want a string"},
		{set("valid_from", "2016-01-01T00:00:00+01:00"), "/valid_from", "not RFC 3339 in UTC"},
		{set("pattern", "[file:name = 'x'"), "/pattern", "']' closing"},
		{set("confidence", "high"), "/confidence", "want an integer"},
		{set("labels", "x"), "/labels", "want an array"},
		{set("Bad Name", 1), "/Bad Name", "property name is invalid"},
		{set("pattern_type", nil), "/pattern_type", "is required"},
		{set("created_by_ref", json.RawMessage(`null`)), "/created_by_ref", "must not be null"},
		{[]byte(`[1,2]`), "", "not a STIX object"},
	} {
		_, err := ParseObject(c.raw)
		var se *Error
		if !errors.As(err, &se) || se.Path != c.path || !strings.Contains(se.Reason, c.reason) {
			t.Errorf("ParseObject(%s) = %v, want path %q and a reason containing %q", c.raw, err, c.path, c.reason)
		}
	}
}

// Custom properties (§11.1) with valid names are kept and written back.
func TestCustomPropertiesKept(t *testing.T) {
	raw, _ := Marshal(sampleObjects(t)[2])
	var m map[string]any
	json.Unmarshal(raw, &m)
	m["x_acme_score"] = map[string]any{"v": 3.5}
	m["x_occsimore_member"] = "sector:banking"
	in, _ := json.Marshal(m)
	o, err := ParseObject(in)
	if err != nil {
		t.Fatal(err)
	}
	ind := o.(*Indicator)
	if got := string(ind.Custom["x_acme_score"]); got != `{"v":3.5}` {
		t.Errorf("custom property = %s", got)
	}
	out, err := Marshal(ind)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	json.Unmarshal(out, &back)
	if back["x_occsimore_member"] != "sector:banking" || back["x_acme_score"] == nil {
		t.Errorf("custom properties lost on re-export: %s", out)
	}
	if err := testValidator(t).Validate(out); err != nil {
		t.Errorf("custom properties broke schema conformance: %v", err)
	}
}

func TestImportKeepsValidObjectsAndRejectsInvalid(t *testing.T) {
	objs := sampleObjects(t)
	b, err := NewBundle(objs...)
	if err != nil {
		t.Fatal(err)
	}
	// Object 2 (the indicator) gets a broken pattern, object 4 a schema
	// violation, object 5 a wrong id; a custom object and a malware are added.
	var ind map[string]any
	json.Unmarshal(b.Objects[2], &ind)
	ind["pattern"] = "[ipv4-addr:value = '1.2.3.4'"
	b.Objects[2], _ = json.Marshal(ind)
	var sig map[string]any
	json.Unmarshal(b.Objects[4], &sig)
	sig["count"] = -3
	b.Objects[4], _ = json.Marshal(sig)
	var rep map[string]any
	json.Unmarshal(b.Objects[5], &rep)
	rep["id"] = "report--nope"
	b.Objects[5], _ = json.Marshal(rep)
	b.Objects = append(b.Objects,
		json.RawMessage(`{"type":"x-acme-widget","spec_version":"2.1","id":"x-acme-widget--`+strings.TrimPrefix(NewID("x"), "x--")+`","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","x_size":3}`),
		json.RawMessage(`{"type":"malware","spec_version":"2.1","id":"malware--`+strings.TrimPrefix(NewID("x"), "x--")+`","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"w","is_family":false}`),
	)
	data, _ := json.Marshal(b)
	res, err := Import(data, testValidator(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(res.Objects), len(objs)-3+2; got != want {
		t.Errorf("kept %d objects, want %d", got, want)
	}
	want := map[int]string{2: "/objects/2/pattern", 4: "/objects/4/count", 5: "/objects/5/id"}
	if len(res.Rejected) != len(want) {
		t.Errorf("rejected %d, want %d: %+v", len(res.Rejected), len(want), res.Rejected)
	}
	for _, r := range res.Rejected {
		if r.Err.Path != want[r.Index] || r.Err.Reason == "" {
			t.Errorf("rejected object %d at %q (%s), want path %q", r.Index, r.Err.Path, r.Err.Reason, want[r.Index])
		}
	}
	for _, o := range res.Objects {
		if o.Type == "malware" && o.Object != nil {
			t.Error("malware decoded although not modelled")
		}
		if o.Type == "identity" && o.Object == nil {
			t.Error("identity not decoded")
		}
	}
	if _, err := Import([]byte(`{"type":"indicator"}`), nil); !errors.Is(err, ErrNotBundle) {
		t.Errorf("Import of a non-bundle = %v, want ErrNotBundle", err)
	}
}

func TestTLP(t *testing.T) {
	for _, c := range []struct {
		in   string
		want TLP
	}{{"clear", TLPClear}, {"TLP:WHITE", TLPClear}, {"green", TLPGreen}, {"TLP:AMBER+STRICT", TLPAmberStrict}, {"Red", TLPRed}} {
		got, err := ParseTLP(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseTLP(%s) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	if _, err := ParseTLP("purple"); err == nil {
		t.Error("ParseTLP(purple) accepted")
	}
	refs := []string{TLPGreen.MarkingRef(), "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"}
	if got := StrictestTLP(refs); got != TLPRed {
		t.Errorf("StrictestTLP = %v, want TLP:RED (TLP 1.0 red)", got)
	}
	if got := StrictestTLP(nil); got != TLPUnknown {
		t.Errorf("StrictestTLP(nil) = %v", got)
	}
}

func FuzzImport(f *testing.F) {
	b, err := NewBundle(sampleObjects(f)...)
	if err != nil {
		f.Fatal(err)
	}
	data, _ := json.Marshal(b)
	f.Add(data)
	f.Add([]byte(`{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[{"type":"indicator"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Import(data, nil)
		if err != nil {
			return
		}
		for _, o := range res.Objects {
			if o.Object == nil {
				continue
			}
			// Whatever is accepted marshals and is accepted again.
			raw, err := Marshal(o.Object)
			if err != nil {
				t.Fatalf("accepted object does not marshal: %v\n%s", err, o.Raw)
			}
			if _, err := ParseObject(raw); err != nil {
				t.Fatalf("re-marshalled object rejected: %v\n%s", err, raw)
			}
		}
	})
}
