// Package share is the indicator model of the consortium and the gates every
// shared indicator passes: the member's sharing policy (what becomes an
// indicator, at what TLP, after what delay, after whose review), TLP 2.0
// enforcement on export, and the privacy of customer-linked identifiers
// (keyed HMAC tokens under a rotating consortium key, and an OPRF so that a
// member can test its identifiers against the others' without learning their
// lists). It converts indicators to and from STIX 2.1 objects.
//
// It is pure logic: values in, values out; no storage, no network.
package share

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/occsimore/occsimore/stix"
)

// Kind is what an indicator's value is.
type Kind string

const (
	KindIP        Kind = "ip"
	KindCIDR      Kind = "cidr"
	KindDomain    Kind = "domain"
	KindURL       Kind = "url"
	KindFileHash  Kind = "file-hash"
	KindEmail     Kind = "email"
	KindUserAgent Kind = "user-agent"
	KindCardBIN   Kind = "card-bin"
	KindBehaviour Kind = "behaviour"
	// Customer-linked kinds: their values travel only as tokens.
	KindCard     Kind = "card"
	KindAccount  Kind = "account"
	KindCustomer Kind = "customer"
	KindTerminal Kind = "terminal"
	KindMerchant Kind = "merchant"
	KindDevice   Kind = "device"
)

// Kinds lists every kind.
var Kinds = []Kind{KindIP, KindCIDR, KindDomain, KindURL, KindFileHash, KindEmail, KindUserAgent, KindCardBIN,
	KindBehaviour, KindCard, KindAccount, KindCustomer, KindTerminal, KindMerchant, KindDevice}

// CustomerLinked reports whether values of this kind identify (or lead to)
// a member's customer, and so must never leave the member in clear.
func (k Kind) CustomerLinked() bool {
	switch k {
	case KindCard, KindAccount, KindCustomer, KindTerminal, KindMerchant, KindDevice:
		return true
	}
	return false
}

func (k Kind) valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Source is who shares an indicator: a member, or only its sector when the
// member chose anonymity.
type Source struct {
	Member       string // member id; empty when anonymous
	Name         string // display name; empty when anonymous
	Organization string // the member's organisation (TLP:AMBER+STRICT boundary)
	Sector       string // e.g. "banking"
	Anonymous    bool
}

// Label is how the source appears to others: the member's name, or its
// sector when anonymous.
func (s Source) Label() string {
	if s.Anonymous {
		return "sector:" + s.Sector
	}
	return cmpOr(s.Name, s.Member)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Granularity is how precisely a member discloses when it saw something.
type Granularity string

const (
	GranularityExact Granularity = "exact"
	GranularityHour  Granularity = "hour"
	GranularityDay   Granularity = "day"
)

// Coarsen rounds t down to the granularity (UTC).
func (g Granularity) Coarsen(t time.Time) time.Time {
	t = t.UTC()
	switch g {
	case GranularityHour:
		return t.Truncate(time.Hour)
	case GranularityDay:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return t.Truncate(time.Millisecond)
}

// Sighting is that a member (or its sector) saw the indicator Count times
// between First and Last, at its chosen granularity.
type Sighting struct {
	By          string // member id, or "sector:<name>" when anonymous
	Count       int
	First, Last time.Time
}

// AttackPattern is the kind of attack an indicator indicates.
type AttackPattern struct {
	Name       string // e.g. "SSH brute force"
	Scenario   string // the detection scenario, e.g. "ssh-bf"
	ExternalID string // e.g. "CAPEC-49" or "T1110"
	Source     string // "capec" or "mitre-attack"
}

// Indicator is one shared indicator. For customer-linked kinds, Value is a
// token (see Keyring and OPRF), never the identifier: Validate refuses
// anything else.
type Indicator struct {
	ID         string // the STIX indicator id (stable over versions)
	Kind       Kind
	Value      string
	HashAlgo   string      // KindFileHash: MD5, SHA-1, SHA-256, SHA-512
	Params     [][2]string // KindBehaviour: the scenario's parameters (Value is the scenario)
	Confidence int         // 0..100
	ValidFrom  time.Time
	ValidUntil time.Time // zero: no end
	TLP        stix.TLP
	// ShareWith names the members a TLP:AMBER indicator may go to beyond
	// the source's organisation.
	ShareWith      []string
	Source         Source
	Sightings      []Sighting
	AttackPatterns []AttackPattern
	Description    string
	Created        time.Time
	Modified       time.Time
}

// ErrClearIdentifier is returned when a customer-linked value is not a token.
var ErrClearIdentifier = errors.New("customer-linked identifier is not a token")

// Validate checks an indicator before it is converted or exported.
func (ind *Indicator) Validate() error {
	if !ind.Kind.valid() {
		return fmt.Errorf("indicator kind %q is unknown", ind.Kind)
	}
	if ind.Value == "" {
		return fmt.Errorf("indicator value is empty")
	}
	if ind.Kind.CustomerLinked() && !IsToken(ind.Value) {
		return fmt.Errorf("%s indicator: %w", ind.Kind, ErrClearIdentifier)
	}
	if ind.Confidence < 0 || ind.Confidence > 100 {
		return fmt.Errorf("confidence %d is outside 0..100", ind.Confidence)
	}
	if ind.ValidFrom.IsZero() {
		return fmt.Errorf("valid from is required")
	}
	if !ind.ValidUntil.IsZero() && !ind.ValidUntil.After(ind.ValidFrom) {
		return fmt.Errorf("valid until %s is not after valid from %s", ind.ValidUntil, ind.ValidFrom)
	}
	if ind.TLP < stix.TLPClear || ind.TLP > stix.TLPRed {
		return fmt.Errorf("TLP is unset")
	}
	if !ind.Source.Anonymous && ind.Source.Member == "" {
		return fmt.Errorf("source member is required unless anonymous")
	}
	if ind.Source.Anonymous && ind.Source.Sector == "" {
		return fmt.Errorf("an anonymous source needs its sector")
	}
	return nil
}

// NormalizeValue canonicalises a clear value of a kind, so that the same
// thing seen at two members gives the same indicator (and token).
func NormalizeValue(k Kind, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch k {
	case KindIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return "", fmt.Errorf("ip %q: %w", v, err)
		}
		return a.Unmap().String(), nil
	case KindCIDR:
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return "", fmt.Errorf("cidr %q: %w", v, err)
		}
		return p.Masked().String(), nil
	case KindDomain, KindEmail:
		return strings.TrimSuffix(strings.ToLower(v), "."), nil
	case KindFileHash:
		return strings.ToLower(v), nil
	case KindCard:
		// Digits only: "4111 1111-1111 1111" and "4111111111111111" are one card.
		var b strings.Builder
		for _, c := range v {
			if c >= '0' && c <= '9' {
				b.WriteRune(c)
			} else if c != ' ' && c != '-' {
				return "", fmt.Errorf("card number has a %q", c)
			}
		}
		return b.String(), nil
	}
	if v == "" {
		return "", fmt.Errorf("%s value is empty", k)
	}
	return v, nil
}
