package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
)

// Object is a STIX object this package models.
type Object interface {
	ObjectID() string
	ObjectType() string
	// Validate checks the rules of the specification that hold for this
	// type; the OASIS schema is checked separately by a Validator.
	Validate() error
}

// ExternalReference points to non-STIX information (§2.5).
type ExternalReference struct {
	SourceName  string            `json:"source_name"`
	Description string            `json:"description,omitempty"`
	URL         string            `json:"url,omitempty"`
	Hashes      map[string]string `json:"hashes,omitempty"`
	ExternalID  string            `json:"external_id,omitempty"`
}

// KillChainPhase is a phase of a kill chain (§2.8).
type KillChainPhase struct {
	KillChainName string `json:"kill_chain_name"`
	PhaseName     string `json:"phase_name"`
}

// GranularMarking applies a marking to some properties (§7.2.3).
type GranularMarking struct {
	Lang       string   `json:"lang,omitempty"`
	MarkingRef string   `json:"marking_ref,omitempty"`
	Selectors  []string `json:"selectors"`
}

// Common holds the common properties of SDOs and SROs (§3.2).
type Common struct {
	Type               string                     `json:"type"`
	SpecVersion        string                     `json:"spec_version"`
	ID                 string                     `json:"id"`
	CreatedByRef       string                     `json:"created_by_ref,omitempty"`
	Created            Timestamp                  `json:"created"`
	Modified           Timestamp                  `json:"modified"`
	Revoked            bool                       `json:"revoked,omitempty"`
	Labels             []string                   `json:"labels,omitempty"`
	Confidence         *int                       `json:"confidence,omitempty"`
	Lang               string                     `json:"lang,omitempty"`
	ExternalReferences []ExternalReference        `json:"external_references,omitempty"`
	ObjectMarkingRefs  []string                   `json:"object_marking_refs,omitempty"`
	GranularMarkings   []GranularMarking          `json:"granular_markings,omitempty"`
	Extensions         map[string]json.RawMessage `json:"extensions,omitempty"`
	// Custom holds the properties this package does not model (custom
	// properties, §11.1), kept verbatim on parse and written back on marshal.
	Custom map[string]json.RawMessage `json:"-"`
}

// NewCommon fills the common properties of a new object: created and
// modified both at t, truncated to the millisecond.
func NewCommon(typ, id string, t time.Time) Common {
	return Common{Type: typ, SpecVersion: SpecVersion, ID: id, Created: TS(t), Modified: TS(t)}
}

func (c *Common) ObjectID() string   { return c.ID }
func (c *Common) ObjectType() string { return c.Type }

// Indicator is a pattern that detects suspicious activity (§4.7).
type Indicator struct {
	Common
	Name            string           `json:"name,omitempty"`
	Description     string           `json:"description,omitempty"`
	IndicatorTypes  []string         `json:"indicator_types,omitempty"`
	Pattern         string           `json:"pattern"`
	PatternType     string           `json:"pattern_type"`
	PatternVersion  string           `json:"pattern_version,omitempty"`
	ValidFrom       Timestamp        `json:"valid_from"`
	ValidUntil      Timestamp        `json:"valid_until,omitzero"`
	KillChainPhases []KillChainPhase `json:"kill_chain_phases,omitempty"`
}

// Sighting says that something was seen (§5.2).
type Sighting struct {
	Common
	Description      string    `json:"description,omitempty"`
	FirstSeen        Timestamp `json:"first_seen,omitzero"`
	LastSeen         Timestamp `json:"last_seen,omitzero"`
	Count            *int      `json:"count,omitempty"`
	SightingOfRef    string    `json:"sighting_of_ref"`
	ObservedDataRefs []string  `json:"observed_data_refs,omitempty"`
	WhereSightedRefs []string  `json:"where_sighted_refs,omitempty"`
	Summary          bool      `json:"summary,omitempty"`
}

// Identity is an individual, organisation, group or sector (§4.5).
type Identity struct {
	Common
	Name               string   `json:"name"`
	Description        string   `json:"description,omitempty"`
	Roles              []string `json:"roles,omitempty"`
	IdentityClass      string   `json:"identity_class,omitempty"`
	Sectors            []string `json:"sectors,omitempty"`
	ContactInformation string   `json:"contact_information,omitempty"`
}

// Relationship links two objects (§5.1).
type Relationship struct {
	Common
	RelationshipType string    `json:"relationship_type"`
	Description      string    `json:"description,omitempty"`
	SourceRef        string    `json:"source_ref"`
	TargetRef        string    `json:"target_ref"`
	StartTime        Timestamp `json:"start_time,omitzero"`
	StopTime         Timestamp `json:"stop_time,omitzero"`
}

// AttackPattern is a kind of attack (§4.1).
type AttackPattern struct {
	Common
	Name            string           `json:"name"`
	Description     string           `json:"description,omitempty"`
	Aliases         []string         `json:"aliases,omitempty"`
	KillChainPhases []KillChainPhase `json:"kill_chain_phases,omitempty"`
}

// Report is a published collection of objects (§4.14).
type Report struct {
	Common
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	ReportTypes []string  `json:"report_types,omitempty"`
	Published   Timestamp `json:"published"`
	ObjectRefs  []string  `json:"object_refs"`
}

// MarkingDefinition is a data marking (§7.2.1). It has no modified property:
// a marking definition never changes.
type MarkingDefinition struct {
	Type               string                     `json:"type"`
	SpecVersion        string                     `json:"spec_version"`
	ID                 string                     `json:"id"`
	CreatedByRef       string                     `json:"created_by_ref,omitempty"`
	Created            Timestamp                  `json:"created"`
	ExternalReferences []ExternalReference        `json:"external_references,omitempty"`
	ObjectMarkingRefs  []string                   `json:"object_marking_refs,omitempty"`
	GranularMarkings   []GranularMarking          `json:"granular_markings,omitempty"`
	Name               string                     `json:"name,omitempty"`
	DefinitionType     string                     `json:"definition_type,omitempty"`
	Definition         json.RawMessage            `json:"definition,omitempty"`
	Extensions         map[string]json.RawMessage `json:"extensions,omitempty"`
	Custom             map[string]json.RawMessage `json:"-"`
}

func (m *MarkingDefinition) ObjectID() string   { return m.ID }
func (m *MarkingDefinition) ObjectType() string { return m.Type }

// Bundle is a container of objects (§8). Objects are kept raw: a bundle may
// hold any type, and Import decodes and checks each on its own.
type Bundle struct {
	Type    string            `json:"type"`
	ID      string            `json:"id"`
	Objects []json.RawMessage `json:"objects,omitempty"`
}

// NewBundle marshals objects into a bundle with a random id.
func NewBundle(objs ...Object) (*Bundle, error) {
	b := &Bundle{Type: "bundle", ID: NewID("bundle")}
	for i, o := range objs {
		raw, err := Marshal(o)
		if err != nil {
			var se *Error
			if errors.As(err, &se) {
				se.Path = pointerIndex("/objects", i) + se.Path
				return nil, se
			}
			return nil, err
		}
		b.Objects = append(b.Objects, raw)
	}
	return b, nil
}

// Marshal validates an object against the specification's rules and
// returns its JSON, custom properties included.
func Marshal(o Object) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(o)
}

// The aliases let MarshalJSON call encoding/json without recursing.
type (
	indicatorJSON     Indicator
	sightingJSON      Sighting
	identityJSON      Identity
	relationshipJSON  Relationship
	attackPatternJSON AttackPattern
	reportJSON        Report
	markingJSON       MarkingDefinition
)

func (x *Indicator) MarshalJSON() ([]byte, error) {
	return withCustom((*indicatorJSON)(x), x.Custom)
}
func (x *Sighting) MarshalJSON() ([]byte, error) { return withCustom((*sightingJSON)(x), x.Custom) }
func (x *Identity) MarshalJSON() ([]byte, error) { return withCustom((*identityJSON)(x), x.Custom) }
func (x *Relationship) MarshalJSON() ([]byte, error) {
	return withCustom((*relationshipJSON)(x), x.Custom)
}
func (x *AttackPattern) MarshalJSON() ([]byte, error) {
	return withCustom((*attackPatternJSON)(x), x.Custom)
}
func (x *Report) MarshalJSON() ([]byte, error) { return withCustom((*reportJSON)(x), x.Custom) }
func (x *MarkingDefinition) MarshalJSON() ([]byte, error) {
	return withCustom((*markingJSON)(x), x.Custom)
}

// withCustom marshals v and appends the custom properties in sorted order.
func withCustom(v any, custom map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(custom) == 0 {
		return b, err
	}
	keys := make([]string, 0, len(custom))
	for k := range custom {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = b[:len(b)-1]
	for _, k := range keys {
		v := custom[k]
		if !json.Valid(v) {
			return nil, errAt("/"+k, "custom property is not valid JSON")
		}
		b = append(b, ',')
		b = appendJCSString(b, k)
		b = append(b, ':')
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON methods decode through the field tables so that every error
// names its JSON path and every unknown property is judged (kept if it is a
// valid custom property name, rejected otherwise).
func (x *Indicator) UnmarshalJSON(b []byte) error {
	return decodeObject(b, indicatorFields, x, (*indicatorJSON)(x), &x.Custom)
}
func (x *Sighting) UnmarshalJSON(b []byte) error {
	return decodeObject(b, sightingFields, x, (*sightingJSON)(x), &x.Custom)
}
func (x *Identity) UnmarshalJSON(b []byte) error {
	return decodeObject(b, identityFields, x, (*identityJSON)(x), &x.Custom)
}
func (x *Relationship) UnmarshalJSON(b []byte) error {
	return decodeObject(b, relationshipFields, x, (*relationshipJSON)(x), &x.Custom)
}
func (x *AttackPattern) UnmarshalJSON(b []byte) error {
	return decodeObject(b, attackPatternFields, x, (*attackPatternJSON)(x), &x.Custom)
}
func (x *Report) UnmarshalJSON(b []byte) error {
	return decodeObject(b, reportFields, x, (*reportJSON)(x), &x.Custom)
}
func (x *MarkingDefinition) UnmarshalJSON(b []byte) error {
	return decodeObject(b, markingFields, x, (*markingJSON)(x), &x.Custom)
}

type fieldTable[T any] map[string]func(*T) any

func commonFields[T any](c func(*T) *Common) fieldTable[T] {
	return fieldTable[T]{
		"type":                func(x *T) any { return &c(x).Type },
		"spec_version":        func(x *T) any { return &c(x).SpecVersion },
		"id":                  func(x *T) any { return &c(x).ID },
		"created_by_ref":      func(x *T) any { return &c(x).CreatedByRef },
		"created":             func(x *T) any { return &c(x).Created },
		"modified":            func(x *T) any { return &c(x).Modified },
		"revoked":             func(x *T) any { return &c(x).Revoked },
		"labels":              func(x *T) any { return &c(x).Labels },
		"confidence":          func(x *T) any { return &c(x).Confidence },
		"lang":                func(x *T) any { return &c(x).Lang },
		"external_references": func(x *T) any { return &c(x).ExternalReferences },
		"object_marking_refs": func(x *T) any { return &c(x).ObjectMarkingRefs },
		"granular_markings":   func(x *T) any { return &c(x).GranularMarkings },
		"extensions":          func(x *T) any { return &c(x).Extensions },
	}
}

func with[T any](base fieldTable[T], more fieldTable[T]) fieldTable[T] {
	for k, f := range more {
		base[k] = f
	}
	return base
}

var (
	indicatorFields = with(commonFields(func(x *Indicator) *Common { return &x.Common }), fieldTable[Indicator]{
		"name":              func(x *Indicator) any { return &x.Name },
		"description":       func(x *Indicator) any { return &x.Description },
		"indicator_types":   func(x *Indicator) any { return &x.IndicatorTypes },
		"pattern":           func(x *Indicator) any { return &x.Pattern },
		"pattern_type":      func(x *Indicator) any { return &x.PatternType },
		"pattern_version":   func(x *Indicator) any { return &x.PatternVersion },
		"valid_from":        func(x *Indicator) any { return &x.ValidFrom },
		"valid_until":       func(x *Indicator) any { return &x.ValidUntil },
		"kill_chain_phases": func(x *Indicator) any { return &x.KillChainPhases },
	})
	sightingFields = with(commonFields(func(x *Sighting) *Common { return &x.Common }), fieldTable[Sighting]{
		"description":        func(x *Sighting) any { return &x.Description },
		"first_seen":         func(x *Sighting) any { return &x.FirstSeen },
		"last_seen":          func(x *Sighting) any { return &x.LastSeen },
		"count":              func(x *Sighting) any { return &x.Count },
		"sighting_of_ref":    func(x *Sighting) any { return &x.SightingOfRef },
		"observed_data_refs": func(x *Sighting) any { return &x.ObservedDataRefs },
		"where_sighted_refs": func(x *Sighting) any { return &x.WhereSightedRefs },
		"summary":            func(x *Sighting) any { return &x.Summary },
	})
	identityFields = with(commonFields(func(x *Identity) *Common { return &x.Common }), fieldTable[Identity]{
		"name":                func(x *Identity) any { return &x.Name },
		"description":         func(x *Identity) any { return &x.Description },
		"roles":               func(x *Identity) any { return &x.Roles },
		"identity_class":      func(x *Identity) any { return &x.IdentityClass },
		"sectors":             func(x *Identity) any { return &x.Sectors },
		"contact_information": func(x *Identity) any { return &x.ContactInformation },
	})
	relationshipFields = with(commonFields(func(x *Relationship) *Common { return &x.Common }), fieldTable[Relationship]{
		"relationship_type": func(x *Relationship) any { return &x.RelationshipType },
		"description":       func(x *Relationship) any { return &x.Description },
		"source_ref":        func(x *Relationship) any { return &x.SourceRef },
		"target_ref":        func(x *Relationship) any { return &x.TargetRef },
		"start_time":        func(x *Relationship) any { return &x.StartTime },
		"stop_time":         func(x *Relationship) any { return &x.StopTime },
	})
	attackPatternFields = with(commonFields(func(x *AttackPattern) *Common { return &x.Common }), fieldTable[AttackPattern]{
		"name":              func(x *AttackPattern) any { return &x.Name },
		"description":       func(x *AttackPattern) any { return &x.Description },
		"aliases":           func(x *AttackPattern) any { return &x.Aliases },
		"kill_chain_phases": func(x *AttackPattern) any { return &x.KillChainPhases },
	})
	reportFields = with(commonFields(func(x *Report) *Common { return &x.Common }), fieldTable[Report]{
		"name":         func(x *Report) any { return &x.Name },
		"description":  func(x *Report) any { return &x.Description },
		"report_types": func(x *Report) any { return &x.ReportTypes },
		"published":    func(x *Report) any { return &x.Published },
		"object_refs":  func(x *Report) any { return &x.ObjectRefs },
	})
	markingFields = fieldTable[MarkingDefinition]{
		"type":                func(x *MarkingDefinition) any { return &x.Type },
		"spec_version":        func(x *MarkingDefinition) any { return &x.SpecVersion },
		"id":                  func(x *MarkingDefinition) any { return &x.ID },
		"created_by_ref":      func(x *MarkingDefinition) any { return &x.CreatedByRef },
		"created":             func(x *MarkingDefinition) any { return &x.Created },
		"external_references": func(x *MarkingDefinition) any { return &x.ExternalReferences },
		"object_marking_refs": func(x *MarkingDefinition) any { return &x.ObjectMarkingRefs },
		"granular_markings":   func(x *MarkingDefinition) any { return &x.GranularMarkings },
		"name":                func(x *MarkingDefinition) any { return &x.Name },
		"definition_type":     func(x *MarkingDefinition) any { return &x.DefinitionType },
		"definition":          func(x *MarkingDefinition) any { return &x.Definition },
		"extensions":          func(x *MarkingDefinition) any { return &x.Extensions },
	}
)

// decodeObject is the fast path: one scan checks every property name (and
// refuses nulls), then encoding/json decodes the object once into its struct
// through alias (the type without its UnmarshalJSON). Only when that fails
// does decodeFields decode again, property by property, to name the path.
func decodeObject[T any](b []byte, tbl fieldTable[T], x *T, alias any, custom *map[string]json.RawMessage) error {
	var extra map[string]json.RawMessage
	err := scanObject(b, func(k string, esc bool, v []byte) error {
		if string(v) == "null" {
			return errAt(pointer("", k), "must not be null (STIX 2.1 §3.1: absent properties are omitted)")
		}
		if emptyList(v) {
			return errAt(pointer("", k), "must not be an empty list (STIX 2.1 §3.1: absent properties are omitted)")
		}
		if i := nullItem(v); i >= 0 {
			return errAt(pointerIndex(pointer("", k), i), "must not be null")
		}
		if _, ok := tbl[k]; ok && !esc {
			return nil
		}
		if esc || !validPropertyName(k) {
			return errAt(pointer("", k), "property name is invalid: custom property names are 3 to 250 characters of a-z, 0-9 and _, starting with a letter (STIX 2.1 §3.1)")
		}
		if reservedProperty[k] {
			return errAt(pointer("", k), "property name is reserved (STIX 2.1 §3.1)")
		}
		if extra == nil {
			extra = make(map[string]json.RawMessage)
		}
		extra[k] = append(json.RawMessage(nil), v...)
		return nil
	})
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	if err != nil {
		return decodeFields(b, "", tbl, x, custom)
	}
	if err := json.Unmarshal(b, alias); err != nil {
		if ferr := decodeFields(b, "", tbl, x, custom); ferr != nil {
			return ferr
		}
		return errAt("", "%s", jsonReason(err))
	}
	*custom = extra
	return nil
}

// reservedProperty are names STIX 2.1 reserves for future use; the OASIS
// core schema refuses them.
var reservedProperty = map[string]bool{"severity": true, "action": true, "username": true, "phone_numbers": true}

// emptyList reports whether a raw JSON value is [].
func emptyList(v []byte) bool {
	return len(v) >= 2 && v[0] == '[' && v[skipWS(v, 1)] == ']'
}

// nullItem returns the index of the first null item of a raw JSON list, or
// -1 (encoding/json would decode it as a zero value and hide it).
func nullItem(v []byte) int {
	if len(v) == 0 || v[0] != '[' {
		return -1
	}
	i := skipWS(v, 1)
	for n := 0; i < len(v) && v[i] != ']'; n++ {
		j, err := skipValue(v, i)
		if err != nil {
			return -1
		}
		if string(v[i:j]) == "null" {
			return n
		}
		i = skipWS(v, j)
		if i < len(v) && v[i] == ',' {
			i = skipWS(v, i+1)
		}
	}
	return -1
}

// decodeFields decodes a JSON object property by property through tbl, so
// that a type error names the property's path; properties tbl does not know
// are kept in custom when their names are valid custom property names (§11.1:
// consumers may keep or ignore them; occsimore keeps them so re-export loses
// nothing) and rejected otherwise.
func decodeFields[T any](b []byte, path string, tbl fieldTable[T], x *T, custom *map[string]json.RawMessage) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return errAt(path, "not a JSON object: %v", jsonReason(err))
	}
	for k, v := range m {
		f, ok := tbl[k]
		if !ok {
			if !validPropertyName(k) || reservedProperty[k] {
				return errAt(pointer(path, k), "property name is invalid: custom property names are 3 to 250 characters of a-z, 0-9 and _ (STIX 2.1 §3.1)")
			}
			if *custom == nil {
				*custom = make(map[string]json.RawMessage)
			}
			(*custom)[k] = v
			continue
		}
		if bytes.Equal(v, []byte("null")) {
			return errAt(pointer(path, k), "must not be null (STIX 2.1 §3.1: absent properties are omitted)")
		}
		if err := json.Unmarshal(v, f(x)); err != nil {
			p := pointer(path, k)
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field != "" {
				for _, part := range strings.Split(te.Field, ".") {
					p = pointer(p, part)
				}
			}
			return errAt(p, "%s", jsonReason(err))
		}
	}
	return nil
}

func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "is a JSON " + te.Value + ", want " + jsonKind(te.Type.String())
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "malformed JSON: " + se.Error()
	}
	return err.Error()
}

func jsonKind(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "int") || goType == "*int":
		return "an integer"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "stix."):
		return "an object"
	}
	return goType
}
