package eval

import (
	"math"
	"time"

	"github.com/occsimore/occsimore/model"
)

// Report is the outcome of Run. It encodes to JSON: no field is NaN or
// infinite (Run refuses windows without both classes, and the +Inf threshold
// of a ROC curve's first point is written as math.MaxFloat64).
type Report struct {
	Protocol Protocol `json:"protocol"`
	Counts   Counts   `json:"counts"`
	// Metrics are the model's on the test set.
	Metrics Metrics `json:"metrics"`
	// EngineScore are the metrics of the engine's unsupervised score alone
	// (the "score" feature) on the same test set, for comparison.
	EngineScore Metrics      `json:"engine_score"`
	Model       ModelInfo    `json:"model"`
	Curves      Curves       `json:"curves"`
	Features    []Importance `json:"feature_importance"` // largest first
	Published   []Published  `json:"published"`
	Timings     Timings      `json:"timings"`
}

// Counts are the transactions read and kept.
type Counts struct {
	// Events is the number of transactions read, from the start of the file
	// to the end of the test window.
	Events int    `json:"events"`
	Train  Window `json:"train"`
	// Valid is the part of Train held out for early stopping.
	Valid Window `json:"valid"`
	// TestAll is the test window before the known compromised cards are
	// removed; Test is after, and is what the metrics are computed on.
	TestAll Window `json:"test_all"`
	Test    Window `json:"test"`
	// KnownCards is the number of cards known to be compromised on the last
	// test day.
	KnownCards int `json:"known_cards"`
}

// Window counts the transactions of a window.
type Window struct {
	Transactions     int         `json:"transactions"`
	Frauds           int         `json:"frauds"`
	FraudsByScenario map[int]int `json:"frauds_by_scenario,omitempty"`
}

func (w *Window) add(fraud bool, scenario int) {
	w.Transactions++
	if !fraud {
		return
	}
	w.Frauds++
	if scenario >= 0 {
		if w.FraudsByScenario == nil {
			w.FraudsByScenario = make(map[int]int)
		}
		w.FraudsByScenario[scenario]++
	}
}

// Metrics are the handbook's three test metrics.
type Metrics struct {
	AUC   float64 `json:"auc_roc"`
	AP    float64 `json:"average_precision"`
	CPK   float64 `json:"card_precision_at_k"`
	K     int     `json:"k"`
	Cards int     `json:"cards"` // distinct (day, card) pairs scored
}

// ModelInfo describes the trained model.
type ModelInfo struct {
	Trees          int     `json:"trees"`
	Features       int     `json:"features"`
	ScalePosWeight float64 `json:"scale_pos_weight"`
}

// Curves are the model's test ROC and precision-recall curves, thinned to at
// most Config.CurvePoints points each, in decreasing threshold order.
type Curves struct {
	ROC []ROCPoint `json:"roc"`
	PR  []PRPoint  `json:"pr"`
}

// ROCPoint is a point of a ROC curve.
type ROCPoint struct {
	Threshold float64 `json:"threshold"`
	FPR       float64 `json:"fpr"`
	TPR       float64 `json:"tpr"`
}

// PRPoint is a point of a precision-recall curve.
type PRPoint struct {
	Threshold float64 `json:"threshold"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// Importance is a feature's share of the model's total split gain.
type Importance struct {
	Name string  `json:"name"`
	Gain float64 `json:"gain"`
}

// Timings are the wall-clock durations of Run's phases.
type Timings struct {
	Features time.Duration `json:"features_ns"` // reading and the engine pass
	Train    time.Duration `json:"train_ns"`
	Score    time.Duration `json:"score_ns"` // prediction, metrics and curves
	Total    time.Duration `json:"total_ns"`
}

// finite replaces an infinite threshold so that the report encodes to JSON.
func finite(v float64) float64 {
	switch {
	case math.IsInf(v, 1):
		return math.MaxFloat64
	case math.IsInf(v, -1):
		return -math.MaxFloat64
	}
	return v
}

// thin returns the indices of at most n points of a curve of m, evenly spaced
// and keeping both ends.
func thin(m, n int) []int {
	if m <= n || n < 2 {
		idx := make([]int, m)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, 0, n)
	for i := range n {
		j := int(math.Round(float64(i) * float64(m-1) / float64(n-1)))
		if len(idx) == 0 || idx[len(idx)-1] != j {
			idx = append(idx, j)
		}
	}
	return idx
}

func rocCurve(scores []float64, labels []bool, n int) []ROCPoint {
	c := model.ROCCurve(scores, labels)
	out := make([]ROCPoint, 0, min(len(c), n))
	for _, i := range thin(len(c), n) {
		out = append(out, ROCPoint{finite(c[i].Threshold), c[i].FPR, c[i].TPR})
	}
	return out
}

func prCurve(scores []float64, labels []bool, n int) []PRPoint {
	c := model.PRCurve(scores, labels)
	out := make([]PRPoint, 0, min(len(c), n))
	for _, i := range thin(len(c), n) {
		out = append(out, PRPoint{finite(c[i].Threshold), c[i].Precision, c[i].Recall})
	}
	return out
}
