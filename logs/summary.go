package logs

import (
	"slices"
	"strings"

	"github.com/occsimore/occsimore"
)

// ScenarioSummary counts one scenario's attacks and distinct sources.
type ScenarioSummary struct {
	Scenario string `json:"scenario"`
	Attacks  int    `json:"attacks"`
	Sources  int    `json:"sources"`
}

// SourceSummary counts one source's attacks, with the scenarios it set off.
type SourceSummary struct {
	Source    string   `json:"source"`
	Country   string   `json:"country,omitzero"`
	ASN       uint32   `json:"asn,omitzero"`
	Attacks   int      `json:"attacks"`
	Scenarios []string `json:"scenarios"` // sorted
}

// Summarize groups attacks by scenario and by source, the busiest first
// (ties by name).
func Summarize(attacks []*occsimore.Attack) ([]ScenarioSummary, []SourceSummary) {
	byScenario := map[string]*ScenarioSummary{}
	scenarioSources := map[string]map[string]bool{}
	bySource := map[string]*SourceSummary{}
	for _, a := range attacks {
		s := byScenario[a.Scenario]
		if s == nil {
			s = &ScenarioSummary{Scenario: a.Scenario}
			byScenario[a.Scenario] = s
			scenarioSources[a.Scenario] = map[string]bool{}
		}
		s.Attacks++
		scenarioSources[a.Scenario][a.Source] = true
		src := bySource[a.Source]
		if src == nil {
			src = &SourceSummary{Source: a.Source, Country: a.Country, ASN: a.ASN}
			bySource[a.Source] = src
		}
		src.Attacks++
		if !slices.Contains(src.Scenarios, a.Scenario) {
			src.Scenarios = append(src.Scenarios, a.Scenario)
		}
	}
	scenarios := make([]ScenarioSummary, 0, len(byScenario))
	for name, s := range byScenario {
		s.Sources = len(scenarioSources[name])
		scenarios = append(scenarios, *s)
	}
	slices.SortFunc(scenarios, func(a, b ScenarioSummary) int {
		if a.Attacks != b.Attacks {
			return b.Attacks - a.Attacks
		}
		return strings.Compare(a.Scenario, b.Scenario)
	})
	sources := make([]SourceSummary, 0, len(bySource))
	for _, s := range bySource {
		slices.Sort(s.Scenarios)
		sources = append(sources, *s)
	}
	slices.SortFunc(sources, func(a, b SourceSummary) int {
		if a.Attacks != b.Attacks {
			return b.Attacks - a.Attacks
		}
		return strings.Compare(a.Source, b.Source)
	})
	return scenarios, sources
}
