package share

import (
	"fmt"
	"slices"

	"github.com/occsimore/occsimore/stix"
)

// Recipient is where an export goes.
type Recipient struct {
	Member       string // the receiving member's id; empty for a destination outside the consortium
	Organization string // the receiving member's organisation
	// Consortium is true for members of the lab's sharing community
	// (TLP:GREEN's "community"); false for public feeds and outsiders.
	Consortium bool
}

// MayExport applies TLP 2.0 to one indicator and one recipient. It fails
// closed: an unknown TLP never leaves.
//
//   - RED never leaves the member: not even to its own organisation's other
//     members, whom the member would name in person, not through a feed.
//   - AMBER+STRICT goes only to the source's own organisation.
//   - AMBER goes to the source's organisation and to the members the source
//     named (ShareWith).
//   - GREEN goes to the consortium, not to public feeds.
//   - CLEAR goes anywhere.
//
// An anonymous source has no organisation to compare, so its AMBER+STRICT
// goes nowhere and its AMBER only to named members.
func MayExport(ind *Indicator, to Recipient) (bool, string) {
	if to.Member != "" && to.Member == ind.Source.Member && !ind.Source.Anonymous {
		return false, "the recipient is the source"
	}
	sameOrg := !ind.Source.Anonymous && ind.Source.Organization != "" && to.Organization == ind.Source.Organization && to.Consortium
	switch ind.TLP {
	case stix.TLPRed:
		return false, "TLP:RED never leaves the member"
	case stix.TLPAmberStrict:
		if sameOrg {
			return true, "TLP:AMBER+STRICT within the source's organisation"
		}
		return false, "TLP:AMBER+STRICT goes only to the source's organisation"
	case stix.TLPAmber:
		if sameOrg {
			return true, "TLP:AMBER within the source's organisation"
		}
		if to.Member != "" && to.Consortium && slices.Contains(ind.ShareWith, to.Member) {
			return true, "TLP:AMBER to a member the source named"
		}
		return false, "TLP:AMBER goes only to the source's organisation and the members it named"
	case stix.TLPGreen:
		if to.Consortium {
			return true, "TLP:GREEN within the consortium"
		}
		return false, "TLP:GREEN does not go outside the consortium"
	case stix.TLPClear:
		return true, "TLP:CLEAR"
	}
	return false, fmt.Sprintf("unknown TLP %d: refused", ind.TLP)
}

// Refusal is one indicator an export left out, and why.
type Refusal struct {
	ID     string
	Reason string
}

// FilterExport returns the indicators that may go to the recipient (valid,
// customer-linked values as tokens only, allowed by their TLP) and the
// reasons for the others.
func FilterExport(inds []Indicator, to Recipient) ([]Indicator, []Refusal) {
	var out []Indicator
	var refused []Refusal
	for i := range inds {
		ind := &inds[i]
		if err := ind.Validate(); err != nil {
			refused = append(refused, Refusal{ID: ind.ID, Reason: err.Error()})
			continue
		}
		if ok, why := MayExport(ind, to); !ok {
			refused = append(refused, Refusal{ID: ind.ID, Reason: why})
			continue
		}
		out = append(out, *ind)
	}
	return out, refused
}
