package simulate

import (
	"strconv"
	"strings"

	"github.com/occsimore/occsimore"
)

// Scenario is a card fraud scenario, the handbook's TX_FRAUD_SCENARIO.
// 1 to 3 are the handbook's; 4 to 6 are ours.
type Scenario uint8

const (
	ScenarioNone        Scenario = 0
	ScenarioAmount      Scenario = 1 // any amount above 220
	ScenarioTerminal    Scenario = 2 // compromised terminals, 28 days
	ScenarioCustomer    Scenario = 3 // compromised customers, 14 days, a third of transactions ×5
	ScenarioCardTesting Scenario = 4 // bursts of tiny amounts at terminals new to the card
	ScenarioBreach      Scenario = 5 // cards used at a breached terminal are later used elsewhere
	ScenarioNeverUsed   Scenario = 6 // a compromised card used for days at terminals it never used, ordinary amounts
	maxScenario                  = ScenarioNeverUsed
)

var scenarioNames = [...]string{"none", "amount", "terminal", "customer", "card_testing", "breach", "never_used_terminals"}

// String returns the scenario's short name, such as "card_testing".
func (s Scenario) String() string {
	if s <= maxScenario {
		return scenarioNames[s]
	}
	return "scenario" + strconv.Itoa(int(s))
}

// ScenarioSet is a set of scenarios.
type ScenarioSet uint8

// HandbookScenarios are the handbook's three scenarios.
const HandbookScenarios ScenarioSet = 1<<ScenarioAmount | 1<<ScenarioTerminal | 1<<ScenarioCustomer

// AllScenarios are the handbook's scenarios and ours.
const AllScenarios = HandbookScenarios | 1<<ScenarioCardTesting | 1<<ScenarioBreach | 1<<ScenarioNeverUsed

// Has reports whether s is in the set.
func (set ScenarioSet) Has(s Scenario) bool { return s >= 1 && s <= maxScenario && set&(1<<s) != 0 }

// With returns the set with s added.
func (set ScenarioSet) With(s Scenario) ScenarioSet { return set | 1<<s }

// String lists the set's numbers, such as "1,2,3", or "none".
func (set ScenarioSet) String() string {
	var b strings.Builder
	for s := ScenarioAmount; s <= maxScenario; s++ {
		if set.Has(s) {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteByte(byte('0' + s))
		}
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// ParseScenarios reads a comma-separated list of scenario numbers 1 to 6,
// such as "1,2,3"; "" and "none" are the empty set.
func ParseScenarios(s string) (ScenarioSet, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return 0, nil
	}
	var set ScenarioSet
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > int(maxScenario) {
			return 0, occsimore.FieldErrorf("scenarios", "scenario %q must be a number from 1 to %d", f, maxScenario)
		}
		set = set.With(Scenario(n))
	}
	return set, nil
}
