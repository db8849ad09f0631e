package logs_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/logs"
)

func TestSummarize(t *testing.T) {
	at := func(scenario, source, country string) *occsimore.Attack {
		return &occsimore.Attack{Scenario: scenario, Source: source, Country: country}
	}
	scenarios, sources := logs.Summarize([]*occsimore.Attack{
		at("ssh-bf", "45.1.1.1", "NL"), at("ssh-slow-bf", "45.1.1.1", "NL"), at("ssh-bf", "45.1.1.1", "NL"),
		at("ssh-bf", "45.2.2.2", "FR"), at("http-probing", "45.3.3.3", ""),
	})
	wantScenarios := []logs.ScenarioSummary{
		{Scenario: "ssh-bf", Attacks: 3, Sources: 2},
		{Scenario: "http-probing", Attacks: 1, Sources: 1},
		{Scenario: "ssh-slow-bf", Attacks: 1, Sources: 1},
	}
	wantSources := []logs.SourceSummary{
		{Source: "45.1.1.1", Country: "NL", Attacks: 3, Scenarios: []string{"ssh-bf", "ssh-slow-bf"}},
		{Source: "45.2.2.2", Country: "FR", Attacks: 1, Scenarios: []string{"ssh-bf"}},
		{Source: "45.3.3.3", Attacks: 1, Scenarios: []string{"http-probing"}},
	}
	if d := cmp.Diff(wantScenarios, scenarios); d != "" {
		t.Errorf("scenarios (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantSources, sources); d != "" {
		t.Errorf("sources (-want +got):\n%s", d)
	}
	if s, src := logs.Summarize(nil); len(s) != 0 || len(src) != 0 || s == nil || src == nil {
		t.Errorf("no attacks: %v %v, want empty non-nil lists", s, src)
	}
}
