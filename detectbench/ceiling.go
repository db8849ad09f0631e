package detectbench

import (
	"cmp"
	"math"
	"slices"
)

// Clairvoyant bounds what any scorer can do on two kinds whose incidents
// break a single numeric-like habit by a moderate amount: AmountSpike and
// Night. It cheats twice: it knows each card's habit from all of its normal
// rows, past and future (the log amount's mean and spread; the share of its
// payments in each hour, with one pseudo-payment spread evenly), and it
// ranks every row by that one habit alone, so no other habit's ordinary
// surprises compete. An incident counts as found when its row is among the
// N = 3 x incidents highest of all rows. What it cannot find, no online
// scorer that combines habits can.
func Clairvoyant(s *Set) map[Kind]int {
	type habit struct {
		n, sum, sq float64
		hours      [24]float64
	}
	cards := map[string]*habit{}
	for i := range s.Events {
		if s.Incident[i] >= 0 {
			continue
		}
		ev := &s.Events[i]
		h := cards[ev.Card]
		if h == nil {
			h = &habit{}
			cards[ev.Card] = h
		}
		x := math.Log1p(ev.Amount)
		h.n++
		h.sum += x
		h.sq += x * x
		h.hours[ev.Time.Hour()]++
	}
	amount := make([]float64, len(s.Events))
	hour := make([]float64, len(s.Events))
	for i := range s.Events {
		ev := &s.Events[i]
		h := cards[ev.Card]
		if h == nil || h.n < 2 {
			continue
		}
		mean := h.sum / h.n
		sd := math.Sqrt(max(h.sq/h.n-mean*mean, 1e-6))
		amount[i] = (math.Log1p(ev.Amount) - mean) / sd
		hour[i] = -math.Log((h.hours[ev.Time.Hour()] + 1.0/24) / (h.n + 1))
	}
	found := func(kind Kind, score []float64) int {
		idx := make([]int, len(score))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(score[b], score[a]) })
		top := map[int]bool{}
		for _, i := range idx[:min(3*len(s.Incidents), len(idx))] {
			top[i] = true
		}
		n := 0
		for _, inc := range s.Incidents {
			if inc.Kind != kind {
				continue
			}
			for _, r := range inc.Rows {
				if top[r] {
					n++
					break
				}
			}
		}
		return n
	}
	return map[Kind]int{AmountSpike: found(AmountSpike, amount), Night: found(Night, hour)}
}
