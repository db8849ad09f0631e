package stix

import (
	"encoding/json"
	"fmt"
	"time"
)

// TLP is a Traffic Light Protocol 2.0 level.
type TLP uint8

const (
	TLPUnknown TLP = iota
	TLPClear
	TLPGreen
	TLPAmber
	TLPAmberStrict
	TLPRed
)

// TLPExtensionID is the extension definition the TLP 2.0 marking
// definitions use (OASIS cti-stix-common-objects, tlp-2.0).
const TLPExtensionID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// tlpCreated is the created timestamp the TLP 2.0 extension fixes.
var tlpCreated = time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC)

var tlpInfo = [...]struct {
	id, name, value string
}{
	TLPClear:       {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear"},
	TLPGreen:       {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green"},
	TLPAmber:       {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber"},
	TLPAmberStrict: {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT", "amber+strict"},
	TLPRed:         {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red"},
}

// The TLP 1.0 marking definitions STIX 2.1 §7.2.1.4 predefines, read on
// import as their TLP 2.0 equivalents (WHITE became CLEAR).
var tlp1 = map[string]TLP{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLPClear,
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLPGreen,
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLPAmber,
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLPRed,
}

func (t TLP) valid() bool { return t >= TLPClear && t <= TLPRed }

// String returns the TLP 2.0 label, such as "TLP:AMBER+STRICT".
func (t TLP) String() string {
	if !t.valid() {
		return "TLP:UNKNOWN"
	}
	return tlpInfo[t].name
}

// Value returns the extension's tlp_2_0 value, such as "amber+strict".
func (t TLP) Value() string {
	if !t.valid() {
		return ""
	}
	return tlpInfo[t].value
}

// MarkingRef returns the fixed id of the level's marking definition.
func (t TLP) MarkingRef() string {
	if !t.valid() {
		return ""
	}
	return tlpInfo[t].id
}

// ParseTLP reads "clear", "TLP:GREEN", "amber+strict" and the like
// (and "white", TLP 1.0's name for CLEAR).
func ParseTLP(s string) (TLP, error) {
	for len(s) > 4 && (s[:4] == "TLP:" || s[:4] == "tlp:") {
		s = s[4:]
	}
	switch lower(s) {
	case "clear", "white":
		return TLPClear, nil
	case "green":
		return TLPGreen, nil
	case "amber":
		return TLPAmber, nil
	case "amber+strict":
		return TLPAmberStrict, nil
	case "red":
		return TLPRed, nil
	}
	return TLPUnknown, fmt.Errorf("unknown TLP level %q (want clear, green, amber, amber+strict or red)", s)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TLPOfRef returns the TLP level a marking reference stands for (TLP 2.0 or
// the TLP 1.0 predefined ones).
func TLPOfRef(ref string) (TLP, bool) {
	for t := TLPClear; t <= TLPRed; t++ {
		if tlpInfo[t].id == ref {
			return t, true
		}
	}
	t, ok := tlp1[ref]
	return t, ok
}

// StrictestTLP returns the most restrictive TLP among the marking refs, or
// TLPUnknown when none is a TLP marking.
func StrictestTLP(refs []string) TLP {
	best := TLPUnknown
	for _, r := range refs {
		if t, ok := TLPOfRef(r); ok && t > best {
			best = t
		}
	}
	return best
}

// TLPMarking returns the level's marking definition exactly as the TLP 2.0
// extension fixes it (id, name, created, extension).
func TLPMarking(t TLP) *MarkingDefinition {
	if !t.valid() {
		return nil
	}
	ext, _ := json.Marshal(map[string]string{"extension_type": "property-extension", "tlp_2_0": tlpInfo[t].value})
	return &MarkingDefinition{
		Type:        "marking-definition",
		SpecVersion: SpecVersion,
		ID:          tlpInfo[t].id,
		Created:     Timestamp{tlpCreated},
		Name:        tlpInfo[t].name,
		Extensions:  map[string]json.RawMessage{TLPExtensionID: ext},
	}
}
