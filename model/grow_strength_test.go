package model

import (
	"math"
	"slices"
	"testing"
)

// The grower's limits at their edges (issue 13): each limit allows exactly
// what it names, in both growth orders (level by level when the depth limit
// allows it, best-first otherwise).

// ramp is one feature 0..n-1 labelled positive from pos on.
func ramp(n, pos int) (Matrix, []bool) {
	X := NewMatrix(n, 1)
	y := make([]bool, n)
	for i := range n {
		X.Data[i] = float32(i)
		y[i] = i >= pos
	}
	return X, y
}

// oneTree trains a single tree at learning rate 1 without penalty.
func oneTree(t *testing.T, X Matrix, y []bool, edit func(*GBDTConfig)) tree {
	t.Helper()
	cfg := DefaultGBDT()
	cfg.Trees, cfg.LearningRate, cfg.Lambda, cfg.MinHessian = 1, 1, 0, 0
	edit(&cfg)
	return train(t, X, y, nil, cfg).trees[0]
}

// leafSizes returns the number of rows of X in each leaf of tr, sorted.
func leafSizes(tr *tree, X Matrix) []int {
	n := make([]int, len(tr.leaves))
	for i := range X.Rows {
		n[tr.leafOf(X.Row(i))]++
	}
	slices.Sort(n)
	return n
}

func TestMinSamplesLeafEdge(t *testing.T) {
	X, y := ramp(10, 8) // the best split leaves 2 rows on the right
	for _, tc := range []struct {
		min  int
		want []int
	}{
		{1, []int{2, 8}}, {2, []int{2, 8}}, {3, []int{3, 7}}, {5, []int{5, 5}}, {6, []int{10}},
	} {
		for _, maxDepth := range []int{1, 0} {
			tr := oneTree(t, X, y, func(c *GBDTConfig) { c.MinSamplesLeaf, c.MaxDepth, c.MaxLeaves = tc.min, maxDepth, 2 })
			if got := leafSizes(&tr, X); !slices.Equal(got, tc.want) {
				t.Errorf("MinSamplesLeaf %d, MaxDepth %d: leaves of %v rows, want %v", tc.min, maxDepth, got, tc.want)
			}
		}
	}
}

func TestMinHessianEdge(t *testing.T) {
	// Balanced: every row starts at p = 1/2, hessian 1/4; the 5/5 split
	// gives each side 1.25.
	X, y := ramp(10, 5)
	for h, want := range map[float64][]int{1.25: {5, 5}, math.Nextafter(1.25, 2): {10}, 0: {5, 5}} {
		for _, maxDepth := range []int{6, 0} {
			tr := oneTree(t, X, y, func(c *GBDTConfig) { c.MinHessian, c.MaxDepth = h, maxDepth })
			if got := leafSizes(&tr, X); !slices.Equal(got, want) {
				t.Errorf("MinHessian %v, MaxDepth %d: leaves of %v rows, want %v", h, maxDepth, got, want)
			}
		}
	}
}

func TestMinGainEdge(t *testing.T) {
	X, y := ramp(10, 5)
	tr := oneTree(t, X, y, func(c *GBDTConfig) {})
	if len(tr.nodes) != 1 {
		t.Fatalf("%d nodes, want the one split", len(tr.nodes))
	}
	g := tr.gains[0]
	// G = ±2.5 and H = 1.25 on each side, 0 at the root: gain 2·2.5²/1.25.
	if g != 10 {
		t.Errorf("gain %v, want 10", g)
	}
	for _, maxDepth := range []int{6, 0} {
		if tr := oneTree(t, X, y, func(c *GBDTConfig) { c.MinGain, c.MaxDepth = g, maxDepth }); len(tr.nodes) != 0 {
			t.Errorf("MaxDepth %d: a split of gain %v with MinGain %v", maxDepth, g, g)
		}
		if tr := oneTree(t, X, y, func(c *GBDTConfig) { c.MinGain, c.MaxDepth = math.Nextafter(g, 0), maxDepth }); len(tr.nodes) != 1 {
			t.Errorf("MaxDepth %d: no split of gain %v with MinGain just below", maxDepth, g)
		}
	}
}

func TestLeafValues(t *testing.T) {
	// Left: 5 negatives, G = 5·(1/2) = 2.5, H = 1.25; right: G = −2.5.
	// A leaf is −G/(H+λ)·rate.
	X, y := ramp(10, 5)
	for _, tc := range []struct{ lambda, rate float64 }{{0, 1}, {1, 1}, {1, 0.1}, {3.75, 0.5}} {
		tr := oneTree(t, X, y, func(c *GBDTConfig) { c.Lambda, c.LearningRate = tc.lambda, tc.rate })
		want := []float64{-2.5 / (1.25 + tc.lambda) * tc.rate, 2.5 / (1.25 + tc.lambda) * tc.rate}
		got := []float64{tr.leaves[tr.leafOf([]float32{0})], tr.leaves[tr.leafOf([]float32{9})]}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Errorf("λ %v, rate %v: leaves %v, want %v", tc.lambda, tc.rate, got, want)
				break
			}
		}
	}
}

// TestDepthAndLeavesEdge: trees reach exactly MaxDepth, and best-first
// growth exactly MaxLeaves, when the data has splits to spare.
func TestDepthAndLeavesEdge(t *testing.T) {
	X, y := xorData(3000, 4, 13)
	for _, d := range []int{1, 2, 3, 4} {
		tr := oneTree(t, X, y, func(c *GBDTConfig) { c.MaxDepth = d })
		if got := tr.depth(); got != d {
			t.Errorf("MaxDepth %d: depth %d", d, got)
		}
	}
	for _, l := range []int{2, 3, 5, 8} {
		tr := oneTree(t, X, y, func(c *GBDTConfig) { c.MaxDepth, c.MaxLeaves = 0, l })
		if got := len(tr.leaves); got != l {
			t.Errorf("MaxLeaves %d: %d leaves", l, got)
		}
	}
	// Level-wise within a depth limit, MaxLeaves still bounds the tree.
	tr := oneTree(t, X, y, func(c *GBDTConfig) { c.MaxDepth, c.MaxLeaves = 3, 5 })
	if got := len(tr.leaves); got != 5 {
		t.Errorf("MaxDepth 3, MaxLeaves 5: %d leaves", got)
	}
}

// TestMinSamplesLeafDeep: deep in a tree, where a larger child's histogram
// is its parent's less its sibling's, every leaf still holds at least
// MinSamplesLeaf rows, in both growth orders.
func TestMinSamplesLeafDeep(t *testing.T) {
	X, y := xorData(3000, 4, 17)
	for _, maxDepth := range []int{5, 0} {
		tr := oneTree(t, X, y, func(c *GBDTConfig) { c.MinSamplesLeaf, c.MaxDepth, c.MaxLeaves = 170, maxDepth, 32 })
		sizes := leafSizes(&tr, X)
		if len(sizes) < 6 || sizes[0] < 170 {
			t.Errorf("MaxDepth %d: leaves of %v rows, want several, none under 170", maxDepth, sizes)
		}
	}
}

// TestTiedSplitsKeepTheFirstFeature: two identical features give every
// split the same gain; the first feature wins, as one pass over the
// features in order would keep it, in both growth orders and with threads.
func TestTiedSplitsKeepTheFirstFeature(t *testing.T) {
	X0, y := xorData(20000, 2, 19) // enough rows for the features to be split across tasks
	X := NewMatrix(X0.Rows, 4)
	for i := range X.Rows {
		r := X0.Row(i)
		copy(X.Row(i), []float32{r[0], r[1], r[0], r[1]})
	}
	for _, maxDepth := range []int{4, 0} {
		for _, threads := range []int{1, 4} {
			tr := oneTree(t, X, y, func(c *GBDTConfig) { c.MaxDepth, c.MaxLeaves, c.Threads = maxDepth, 16, threads })
			if len(tr.nodes) == 0 {
				t.Fatal("no split")
			}
			for i, n := range tr.nodes {
				if n.feature > 1 {
					t.Errorf("MaxDepth %d, %d threads: node %d splits on feature %d, a copy of feature %d", maxDepth, threads, i, n.feature, n.feature-2)
				}
			}
		}
	}
}

// TestMissingValuesDirection: with no missing value in training, NaN
// follows the bigger side, the left one on a tie; with missing values, they
// go where they fit best, here with the negatives on the left.
func TestMissingValuesDirection(t *testing.T) {
	for pos, left := range map[int]bool{5: true, 8: true, 2: false} {
		X, y := ramp(10, pos)
		tr := oneTree(t, X, y, func(c *GBDTConfig) { c.MaxDepth = 1 })
		if len(tr.nodes) != 1 || tr.nodes[0].defaultLeft != left {
			t.Errorf("split %d/%d without missing values: NaN left %v, want %v", pos, 10-pos, tr.nodes[0].defaultLeft, left)
		}
	}
	nan := float32(math.NaN())
	X := NewMatrix(14, 1)
	y := make([]bool, 14)
	for i := range 10 {
		X.Data[i] = float32(i)
		y[i] = i >= 5
	}
	for i := 10; i < 14; i++ {
		X.Data[i] = nan // negatives
	}
	tr := oneTree(t, X, y, func(c *GBDTConfig) { c.MaxDepth = 1 })
	if len(tr.nodes) != 1 || !tr.nodes[0].defaultLeft || tr.leafOf([]float32{nan}) != tr.leafOf([]float32{0}) {
		t.Fatalf("NaN negatives do not join the negatives on the left: %+v", tr.nodes)
	}
	// The left leaf holds the 9 negatives: at p = 5/14, −G/H = −14/9.
	if got := tr.leaves[tr.leafOf([]float32{nan})]; math.Abs(got+14.0/9) > 1e-12 {
		t.Errorf("left leaf %v, want %v", got, -14.0/9)
	}
}

// TestBestFirstChildren: growing best-first (a leaf limit below what the
// depth allows), children carry their own sums and depth: leaf values are
// −G/H of their rows, and no leaf is deeper than MaxDepth.
func TestBestFirstChildren(t *testing.T) {
	X, y := ramp(10, 5)
	tr := oneTree(t, X, y, func(c *GBDTConfig) { c.MaxDepth, c.MaxLeaves = 0, 2 })
	if got, want := []float64{tr.leaves[tr.leafOf([]float32{0})], tr.leaves[tr.leafOf([]float32{9})]}, []float64{-2, 2}; got[0] != want[0] || got[1] != want[1] {
		t.Errorf("best-first stump leaves %v, want %v", got, want)
	}
	X, y = xorData(3000, 4, 23)
	for _, d := range []int{2, 3} {
		tr := oneTree(t, X, y, func(c *GBDTConfig) { c.MaxDepth, c.MaxLeaves = d, 1<<d-1 })
		if got := tr.depth(); got != d || len(tr.leaves) != 1<<d-1 {
			t.Errorf("MaxDepth %d, MaxLeaves %d: depth %d, %d leaves", d, 1<<d-1, got, len(tr.leaves))
		}
	}
}
