package eval

import (
	"math"
	"slices"
	"time"
)

// extendedNames are the features a fraud analyst adds to the handbook's
// baseline, all computed online with no look-ahead:
//
//   - card: the amount against the card's own history of the last 30 days
//     (before the transaction), by robust ratios and a z-score, so that a 5×
//     amount stands out on a card that spends 20 as on one that spends 90,
//     which the baseline's plain averages cannot show; and how many of its
//     last 14 days' amounts were already anomalous, a compromise that labels
//     will only confirm after the delay; and whether its terminal is one
//     the card has never used, with how many of its transactions of the
//     last 7 days were at a terminal new to it then, label-free novelty
//     that tells a card used by someone else at places its holder never
//     goes.
//   - terminal: its known frauds (labels older than the delay) over several
//     windows, and the age of its current run of consecutive known frauds,
//     because a breached terminal turns every transaction into fraud for a
//     while, then stops.
//
// The ceiling they work under, on the handbook's test week (385 frauds): 83
// of the 281 scenario-2 frauds sit on terminals none of whose frauds is yet
// known under the 7-day delay, and nothing else tells them from genuine
// transactions; 20 of the 84 scenario-3 frauds are under 2.5× the card's
// median, where genuine amounts also go. Ranking every other fraud first
// and those at random bounds AUC at 0.900, AP at 0.791 and CP@100 at 0.399.
var extendedNames = [...]string{
	"x.card.history_30d",
	"x.card.amount_over_median_30d",
	"x.card.amount_over_max_30d",
	"x.card.amount_robust_z_30d",
	"x.card.amount_z_30d",
	"x.card.amount_rank_30d",
	"x.card.anomalies_14d",
	"x.card.max_over_median_14d",
	"x.card.terminal_new",
	"x.card.new_terminals_7d",
	"x.terminal.known_tx_28d",
	"x.terminal.known_frauds_7d",
	"x.terminal.known_frauds_28d",
	"x.terminal.known_fraud_share_28d",
	"x.terminal.last_fraud_age_days",
	"x.terminal.first_fraud_age_days",
	"x.terminal.fraud_run_days",
	"x.terminal.fraud_run_len",
}

const (
	cardHistory = 30 * day
	cardRecent  = 14 * day
	cardNovelty = 7 * day
	// anomalous is the amount-over-median ratio past which a card's earlier
	// transaction counts as an anomaly: a normal amount (sd half its mean)
	// exceeds it about once in 2,000.
	anomalous       = 3
	terminalRecent  = 28 * day
	terminalHistory = 56 * day
)

// cardPast is an earlier transaction of a card, with its ratio to the
// card's median at the time (NaN without history).
type cardPast struct {
	at     time.Time
	amount float64
	ratio  float64
}

// cardState is a card's recent history and every terminal it has used.
type cardState struct {
	past  []cardPast
	terms map[string]struct{}
	// newAt are the times of its transactions of the last cardNovelty at a
	// terminal it had never used before.
	newAt []time.Time
}

// termPast is an earlier transaction of a terminal and its label, which
// counts only once its delay has passed.
type termPast struct {
	at    time.Time
	fraud bool
}

// extended computes extendedNames. Each transaction's features depend only
// on earlier transactions and on labels at least delay old.
type extended struct {
	delay     time.Duration
	cards     map[string]*cardState
	terminals map[string][]termPast
	scratch   []float64
}

func newExtended(delay time.Duration) *extended {
	return &extended{delay: delay, cards: make(map[string]*cardState), terminals: make(map[string][]termPast)}
}

// features appends the features of a transaction to dst, then records it.
func (x *extended) features(dst []float32, at time.Time, card, terminal string, amount float64, fraud bool) []float32 {
	nan := float32(math.NaN())

	// Card: history strictly before this transaction.
	st := x.cards[card]
	if st == nil {
		st = &cardState{terms: make(map[string]struct{})}
		x.cards[card] = st
	}
	cs := prune2(st.past, func(p cardPast) bool { return at.Sub(p.at) >= cardHistory })
	amounts := x.scratch[:0]
	sum, sumSq, peak := 0.0, 0.0, 0.0
	anomalies, maxRatio := 0, 0.0
	for _, p := range cs {
		amounts = append(amounts, p.amount)
		sum += p.amount
		sumSq += p.amount * p.amount
		peak = max(peak, p.amount)
		if at.Sub(p.at) < cardRecent && !math.IsNaN(p.ratio) {
			if p.ratio > anomalous {
				anomalies++
			}
			maxRatio = max(maxRatio, p.ratio)
		}
	}
	x.scratch = amounts
	n := len(amounts)
	ratio := math.NaN()
	dst = append(dst, float32(n))
	if n == 0 {
		dst = append(dst, nan, nan, nan, nan, nan)
	} else {
		slices.Sort(amounts)
		med := median(amounts)
		// Amounts are positive; the floor keeps a ratio finite.
		ratio = amount / max(med, 0.01)
		for i, a := range amounts {
			amounts[i] = math.Abs(a - med)
		}
		slices.Sort(amounts)
		mad := median(amounts)
		mean := sum / float64(n)
		sd := math.Sqrt(max(sumSq/float64(n)-mean*mean, 0))
		// Floors at a tenth of the median scale the deviations of a card
		// with one or two identical amounts.
		rz := (amount - med) / max(1.4826*mad, 0.1*med, 0.01)
		z := (amount - mean) / max(sd, 0.1*mean, 0.01)
		below := 0
		for _, p := range cs {
			if p.amount < amount {
				below++
			}
		}
		dst = append(dst, float32(ratio), float32(amount/max(peak, 0.01)), float32(rz), float32(z),
			float32(below)/float32(n))
	}
	dst = append(dst, float32(anomalies), float32(maxRatio))
	st.past = append(cs, cardPast{at, amount, ratio})
	st.newAt = prune2(st.newAt, func(t time.Time) bool { return at.Sub(t) >= cardNovelty })
	_, used := st.terms[terminal]
	isNew := float32(0)
	if !used {
		isNew = 1
	}
	dst = append(dst, isNew, float32(len(st.newAt)))
	if !used {
		st.terms[terminal] = struct{}{}
		st.newAt = append(st.newAt, at)
	}

	// Terminal: labels known by now, that is of transactions at or before
	// known.
	ts := prune2(x.terminals[terminal], func(p termPast) bool { return at.Sub(p.at) >= terminalHistory })
	known := at.Add(-x.delay)
	var (
		knownTx, frauds7, frauds28 int
		last, first, runStart      time.Time
		runLen                     int
		inRun                      = true // walking back, no known genuine seen yet
	)
	for i := len(ts) - 1; i >= 0; i-- {
		p := ts[i]
		if p.at.After(known) {
			continue
		}
		age := known.Sub(p.at)
		if age < terminalRecent {
			knownTx++
			if p.fraud {
				frauds28++
				if age < 7*day {
					frauds7++
				}
			}
		}
		if !p.fraud {
			inRun = false
			continue
		}
		if last.IsZero() {
			last = p.at
		}
		first = p.at
		if inRun {
			runStart = p.at
			runLen++
		}
	}
	share := nan
	if knownTx > 0 {
		share = float32(frauds28) / float32(knownTx)
	}
	dst = append(dst, float32(knownTx), float32(frauds7), float32(frauds28), share,
		ageDays(at, last), ageDays(at, first), ageDays(at, runStart), float32(runLen))
	x.terminals[terminal] = append(ts, termPast{at, fraud})
	return dst
}

// ageDays is the days from then to at, NaN when then is zero (never).
func ageDays(at, then time.Time) float32 {
	if then.IsZero() {
		return float32(math.NaN())
	}
	return float32(at.Sub(then).Hours() / 24)
}

// median of sorted, non-empty s.
func median(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// prune2 drops the leading elements that old reports, keeping s's storage.
func prune2[T any](s []T, old func(T) bool) []T {
	i := 0
	for i < len(s) && old(s[i]) {
		i++
	}
	if i == 0 {
		return s
	}
	return s[:copy(s, s[i:])]
}
