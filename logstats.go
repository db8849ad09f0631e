package occsimore

import "time"

// LogStats counts what a member's log lines did since the server started:
// how many each parser took, how many no parser took (with the newest of
// them as samples), and what each scenario saw.
type LogStats struct {
	Lines        int64            `json:"lines"`
	Parsed       int64            `json:"parsed"`
	Unparsed     int64            `json:"unparsed"`
	Attacks      int64            `json:"attacks"`
	Remediations int64            `json:"remediations"`
	ByParser     map[string]int64 `json:"by_parser"`
	Scenarios    []ScenarioStats  `json:"scenarios"`
	Samples      []UnparsedLine   `json:"unparsed_samples"` // oldest first
}

// UnparsedLine is a line no parser took, kept as a sample for operators.
type UnparsedLine struct {
	Host   string    `json:"host,omitzero"`
	Line   string    `json:"line"` // cut at 512 bytes
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// ScenarioStats counts one scenario's activity for one member.
type ScenarioStats struct {
	Name      string `json:"name"`
	Fed       int64  `json:"fed"`       // lines that passed its filter
	Overflows int64  `json:"overflows"` // attacks it raised
	Dropped   int64  `json:"dropped"`   // lines dropped because the bucket limit was reached
	Errors    int64  `json:"errors"`    // expression errors at run time (line skipped)
}
