package detectbench

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Clairvoyant bounds what any scorer can do on two kinds whose incidents
// break a single numeric-like habit by a moderate amount: AmountSpike and
// Night. It cheats twice: it knows each card's habit from all of its normal
// rows, past and future (the log amount's mean and spread; the share of its
// payments in each hour, with one pseudo-payment spread evenly), and it
// ranks every row by that one habit alone, so no other habit's ordinary
// surprises compete. An incident counts as found when its row is among the
// N = 3 x incidents highest of all rows. What it cannot find, no online
// scorer that combines habits can. amountAdmits is the number of normal rows
// that its amount ranking puts at or above the amount spike it must reach to
// find 97 % of them: an amount spike differs from a normal payment only by
// its amount, so any scorer that ranks higher amounts higher admits at least
// as many normal rows into its top list.
func Clairvoyant(s *Set) (map[Kind]int, int) {
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
	return map[Kind]int{AmountSpike: found(AmountSpike, amount), Night: found(Night, hour)}, admit(s, AmountSpike, amount)
}

// admit is the number of normal rows that score at least as high as the
// incident of kind that a ranking by score must reach to find 97 % of that
// kind: the normal rows any scorer monotone in that one statistic lets into
// its top list before it has found 97 % of the kind.
func admit(s *Set, kind Kind, score []float64) int {
	var best []float64
	for _, inc := range s.Incidents {
		if inc.Kind != kind || len(inc.Rows) == 0 {
			continue
		}
		b := math.Inf(-1)
		for _, r := range inc.Rows {
			b = max(b, score[r])
		}
		best = append(best, b)
	}
	if len(best) == 0 {
		return 0
	}
	slices.Sort(best)
	need := int(math.Ceil(0.97 * float64(len(best))))
	bar := best[len(best)-need]
	n := 0
	for i := range s.Events {
		if s.Incident[i] < 0 && score[i] >= bar {
			n++
		}
	}
	return n
}

// ClairvoyantJoint is the same cheat for every card kind at once, scored
// for one ranking as the engine is measured (Measure: N = 3 x incidents rows
// shared by all kinds, row AP over all rows). It knows each card's habits
// from all its normal rows, future ones included (log amount mean and
// spread, hours, countries, devices, the rate of first-used terminals),
// measures one statistic per habit on every row (amount z above the mean,
// hour, country and device surprisal, speed from the previous payment,
// payments in the last 10 minutes, a Poisson surprisal of first-used
// terminals over 7 days), turns each into its upper-tail probability among
// the normal rows so that habits share one calibrated scale, and scores a
// row by its least probable habit (Tippett's combination, the right one
// when an incident breaks one habit; ties go to the row that breaks more).
// It is evidence of what a shared top list allows, not a proof: a scorer
// that knew more than these habits could do better.
func ClairvoyantJoint(s *Set) []float64 {
	return tippett(s, jointStats(s, hindsightHabits(s)))
}

// hindsight is a card's habits learnt from all its normal rows, future ones
// too.
type hindsight struct {
	n, sum, sq, ecom float64
	hours            [24]float64
	countries        map[string]float64
	devices          map[string]float64
	terminals        map[string]float64
	firstUse         float64 // normal rows at a terminal the card had not used before
}

func hindsightHabits(s *Set) map[string]*hindsight {
	cards := map[string]*hindsight{}
	for i := range s.Events {
		if s.Incident[i] >= 0 {
			continue
		}
		ev := &s.Events[i]
		h := cards[ev.Card]
		if h == nil {
			h = &hindsight{countries: map[string]float64{}, devices: map[string]float64{}, terminals: map[string]float64{}}
			cards[ev.Card] = h
		}
		if ev.Terminal != "" && h.terminals[ev.Terminal] == 0 {
			h.firstUse++
		}
		x := math.Log1p(ev.Amount)
		h.n++
		h.sum += x
		h.sq += x * x
		h.hours[ev.Time.Hour()]++
		h.countries[ev.Country]++
		if ev.Device != "" {
			h.devices[ev.Device]++
			h.ecom++
		}
		if ev.Terminal != "" {
			h.terminals[ev.Terminal]++
		}
	}
	return cards
}

// The statistics of a row, each larger when more unusual.
const (
	jAmount = iota
	jHour
	jCountry
	jSpeed
	jBurst
	jDevice
	jTerminals
	jHabits
)

// jointStats measures every row's statistics against its card's hindsight
// habits and, online, its recent rows.
func jointStats(s *Set, cards map[string]*hindsight) [][jHabits]float64 {
	stat := make([][jHabits]float64, len(s.Events))
	type seen struct {
		last      int   // index of the card's previous row, or -1
		recent    []int // rows of the last 10 minutes
		firsts    []int // rows of the last 7 days at a terminal the card had not used before
		terminals map[string]bool
	}
	days := 1.0
	if n := len(s.Events); n > 1 {
		days = max(1, s.Events[n-1].Time.Sub(s.Events[0].Time).Hours()/24)
	}
	state := map[string]*seen{}
	for i := range s.Events {
		ev := &s.Events[i]
		h := cards[ev.Card]
		st := state[ev.Card]
		if st == nil {
			st = &seen{last: -1, terminals: map[string]bool{}}
			state[ev.Card] = st
		}
		if h != nil && h.n >= 2 {
			mean := h.sum / h.n
			sd := math.Sqrt(max(h.sq/h.n-mean*mean, 1e-6))
			stat[i][jAmount] = max(0, (math.Log1p(ev.Amount)-mean)/sd)
			stat[i][jHour] = -math.Log((h.hours[ev.Time.Hour()] + 1.0/24) / (h.n + 1))
			stat[i][jCountry] = -math.Log((h.countries[ev.Country] + 0.5) / (h.n + 1))
			if ev.Device != "" {
				stat[i][jDevice] = -math.Log((h.devices[ev.Device] + 0.5) / (h.ecom + 1))
			}
		}
		if st.last >= 0 {
			p := &s.Events[st.last]
			if ev.HasLocation && p.HasLocation {
				hrs := max(ev.Time.Sub(p.Time).Hours(), 1.0/60)
				stat[i][jSpeed] = km(ev.Lat, ev.Lon, p.Lat, p.Lon) / hrs
			}
		}
		st.recent = slices.DeleteFunc(st.recent, func(j int) bool { return ev.Time.Sub(s.Events[j].Time) > 10*time.Minute })
		st.recent = append(st.recent, i)
		stat[i][jBurst] = float64(len(st.recent))
		// The rate of first uses: a Poisson surprisal of the last 7 days'
		// count against the card's own rate over all its normal rows.
		st.firsts = slices.DeleteFunc(st.firsts, func(j int) bool { return ev.Time.Sub(s.Events[j].Time) > 7*24*time.Hour })
		if ev.Terminal != "" && !st.terminals[ev.Terminal] {
			st.terminals[ev.Terminal] = true
			st.firsts = append(st.firsts, i)
			rate := 0.5
			if h != nil {
				rate += h.firstUse
			}
			stat[i][jTerminals] = poissonSurprisal(len(st.firsts), 7*rate/days)
		}
		st.last = i
	}
	return stat
}

// tippett turns each statistic into its upper-tail probability among the
// normal rows and scores a row by its least probable habit.
func tippett(s *Set, stat [][jHabits]float64) []float64 {
	var normal [jHabits][]float64
	for i := range s.Events {
		if s.Incident[i] < 0 {
			for k := range jHabits {
				normal[k] = append(normal[k], stat[i][k])
			}
		}
	}
	for k := range jHabits {
		slices.Sort(normal[k])
	}
	score := make([]float64, len(s.Events))
	for i := range s.Events {
		fisher := 0.0
		for k := range jHabits {
			v := normal[k]
			at, _ := slices.BinarySearch(v, stat[i][k]) // first normal value >= the row's
			surprisal := -math.Log(float64(len(v)-at+1) / float64(len(v)+1))
			score[i] = max(score[i], surprisal)
			fisher += surprisal
		}
		// Ties at the top (several habits' rarest values) go to the row
		// that breaks more habits.
		score[i] += 1e-3 * fisher
	}
	return score
}

// poissonSurprisal is -log P(X >= k) for X Poisson with mean lambda.
func poissonSurprisal(k int, lambda float64) float64 {
	term, below := math.Exp(-lambda), 0.0
	for j := range k {
		below += term
		term *= lambda / float64(j+1)
	}
	return -math.Log(max(1-below, 1e-300))
}
