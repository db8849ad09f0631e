package pipeline

import (
	"errors"
	"testing"

	"github.com/occsimore/occsimore"
)

// TestCountEventAllocatesNothing: counting an event on the hot path is a
// map lookup and an atomic add, for a profiled kind, an unknown one and a
// refusal alike.
func TestCountEventAllocatesNothing(t *testing.T) {
	m := newMetrics([]string{"card.tx", "auth.login"})
	refused := errors.New("too late")
	kinds := []string{"card.tx", "auth.login", "x.unknown"}
	n := testing.AllocsPerRun(1000, func() {
		for _, k := range kinds {
			m.countEvent(k, occsimore.DecisionAllow, nil)
			m.countEvent(k, occsimore.DecisionBlock, nil)
			m.countEvent(k, "", refused)
		}
	})
	if n != 0 {
		t.Errorf("%g allocations per run", n)
	}
}
