package misp

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/occsimore/occsimore/share"
	"github.com/occsimore/occsimore/stix"
)

// Machine tags occsimore writes on attributes (namespace "occsimore"): what
// MISP's attribute model has no field for, so that an occsimore importer
// gets back the indicator it exported.
const (
	tagKind       = "occsimore:kind"           // the share kind of a text attribute (token kinds, behaviour)
	tagConfidence = "occsimore:confidence"     // 0..100
	tagValidFrom  = "occsimore:valid-from"     // RFC 3339, milliseconds
	tagValidUntil = "occsimore:valid-until"    // RFC 3339, milliseconds
	tagParam      = "occsimore:param"          // behaviour parameter name=value
	tagAttack     = "occsimore:attack-pattern" // source|external id|scenario|name
	// tagATTACK is MISP's galaxy tag for a MITRE ATT&CK technique.
	tagATTACK = "misp-galaxy:mitre-attack-pattern"
)

const tsLayout = "2006-01-02T15:04:05.000Z"

// TLPTag is the MISP taxonomy tag of a TLP 2.0 level: tlp:clear,
// tlp:green, tlp:amber, tlp:amber+strict or tlp:red.
func TLPTag(t stix.TLP) Tag {
	colour := map[stix.TLP]string{stix.TLPClear: "#ffffff", stix.TLPGreen: "#33ff00", stix.TLPAmber: "#ffc000",
		stix.TLPAmberStrict: "#ffc000", stix.TLPRed: "#ff2b2b"}[t]
	return Tag{Name: "tlp:" + t.Value(), Colour: colour, Exportable: true}
}

// tlpOfTag reads a TLP taxonomy tag, TLP 1.0's white as clear. The MISP
// taxonomy's other values (tlp:ex:chr, tlp:unclear…) restrict sharing in
// ways TLP 2.0 does not name: they count as AMBER+STRICT, failing closed.
func tlpOfTag(name string) (stix.TLP, bool) {
	v, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(name)), "tlp:")
	if !ok {
		return stix.TLPUnknown, false
	}
	if v == "white" {
		return stix.TLPClear, true
	}
	t, err := stix.ParseTLP(v)
	if err != nil {
		return stix.TLPAmberStrict, true
	}
	return t, true
}

// distribution is the MISP distribution level that matches a TLP: the
// feed's consumers apply it when they pass events on.
func distribution(t stix.TLP) string {
	switch t {
	case stix.TLPClear:
		return "3" // all communities
	case stix.TLPGreen:
		return "1" // this community only
	}
	return "0" // the organisation only
}

// typeOf is the MISP attribute type and category of an indicator.
func typeOf(ind *share.Indicator) (typ, category string, err error) {
	switch ind.Kind {
	case share.KindIP, share.KindCIDR:
		// The indicators are attackers: the source of the traffic a member saw.
		return "ip-src", "Network activity", nil
	case share.KindDomain:
		return "domain", "Network activity", nil
	case share.KindURL:
		return "url", "Network activity", nil
	case share.KindUserAgent:
		return "user-agent", "Network activity", nil
	case share.KindEmail:
		return "email-src", "Payload delivery", nil
	case share.KindFileHash:
		switch strings.ToUpper(strings.ReplaceAll(ind.HashAlgo, "-", "")) {
		case "MD5":
			return "md5", "Payload delivery", nil
		case "SHA1":
			return "sha1", "Payload delivery", nil
		case "SHA256":
			return "sha256", "Payload delivery", nil
		case "SHA512":
			return "sha512", "Payload delivery", nil
		}
		return "", "", fmt.Errorf("hash algorithm %q has no MISP type", ind.HashAlgo)
	case share.KindCardBIN:
		return "bin", "Financial fraud", nil
	case share.KindBehaviour:
		return "text", "Other", nil
	}
	if ind.Kind.CustomerLinked() {
		// MISP's cc-number, iban and the like would announce a clear value:
		// a token is opaque text.
		return "text", "Other", nil
	}
	return "", "", fmt.Errorf("indicator kind %q has no MISP type", ind.Kind)
}

// ExportOptions tune event conversion.
type ExportOptions struct {
	// Sightings writes each indicator's sightings as the MISP core format's
	// Attribute.Sighting list: a sighting of Count occurrences between
	// First and Last becomes Count MISP sightings (the first dated First,
	// the others Last), at most MaxSightings per attribute. The MISP 2.4
	// event schema does not list Sighting, so strict validators refuse such
	// events: off by default.
	Sightings bool
	// MaxSightings caps the MISP sightings written per attribute (0: 100).
	MaxSightings int
}

// EventInput is a group of indicators that become one MISP event.
type EventInput struct {
	UUID       string // empty: derived from the source and Info
	Info       string // the event's title
	Indicators []share.Indicator
}

// ErrRed is returned when a TLP:RED indicator reaches event conversion.
var ErrRed = errors.New("TLP:RED never leaves the member")

// ToEvent converts one group of indicators to a MISP event. It refuses an
// invalid indicator, a customer-linked value that is not a token and a
// TLP:RED indicator: what it returns is meant to leave the member (call
// share.FilterExport first, as WriteFeed does). All the indicators of an
// event must have the same source, which becomes the event's creator.
func ToEvent(in EventInput, opt ExportOptions) (*Event, error) {
	if len(in.Indicators) == 0 {
		return nil, fmt.Errorf("event %q has no indicator", in.Info)
	}
	src := in.Indicators[0].Source
	ev := &Event{Info: in.Info, Analysis: "2", ThreatLevelID: "2", Published: true,
		Attribute: make([]Attribute, 0, len(in.Indicators))}
	if ev.Info == "" {
		ev.Info = "occsimore indicators from " + src.Label()
	}
	ev.UUID = in.UUID
	if ev.UUID == "" {
		ev.UUID = DerivedUUID("event", src.Label(), ev.Info)
	} else if !validUUID(ev.UUID) {
		return nil, fmt.Errorf("event uuid %q is not a UUID", ev.UUID)
	}
	ev.UUID = strings.ToLower(ev.UUID)
	ev.Orgc = &Org{Name: src.Label(), UUID: DerivedUUID("org", src.Label())}
	var tlp stix.TLP
	var first, latest time.Time
	var attacks []share.AttackPattern
	seen := make(map[string]bool, len(in.Indicators))
	for i := range in.Indicators {
		ind := &in.Indicators[i]
		if err := ind.Validate(); err != nil {
			return nil, fmt.Errorf("indicator %s: %w", ind.ID, err)
		}
		if ind.TLP == stix.TLPRed {
			return nil, fmt.Errorf("indicator %s: %w", ind.ID, ErrRed)
		}
		if ind.ValidFrom.Before(time.Unix(0, 0)) {
			return nil, fmt.Errorf("indicator %s: valid from %s is before 1970, which MISP timestamps cannot say", ind.ID, ind.ValidFrom)
		}
		if ind.Source.Label() != src.Label() {
			return nil, fmt.Errorf("indicator %s: source %q differs from the event's %q", ind.ID, ind.Source.Label(), src.Label())
		}
		a, err := attributeOf(ind, opt)
		if err != nil {
			return nil, fmt.Errorf("indicator %s: %w", ind.ID, err)
		}
		if seen[a.UUID] {
			// MISP keys attributes by UUID, and the schema wants them unique.
			return nil, fmt.Errorf("indicator %s appears twice in the event", ind.ID)
		}
		seen[a.UUID] = true
		ev.Attribute = append(ev.Attribute, a)
		tlp = max(tlp, ind.TLP)
		if first.IsZero() || ind.ValidFrom.Before(first) {
			first = ind.ValidFrom
		}
		latest = maxTime(latest, maxTime(ind.ValidFrom, ind.Modified))
		for _, ap := range ind.AttackPatterns {
			if !slices.Contains(attacks, ap) {
				attacks = append(attacks, ap)
			}
		}
	}
	ev.Date = first.UTC().Format(time.DateOnly)
	ev.Timestamp = unix(latest)
	ev.PublishTimestamp = ev.Timestamp
	ev.Distribution = distribution(tlp)
	ev.Tag = []Tag{TLPTag(tlp)}
	var clusters []Cluster
	for _, ap := range attacks {
		if name, ok := attackTagName(ap); ok {
			clusters = append(clusters, Cluster{Type: "mitre-attack-pattern", Value: attackClusterValue(ap), TagName: name, Source: "MITRE ATT&CK"})
		}
	}
	if len(clusters) > 0 {
		ev.Galaxy = []Galaxy{{Name: "Attack Pattern", Type: "mitre-attack-pattern",
			Description: "ATT&CK techniques", GalaxyCluster: clusters}}
	}
	return ev, nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// attributeUUID is the attribute's UUID: the UUID of the indicator's STIX
// id, so that the STIX and MISP exports of an indicator name it alike.
func attributeUUID(ind *share.Indicator) string {
	id := ind.ID
	if id == "" {
		id = share.IndicatorID(ind)
	}
	_, u, _ := strings.Cut(id, "--")
	if !validUUID(u) {
		return DerivedUUID("attribute", id)
	}
	return strings.ToLower(u)
}

func attributeOf(ind *share.Indicator, opt ExportOptions) (Attribute, error) {
	typ, cat, err := typeOf(ind)
	if err != nil {
		return Attribute{}, err
	}
	if ind.Kind.CustomerLinked() && !share.IsToken(ind.Value) {
		return Attribute{}, fmt.Errorf("%s indicator: %w", ind.Kind, share.ErrClearIdentifier)
	}
	value := ind.Value
	if ind.Kind == share.KindFileHash {
		value = strings.ToLower(value)
	}
	modified := maxTime(ind.ValidFrom, ind.Modified)
	a := Attribute{UUID: attributeUUID(ind), Type: typ, Category: cat, ToIDS: true, Distribution: "5",
		Timestamp: unix(modified), Comment: ind.Description, Value: value}
	a.Tag = append(a.Tag, TLPTag(ind.TLP))
	if typ == "text" {
		a.Tag = append(a.Tag, Tag{Name: machineTag(tagKind, string(ind.Kind))})
	}
	a.Tag = append(a.Tag, Tag{Name: machineTag(tagConfidence, strconv.Itoa(ind.Confidence))},
		Tag{Name: machineTag(tagValidFrom, ind.ValidFrom.UTC().Format(tsLayout))})
	if !ind.ValidUntil.IsZero() {
		a.Tag = append(a.Tag, Tag{Name: machineTag(tagValidUntil, ind.ValidUntil.UTC().Format(tsLayout))})
	}
	for _, p := range ind.Params {
		if strings.Contains(p[0], "=") {
			return Attribute{}, fmt.Errorf("behaviour parameter name %q contains '='", p[0])
		}
		a.Tag = append(a.Tag, Tag{Name: machineTag(tagParam, p[0]+"="+p[1])})
	}
	for _, ap := range ind.AttackPatterns {
		for _, f := range []string{ap.Source, ap.ExternalID, ap.Scenario, ap.Name} {
			if strings.Contains(f, "|") {
				return Attribute{}, fmt.Errorf("attack pattern field %q contains '|'", f)
			}
		}
		a.Tag = append(a.Tag, Tag{Name: machineTag(tagAttack, ap.Source+"|"+ap.ExternalID+"|"+ap.Scenario+"|"+ap.Name)})
		if name, ok := attackTagName(ap); ok {
			a.Tag = append(a.Tag, Tag{Name: name})
		}
	}
	a.Tag = uniqueTags(a.Tag)
	if opt.Sightings {
		a.Sighting = sightingsOf(ind, opt.MaxSightings)
	}
	return a, nil
}

// machineTag writes namespace:predicate="value", escaping the quotes MISP's
// taxonomy syntax would end the value at.
func machineTag(pred, v string) string {
	return pred + `="` + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), `"`, `\"`) + `"`
}

// parseMachineTag splits namespace:predicate="value".
func parseMachineTag(name string) (pred, value string, ok bool) {
	pred, rest, ok := strings.Cut(name, "=")
	if !ok || len(rest) < 2 || rest[0] != '"' || rest[len(rest)-1] != '"' {
		return "", "", false
	}
	body := rest[1 : len(rest)-1]
	if !strings.ContainsAny(body, `\"`) {
		return pred, body, true // the common case, without a copy
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '\\' && i+1 < len(body) {
			i++
			c = body[i]
		} else if c == '"' {
			return "", "", false
		}
		b.WriteByte(c)
	}
	return pred, b.String(), true
}

// uniqueTags drops repeated names: the schema wants unique items.
func uniqueTags(tags []Tag) []Tag {
	out := tags[:0]
	seen := map[string]bool{}
	for _, t := range tags {
		if !seen[t.Name] {
			seen[t.Name] = true
			out = append(out, t)
		}
	}
	return out
}

// attackTagName is the MISP galaxy tag of an ATT&CK technique
// (misp-galaxy:mitre-attack-pattern="Brute Force - T1110").
func attackTagName(ap share.AttackPattern) (string, bool) {
	if ap.Source != "mitre-attack" || ap.ExternalID == "" {
		return "", false
	}
	return machineTag(tagATTACK, attackClusterValue(ap)), true
}

func attackClusterValue(ap share.AttackPattern) string {
	return cmpOr(ap.Name, ap.Scenario) + " - " + ap.ExternalID
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func sightingsOf(ind *share.Indicator, limit int) []Sighting {
	if limit <= 0 {
		limit = 100
	}
	var out []Sighting
	for _, s := range ind.Sightings {
		by := s.By
		if by == ind.Source.Member && !ind.Source.Anonymous {
			by = ind.Source.Label()
		}
		for i := 0; i < max(s.Count, 1) && len(out) < limit; i++ {
			at := s.Last
			if i == 0 {
				at = s.First
			}
			out = append(out, Sighting{Type: "0", DateSighting: unix(at), Source: by})
		}
	}
	return out
}
