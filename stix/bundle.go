package stix

import (
	"encoding/json"
	"errors"
	"strings"
)

// Imported is one object kept from a bundle.
type Imported struct {
	Index int    // position in the bundle's objects array
	Type  string // its type
	ID    string // its id
	Raw   json.RawMessage
	// Object is the decoded object for the types this package models, nil
	// for the others (malware, campaign, observables...), which are kept raw.
	Object Object
}

// Rejected is one object refused from a bundle, with its reason. Err.Path
// is a JSON Pointer from the bundle's root, such as /objects/3/pattern.
type Rejected struct {
	Index int
	ID    string // when the object had a readable one
	Err   *Error
}

// ImportResult is what Import kept and refused.
type ImportResult struct {
	BundleID string
	Objects  []Imported
	Rejected []Rejected
}

// ErrNotBundle is returned when the document is not a STIX bundle at all.
var ErrNotBundle = errors.New("not a STIX bundle")

// splitArray returns the raw items of a JSON list.
func splitArray(v []byte) ([][]byte, error) {
	if len(v) == 0 || v[0] != '[' {
		return nil, errScan
	}
	var out [][]byte
	i := skipWS(v, 1)
	if i < len(v) && v[i] == ']' {
		return out, nil
	}
	for {
		j, err := skipValue(v, i)
		if err != nil {
			return nil, err
		}
		out = append(out, v[i:j:j])
		i = skipWS(v, j)
		if i >= len(v) {
			return nil, errScan
		}
		if v[i] == ']' {
			return out, nil
		}
		if v[i] != ',' {
			return nil, errScan
		}
		i = skipWS(v, i+1)
	}
}

// Import reads a bundle and checks each object on its own: against its OASIS
// schema when v is not nil (except indicators the rules cover completely, see
// rulesComplete), and against the rules the schemas cannot check (pattern
// syntax, modified ≥ created, reference types). An invalid object
// is rejected with its path and reason; the rest of the bundle is kept. Only
// a document that is not a bundle is an error.
func Import(data []byte, v *Validator) (*ImportResult, error) {
	// One scan splits the bundle; each object is then decoded once. The
	// objects' Raw slices point into data.
	var typ, id string
	var objects [][]byte
	var hasType, hasID bool
	err := scanObject(data, func(k string, esc bool, v []byte) error {
		// The objects are checked one by one below; everything else here.
		if k != "objects" && !json.Valid(v) {
			return errScan
		}
		switch {
		case esc:
		case k == "type":
			typ, hasType = rawString(v)
		case k == "id":
			id, hasID = rawString(v)
		case k == "objects":
			var err error
			if objects, err = splitArray(v); err != nil {
				return errAt("/objects", "must be a list of objects")
			}
		}
		return nil
	})
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			return nil, errors.Join(ErrNotBundle, se)
		}
		var m map[string]json.RawMessage
		if jerr := json.Unmarshal(data, &m); jerr != nil {
			return nil, errors.Join(ErrNotBundle, errAt("", "%s", jsonReason(jerr)))
		}
		return nil, errors.Join(ErrNotBundle, errAt("", "malformed JSON"))
	}
	if !hasType || typ != "bundle" {
		return nil, errors.Join(ErrNotBundle, errAt("/type", "must be \"bundle\""))
	}
	if !hasID || !ValidID(id, "bundle") {
		return nil, errors.Join(ErrNotBundle, errAt("/id", "must be bundle--<RFC 4122 UUID>"))
	}
	b := struct {
		ID      *string
		Objects [][]byte
	}{&id, objects}
	res := &ImportResult{BundleID: *b.ID, Objects: make([]Imported, 0, len(b.Objects))}
	for i, raw := range b.Objects {
		base := pointerIndex("/objects", i)
		obj, typ, id, err := checkObject(raw, v)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				se = errAt("", "%v", err)
			}
			res.Rejected = append(res.Rejected, Rejected{Index: i, ID: id, Err: &Error{Path: base + se.Path, Reason: se.Reason}})
			continue
		}
		res.Objects = append(res.Objects, Imported{Index: i, Type: typ, ID: id, Raw: raw, Object: obj})
	}
	return res, nil
}

// ParseObject decodes and checks one object of a modelled type (the
// schema is not consulted; see Validator). Other types get an error.
func ParseObject(raw []byte) (Object, error) {
	obj, _, _, err := checkObject(raw, nil)
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errAt("/type", "is not a type this package models")
	}
	return obj, nil
}

type probe struct {
	Type, ID, SpecVersion, Created, Modified string
}

func checkObject(raw []byte, v *Validator) (Object, string, string, error) {
	var p probe
	err := scanObject(raw, func(k string, esc bool, v []byte) error {
		var dst *string
		switch k {
		case "type":
			dst = &p.Type
		case "id":
			dst = &p.ID
		case "spec_version":
			dst = &p.SpecVersion
		case "created":
			dst = &p.Created
		case "modified":
			dst = &p.Modified
		default:
			return nil
		}
		s, ok := rawString(v)
		if !ok || esc {
			return errAt(pointer("", k), "must be a string")
		}
		*dst = s
		return nil
	})
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			return nil, p.Type, p.ID, se
		}
		var m map[string]json.RawMessage
		if jerr := json.Unmarshal(raw, &m); jerr != nil {
			return nil, "", "", errAt("", "not a STIX object: %s", jsonReason(jerr))
		}
		return nil, "", "", errAt("", "not a STIX object: malformed JSON")
	}
	if p.Type == "" {
		return nil, "", p.ID, errAt("/type", "is required")
	}
	if !ValidID(p.ID, p.Type) {
		return nil, p.Type, p.ID, errAt("/id", "%q is not %s--<RFC 4122 UUID> (STIX 2.1 §2.9)", p.ID, p.Type)
	}
	if p.Created != "" && p.Type != "marking-definition" {
		// §3.2 and the core schema: created and modified carry milliseconds.
		if err := millis("/created", p.Created); err != nil {
			return nil, p.Type, p.ID, err
		}
		if err := millis("/modified", p.Modified); err != nil && p.Modified != "" {
			return nil, p.Type, p.ID, err
		}
	}
	// An indicator the rules check completely skips the schema (see
	// rulesComplete); everything else goes through it.
	if v != nil && p.Type != "indicator" {
		if err := v.Validate(raw); err != nil {
			return nil, p.Type, p.ID, err
		}
	}
	var obj Object
	switch p.Type {
	case "indicator":
		obj = new(Indicator)
	case "sighting":
		obj = new(Sighting)
	case "identity":
		obj = new(Identity)
	case "relationship":
		obj = new(Relationship)
	case "attack-pattern":
		obj = new(AttackPattern)
	case "report":
		obj = new(Report)
	case "marking-definition":
		obj = new(MarkingDefinition)
	default:
		if v == nil && !json.Valid(raw) {
			return nil, p.Type, p.ID, errAt("", "not a STIX object: malformed JSON")
		}
		return nil, p.Type, p.ID, checkGeneric(&p)
	}
	if err := json.Unmarshal(raw, obj); err != nil {
		var se *Error
		if errors.As(err, &se) {
			return nil, p.Type, p.ID, se
		}
		return nil, p.Type, p.ID, errAt("", "%s", jsonReason(err))
	}
	if err := obj.Validate(); err != nil {
		return nil, p.Type, p.ID, err
	}
	if ind, ok := obj.(*Indicator); ok && v != nil && !ind.rulesComplete() {
		if err := v.Validate(raw); err != nil {
			return nil, p.Type, p.ID, err
		}
	}
	return obj, p.Type, p.ID, nil
}

// millis checks that a created or modified timestamp has at least
// millisecond precision.
func millis(path, ts string) error {
	dot := strings.LastIndexByte(ts, '.')
	if dot < 0 || len(ts)-dot-2 < 3 {
		return errAt(path, "%q must carry milliseconds (STIX 2.1 §3.2)", ts)
	}
	return nil
}

// rulesComplete reports whether this package's rules for an indicator
// (decode, Validate, the checks in decodeObject and checkObject) cover every
// constraint of the OASIS indicator schema, so that the schema can be
// skipped: true unless the indicator uses a part whose schema the rules do
// not mirror (external references, granular markings, extensions, custom
// properties in _bin or _hex). TestIndicatorRulesImplySchema and
// FuzzIndicatorRulesImplySchema hold the rules to it.
func (x *Indicator) rulesComplete() bool {
	if x.ExternalReferences != nil || x.GranularMarkings != nil || x.Extensions != nil {
		return false
	}
	for k := range x.Custom {
		if strings.HasSuffix(k, "_bin") || strings.HasSuffix(k, "_hex") {
			return false
		}
	}
	return true
}

// checkGeneric applies the common rules to a type kept raw.
func checkGeneric(p *probe) error {
	if p.SpecVersion != "" && p.SpecVersion != SpecVersion {
		return errAt("/spec_version", "is %q, want %q", p.SpecVersion, SpecVersion)
	}
	if p.Created == "" || p.Modified == "" {
		return nil // observables have neither
	}
	c, err := ParseTimestamp(p.Created)
	if err != nil {
		return errAt("/created", "%v", err)
	}
	m, err := ParseTimestamp(p.Modified)
	if err != nil {
		return errAt("/modified", "%v", err)
	}
	if m.Before(c) {
		return errAt("/modified", "%s is before created %s (STIX 2.1 §3.2)", p.Modified, p.Created)
	}
	return nil
}
