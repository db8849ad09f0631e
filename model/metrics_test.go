package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// The small table used by several tests, by decreasing score:
//
//	score  0.9  0.8  0.8  0.5  0.3
//	label   +    +    -    -    +
var (
	tinyScores = []float64{0.9, 0.8, 0.8, 0.5, 0.3}
	tinyLabels = []bool{true, true, false, false, true}
)

func TestROCAUCByHand(t *testing.T) {
	t.Parallel()
	// 3 positives × 2 negatives = 6 pairs. 0.9 beats both negatives (2);
	// the positive 0.8 ties the negative 0.8 (1/2) and beats 0.5 (1); 0.3
	// loses both (0). U = 3.5, AUC = 3.5/6.
	if got, want := ROCAUC(tinyScores, tinyLabels), 3.5/6; !near(got, want) {
		t.Fatalf("ROCAUC = %v, want %v", got, want)
	}
	// Order inside a tie must not matter.
	s := []float64{0.9, 0.8, 0.8, 0.5, 0.3}
	l := []bool{true, false, true, false, true}
	if got, want := ROCAUC(s, l), 3.5/6; !near(got, want) {
		t.Fatalf("ROCAUC with the tie swapped = %v, want %v", got, want)
	}
	// Perfect and reversed rankings; a constant scorer gets 1/2.
	if got := ROCAUC([]float64{1, 2, 3, 4}, []bool{false, false, true, true}); got != 1 {
		t.Fatalf("perfect ROCAUC = %v, want 1", got)
	}
	if got := ROCAUC([]float64{4, 3, 2, 1}, []bool{false, false, true, true}); got != 0 {
		t.Fatalf("reversed ROCAUC = %v, want 0", got)
	}
	if got := ROCAUC([]float64{7, 7, 7}, []bool{true, false, false}); got != 0.5 {
		t.Fatalf("constant ROCAUC = %v, want 0.5", got)
	}
}

func TestMetricsOneClassIsNaN(t *testing.T) {
	t.Parallel()
	s := []float64{0.1, 0.2}
	for _, l := range [][]bool{{true, true}, {false, false}, {}} {
		if got := ROCAUC(s[:len(l)], l); !math.IsNaN(got) {
			t.Errorf("ROCAUC(%v) = %v, want NaN", l, got)
		}
	}
	if got := AveragePrecision(s, []bool{false, false}); !math.IsNaN(got) {
		t.Errorf("AveragePrecision with no positive = %v, want NaN", got)
	}
	// All positive: precision is 1 at every threshold.
	if got := AveragePrecision(s, []bool{true, true}); got != 1 {
		t.Errorf("AveragePrecision all positive = %v, want 1", got)
	}
}

func TestAveragePrecisionByHand(t *testing.T) {
	t.Parallel()
	// Threshold 0.9: 1 of 1 flagged is positive, recall 1/3 -> 1/3 · 1.
	// Threshold 0.8: 2 of 3, recall 2/3            -> 1/3 · 2/3.
	// Threshold 0.5: 2 of 4, recall unchanged      -> 0.
	// Threshold 0.3: 3 of 5, recall 1              -> 1/3 · 3/5.
	// AP = 1/3 + 2/9 + 1/5 = 34/45.
	if got, want := AveragePrecision(tinyScores, tinyLabels), 34.0/45; !near(got, want) {
		t.Fatalf("AveragePrecision = %v, want %v", got, want)
	}
	// A tie is one threshold: positive and negative both at 0.5 give
	// precision 1/2 at recall 1, whatever their order.
	for _, l := range [][]bool{{true, false}, {false, true}} {
		if got, want := AveragePrecision([]float64{0.5, 0.5}, l), 0.5; !near(got, want) {
			t.Fatalf("AveragePrecision of a tie %v = %v, want %v", l, got, want)
		}
	}
}

func TestCurvesByHand(t *testing.T) {
	t.Parallel()
	roc := ROCCurve(tinyScores, tinyLabels)
	wantROC := []ROCPoint{{math.Inf(1), 0, 0}, {0.9, 0, 1.0 / 3}, {0.8, 0.5, 2.0 / 3}, {0.5, 1, 2.0 / 3}, {0.3, 1, 1}}
	if len(roc) != len(wantROC) {
		t.Fatalf("ROCCurve has %d points, want %d: %v", len(roc), len(wantROC), roc)
	}
	for i, p := range roc {
		w := wantROC[i]
		if p.Threshold != w.Threshold || !near(p.FPR, w.FPR) || !near(p.TPR, w.TPR) {
			t.Fatalf("ROCCurve[%d] = %+v, want %+v", i, p, w)
		}
	}
	// Trapezoids under the curve give the AUC: 0·... + (0.5)(1/3+2/3)/2 + (0.5)(2/3+2/3)/2 + 0.
	var area float64
	for i := 1; i < len(roc); i++ {
		area += (roc[i].FPR - roc[i-1].FPR) * (roc[i].TPR + roc[i-1].TPR) / 2
	}
	if got, want := area, ROCAUC(tinyScores, tinyLabels); !near(got, want) {
		t.Fatalf("area under ROCCurve = %v, ROCAUC = %v", got, want)
	}

	pr := PRCurve(tinyScores, tinyLabels)
	wantPR := []PRPoint{{0.9, 1, 1.0 / 3}, {0.8, 2.0 / 3, 2.0 / 3}, {0.5, 0.5, 2.0 / 3}, {0.3, 0.6, 1}}
	if len(pr) != len(wantPR) {
		t.Fatalf("PRCurve = %v, want %v", pr, wantPR)
	}
	for i, p := range pr {
		w := wantPR[i]
		if p.Threshold != w.Threshold || !near(p.Precision, w.Precision) || !near(p.Recall, w.Recall) {
			t.Fatalf("PRCurve[%d] = %+v, want %+v", i, p, w)
		}
	}

	at := PrecisionRecallAt(tinyScores, tinyLabels, []float64{0.85, 0.8, 1})
	if got, want := at[0], (PRPoint{0.85, 1, 1.0 / 3}); !near(got.Precision, want.Precision) || !near(got.Recall, want.Recall) {
		t.Fatalf("PrecisionRecallAt(0.85) = %+v, want %+v", got, want)
	}
	if got, want := at[1], (PRPoint{0.8, 2.0 / 3, 2.0 / 3}); !near(got.Precision, want.Precision) || !near(got.Recall, want.Recall) {
		t.Fatalf("PrecisionRecallAt(0.8) = %+v, want %+v", got, want)
	}
	if got := at[2]; !math.IsNaN(got.Precision) || got.Recall != 0 {
		t.Fatalf("PrecisionRecallAt(1) = %+v, want NaN precision and 0 recall", got)
	}
}

// bruteAUC counts every (positive, negative) pair.
func bruteAUC(s []float64, l []bool) float64 {
	var u, n float64
	for i := range s {
		for j := range s {
			if !l[i] || l[j] {
				continue
			}
			n++
			switch {
			case s[i] > s[j]:
				u++
			case s[i] == s[j]:
				u += 0.5
			}
		}
	}
	return u / n
}

func TestROCAUCMatchesBruteForce(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 7))
	for trial := range 50 {
		n := 2 + r.IntN(300)
		s := make([]float64, n)
		l := make([]bool, n)
		for i := range s {
			l[i] = r.Float64() < 0.3
			// Few distinct values so that ties are common; a shift makes
			// positives score higher on average.
			s[i] = math.Round(r.NormFloat64()*3) / 3
			if l[i] {
				s[i] += 0.5
			}
		}
		l[0], l[1] = true, false
		if got, want := ROCAUC(s, l), bruteAUC(s, l); !near(got, want) {
			t.Fatalf("trial %d: ROCAUC = %v, brute force = %v", trial, got, want)
		}
	}
}

func TestCardPrecisionAtKByHand(t *testing.T) {
	t.Parallel()
	// Day 1: card A has a legit tx at 0.9 and a fraud at 0.1, so A scores
	// 0.9 and is compromised; B 0.8 legit; C 0.7 fraud; D 0.2 legit.
	// Top 2 = A, B: 1 compromised -> 1/2.
	// Day 2: E 0.6 fraud; A, B, C tie at 0.5 with only B fraud. Top 2 = E
	// plus one of three tied cards: 1 + 1·(1/3) -> (4/3)/2 = 2/3.
	// Mean = (1/2 + 2/3)/2 = 7/12.
	days := []int{1, 1, 1, 1, 1, 2, 2, 2, 2}
	cards := []string{"A", "A", "B", "C", "D", "A", "B", "C", "E"}
	scores := []float64{0.9, 0.1, 0.8, 0.7, 0.2, 0.5, 0.5, 0.5, 0.6}
	labels := []bool{false, true, false, true, false, false, true, false, true}
	if got, want := CardPrecisionAtK(days, cards, scores, labels, 2), 7.0/12; !near(got, want) {
		t.Fatalf("CP@2 = %v, want %v", got, want)
	}
	// k above the card count still divides by k: 2 of 4 cards each day -> 2/5.
	if got, want := CardPrecisionAtK(days, cards, scores, labels, 5), 0.4; !near(got, want) {
		t.Fatalf("CP@5 = %v, want %v", got, want)
	}
	// k = 1: day 1 A (fraud) = 1, day 2 E (fraud) = 1.
	if got, want := CardPrecisionAtK(days, cards, scores, labels, 1), 1.0; !near(got, want) {
		t.Fatalf("CP@1 = %v, want %v", got, want)
	}
	// Integer card ids work the same.
	ids := []uint64{1, 1, 2, 3, 4, 1, 2, 3, 5}
	if got, want := CardPrecisionAtK(days, ids, scores, labels, 2), 7.0/12; !near(got, want) {
		t.Fatalf("CP@2 with uint64 cards = %v, want %v", got, want)
	}
	if got := CardPrecisionAtK(days, cards, scores, labels, 0); !math.IsNaN(got) {
		t.Fatalf("CP@0 = %v, want NaN", got)
	}
}

func TestCardPrecisionConstantScoreIsBaseRate(t *testing.T) {
	t.Parallel()
	// With a constant score every card ties, so CP@k is the share of
	// compromised cards, whatever k (up to the card count).
	n := 40
	days, cards := make([]int, n), make([]int, n)
	scores, labels := make([]float64, n), make([]bool, n)
	for i := range n {
		cards[i] = i
		labels[i] = i%8 == 0 // 5 of 40
	}
	for _, k := range []int{1, 7, 40} {
		if got, want := CardPrecisionAtK(days, cards, scores, labels, k), 5.0/40; !near(got, want) {
			t.Fatalf("CP@%d of a constant scorer = %v, want %v", k, got, want)
		}
	}
}
