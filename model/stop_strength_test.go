package model

import (
	"math"
	"testing"
)

// Early stopping at its edges (issue 13).

// prefixMargins returns the validation margins of m's first k trees, for
// every k from 1 to NumTrees, summed tree by tree as Predict does.
func prefixMargins(m *GBDT, X Matrix) [][]float64 {
	out := make([][]float64, len(m.trees))
	cur := make([]float64, X.Rows)
	for i := range cur {
		cur[i] = m.base
	}
	for k := range m.trees {
		t := &m.trees[k]
		for i := range cur {
			cur[i] += t.leaves[t.leafOf(X.Row(i))]
		}
		out[k] = append([]float64(nil), cur...)
	}
	return out
}

// TestEarlyStoppingKeepsBestPrefix: training stops once the validation
// metric has not improved for EarlyStopping rounds, and keeps the trees up
// to the first best round; the trees are those training without early
// stopping grows.
func TestEarlyStoppingKeepsBestPrefix(t *testing.T) {
	X, y := linearData(1500, 5, 21)
	Xv, yv := linearData(600, 5, 22)
	valid := &Dataset{X: Xv, Y: yv}
	cfg := DefaultGBDT()
	cfg.Trees, cfg.LearningRate, cfg.MaxDepth, cfg.MaxLeaves = 60, 0.6, 6, 64
	full := train(t, X, y, nil, cfg)
	margins := prefixMargins(full, Xv)
	for _, metric := range []StopMetric{StopAP, StopLogLoss} {
		vals := make([]float64, len(margins))
		for k, mg := range margins {
			if metric == StopAP {
				vals[k] = -AveragePrecision(mg, yv) // lower is better for both below
			} else {
				vals[k] = probLogLossOfMargins(mg, yv)
			}
		}
		for _, patience := range []int{1, 2, 5} {
			// Expected: the first round r with r − best ≥ patience stops;
			// the model keeps best+1 trees.
			best := 0
			for r := 1; r < len(vals); r++ {
				if vals[r] < vals[best] {
					best = r
				}
				if r-best >= patience {
					break
				}
			}
			cfg.EarlyStopping, cfg.StopMetric = patience, metric
			m := train(t, X, y, valid, cfg)
			if got, want := m.NumTrees(), best+1; got != want {
				t.Errorf("metric %d, patience %d: %d trees kept, want %d (validation %v)", metric, patience, got, want, vals[:min(len(vals), best+patience+2)])
			}
			for k := range m.trees {
				if len(m.trees[k].leaves) != len(full.trees[k].leaves) || m.trees[k].leaves[0] != full.trees[k].leaves[0] {
					t.Fatalf("metric %d: tree %d differs from training without early stopping", metric, k)
				}
			}
		}
	}
}

// probLogLossOfMargins is the mean log-loss of margins, computed naively.
func probLogLossOfMargins(margin []float64, y []bool) float64 {
	var sum float64
	for i, m := range margin {
		p := 1 / (1 + math.Exp(-m))
		if y[i] {
			sum -= math.Log(p)
		} else {
			sum -= math.Log(1 - p)
		}
	}
	return sum / float64(len(margin))
}

func TestLogLossAndSoftplus(t *testing.T) {
	for _, tc := range []struct{ x, want float64 }{
		{0, math.Ln2}, {1000, 1000}, {-1000, 0}, {50, 50}, {-50, math.Exp(-50)}, {1, math.Log1p(math.E)}, {-1, math.Log1p(1 / math.E)},
	} {
		if got := softplus(tc.x); math.Abs(got-tc.want) > 1e-12*math.Max(1, tc.want) {
			t.Errorf("softplus(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
	margin := []float64{0, 2, -3, 40}
	y := []bool{true, true, false, false}
	want := (math.Ln2 + math.Log1p(math.Exp(-2)) + math.Log1p(math.Exp(-3)) + 40) / 4
	if got := logLoss(margin, y); math.Abs(got-want) > 1e-12 {
		t.Errorf("logLoss = %v, want %v", got, want)
	}
	if got, naive := logLoss(margin[:3], y[:3]), probLogLossOfMargins(margin[:3], y[:3]); math.Abs(got-naive) > 1e-12 {
		t.Errorf("logLoss = %v, naive %v", got, naive)
	}
}

// TestEarlyStoppingTieKeepsFirst: a validation metric that stops improving
// because it is perfect (AP 1 from the first tree on) keeps the first tree
// that reached it, not a later equal one.
func TestEarlyStoppingTieKeepsFirst(t *testing.T) {
	X, y := ramp(200, 100)
	Xv, yv := ramp(50, 25) // every fourth value of the training ramp
	for i := range Xv.Data {
		Xv.Data[i] *= 4
	}
	cfg := DefaultGBDT()
	cfg.Trees, cfg.EarlyStopping, cfg.StopMetric = 30, 3, StopAP
	m := train(t, X, y, &Dataset{X: Xv, Y: yv}, cfg)
	if got := AveragePrecision(m.PredictBatch(Xv, nil), yv); got != 1 {
		t.Fatalf("validation AP %v, want 1", got)
	}
	if m.NumTrees() != 1 {
		t.Errorf("%d trees kept, want the first, which already ranks every row right", m.NumTrees())
	}
}
