package share

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/occsimore/occsimore/stix"
)

// Custom properties occsimore adds to the indicators it produces (§11.1).
const (
	propKind  = "x_occsimore_kind"
	propValue = "x_occsimore_value" // the clear or token value, so that a consumer need not parse the pattern
)

// SourceIdentityID is the STIX identity of a source: the member, or its
// sector when anonymous (all anonymous members of a sector share it).
func SourceIdentityID(s Source) string {
	if s.Anonymous {
		return stix.DerivedID("identity", "sector", s.Sector)
	}
	return stix.DerivedID("identity", "member", s.Member)
}

// PatternFor builds the STIX pattern of an indicator's value.
func PatternFor(ind *Indicator) (string, error) {
	if ind.Kind.CustomerLinked() {
		if !IsToken(ind.Value) {
			return "", fmt.Errorf("%s indicator: %w", ind.Kind, ErrClearIdentifier)
		}
		return stix.TokenPattern(string(ind.Kind), ind.Value)
	}
	switch ind.Kind {
	case KindIP:
		return stix.IPPattern(ind.Value)
	case KindCIDR:
		return stix.CIDRPattern(ind.Value)
	case KindDomain:
		return stix.DomainPattern(ind.Value)
	case KindURL:
		return stix.URLPattern(ind.Value)
	case KindFileHash:
		return stix.FileHashPattern(ind.HashAlgo, ind.Value)
	case KindEmail:
		return stix.EmailPattern(ind.Value)
	case KindUserAgent:
		return stix.UserAgentPattern(ind.Value)
	case KindCardBIN:
		return stix.CardBINPattern(ind.Value)
	case KindBehaviour:
		return stix.BehaviourPattern(ind.Value, ind.Params)
	}
	return "", fmt.Errorf("indicator kind %q has no pattern", ind.Kind)
}

// ToSTIX converts indicators to STIX objects: for each, its source identity,
// the indicator (pattern, validity, confidence, TLP marking), its sightings,
// its attack patterns with "indicates" relationships, and the TLP marking
// definitions used. It refuses a TLP:RED indicator and a customer-linked
// value that is not a token: what it returns is meant to leave the member.
func ToSTIX(inds []Indicator) ([]stix.Object, error) {
	var out []stix.Object
	seen := map[string]bool{}
	add := func(o stix.Object) {
		if !seen[o.ObjectID()] {
			seen[o.ObjectID()] = true
			out = append(out, o)
		}
	}
	for i := range inds {
		ind := &inds[i]
		if err := ind.Validate(); err != nil {
			return nil, fmt.Errorf("indicator %s: %w", ind.ID, err)
		}
		if ind.TLP == stix.TLPRed {
			return nil, fmt.Errorf("indicator %s is TLP:RED, which never leaves", ind.ID)
		}
		pattern, err := PatternFor(ind)
		if err != nil {
			return nil, fmt.Errorf("indicator %s: %w", ind.ID, err)
		}
		created, modified := ind.Created, ind.Modified
		if created.IsZero() {
			created = ind.ValidFrom
		}
		if modified.Before(created) {
			modified = created
		}
		src := sourceIdentity(ind.Source)
		add(src)
		add(stix.TLPMarking(ind.TLP))
		id := ind.ID
		if id == "" {
			id = IndicatorID(ind)
		}
		si := &stix.Indicator{
			Common:         stix.NewCommon("indicator", id, created),
			Name:           string(ind.Kind) + " indicator",
			Description:    ind.Description,
			IndicatorTypes: []string{"malicious-activity"},
			Pattern:        pattern, PatternType: "stix", PatternVersion: "2.1",
			ValidFrom: stix.TS(ind.ValidFrom),
		}
		if ind.Kind.CustomerLinked() {
			si.IndicatorTypes = []string{"compromised"}
		}
		si.Modified = stix.TS(modified)
		si.CreatedByRef = src.ID
		c := ind.Confidence
		si.Confidence = &c
		si.ObjectMarkingRefs = []string{ind.TLP.MarkingRef()}
		if !ind.ValidUntil.IsZero() {
			si.ValidUntil = stix.TS(ind.ValidUntil)
		}
		kind, _ := json.Marshal(string(ind.Kind))
		val, _ := json.Marshal(ind.Value)
		si.Custom = map[string]json.RawMessage{propKind: kind, propValue: val}
		add(si)
		for _, s := range ind.Sightings {
			by := sightingIdentity(s.By, ind.Source)
			add(by)
			sg := &stix.Sighting{
				Common:        stix.NewCommon("sighting", stix.DerivedID("sighting", id, by.ID), created),
				SightingOfRef: id, FirstSeen: stix.TS(s.First), LastSeen: stix.TS(s.Last),
				WhereSightedRefs: []string{by.ID},
			}
			sg.Modified = stix.TS(modified)
			sg.CreatedByRef = src.ID
			sg.ObjectMarkingRefs = si.ObjectMarkingRefs
			n := s.Count
			sg.Count = &n
			add(sg)
		}
		for _, ap := range ind.AttackPatterns {
			a := attackPattern(ap)
			add(a)
			rel := &stix.Relationship{
				Common:           stix.NewCommon("relationship", stix.DerivedID("relationship", id, "indicates", a.ID), created),
				RelationshipType: "indicates", SourceRef: id, TargetRef: a.ID,
			}
			rel.Modified = stix.TS(modified)
			rel.CreatedByRef = src.ID
			rel.ObjectMarkingRefs = si.ObjectMarkingRefs
			add(rel)
		}
	}
	return out, nil
}

// identityEpoch is the created time of identities derived from names, so
// that the same member's identity is the same object in every export.
var identityEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func sourceIdentity(s Source) *stix.Identity {
	id := &stix.Identity{Common: stix.NewCommon("identity", SourceIdentityID(s), identityEpoch), IdentityClass: "organization"}
	if s.Anonymous {
		id.Name = "sector:" + s.Sector
		id.IdentityClass = "class"
	} else {
		id.Name = cmpOr(s.Name, s.Member)
	}
	if s.Sector != "" {
		id.Sectors = []string{s.Sector}
	}
	return id
}

func sightingIdentity(by string, src Source) *stix.Identity {
	if sector, ok := strings.CutPrefix(by, "sector:"); ok {
		return sourceIdentity(Source{Anonymous: true, Sector: sector})
	}
	if by == src.Member {
		return sourceIdentity(src)
	}
	return sourceIdentity(Source{Member: by})
}

func attackPattern(ap AttackPattern) *stix.AttackPattern {
	key := cmpOr(ap.ExternalID, cmpOr(ap.Scenario, ap.Name))
	a := &stix.AttackPattern{Common: stix.NewCommon("attack-pattern", stix.DerivedID("attack-pattern", key), identityEpoch), Name: cmpOr(ap.Name, ap.Scenario)}
	if ap.ExternalID != "" {
		a.ExternalReferences = []stix.ExternalReference{{SourceName: cmpOr(ap.Source, "capec"), ExternalID: ap.ExternalID}}
	}
	if ap.Scenario != "" {
		s, _ := json.Marshal(ap.Scenario)
		a.Custom = map[string]json.RawMessage{"x_occsimore_scenario": s}
	}
	return a
}

// FromSTIX reads indicators out of imported objects: each STIX indicator
// whose pattern is one occsimore can match locally (a single comparison on an
// address, domain, URL, e-mail, file hash, user agent, card BIN, or a token
// or behaviour pattern) becomes an Indicator with its source, TLP (the
// strictest marking; unmarked counts as AMBER+STRICT, so nothing unmarked
// is passed on), sightings and attack patterns. Others are refused with why.
// peer is the source of indicators that name no creator (the TAXII server or
// feed they came from).
func FromSTIX(objs []stix.Object, peer Source) ([]Indicator, []Refusal) {
	idents := map[string]*stix.Identity{}
	aps := map[string]*stix.AttackPattern{}
	var sightings []*stix.Sighting
	var rels []*stix.Relationship
	var stixInds []*stix.Indicator
	for _, o := range objs {
		switch x := o.(type) {
		case *stix.Identity:
			idents[x.ID] = x
		case *stix.AttackPattern:
			aps[x.ID] = x
		case *stix.Sighting:
			sightings = append(sightings, x)
		case *stix.Relationship:
			rels = append(rels, x)
		case *stix.Indicator:
			stixInds = append(stixInds, x)
		}
	}
	var out []Indicator
	var refused []Refusal
	byID := map[string]int{}
	for _, si := range stixInds {
		if si.Revoked {
			refused = append(refused, Refusal{ID: si.ID, Reason: "revoked"})
			continue
		}
		ind, err := indicatorFromPattern(si)
		if err != nil {
			refused = append(refused, Refusal{ID: si.ID, Reason: err.Error()})
			continue
		}
		ind.ID = si.ID
		ind.ValidFrom = si.ValidFrom.Time
		ind.ValidUntil = si.ValidUntil.Time
		ind.Created, ind.Modified = si.Created.Time, si.Modified.Time
		ind.Description = si.Description
		ind.Confidence = 50 // §3.2: unknown confidence; occsimore's middle
		if si.Confidence != nil {
			ind.Confidence = *si.Confidence
		}
		ind.TLP = stix.StrictestTLP(si.ObjectMarkingRefs)
		if ind.TLP == stix.TLPUnknown {
			ind.TLP = stix.TLPAmberStrict
		}
		ind.Source = peer
		if si.CreatedByRef != "" {
			ind.Source = sourceOf(idents[si.CreatedByRef], si.CreatedByRef)
		}
		if err := ind.Validate(); err != nil {
			refused = append(refused, Refusal{ID: si.ID, Reason: err.Error()})
			continue
		}
		byID[si.ID] = len(out)
		out = append(out, ind)
	}
	for _, s := range sightings {
		i, ok := byID[s.SightingOfRef]
		if !ok {
			continue
		}
		by := ""
		if len(s.WhereSightedRefs) > 0 {
			src := sourceOf(idents[s.WhereSightedRefs[0]], s.WhereSightedRefs[0])
			by = src.Member
			if src.Anonymous {
				by = "sector:" + src.Sector
			}
		}
		n := 1
		if s.Count != nil {
			n = *s.Count
		}
		out[i].Sightings = append(out[i].Sightings, Sighting{By: by, Count: n, First: s.FirstSeen.Time, Last: s.LastSeen.Time})
	}
	for _, r := range rels {
		i, ok := byID[r.SourceRef]
		ap := aps[r.TargetRef]
		if !ok || ap == nil || r.RelationshipType != "indicates" {
			continue
		}
		a := AttackPattern{Name: ap.Name}
		if len(ap.ExternalReferences) > 0 {
			a.ExternalID, a.Source = ap.ExternalReferences[0].ExternalID, ap.ExternalReferences[0].SourceName
		}
		if raw, ok := ap.Custom["x_occsimore_scenario"]; ok {
			json.Unmarshal(raw, &a.Scenario)
		}
		out[i].AttackPatterns = append(out[i].AttackPatterns, a)
	}
	return out, refused
}

func sourceOf(id *stix.Identity, ref string) Source {
	if id == nil {
		return Source{Member: ref, Name: ref}
	}
	if sector, ok := strings.CutPrefix(id.Name, "sector:"); ok && id.IdentityClass == "class" {
		return Source{Anonymous: true, Sector: sector}
	}
	s := Source{Member: id.ID, Name: id.Name}
	if len(id.Sectors) > 0 {
		s.Sector = id.Sectors[0]
	}
	return s
}

// indicatorFromPattern recognises the pattern shapes occsimore matches.
func indicatorFromPattern(si *stix.Indicator) (Indicator, error) {
	if si.PatternType != "stix" {
		return Indicator{}, fmt.Errorf("pattern type %q is not matched locally", si.PatternType)
	}
	p, err := stix.ParsePattern(si.Pattern)
	if err != nil {
		return Indicator{}, err
	}
	br, ok := p.Root.(*stix.ObsBracket)
	if !ok {
		return Indicator{}, fmt.Errorf("pattern %q has several observations or qualifiers: not matched locally", si.Pattern)
	}
	tests := flattenAnd(br.Expr)
	if tests == nil {
		return Indicator{}, fmt.Errorf("pattern %q is not a conjunction of equalities: not matched locally", si.Pattern)
	}
	first := tests[0]
	obj, path := first.Path.ObjectType, first.Path.String()
	switch obj {
	case stix.TokenObject:
		var kind, val string
		for _, t := range tests {
			switch t.Path.String() {
			case stix.TokenObject + ":kind":
				kind = t.Value.Str
			case stix.TokenObject + ":value":
				val = t.Value.Str
			}
		}
		k := Kind(kind)
		if !k.CustomerLinked() || !IsToken(val) {
			return Indicator{}, fmt.Errorf("token pattern %q: kind or token invalid", si.Pattern)
		}
		return Indicator{Kind: k, Value: val}, nil
	case stix.BehaviourObject:
		ind := Indicator{Kind: KindBehaviour}
		for _, t := range tests {
			if t.Path.String() == stix.BehaviourObject+":scenario" {
				ind.Value = t.Value.Str
			} else if len(t.Path.Steps) == 2 && t.Path.Steps[0].Key == "parameters" {
				ind.Params = append(ind.Params, [2]string{t.Path.Steps[1].Key, t.Value.Str})
			}
		}
		return ind, nil
	}
	if len(tests) != 1 {
		return Indicator{}, fmt.Errorf("pattern %q has several comparisons: not matched locally", si.Pattern)
	}
	t := first
	switch {
	case t.Op == "ISSUBSET" && (obj == "ipv4-addr" || obj == "ipv6-addr"):
		return Indicator{Kind: KindCIDR, Value: t.Value.Str}, nil
	case path == "ipv4-addr:value" || path == "ipv6-addr:value":
		// Producers write single addresses as /32 too (§9.9's examples do).
		v := strings.TrimSuffix(strings.TrimSuffix(t.Value.Str, "/32"), "/128")
		if strings.Contains(v, "/") {
			return Indicator{Kind: KindCIDR, Value: v}, nil
		}
		return Indicator{Kind: KindIP, Value: v}, nil
	case path == "domain-name:value":
		return Indicator{Kind: KindDomain, Value: t.Value.Str}, nil
	case path == "url:value":
		return Indicator{Kind: KindURL, Value: t.Value.Str}, nil
	case path == "email-addr:value":
		return Indicator{Kind: KindEmail, Value: t.Value.Str}, nil
	case path == stix.CardObject+":bin":
		return Indicator{Kind: KindCardBIN, Value: t.Value.Str}, nil
	case obj == "file" && len(t.Path.Steps) == 2 && t.Path.Steps[0].Key == "hashes":
		return Indicator{Kind: KindFileHash, HashAlgo: t.Path.Steps[1].Key, Value: strings.ToLower(t.Value.Str)}, nil
	case obj == "network-traffic" && strings.HasSuffix(path, ".request_header.'User-Agent'"):
		return Indicator{Kind: KindUserAgent, Value: t.Value.Str}, nil
	}
	return Indicator{}, fmt.Errorf("pattern %q is not one occsimore matches locally", si.Pattern)
}

// flattenAnd returns the equality tests of a conjunction (ISSUBSET allowed
// alone), or nil if the expression is anything else.
func flattenAnd(e stix.CmpExpr) []*stix.PropTest {
	switch x := e.(type) {
	case *stix.PropTest:
		if x.Not || (x.Op != "=" && x.Op != "ISSUBSET") || x.Value.Kind != stix.LitString {
			return nil
		}
		return []*stix.PropTest{x}
	case *stix.CmpParen:
		return flattenAnd(x.Expr)
	case *stix.CmpBinary:
		if x.Op != "AND" {
			return nil
		}
		l, r := flattenAnd(x.Left), flattenAnd(x.Right)
		if l == nil || r == nil {
			return nil
		}
		return append(l, r...)
	}
	return nil
}
