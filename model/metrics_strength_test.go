package model

import (
	"math"
	"testing"
)

// Metrics at their edges (issue 13).

func TestPrecisionRecallAtEdges(t *testing.T) {
	scores := []float64{0.9, 0.5, 0.5, 0.1}
	labels := []bool{true, false, true, false}
	nan := math.NaN()
	got := PrecisionRecallAt(scores, labels, []float64{0.5, 0.51, 1, 0.1})
	want := []PRPoint{{0.5, 2.0 / 3, 1}, {0.51, 1, 0.5}, {1, nan, 0}, {0.1, 0.5, 1}}
	for i := range want {
		g, w := got[i], want[i]
		if g.Threshold != w.Threshold || !sameFloat(g.Precision, w.Precision) || !sameFloat(g.Recall, w.Recall) {
			t.Errorf("threshold %v: %+v, want %+v", w.Threshold, g, w)
		}
	}
	none := PrecisionRecallAt(scores, []bool{false, false, false, false}, []float64{0.5})
	if !math.IsNaN(none[0].Recall) || none[0].Precision != 0 {
		t.Errorf("no positive: %+v, want precision 0 and recall NaN", none[0])
	}
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func TestCardPrecisionAtKEdges(t *testing.T) {
	days := []int{1, 1, 1}
	cards := []string{"a", "b", "c"}
	scores := []float64{0.9, 0.8, 0.7}
	labels := []bool{false, true, true}
	for k, want := range map[int]float64{0: math.NaN(), -1: math.NaN(), 1: 0, 2: 0.5, 3: 2.0 / 3, 4: 0.5} {
		if got := CardPrecisionAtK(days, cards, scores, labels, k); !sameFloat(got, want) {
			t.Errorf("k=%d: %v, want %v", k, got, want)
		}
	}
	if got := CardPrecisionAtK([]int{}, []string{}, nil, nil, 1); !math.IsNaN(got) {
		t.Errorf("no rows: %v, want NaN", got)
	}
	// A card's score is its highest of the day, whatever the order.
	got := CardPrecisionAtK([]int{1, 1, 1}, []string{"a", "a", "b"}, []float64{0.1, 0.95, 0.9}, []bool{true, false, false}, 1)
	if got != 1 {
		t.Errorf("card a at its best score 0.95 and compromised: %v, want 1", got)
	}
}

func TestMetricsPanicOnLengths(t *testing.T) {
	for name, f := range map[string]func(){
		"ROCAUC":            func() { ROCAUC([]float64{1, 2}, []bool{true}) },
		"AveragePrecision":  func() { AveragePrecision([]float64{1}, []bool{true, false}) },
		"PRCurve":           func() { PRCurve([]float64{1}, nil) },
		"CardPrecisionAtK":  func() { CardPrecisionAtK([]int{1}, []string{"a", "b"}, []float64{1, 2}, []bool{true, false}, 1) },
		"CardPrecisionDays": func() { CardPrecisionAtK([]int{1, 2, 3}, []string{"a", "b"}, []float64{1, 2}, []bool{true, false}, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with slices of different lengths did not panic", name)
				}
			}()
			f()
		}()
	}
}
