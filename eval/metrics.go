package eval

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/occsimore/occsimore/model"
)

// cardPrecisionAtK is the handbook's card_precision_top_k: each test day,
// in increasing order, a card's score is its maximum over the day's rows
// and it is compromised when any of them is a fraud; the k best-scored cards
// are taken (ties broken by card, so that the result is reproducible), and
// the share of compromised ones among k is the day's precision. With
// removeDetected (the handbook's default, which its published CP@100 column
// uses), the compromised cards found on a day are removed from every later
// day. The result is the mean over the days, NaN without rows or with k < 1.
func cardPrecisionAtK(days []int, cards []string, scores []float64, labels []bool, k int, removeDetected bool) float64 {
	if len(days) != len(scores) || len(cards) != len(scores) || len(labels) != len(scores) {
		panic("eval: days, cards, scores and labels differ in length")
	}
	if len(scores) == 0 || k < 1 {
		return math.NaN()
	}
	type dayCard struct {
		day  int
		card string
	}
	type agg struct {
		card  string
		score float64
		fraud bool
	}
	idx := make(map[dayCard]int)
	perDay := make(map[int][]agg)
	for i, d := range days {
		key := dayCard{d, cards[i]}
		j, ok := idx[key]
		if !ok {
			j = len(perDay[d])
			idx[key] = j
			perDay[d] = append(perDay[d], agg{card: cards[i], score: scores[i]})
		}
		a := &perDay[d][j]
		a.score = max(a.score, scores[i])
		a.fraud = a.fraud || labels[i]
	}
	order := make([]int, 0, len(perDay))
	for d := range perDay {
		order = append(order, d)
	}
	slices.Sort(order)
	detected := make(map[string]bool)
	var sum float64
	for _, d := range order {
		cs := perDay[d]
		if removeDetected {
			cs = slices.DeleteFunc(cs, func(a agg) bool { return detected[a.card] })
		}
		slices.SortFunc(cs, func(a, b agg) int {
			if c := cmp.Compare(b.score, a.score); c != 0 {
				return c
			}
			return cmp.Compare(a.card, b.card)
		})
		hits := 0
		for _, a := range cs[:min(k, len(cs))] {
			if a.fraud {
				hits++
				if removeDetected {
					detected[a.card] = true
				}
			}
		}
		sum += float64(hits) / float64(k)
	}
	return sum / float64(len(order))
}

// metrics computes the handbook's test metrics of scores.
func metrics(rows []row, scores []float64, k int) Metrics {
	labels := testLabels(rows)
	days := make([]int, len(rows))
	cards := make([]string, len(rows))
	type dayCard struct {
		day  int
		card string
	}
	pairs := make(map[dayCard]struct{})
	for i, rw := range rows {
		days[i], cards[i] = rw.day, rw.card
		pairs[dayCard{rw.day, rw.card}] = struct{}{}
	}
	return Metrics{
		AUC:          model.ROCAUC(scores, labels),
		AP:           model.AveragePrecision(scores, labels),
		CPK:          cardPrecisionAtK(days, cards, scores, labels, k, true),
		CPKNoRemoval: cardPrecisionAtK(days, cards, scores, labels, k, false),
		K:            k,
		Cards:        len(pairs),
	}
}

// ceilingDraws is how many random orders of the hidden frauds and the
// genuine rows the ceiling averages over.
const ceilingDraws = 32

// ceiling is the best any method without look-ahead can score on rows
// (REFERENCES.md §1): every fraud it can tell apart ranked first, and the
// hidden ones (row.hidden) in a random order among the genuine rows, which
// they look like. AUC is exact (the random order's expectation, by ties);
// AP and CP@k are the mean over ceilingDraws random orders drawn from a
// fixed seed, so the figure is reproducible. The oracle row ranks every
// fraud first.
func ceiling(rows []row, k int) Ceiling {
	tied := make([]float64, len(rows))
	hidden := 0
	for i, rw := range rows {
		if rw.fraud && !rw.hidden {
			tied[i] = 1
		}
		if rw.fraud && rw.hidden {
			hidden++
		}
	}
	c := Ceiling{Hidden: hidden, Draws: ceilingDraws}
	labels := testLabels(rows)
	c.AUC = model.ROCAUC(tied, labels)
	days := make([]int, len(rows))
	cards := make([]string, len(rows))
	for i, rw := range rows {
		days[i], cards[i] = rw.day, rw.card
	}
	r := rand.New(rand.NewPCG(1, 2))
	scores := make([]float64, len(rows))
	for range ceilingDraws {
		for i, rw := range rows {
			scores[i] = r.Float64()
			if rw.fraud && !rw.hidden {
				scores[i] = 2
			}
		}
		c.AP += model.AveragePrecision(scores, labels) / ceilingDraws
		c.CPK += cardPrecisionAtK(days, cards, scores, labels, k, true) / ceilingDraws
		c.CPKNoRemoval += cardPrecisionAtK(days, cards, scores, labels, k, false) / ceilingDraws
	}
	oracle := make([]float64, len(rows))
	for i, l := range labels {
		if l {
			oracle[i] = 1
		}
	}
	o := metrics(rows, oracle, k)
	c.K, c.Cards = k, o.Cards
	c.OracleCPK, c.OracleCPKNoRemoval = o.CPK, o.CPKNoRemoval
	return c
}

// fractionOf is m as a fraction of the ceiling c, metric by metric; 0
// where the ceiling is 0, so that the report encodes to JSON.
func fractionOf(m Metrics, c Ceiling) Fraction {
	f := func(v, top float64) float64 {
		if !(top > 0) {
			return 0
		}
		return v / top
	}
	return Fraction{AUC: f(m.AUC, c.AUC), AP: f(m.AP, c.AP), CPK: f(m.CPK, c.CPK), CPKNoRemoval: f(m.CPKNoRemoval, c.CPKNoRemoval)}
}

// scenarioRecall gives, for each fraud scenario of rows, the share of its
// frauds flagged at the deepest cut of the ranking whose precision is still
// at least precision, and the AUC of its frauds against the genuine rows.
// Cuts fall only between distinct scores. Rows without a scenario (-1) are
// left out; the result is in increasing scenario order.
func scenarioRecall(rows []row, scores []float64, precision float64) []ScenarioRecall {
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	cut, tp := 0, 0 // rows [0, cut) of order are flagged
	for i := 0; i < len(order); {
		j := i
		for ; j < len(order) && scores[order[j]] == scores[order[i]]; j++ {
			if rows[order[j]].fraud {
				tp++
			}
		}
		if float64(tp) >= precision*float64(j) {
			cut = j
		}
		i = j
	}
	flagged := make([]bool, len(rows))
	for _, i := range order[:cut] {
		flagged[i] = true
	}
	by := make(map[int]*ScenarioRecall)
	var legit []float64
	for i, rw := range rows {
		if !rw.fraud {
			legit = append(legit, scores[i])
			continue
		}
		if rw.scenario < 0 {
			continue
		}
		s := by[rw.scenario]
		if s == nil {
			s = &ScenarioRecall{Scenario: rw.scenario, Precision: precision}
			by[rw.scenario] = s
		}
		s.Frauds++
		if flagged[i] {
			s.Found++
		}
	}
	out := make([]ScenarioRecall, 0, len(by))
	for _, s := range by {
		s.Recall = float64(s.Found) / float64(s.Frauds)
		var sc []float64
		for i, rw := range rows {
			if rw.fraud && rw.scenario == s.Scenario {
				sc = append(sc, scores[i])
			}
		}
		s.AUC = finiteOr0(model.ROCAUC(append(sc, legit...), trues(len(sc), len(legit))))
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b ScenarioRecall) int { return cmp.Compare(a.Scenario, b.Scenario) })
	return out
}

// trues is n true values then m false ones.
func trues(n, m int) []bool {
	b := make([]bool, n+m)
	for i := range n {
		b[i] = true
	}
	return b
}
