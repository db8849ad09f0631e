package stix

import (
	"strings"
)

// The Validate methods check what the specification requires and the OASIS
// schemas cannot (modified ≥ created, pattern syntax, id types of
// references) plus the required properties, so that an object built in Go is
// checked before it is written.

func (c *Common) validate(typ string) error {
	if c.Type != typ {
		return errAt("/type", "is %q, want %q", c.Type, typ)
	}
	if c.SpecVersion != SpecVersion {
		return errAt("/spec_version", "is %q, want %q", c.SpecVersion, SpecVersion)
	}
	if !ValidID(c.ID, typ) {
		return errAt("/id", "%q is not %s--<RFC 4122 UUID> (STIX 2.1 §2.9)", c.ID, typ)
	}
	if c.Created.IsZero() {
		return errAt("/created", "is required")
	}
	if c.Modified.IsZero() {
		return errAt("/modified", "is required")
	}
	if c.Modified.Before(c.Created.Time) {
		return errAt("/modified", "%s is before created %s (STIX 2.1 §3.2)", c.Modified, c.Created)
	}
	if c.CreatedByRef != "" && !ValidID(c.CreatedByRef, "identity") {
		return errAt("/created_by_ref", "%q is not an identity id", c.CreatedByRef)
	}
	if c.Confidence != nil && (*c.Confidence < 0 || *c.Confidence > 100) {
		return errAt("/confidence", "%d is outside 0..100 (STIX 2.1 §3.2)", *c.Confidence)
	}
	if err := checkRefs("/object_marking_refs", c.ObjectMarkingRefs, "marking-definition"); err != nil {
		return err
	}
	for i, r := range c.ExternalReferences {
		if r.SourceName == "" {
			return errAt(pointerIndex("/external_references", i)+"/source_name", "is required")
		}
	}
	for k, v := range c.Custom {
		if !validPropertyName(k) || reservedProperty[k] {
			return errAt(pointer("", k), "custom property name is invalid or reserved (STIX 2.1 §3.1)")
		}
		if string(v) == "null" || emptyList(v) {
			return errAt(pointer("", k), "must not be null or an empty list (STIX 2.1 §3.1)")
		}
	}
	return nil
}

func checkRefs(path string, refs []string, typ string) error {
	for i, r := range refs {
		if !ValidID(r, typ) {
			want := "an id"
			if typ != "" {
				want = "a " + typ + " id"
			}
			return errAt(pointerIndex(path, i), "%q is not %s", r, want)
		}
	}
	return nil
}

func required(path, v string) error {
	if strings.TrimSpace(v) == "" {
		return errAt(path, "is required")
	}
	return nil
}

// Validate checks an indicator, its pattern included when pattern_type is stix.
func (x *Indicator) Validate() error {
	if err := x.Common.validate("indicator"); err != nil {
		return err
	}
	if err := required("/pattern", x.Pattern); err != nil {
		return err
	}
	if err := required("/pattern_type", x.PatternType); err != nil {
		return err
	}
	if x.ValidFrom.IsZero() {
		return errAt("/valid_from", "is required")
	}
	if !x.ValidUntil.IsZero() && !x.ValidUntil.After(x.ValidFrom.Time) {
		return errAt("/valid_until", "%s is not after valid_from %s (STIX 2.1 §4.7)", x.ValidUntil, x.ValidFrom)
	}
	if x.PatternType == "stix" {
		if _, err := ParsePattern(x.Pattern); err != nil {
			return errAt("/pattern", "%v", err)
		}
	}
	for i, k := range x.KillChainPhases {
		if k.KillChainName == "" || k.PhaseName == "" {
			return errAt(pointerIndex("/kill_chain_phases", i), "kill_chain_name and phase_name are required")
		}
	}
	return nil
}

// Validate checks a sighting.
func (x *Sighting) Validate() error {
	if err := x.Common.validate("sighting"); err != nil {
		return err
	}
	if x.SightingOfRef == "" {
		return errAt("/sighting_of_ref", "is required")
	}
	if !ValidID(x.SightingOfRef, "") || IDType(x.SightingOfRef) == "sighting" || IDType(x.SightingOfRef) == "relationship" {
		return errAt("/sighting_of_ref", "%q is not the id of a domain object (STIX 2.1 §5.2)", x.SightingOfRef)
	}
	if x.Count != nil && (*x.Count < 0 || *x.Count > 999999999) {
		return errAt("/count", "%d is outside 0..999999999 (STIX 2.1 §5.2)", *x.Count)
	}
	if !x.FirstSeen.IsZero() && !x.LastSeen.IsZero() && x.LastSeen.Before(x.FirstSeen.Time) {
		return errAt("/last_seen", "%s is before first_seen %s", x.LastSeen, x.FirstSeen)
	}
	if err := checkRefs("/observed_data_refs", x.ObservedDataRefs, "observed-data"); err != nil {
		return err
	}
	for i, r := range x.WhereSightedRefs {
		if t := IDType(r); !ValidID(r, "") || (t != "identity" && t != "location") {
			return errAt(pointerIndex("/where_sighted_refs", i), "%q is not an identity or location id", r)
		}
	}
	return nil
}

// Validate checks an identity.
func (x *Identity) Validate() error {
	if err := x.Common.validate("identity"); err != nil {
		return err
	}
	return required("/name", x.Name)
}

// Validate checks a relationship.
func (x *Relationship) Validate() error {
	if err := x.Common.validate("relationship"); err != nil {
		return err
	}
	if err := required("/relationship_type", x.RelationshipType); err != nil {
		return err
	}
	if !ValidID(x.SourceRef, "") {
		return errAt("/source_ref", "%q is not an id", x.SourceRef)
	}
	if !ValidID(x.TargetRef, "") {
		return errAt("/target_ref", "%q is not an id", x.TargetRef)
	}
	if !x.StartTime.IsZero() && !x.StopTime.IsZero() && !x.StopTime.After(x.StartTime.Time) {
		return errAt("/stop_time", "is not after start_time (STIX 2.1 §5.1)")
	}
	return nil
}

// Validate checks an attack pattern.
func (x *AttackPattern) Validate() error {
	if err := x.Common.validate("attack-pattern"); err != nil {
		return err
	}
	return required("/name", x.Name)
}

// Validate checks a report.
func (x *Report) Validate() error {
	if err := x.Common.validate("report"); err != nil {
		return err
	}
	if err := required("/name", x.Name); err != nil {
		return err
	}
	if x.Published.IsZero() {
		return errAt("/published", "is required")
	}
	if len(x.ObjectRefs) == 0 {
		return errAt("/object_refs", "is required and not empty (STIX 2.1 §4.14)")
	}
	return checkRefs("/object_refs", x.ObjectRefs, "")
}

// Validate checks a marking definition.
func (m *MarkingDefinition) Validate() error {
	if m.Type != "marking-definition" {
		return errAt("/type", "is %q, want %q", m.Type, "marking-definition")
	}
	if m.SpecVersion != SpecVersion {
		return errAt("/spec_version", "is %q, want %q", m.SpecVersion, SpecVersion)
	}
	if !ValidID(m.ID, "marking-definition") {
		return errAt("/id", "%q is not marking-definition--<RFC 4122 UUID>", m.ID)
	}
	if m.Created.IsZero() {
		return errAt("/created", "is required")
	}
	for i, r := range m.ObjectMarkingRefs {
		if r == m.ID {
			return errAt(pointerIndex("/object_marking_refs", i), "a marking definition must not mark itself (STIX 2.1 §7.2.1)")
		}
	}
	if err := checkRefs("/object_marking_refs", m.ObjectMarkingRefs, "marking-definition"); err != nil {
		return err
	}
	// §7.2.1: either the deprecated definition_type/definition pair, or extensions.
	if (m.DefinitionType == "") != (len(m.Definition) == 0) {
		return errAt("/definition", "definition_type and definition go together")
	}
	if m.DefinitionType == "" && len(m.Extensions) == 0 {
		return errAt("", "a marking definition needs definition_type and definition, or extensions")
	}
	return nil
}
