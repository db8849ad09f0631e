package eval

import "time"

// baselineNames are the handbook's 15 baseline features (REFERENCES.md §1,
// BaselineFeatureTransformation) less TX_AMOUNT, TX_DURING_WEEKEND and
// TX_DURING_NIGHT, which the engine's amount, weekend and night features
// already are.
var baselineNames = [...]string{
	"hb.card.count_1d", "hb.card.mean_1d",
	"hb.card.count_7d", "hb.card.mean_7d",
	"hb.card.count_30d", "hb.card.mean_30d",
	"hb.terminal.count_1d", "hb.terminal.risk_1d",
	"hb.terminal.count_7d", "hb.terminal.risk_7d",
	"hb.terminal.count_30d", "hb.terminal.risk_30d",
}

var baselineWindows = [...]int{1, 7, 30}

// past is one earlier transaction of an entity.
type past struct {
	at     time.Time
	amount float64
	fraud  bool
}

// baseline computes the handbook's windowed features exactly, from each
// card's and terminal's transactions of the last 30 days (37 with the
// delay). A terminal's label counts only once the delay has passed, as in
// the handbook, where its windows end delay days before the transaction.
type baseline struct {
	delay     time.Duration
	cards     map[string][]past
	terminals map[string][]past
}

func newBaseline(delay time.Duration) *baseline {
	return &baseline{delay: delay, cards: make(map[string][]past), terminals: make(map[string][]past)}
}

// features appends the features of a transaction to dst, then records it.
// Card windows include the transaction; terminal windows are
// (t − delay − w, t − delay].
func (b *baseline) features(dst []float32, at time.Time, card, terminal string, amount float64, fraud bool) []float32 {
	cs := prune(append(b.cards[card], past{at, amount, fraud}), at.Add(-30*day))
	b.cards[card] = cs
	for _, w := range baselineWindows {
		from := at.Add(-time.Duration(w) * day)
		n, sum := 0, 0.0
		for i := len(cs) - 1; i >= 0 && cs[i].at.After(from); i-- {
			n++
			sum += cs[i].amount
		}
		dst = append(dst, float32(n), float32(sum/float64(n))) // n ≥ 1: the transaction itself
	}
	ts := prune(b.terminals[terminal], at.Add(-30*day-b.delay))
	end := at.Add(-b.delay)
	for _, w := range baselineWindows {
		from := end.Add(-time.Duration(w) * day)
		n, frauds := 0, 0
		for i := len(ts) - 1; i >= 0 && ts[i].at.After(from); i-- {
			if ts[i].at.After(end) {
				continue
			}
			n++
			if ts[i].fraud {
				frauds++
			}
		}
		risk := 0.0
		if n > 0 {
			risk = float64(frauds) / float64(n)
		}
		dst = append(dst, float32(n), float32(risk))
	}
	b.terminals[terminal] = append(ts, past{at, amount, fraud})
	return dst
}

// prune drops the transactions at or before from, keeping s's storage.
func prune(s []past, from time.Time) []past {
	i := 0
	for i < len(s) && !s[i].at.After(from) {
		i++
	}
	if i == 0 {
		return s
	}
	return s[:copy(s, s[i:])]
}
