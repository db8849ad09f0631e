package scenario

import (
	"fmt"
	"testing"

	"github.com/occsimore/occsimore/logs/parse"
)

// One failure a day from Dec 31 to Jan 6 is no brute force: with the year
// rolling over, time does not run backwards into the buckets.
func TestNewYearIsNoBruteForce(t *testing.T) {
	t.Parallel()
	ss, err := BuiltinScenarios()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(ss, Options{})
	hint := parse.Hint{Years: &parse.Years{Year: 2026}}
	var ovs []Overflow
	for i, day := range []string{"Dec 31", "Jan  1", "Jan  2", "Jan  3", "Jan  4", "Jan  5", "Jan  6"} {
		line := fmt.Sprintf("%s 03:00:00 h sshd[%d]: Failed password for root from 203.0.113.50 port 4000 ssh2", day, 100+i)
		e, err := parse.Parse([]byte(line), hint)
		if err != nil {
			t.Fatal(err)
		}
		ovs = append(ovs, d.Feed(&e)...)
	}
	for _, ov := range ovs {
		if ov.Scenario == "ssh-bf" || ov.Scenario == "ssh-slow-bf" {
			t.Errorf("one failure a day overflowed %s: %s", ov.Scenario, ov.Message)
		}
	}
}
