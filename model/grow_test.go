package model

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// missingData is linearData with a third of x0 and x3 missing, x4 either 1
// or missing, then x5 missing in every row and x6 constant: two features a
// histogram pass skips.
func missingData(n int, seed uint64) (Matrix, []bool) {
	X, y := linearData(n, 7, seed)
	r := rand.New(rand.NewPCG(seed, 3))
	for i := range X.Rows {
		row := X.Row(i)
		if r.IntN(3) == 0 {
			row[0] = nan32
		}
		if r.IntN(3) == 0 {
			row[3] = nan32
		}
		row[4] = 1
		if y[i] == (r.IntN(4) == 0) {
			row[4] = nan32
		}
		row[5], row[6] = nan32, 7
	}
	return X, y
}

// TestGrowLevelsMatchesBestFirst: growing level by level, with every
// level's histograms shared out in chunks among threads, gives the tree
// best-first growth gives, node for node and bit for bit, whatever the
// threads and the chunking.
func TestGrowLevelsMatchesBestFirst(t *testing.T) {
	t.Parallel()
	X, y := missingData(5000, 21)
	bn := newBinner(X, 255, X.Rows, 1)
	d := newBinned(X, &bn, 1)
	if got, want := d.cols, 5; got != want {
		t.Fatalf("%d live columns, want %d (features 5 and 6 never split)", got, want)
	}
	r := rand.New(rand.NewPCG(5, 5))
	g, h := make([]float64, X.Rows), make([]float64, X.Rows)
	for i := range g {
		p := 0.2 + 0.6*r.Float64()
		g[i], h[i] = p, p*(1-p)
		if y[i] {
			g[i]--
		}
	}
	cols := []int{0, 1, 2, 3, 4}
	for _, c := range []struct {
		name  string
		depth int
		cols  []int
	}{{"depth 6", 6, cols}, {"depth 4, columns 0, 1, 4", 4, []int{0, 1, 4}}} {
		cfg := DefaultGBDT()
		cfg.MaxDepth, cfg.MaxLeaves = c.depth, 1<<c.depth
		grow := func(threads, minTask int, bestFirst bool) (tree, [][2]int) {
			gr := newGrower(d, &cfg, threads)
			gr.minTask, gr.bestFirst = minTask, bestFirst
			idx := make([]int32, X.Rows)
			for i := range idx {
				idx[i] = int32(i)
			}
			t := gr.grow(idx, g, h, c.cols)
			return t, gr.leafRanges
		}
		want, wantRanges := grow(1, 1<<14, true)
		if len(want.nodes) < 10 {
			t.Fatalf("%s: best-first tree has %d nodes: the test proves little", c.name, len(want.nodes))
		}
		for _, v := range []struct {
			threads, minTask int
		}{{1, 1 << 14}, {2, 1}, {3, 64}, {4, 1 << 14}} {
			got, gotRanges := grow(v.threads, v.minTask, false)
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotRanges, wantRanges) {
				t.Fatalf("%s, %d threads, tasks of %d: the level-by-level tree differs from the best-first one",
					c.name, v.threads, v.minTask)
			}
			got, _ = grow(v.threads, v.minTask, true)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, %d threads, tasks of %d: the best-first tree depends on the threads", c.name, v.threads, v.minTask)
			}
		}
	}
}

// TestGBDTDeadFeaturesChangeNothing: features that never vary are left out
// of the histograms, which changes no prediction: a model trained with
// them predicts exactly as one trained without them.
func TestGBDTDeadFeaturesChangeNothing(t *testing.T) {
	t.Parallel()
	X, y := missingData(3000, 22)
	narrow := NewMatrix(X.Rows, 5)
	for i := range X.Rows {
		copy(narrow.Row(i), X.Row(i)[:5])
	}
	cfg := DefaultGBDT()
	cfg.Trees = 30
	wide, slim := train(t, X, y, nil, cfg), train(t, narrow, y, nil, cfg)
	pw, ps := predictAll(wide, X), predictAll(slim, narrow)
	for i := range pw {
		if pw[i] != ps[i] {
			t.Fatalf("row %d: %v with the dead features, %v without", i, pw[i], ps[i])
		}
	}
	imp := wide.FeatureImportance()
	if imp[5] != 0 || imp[6] != 0 {
		t.Fatalf("importance of the dead features = %v, %v, want 0", imp[5], imp[6])
	}
	if !(imp[4] > 0) {
		t.Fatal("x4, 1 or missing, never splits: the test proves little")
	}
}

// TestFlatForestMatchesWalk: PredictBatch's flat layout sends every row,
// missing and infinite values included, to the leaf Predict's walk finds,
// for trees of every depth up to the layout's limit, padded or full; deeper
// trees fall back to the walk.
func TestFlatForestMatchesWalk(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 9))
	const nfeat = 5
	values := []float32{nan32, float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 1}
	X := NewMatrix(4000, nfeat)
	for i := range X.Data {
		if r.IntN(4) == 0 {
			X.Data[i] = values[r.IntN(len(values))]
		} else {
			X.Data[i] = float32(r.NormFloat64())
		}
	}
	for _, depth := range []int{0, 1, 3, 6, 8, 9, 12} {
		var trees []tree
		for range 20 {
			trees = append(trees, randomTree(r, depth, nfeat))
		}
		m := &GBDT{nfeat: nfeat, base: -1, trees: trees, flat: newFlatForest(trees)}
		if got, want := m.flat != nil, depth <= maxFlatDepth; got != want {
			t.Fatalf("depth %d: laid out flat = %v, want %v", depth, got, want)
		}
		p := m.PredictBatch(X, nil)
		for i := range p {
			if got := m.Predict(X.Row(i)); got != p[i] {
				t.Fatalf("depth %d, row %d %v: PredictBatch %v, Predict %v", depth, i, X.Row(i), p[i], got)
			}
		}
	}
}

// randomTree returns a tree of exactly maxDepth levels with nodes numbered
// depth first, its leftmost leaf the deepest, others at random depths, thresholds among values rows hold
// (so that ties and infinities are tested) and NaN going either way.
func randomTree(r *rand.Rand, maxDepth, nfeat int) tree {
	var t tree
	thresholds := []float32{float32(math.Inf(1)), 0, -1, 0.5, float32(math.Inf(-1))}
	var build func(depth int, spine bool) int32
	build = func(depth int, spine bool) int32 {
		if depth == maxDepth || !spine && depth > 1 && r.IntN(4) == 0 {
			t.leaves = append(t.leaves, r.NormFloat64())
			return ^int32(len(t.leaves) - 1)
		}
		i := len(t.nodes)
		th := float32(r.NormFloat64())
		if r.IntN(3) == 0 {
			th = thresholds[r.IntN(len(thresholds))]
		}
		t.nodes = append(t.nodes, treeNode{feature: int32(r.IntN(nfeat)), threshold: th, defaultLeft: r.IntN(2) == 0})
		t.gains = append(t.gains, 1)
		left := build(depth+1, spine)
		right := build(depth+1, false)
		t.nodes[i].child = [2]int32{left, right}
		return int32(i)
	}
	build(0, true)
	return t
}
