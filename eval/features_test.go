package eval

import (
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/occsimore/occsimore/simulate"
)

const testDelay = 7 * day

func simTxs(t *testing.T) []simulate.Tx {
	t.Helper()
	var txs []simulate.Tx
	for tx := range simWorld(t).Transactions() {
		txs = append(txs, *tx)
	}
	return txs
}

// extendedAll returns the extended features of every transaction, in order.
func extendedAll(txs []simulate.Tx) [][]float32 {
	x := newExtended(testDelay)
	out := make([][]float32, len(txs))
	for i, tx := range txs {
		out[i] = x.features(nil, tx.Time, strconv.Itoa(tx.Customer), strconv.Itoa(tx.Terminal), tx.Amount, tx.Fraud)
	}
	return out
}

func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// TestExtendedNoLookAhead changes everything a feature at row k must not
// see: every later row (amount, terminal, label) and the labels of the rows
// of the last delay before it. The features of rows 0..k must not move.
func TestExtendedNoLookAhead(t *testing.T) {
	t.Parallel()
	txs := simTxs(t)
	orig := extendedAll(txs)
	if got, want := len(orig[0]), len(extendedNames); got != want {
		t.Fatalf("%d features, want %d", got, want)
	}
	for _, frac := range []float64{0.3, 0.6, 0.9} {
		k := int(frac * float64(len(txs)))
		changed := slices.Clone(txs)
		for i := range changed {
			tx := &changed[i]
			switch {
			case i > k:
				tx.Amount *= 7
				tx.Terminal = (tx.Terminal + 1) % 1000
				tx.Fraud = !tx.Fraud
			case tx.Time.After(txs[k].Time.Add(-testDelay)):
				tx.Fraud = !tx.Fraud // not yet known at row k
			}
		}
		got := extendedAll(changed)
		for i := 0; i <= k; i++ {
			if !sameBits(got[i], orig[i]) {
				t.Fatalf("cut %d: row %d features changed with later rows or unknown labels:\n got %v\nwant %v", k, i, got[i], orig[i])
			}
		}
		// The same change must reach later rows, or the test proves nothing.
		moved := 0
		for i := k + 1; i < len(txs); i++ {
			if !sameBits(got[i], orig[i]) {
				moved++
			}
		}
		if moved == 0 {
			t.Fatalf("cut %d: no later row changed", k)
		}
	}

	// Labels at least the delay old do count: flipping them moves some
	// features of the rows that follow.
	k := len(txs) * 3 / 4
	changed := slices.Clone(txs)
	for i := range changed {
		if !changed[i].Time.After(txs[k].Time.Add(-testDelay)) {
			changed[i].Fraud = !changed[i].Fraud
		}
	}
	got, moved := extendedAll(changed), 0
	for i := k; i < min(k+200, len(txs)); i++ {
		if !sameBits(got[i], orig[i]) {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("labels older than the delay never reach the features")
	}
}

// TestExtendedFeatures checks a sample of rows against a direct recount
// from all the transactions.
func TestExtendedFeatures(t *testing.T) {
	t.Parallel()
	txs := simTxs(t)
	got := extendedAll(txs)
	// ratio[i] is row i's amount over the median of its card's 30 earlier
	// days, NaN without history.
	ratio := make([]float64, len(txs))
	byCard := make(map[int][]int) // card → its rows, in order
	for i, tx := range txs {
		byCard[tx.Customer] = append(byCard[tx.Customer], i)
	}
	cardHist := func(i int) []float64 {
		var h []float64
		for _, j := range byCard[txs[i].Customer] {
			if j < i && txs[i].Time.Sub(txs[j].Time) < 30*day {
				h = append(h, txs[j].Amount)
			}
		}
		return h
	}
	for i := range txs {
		h := cardHist(i)
		ratio[i] = math.NaN()
		if len(h) > 0 {
			slices.Sort(h)
			ratio[i] = txs[i].Amount / max(median(h), 0.01)
		}
	}
	newRow := make([]bool, len(txs)) // the card's first row at its terminal
	seen := make(map[[2]int]bool)
	for i, tx := range txs {
		k := [2]int{tx.Customer, tx.Terminal}
		newRow[i] = !seen[k]
		seen[k] = true
	}
	checked := 0
	for i := 0; i < len(txs); i += 89 {
		tx := txs[i]
		h := cardHist(i)
		want := map[string]float64{"x.card.history_30d": float64(len(h))}
		if len(h) > 0 {
			peak, below := 0.0, 0
			for _, a := range h {
				peak = max(peak, a)
				if a < tx.Amount {
					below++
				}
			}
			want["x.card.amount_over_median_30d"] = ratio[i]
			want["x.card.amount_over_max_30d"] = tx.Amount / peak
			want["x.card.amount_rank_30d"] = float64(below) / float64(len(h))
		}
		anomalies, maxRatio := 0, 0.0
		var knownTx, f7, f28 int
		var ages []float64 // of known frauds, newest first
		runLen, inRun := 0, true
		for j := i - 1; j >= 0 && tx.Time.Sub(txs[j].Time) < 56*day; j-- {
			o := txs[j]
			if o.Customer == tx.Customer && tx.Time.Sub(o.Time) < 14*day && !math.IsNaN(ratio[j]) {
				maxRatio = max(maxRatio, ratio[j])
				if ratio[j] > 3 {
					anomalies++
				}
			}
			if o.Terminal != tx.Terminal || o.Time.After(tx.Time.Add(-testDelay)) {
				continue
			}
			age := tx.Time.Add(-testDelay).Sub(o.Time)
			if age < 28*day {
				knownTx++
				if o.Fraud {
					f28++
					if age < 7*day {
						f7++
					}
				}
			}
			if !o.Fraud {
				inRun = false
				continue
			}
			ages = append(ages, tx.Time.Sub(o.Time).Hours()/24)
			if inRun {
				runLen++
			}
		}
		// Novelty: the terminal never used by the card on an earlier row,
		// and the card's earlier rows of the last 7 days at a then-new one.
		isNew := func(j int) bool { return newRow[j] }
		want["x.card.terminal_new"] = 0
		if isNew(i) {
			want["x.card.terminal_new"] = 1
		}
		newIn7 := 0
		for _, j := range byCard[tx.Customer] {
			if j < i && tx.Time.Sub(txs[j].Time) < 7*day && isNew(j) {
				newIn7++
			}
		}
		want["x.card.new_terminals_7d"] = float64(newIn7)
		want["x.card.anomalies_14d"] = float64(anomalies)
		want["x.card.max_over_median_14d"] = maxRatio
		want["x.terminal.known_tx_28d"] = float64(knownTx)
		want["x.terminal.known_frauds_7d"] = float64(f7)
		want["x.terminal.known_frauds_28d"] = float64(f28)
		want["x.terminal.fraud_run_len"] = float64(runLen)
		if knownTx > 0 {
			want["x.terminal.known_fraud_share_28d"] = float64(f28) / float64(knownTx)
		}
		if len(ages) > 0 {
			want["x.terminal.last_fraud_age_days"] = ages[0]
			want["x.terminal.first_fraud_age_days"] = ages[len(ages)-1]
		}
		if runLen > 0 {
			want["x.terminal.fraud_run_days"] = ages[runLen-1]
		}
		for j, name := range extendedNames {
			v := float64(got[i][j])
			w, ok := want[name]
			switch {
			case name == "x.card.amount_robust_z_30d" || name == "x.card.amount_z_30d":
				if (len(h) > 0) == math.IsNaN(v) {
					t.Fatalf("row %d: %s = %v with %d history", i, name, v, len(h))
				}
			case !ok:
				if !math.IsNaN(v) {
					t.Fatalf("row %d: %s = %v, want NaN", i, name, v)
				}
			case math.Abs(v-w) > 1e-4*math.Max(1, math.Abs(w)):
				t.Fatalf("row %d: %s = %v, want %v", i, name, v, w)
			}
		}
		checked++
	}
	if checked < 100 {
		t.Fatalf("only %d rows checked", checked)
	}
}

// TestExtendedBreachedTerminal follows a terminal that turns fraudulent: no
// feature sees its frauds before the delay, then the run of known frauds
// grows and ages.
func TestExtendedBreachedTerminal(t *testing.T) {
	t.Parallel()
	x := newExtended(testDelay)
	at := time.Date(2018, 4, 1, 12, 0, 0, 0, time.UTC)
	feature := func(f []float32, name string) float32 {
		return f[slices.Index(extendedNames[:], name)]
	}
	var f []float32
	// Day 0: a genuine transaction; days 1-20: one fraud a day.
	for d := range 21 {
		f = x.features(f[:0], at.AddDate(0, 0, d), "card"+strconv.Itoa(d), "T", 50, d > 0)
		switch {
		case d < 8: // the day-1 fraud becomes known on day 8
			if got := feature(f, "x.terminal.fraud_run_len"); got != 0 {
				t.Fatalf("day %d: run length %v before any label is known", d, got)
			}
			if got := feature(f, "x.terminal.fraud_run_days"); !math.IsNaN(float64(got)) {
				t.Fatalf("day %d: run age %v before any label is known", d, got)
			}
		default:
			if got, want := feature(f, "x.terminal.fraud_run_len"), float32(d-7); got != want {
				t.Fatalf("day %d: run length %v, want %v", d, got, want)
			}
			if got, want := feature(f, "x.terminal.fraud_run_days"), float32(d-1); got != want {
				t.Fatalf("day %d: run age %v days, want %v", d, got, want)
			}
			if got, want := feature(f, "x.terminal.known_tx_28d"), float32(d-6); got != want {
				t.Fatalf("day %d: %v known transactions, want %v", d, got, want)
			}
		}
	}
	// A card with a 5× amount after steady ones.
	for d := range 5 {
		f = x.features(f[:0], at.AddDate(0, 0, d), "c", "U", 20, false)
	}
	f = x.features(f[:0], at.AddDate(0, 0, 5), "c", "U", 100, false)
	if got, want := feature(f, "x.card.amount_over_median_30d"), float32(5); got != want {
		t.Fatalf("amount over median = %v, want %v", got, want)
	}
	f = x.features(f[:0], at.AddDate(0, 0, 6), "c", "U", 20, false)
	if got, want := feature(f, "x.card.anomalies_14d"), float32(1); got != want {
		t.Fatalf("anomalies = %v, want %v", got, want)
	}
}
