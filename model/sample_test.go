package model

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Row and column sampling (issue 13): what each draw holds, and that the
// trees honour it.

func TestSampleRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 10000
	inSample := make([]bool, n)
	for _, frac := range []float64{0.9, 0.3, 0.05} { // each draw resets the previous one
		idx := sampleRows(rng, frac, inSample, nil)
		// Binomial(n, frac): within 6 standard deviations.
		if sd := math.Sqrt(n * frac * (1 - frac)); math.Abs(float64(len(idx))-n*frac) > 6*sd {
			t.Errorf("frac %v: %d rows drawn of %d", frac, len(idx), n)
		}
		if !slices.IsSorted(idx) {
			t.Errorf("frac %v: rows not in increasing order", frac)
		}
		marked := 0
		for i, in := range inSample {
			if in {
				marked++
				if _, found := slices.BinarySearch(idx, int32(i)); !found {
					t.Fatalf("frac %v: row %d marked but not drawn", frac, i)
				}
			}
		}
		if marked != len(idx) {
			t.Errorf("frac %v: %d rows marked, %d drawn", frac, marked, len(idx))
		}
	}
	// A fraction too small to draw anything still gives one row, marked,
	// and not always the same one.
	seen := map[int32]bool{}
	small := make([]bool, 10)
	for range 50 {
		idx := sampleRows(rng, 1e-12, small, nil)
		if len(idx) != 1 || !small[idx[0]] || slices.Index(small, true) != int(idx[0]) ||
			slices.Index(small[idx[0]+1:], true) >= 0 {
			t.Fatalf("tiny fraction: drew %v, marked %v", idx, small)
		}
		seen[idx[0]] = true
	}
	if len(seen) < 3 {
		t.Errorf("tiny fraction: always one of %d rows", len(seen))
	}
}

func TestSampleCols(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	live := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	for frac, k := range map[float64]int{1: 10, 0.5: 5, 0.25: 3, 0.12: 1, 0.01: 1} {
		for range 20 {
			cols := sampleCols(rng, frac, live, nil)
			if len(cols) != k || !slices.IsSorted(cols) || len(slices.Compact(slices.Clone(cols))) != k {
				t.Fatalf("frac %v: columns %v, want %d distinct in order", frac, cols, k)
			}
		}
	}
	// Features 1 and 4 are not live: drawn, they give no column, and every
	// live column is drawn sometimes, column 0 included.
	column := []int{0, -1, 1, 2, -1, 3, 4, 5, 6, 7}
	counts := make([]int, 8)
	short := 0
	for range 400 {
		cols := sampleCols(rng, 0.5, column, nil)
		if len(cols) > 5 || len(cols) < 3 || !slices.IsSorted(cols) {
			t.Fatalf("columns %v of 5 features drawn among 8 live and 2 dead", cols)
		}
		if len(cols) < 5 {
			short++
		}
		for _, c := range cols {
			if c < 0 || c >= len(counts) {
				t.Fatalf("column %d drawn", c)
			}
			counts[c]++
		}
	}
	// Each live column is drawn with probability 1/2: 200 times in 400.
	for c, n := range counts {
		if n < 140 || n > 260 {
			t.Errorf("column %d drawn %d times in 400, want about 200", c, n)
		}
	}
	// No dead feature drawn has probability 5·4/(10·9) = 2/9: the rest draw one.
	if short < 250 || short > 370 {
		t.Errorf("%d draws of 400 hit a dead feature, want about 311", short)
	}
}

// treeFeatures returns the distinct features tree t splits on.
func treeFeatures(t *tree) []int32 {
	var fs []int32
	for _, n := range t.nodes {
		if !slices.Contains(fs, n.feature) {
			fs = append(fs, n.feature)
		}
	}
	return fs
}

// TestColSampleLimitsEachTree: with ColSample 0.25 of 8 features a tree may
// split on 2 features only, and deep trees on informative features do use
// both; across trees, every feature gets its turn.
func TestColSampleLimitsEachTree(t *testing.T) {
	X, y := linearData(2000, 8, 5)
	cfg := DefaultGBDT()
	cfg.Trees, cfg.ColSample, cfg.Seed = 40, 0.25, 9
	m := train(t, X, y, nil, cfg)
	used := map[int32]bool{}
	most := 0
	for i := range m.trees {
		fs := treeFeatures(&m.trees[i])
		if len(fs) > 2 {
			t.Fatalf("tree %d splits on features %v, more than 2", i, fs)
		}
		most = max(most, len(fs))
		for _, f := range fs {
			used[f] = true
		}
	}
	if most != 2 {
		t.Errorf("no tree splits on 2 features (at most %d)", most)
	}
	if len(used) != 8 {
		t.Errorf("trees split on %d of 8 features", len(used))
	}
}

// TestSubsampleCountsSampledRows: MinSamplesLeaf counts rows of the sample,
// so 10 % of 1,000 rows (about 100) cannot make two leaves of 80, while all
// the rows can.
func TestSubsampleCountsSampledRows(t *testing.T) {
	X, y := linearData(1000, 4, 6)
	cfg := DefaultGBDT()
	cfg.Trees, cfg.MinSamplesLeaf = 10, 80
	splits := func(c GBDTConfig) int {
		n := 0
		for _, tr := range train(t, X, y, nil, c).trees {
			n += len(tr.nodes)
		}
		return n
	}
	if n := splits(cfg); n == 0 {
		t.Fatal("no split on all the rows")
	}
	cfg.Subsample = 0.1
	if n := splits(cfg); n != 0 {
		t.Errorf("%d splits on samples of about 100 rows with MinSamplesLeaf 80", n)
	}
}

// TestTrainingMarginsAreTheModels: the margins training keeps for every row
// (from the partition for sampled rows, by walking the tree over bins for
// the others) are exactly what the finished model predicts for that row.
func TestTrainingMarginsAreTheModels(t *testing.T) {
	X, y := xorData(1500, 4, 8)
	for i := 0; i < X.Rows; i += 5 {
		X.Row(i)[1] = float32(math.NaN())
	}
	for _, sub := range []struct{ rows, cols float64 }{{1, 1}, {0.5, 1}, {0.3, 0.5}, {1, 0.5}} {
		cfg := DefaultGBDT()
		cfg.Trees, cfg.Subsample, cfg.ColSample, cfg.Seed = 15, sub.rows, sub.cols, 3
		m, F, err := trainGBDT(context.Background(), X, y, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := range X.Rows {
			if got := m.PredictMargin(X.Row(i)); math.Abs(got-F[i]) > 1e-9 {
				t.Fatalf("subsample %v, colsample %v, row %d: training margin %v, model %v", sub.rows, sub.cols, i, F[i], got)
			}
		}
	}
}

// TestPredictBatchDeepTreesAnyRowCount: trees too deep to lay out flat walk
// in groups of 8 rows within tiles of 64; a batch of any length, a forest
// with a single-leaf tree among deep ones, and a reused dst give what
// Predict gives row by row.
func TestPredictBatchDeepTreesAnyRowCount(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	const nfeat = 4
	trees := []tree{{leaves: []float64{0.5}}}
	for range 6 {
		trees = append(trees, randomTree(r, maxFlatDepth+2, nfeat))
	}
	m := &GBDT{nfeat: nfeat, base: 0.1, trees: trees, flat: newFlatForest(trees)}
	if m.flat != nil {
		t.Fatal("deep trees laid out flat")
	}
	X := NewMatrix(200, nfeat)
	for i := range X.Data {
		X.Data[i] = float32(r.NormFloat64())
		if r.IntN(6) == 0 {
			X.Data[i] = float32(math.NaN())
		}
	}
	dst := make([]float64, 300)
	for _, n := range []int{1, 7, 9, 63, 65, 71, 200} {
		sub := Matrix{Rows: n, Cols: nfeat, Data: X.Data[:n*nfeat]}
		for i := range dst {
			dst[i] = -7
		}
		p := m.PredictBatch(sub, dst)
		if len(p) != n {
			t.Fatalf("%d rows: %d predictions", n, len(p))
		}
		for i := range p {
			if got := m.Predict(X.Row(i)); got != p[i] {
				t.Fatalf("%d rows, row %d: PredictBatch %v, Predict %v", n, i, p[i], got)
			}
		}
		if n < len(dst) && dst[n] != -7 {
			t.Fatalf("%d rows: dst[%d] overwritten", n, n)
		}
	}
}

// TestTrainWithEmptyValidation: an empty validation set is allowed and
// disables early stopping.
func TestTrainWithEmptyValidation(t *testing.T) {
	X, y := xorData(300, 3, 12)
	cfg := DefaultGBDT()
	cfg.Trees, cfg.EarlyStopping = 7, 1
	m, err := TrainGBDT(context.Background(), X, y, &Dataset{X: NewMatrix(0, 3)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m.NumTrees() != 7 {
		t.Errorf("%d trees with an empty validation set, want 7", m.NumTrees())
	}
}
