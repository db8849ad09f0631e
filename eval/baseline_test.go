package eval

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/occsimore/occsimore/simulate"
)

// TestBaselineFeatures checks the incremental windows against a direct
// recount over all transactions, for a sample of them.
func TestBaselineFeatures(t *testing.T) {
	t.Parallel()
	w := simWorld(t)
	var txs []simulate.Tx
	for tx := range w.Transactions() {
		txs = append(txs, *tx)
	}
	const delay = 7 * 24 * time.Hour
	b := newBaseline(delay)
	var got []float32
	checked := 0
	for k, tx := range txs {
		got = b.features(got[:0], tx.Time, strconv.Itoa(tx.Customer), strconv.Itoa(tx.Terminal), tx.Amount, tx.Fraud)
		if got, want := len(got), len(baselineNames); got != want {
			t.Fatalf("%d features, want %d", got, want)
		}
		if k%97 != 0 {
			continue
		}
		checked++
		var want []float32
		for _, d := range baselineWindows {
			from := tx.Time.Add(-time.Duration(d) * day)
			n, sum := 0, 0.0
			for _, o := range txs[:k+1] {
				if o.Customer == tx.Customer && o.Time.After(from) {
					n++
					sum += o.Amount
				}
			}
			want = append(want, float32(n), float32(sum/float64(n)))
		}
		end := tx.Time.Add(-delay)
		for _, d := range baselineWindows {
			from := end.Add(-time.Duration(d) * day)
			n, frauds := 0, 0
			for _, o := range txs[:k] {
				if o.Terminal == tx.Terminal && o.Time.After(from) && !o.Time.After(end) {
					n++
					if o.Fraud {
						frauds++
					}
				}
			}
			risk := 0.0
			if n > 0 {
				risk = float64(frauds) / float64(n)
			}
			want = append(want, float32(n), float32(risk))
		}
		for j := range want {
			if math.Abs(float64(got[j]-want[j])) > 1e-4*math.Max(1, math.Abs(float64(want[j]))) {
				t.Fatalf("transaction %d: %s = %v, want %v", k, baselineNames[j], got[j], want[j])
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d transactions checked", checked)
	}
}
