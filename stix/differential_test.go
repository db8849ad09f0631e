package stix

import (
	"encoding/json"
	"testing"
)

// indicatorVariants are an indicator with one property changed at a time,
// valid and invalid, in the ways a peer's feed gets them wrong.
func indicatorVariants(t testing.TB) [][]byte {
	raw, err := Marshal(sampleObjects(t)[2])
	if err != nil {
		t.Fatal(err)
	}
	var base map[string]any
	json.Unmarshal(raw, &base)
	edits := []map[string]any{
		{}, {"labels": []any{}}, {"labels": []any{"a"}}, {"labels": []any{1}}, {"labels": "a"},
		{"confidence": 100}, {"confidence": 101}, {"confidence": -1}, {"confidence": 50.5}, {"confidence": "5"},
		{"created": "2026-12-01T10:30:00Z"}, {"created": "2026-12-01T10:30:00.1Z"}, {"created": "2026-12-01T10:30:00.1234Z"},
		{"modified": "2026-12-01 10:30:00.000Z"}, {"valid_from": "2026-12-01T10:30:00Z"}, {"valid_from": "2026-12-01T10:30:00+01:00"},
		{"valid_until": "2026-13-01T10:30:00.000Z"}, {"id": "indicator--602b289d-64f1-528c-add7-f025997e34eB"},
		{"id": "indicator--602b289d-64f1-628c-add7-f025997e34eb"}, {"id": "indicator--602b289d-64f1-528c-7dd7-f025997e34eb"},
		{"id": "malware--602b289d-64f1-528c-add7-f025997e34eb"}, {"spec_version": "2.0"}, {"spec_version": 2.1}, {"type": "Indicator"},
		{"created_by_ref": "identity--x"}, {"created_by_ref": "marking-definition--602b289d-64f1-528c-add7-f025997e34eb"},
		{"object_marking_refs": []any{}}, {"object_marking_refs": []any{"identity--602b289d-64f1-528c-add7-f025997e34eb"}},
		{"revoked": "false"}, {"revoked": true}, {"lang": 5}, {"lang": "fr"}, {"name": []any{"x"}}, {"description": ""},
		{"indicator_types": []any{}}, {"indicator_types": []any{"unknown-type"}}, {"indicator_types": []any{nil}},
		{"pattern": ""}, {"pattern": 1}, {"pattern_type": "yara", "pattern": "rule x { condition: true }"}, {"pattern_version": 2},
		{"kill_chain_phases": []any{}}, {"kill_chain_phases": []any{map[string]any{"kill_chain_name": "k"}}},
		{"kill_chain_phases": []any{map[string]any{"kill_chain_name": "k", "phase_name": "p", "x": 1}}},
		{"x_custom": nil}, {"x_custom": []any{}}, {"x_custom": map[string]any{}}, {"x_custom": 1.5}, {"x_custom": []any{1}},
		{"x_payload_bin": "not base64!"}, {"x_payload_hex": "zz"}, {"x_payload_bin": "AAAA"}, {"severity": "high"}, {"username": "x"},
		{"_x": 1}, {"1ab": 1}, {"ab": 1}, {"x-y": 1}, {"Xab": 1}, {"x_a": true},
		{"extensions": map[string]any{}}, {"external_references": []any{map[string]any{"source_name": "capec", "external_id": "CAPEC-x"}}},
		{"granular_markings": []any{map[string]any{"selectors": []any{"pattern"}, "marking_ref": "marking-definition--602b289d-64f1-528c-add7-f025997e34eb"}}},
	}
	out := [][]byte{raw}
	for _, e := range edits {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range e {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		out = append(out, b)
	}
	return out
}

// checkRulesImplySchema fails when the rules accept an indicator the OASIS
// schema refuses, for an indicator Import would not send to the schema.
func checkRulesImplySchema(t *testing.T, v *Validator, raw []byte) bool {
	res, err := Import(append(append([]byte(`{"type":"bundle","id":"bundle--602b289d-64f1-428c-add7-f025997e34eb","objects":[`), raw...), ']', '}'), nil)
	if err != nil || len(res.Objects) != 1 {
		return false
	}
	ind, ok := res.Objects[0].Object.(*Indicator)
	if !ok || !ind.rulesComplete() {
		return false
	}
	if err := v.Validate(raw); err != nil {
		t.Errorf("the rules accept an indicator the schema refuses (%v):\n%s", err, raw)
	}
	return true
}

// TestIndicatorRulesImplySchema: for indicators, whatever the rules accept
// without consulting the schema, the schema accepts too, so that skipping
// the schema on that path loses nothing.
func TestIndicatorRulesImplySchema(t *testing.T) {
	v := testValidator(t)
	accepted, refusedBySchema := 0, 0
	for _, raw := range indicatorVariants(t) {
		if checkRulesImplySchema(t, v, raw) {
			accepted++
		}
		if v.Validate(raw) != nil {
			refusedBySchema++
		}
	}
	// The variants must exercise both sides, or the test proves nothing.
	if accepted < 10 || refusedBySchema < 20 {
		t.Errorf("%d variants accepted by the rules, %d refused by the schema: the variants do not exercise both", accepted, refusedBySchema)
	}
}

func FuzzIndicatorRulesImplySchema(f *testing.F) {
	for _, raw := range indicatorVariants(f) {
		f.Add(raw)
	}
	v := testValidator(f)
	f.Fuzz(func(t *testing.T, raw []byte) { checkRulesImplySchema(t, v, raw) })
}
