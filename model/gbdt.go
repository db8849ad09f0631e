package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/occsimore/occsimore"
)

// Matrix is a dense row-major matrix: value j of row i is Data[i*Cols+j].
// NaN marks a missing value.
type Matrix struct {
	Rows, Cols int
	Data       []float32
}

// NewMatrix returns a zeroed rows × cols matrix.
func NewMatrix(rows, cols int) Matrix {
	return Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
}

// Row returns row i, sharing memory with m.
func (m Matrix) Row(i int) []float32 { return m.Data[i*m.Cols : (i+1)*m.Cols : (i+1)*m.Cols] }

func (m Matrix) valid(field string) error {
	if m.Rows < 0 || m.Cols < 0 || len(m.Data) != m.Rows*m.Cols {
		return occsimore.FieldErrorf(field, "matrix of %d×%d holds %d values", m.Rows, m.Cols, len(m.Data))
	}
	return nil
}

// Dataset is a matrix with one label per row.
type Dataset struct {
	X Matrix
	Y []bool
}

// StopMetric is what early stopping watches on the validation set.
type StopMetric int

const (
	StopAP      StopMetric = iota // average precision, higher is better
	StopLogLoss                   // mean log-loss, lower is better
)

// GBDTConfig configures TrainGBDT. Start from DefaultGBDT.
type GBDTConfig struct {
	Trees          int     // boosting rounds
	LearningRate   float64 // shrinkage applied to every leaf
	MaxDepth       int     // deepest leaf; 0 means no limit
	MaxLeaves      int     // leaves per tree; trees grow best-first (leaf-wise)
	MinSamplesLeaf int     // rows per leaf, counted in the row sample
	MinHessian     float64 // sum of hessians per leaf (XGBoost's min_child_weight)
	Lambda         float64 // L2 penalty on leaf values
	MinGain        float64 // a split must reduce the loss by more than this
	Subsample      float64 // fraction of rows drawn per tree, in (0, 1]
	ColSample      float64 // fraction of features drawn per tree, in (0, 1]
	ScalePosWeight float64 // weight of positive rows; negatives weigh 1
	MaxBins        int     // value bins per feature, at most 255; NaN has its own
	BinSampleRows  int     // rows used to place the bin cuts

	// Early stopping: with a validation set and EarlyStopping > 0, training
	// stops once the metric has not improved for EarlyStopping rounds, and
	// the model keeps the trees up to the best round.
	EarlyStopping int
	StopMetric    StopMetric

	Threads int    // goroutines building histograms; 0 means GOMAXPROCS
	Seed    uint64 // seeds row and column sampling
}

// DefaultGBDT returns XGBoost-like defaults: 100 trees of depth 6 at rate
// 0.1.
func DefaultGBDT() GBDTConfig {
	return GBDTConfig{
		Trees:          100,
		LearningRate:   0.1,
		MaxDepth:       6,
		MaxLeaves:      64,
		MinSamplesLeaf: 1,
		MinHessian:     1,
		Lambda:         1,
		Subsample:      1,
		ColSample:      1,
		ScalePosWeight: 1,
		MaxBins:        255,
		BinSampleRows:  200_000,
		StopMetric:     StopAP,
	}
}

// FraudGBDT is DefaultGBDT as eval and train use it on fraud data: more,
// smaller steps, stopped early on Average Precision, the metric of rare
// positives.
func FraudGBDT() GBDTConfig {
	g := DefaultGBDT()
	g.Trees = 300
	g.LearningRate = 0.05
	g.EarlyStopping = 30
	g.StopMetric = StopAP
	return g
}

func (c *GBDTConfig) validate() error {
	switch {
	case c.Trees < 1:
		return occsimore.FieldErrorf("Trees", "must be at least 1")
	case !(c.LearningRate > 0):
		return occsimore.FieldErrorf("LearningRate", "must be positive")
	case c.MaxDepth < 0:
		return occsimore.FieldErrorf("MaxDepth", "must not be negative")
	case c.MaxLeaves < 2:
		return occsimore.FieldErrorf("MaxLeaves", "must be at least 2")
	case c.MinSamplesLeaf < 1:
		return occsimore.FieldErrorf("MinSamplesLeaf", "must be at least 1")
	case !(c.MinHessian >= 0):
		return occsimore.FieldErrorf("MinHessian", "must not be negative")
	case !(c.Lambda >= 0):
		return occsimore.FieldErrorf("Lambda", "must not be negative")
	case !(c.MinGain >= 0):
		return occsimore.FieldErrorf("MinGain", "must not be negative")
	case !(c.Subsample > 0 && c.Subsample <= 1):
		return occsimore.FieldErrorf("Subsample", "must be in (0, 1]")
	case !(c.ColSample > 0 && c.ColSample <= 1):
		return occsimore.FieldErrorf("ColSample", "must be in (0, 1]")
	case !(c.ScalePosWeight > 0) || math.IsInf(c.ScalePosWeight, 1):
		return occsimore.FieldErrorf("ScalePosWeight", "must be positive and finite")
	case c.MaxBins < 2 || c.MaxBins > 255:
		return occsimore.FieldErrorf("MaxBins", "must be in [2, 255]")
	case c.BinSampleRows < 1:
		return occsimore.FieldErrorf("BinSampleRows", "must be at least 1")
	case c.EarlyStopping < 0:
		return occsimore.FieldErrorf("EarlyStopping", "must not be negative")
	case c.StopMetric != StopAP && c.StopMetric != StopLogLoss:
		return occsimore.FieldErrorf("StopMetric", "unknown metric %d", c.StopMetric)
	case c.Threads < 0:
		return occsimore.FieldErrorf("Threads", "must not be negative")
	}
	return nil
}

// GBDT is a trained binary classifier: a sum of regression trees over the
// log-odds. It is safe for concurrent prediction.
type GBDT struct {
	nfeat int
	base  float64 // initial log-odds
	trees []tree
	flat  *flatForest // trees laid out for PredictBatch; nil if too deep
}

// NumFeatures returns the row length Predict expects.
func (m *GBDT) NumFeatures() int { return m.nfeat }

// NumTrees returns the number of trees kept (after early stopping).
func (m *GBDT) NumTrees() int { return len(m.trees) }

// PredictMargin returns the log-odds of row, which must hold NumFeatures
// values (NaN for missing).
func (m *GBDT) PredictMargin(row []float32) float64 {
	row = row[:m.nfeat]
	s := m.base
	for i := range m.trees {
		t := &m.trees[i]
		s += t.leaves[t.leafOf(row)]
	}
	return s
}

// Predict returns the probability that row is positive. It does not
// allocate.
func (m *GBDT) Predict(row []float32) float64 { return sigmoid(m.PredictMargin(row)) }

// PredictBatch writes the probability of every row of X to dst, growing it
// if needed, and returns it. It gives the same values as Predict row by row,
// faster: a large batch is split over GOMAXPROCS goroutines. It panics if
// X.Cols is not NumFeatures.
func (m *GBDT) PredictBatch(X Matrix, dst []float64) []float64 {
	if X.Cols != m.nfeat {
		panic(fmt.Sprintf("model: batch has %d features, model wants %d", X.Cols, m.nfeat))
	}
	dst = slices.Grow(dst[:0], X.Rows)[:X.Rows]
	// Up to GOMAXPROCS goroutines when there are at least predictChunk rows
	// and 2^16 row-trees per goroutine, so that small batches stay on the
	// caller's goroutine. They take blocks of rows as they go rather than
	// one fixed share each, so that a goroutine slowed by the scheduler or
	// the cache does not leave the others waiting for it.
	const predictChunk = 512
	workers := min(runtime.GOMAXPROCS(0), X.Rows/predictChunk, X.Rows*max(len(m.trees), 1)>>16)
	if workers <= 1 {
		m.predictRange(X, dst, 0, X.Rows)
		return dst
	}
	const block = 1024
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				lo := int(next.Add(block)) - block
				if lo >= X.Rows {
					return
				}
				m.predictRange(X, dst, lo, min(lo+block, X.Rows))
			}
		})
	}
	wg.Wait()
	return dst
}

// predictRange sets dst[lo:hi] to the probabilities of rows lo to hi of X.
func (m *GBDT) predictRange(X Matrix, dst []float64, lo, hi int) {
	for i := lo; i < hi; i++ {
		dst[i] = m.base
	}
	// A tile of rows goes through one tree at a time, so the tree's nodes
	// stay in cache for the whole tile and the tile's rows stay in cache for
	// all the trees.
	const tile = 64
	if m.flat != nil {
		var cur [tile]uint32
		for t0 := lo; t0 < hi; t0 += tile {
			t1 := min(t0+tile, hi)
			m.flat.predictTile(X, t0, dst[t0:t1], cur[:])
		}
	} else {
		// Trees too deep to lay out flat: within the tile, rows walk in
		// groups of 8 whose walks are independent, so the CPU overlaps
		// their memory loads.
		const group = 8
		var rows [group][]float32
		var cur [group]int32
		for t0 := lo; t0 < hi; t0 += tile {
			t1 := min(t0+tile, hi)
			for ti := range m.trees {
				t := &m.trees[ti]
				if len(t.nodes) == 0 {
					for i := t0; i < t1; i++ {
						dst[i] += t.leaves[0]
					}
					continue
				}
				for g0 := t0; g0 < t1; g0 += group {
					nb := min(group, t1-g0)
					for k := range nb {
						rows[k] = X.Row(g0 + k)
						cur[k] = 0
					}
					for active := nb; active > 0; {
						for k := range nb {
							if c := cur[k]; c >= 0 {
								c = t.step(c, rows[k])
								cur[k] = c
								if c < 0 {
									active--
								}
							}
						}
					}
					for k := range nb {
						dst[g0+k] += t.leaves[^cur[k]]
					}
				}
			}
		}
	}
	for i := lo; i < hi; i++ {
		dst[i] = sigmoid(dst[i])
	}
}

// FeatureImportance returns each feature's share of the total split gain, summing
// to 1 (all zeros if no tree splits).
func (m *GBDT) FeatureImportance() []float64 {
	imp := make([]float64, m.nfeat)
	var total float64
	for _, t := range m.trees {
		for i, n := range t.nodes {
			imp[n.feature] += t.gains[i]
			total += t.gains[i]
		}
	}
	if total > 0 {
		for i := range imp {
			imp[i] /= total
		}
	}
	return imp
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// TrainGBDT fits gradient-boosted trees with the logistic loss to the rows of
// X labelled y. valid serves early stopping only: with cfg.EarlyStopping > 0
// it is scored after every tree; otherwise it may be nil and is ignored.
// Cancelling ctx stops training between two trees with ctx's error.
func TrainGBDT(ctx context.Context, X Matrix, y []bool, valid *Dataset, cfg GBDTConfig) (*GBDT, error) {
	m, _, err := trainGBDT(ctx, X, y, valid, cfg)
	return m, err
}

// trainGBDT is TrainGBDT that also returns the training rows' margins after
// the last tree grown, which tests compare with the model's.
func trainGBDT(ctx context.Context, X Matrix, y []bool, valid *Dataset, cfg GBDTConfig) (*GBDT, []float64, error) {
	if err := cfg.validate(); err != nil {
		return nil, nil, fmt.Errorf("train gbdt: %w", err)
	}
	if err := X.valid("X"); err != nil {
		return nil, nil, fmt.Errorf("train gbdt: %w", err)
	}
	if X.Rows == 0 || X.Cols == 0 {
		return nil, nil, fmt.Errorf("train gbdt: %w", occsimore.FieldErrorf("X", "no rows or no features"))
	}
	if X.Rows > math.MaxInt32 {
		return nil, nil, fmt.Errorf("train gbdt: %w", occsimore.FieldErrorf("X", "more than 2^31 rows"))
	}
	if len(y) != X.Rows {
		return nil, nil, fmt.Errorf("train gbdt: %w", occsimore.FieldErrorf("y", "%d labels for %d rows", len(y), X.Rows))
	}
	if valid != nil {
		if err := valid.X.valid("valid.X"); err != nil {
			return nil, nil, fmt.Errorf("train gbdt: %w", err)
		}
		if valid.X.Cols != X.Cols || len(valid.Y) != valid.X.Rows {
			return nil, nil, fmt.Errorf("train gbdt: %w", occsimore.FieldErrorf("valid", "shape does not match the training set"))
		}
	}
	threads := cfg.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}

	var wpos, wneg float64
	w := make([]float64, X.Rows)
	for i, l := range y {
		if l {
			w[i] = cfg.ScalePosWeight
			wpos += w[i]
		} else {
			w[i] = 1
			wneg++
		}
	}
	if wpos == 0 || wneg == 0 {
		return nil, nil, fmt.Errorf("train gbdt: %w", occsimore.FieldErrorf("y", "labels hold a single class"))
	}

	bn := newBinner(X, cfg.MaxBins, cfg.BinSampleRows, threads)
	d := newBinned(X, &bn, threads)
	m := &GBDT{nfeat: X.Cols, base: math.Log(wpos / wneg)}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))

	F := make([]float64, X.Rows)
	for i := range F {
		F[i] = m.base
	}
	g := make([]float64, X.Rows)
	h := make([]float64, X.Rows)
	gr := newGrower(d, &cfg, threads)
	allCols := make([]int, d.cols)
	for i := range allCols {
		allCols[i] = i
	}
	var cols []int
	inSample := make([]bool, X.Rows)

	var es *stopper
	if valid != nil && cfg.EarlyStopping > 0 && valid.X.Rows > 0 {
		es = newStopper(valid, m.base, cfg.StopMetric, cfg.EarlyStopping)
	}

	for range cfg.Trees {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("train gbdt: %w", err)
		}
		parallel(X.Rows, threads, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				p := sigmoid(F[i])
				yi := 0.0
				if y[i] {
					yi = 1
				}
				g[i] = w[i] * (p - yi)
				h[i] = w[i] * max(p*(1-p), 1e-16)
			}
		})

		idx := gr.idx[:0]
		if cfg.Subsample < 1 {
			idx = sampleRows(rng, cfg.Subsample, inSample, idx)
		} else {
			for i := range X.Rows {
				idx = append(idx, int32(i))
			}
		}
		feats := allCols
		if cfg.ColSample < 1 {
			cols = sampleCols(rng, cfg.ColSample, d.column, cols[:0])
			feats = cols
		}

		t := gr.grow(idx, g, h, feats)
		// Sampled rows know their leaf from the partition; the others walk
		// the tree over their bins.
		for li, r := range gr.leafRanges {
			for _, row := range gr.idx[r[0]:r[1]] {
				F[row] += t.leaves[li]
			}
		}
		if cfg.Subsample < 1 {
			for i := range F {
				if !inSample[i] {
					F[i] += t.leaves[t.leafOfBinned(d, int32(i))]
				}
			}
		}
		m.trees = append(m.trees, t)

		if es != nil && es.add(&t) {
			break
		}
	}
	if es != nil {
		m.trees = m.trees[:es.best+1]
	}
	m.flat = newFlatForest(m.trees)
	return m, F, nil
}

// sampleRows draws each row with probability frac, setting inSample, and
// appends the rows drawn to idx in increasing order; if none is drawn, one
// row at random is, so that a tree always has rows to fit.
func sampleRows(rng *rand.Rand, frac float64, inSample []bool, idx []int32) []int32 {
	for i := range inSample {
		inSample[i] = rng.Float64() < frac
		if inSample[i] {
			idx = append(idx, int32(i))
		}
	}
	if len(idx) == 0 {
		r := rng.IntN(len(inSample))
		inSample[r] = true
		idx = append(idx, int32(r))
	}
	return idx
}

// sampleCols draws round(frac × features) of the features (at least one),
// where column maps each feature to its column or -1 if it is not live, and
// appends the columns of the live ones drawn to cols in increasing order.
// Sampling among all the features, as the model sees them, rather than the
// live ones keeps the draw independent of which features are constant.
func sampleCols(rng *rand.Rand, frac float64, column []int, cols []int) []int {
	k := max(1, int(math.Round(frac*float64(len(column)))))
	perm := rng.Perm(len(column))[:k]
	slices.Sort(perm)
	for _, f := range perm {
		if c := column[f]; c >= 0 {
			cols = append(cols, c)
		}
	}
	return cols
}

// stopper tracks the validation metric for early stopping.
type stopper struct {
	v        *Dataset
	margin   []float64
	metric   StopMetric
	patience int
	round    int
	best     int
	bestVal  float64
}

func newStopper(v *Dataset, base float64, metric StopMetric, patience int) *stopper {
	s := &stopper{v: v, margin: make([]float64, v.X.Rows), metric: metric, patience: patience, best: -1}
	for i := range s.margin {
		s.margin[i] = base
	}
	return s
}

// add scores tree t on the validation set and reports whether to stop.
func (s *stopper) add(t *tree) bool {
	for i := range s.margin {
		s.margin[i] += t.leaves[t.leafOf(s.v.X.Row(i))]
	}
	var val float64
	better := false
	switch s.metric {
	case StopAP:
		val = AveragePrecision(s.margin, s.v.Y)
		better = s.best < 0 || val > s.bestVal
	case StopLogLoss:
		val = logLoss(s.margin, s.v.Y)
		better = s.best < 0 || val < s.bestVal
	}
	if better {
		s.best, s.bestVal = s.round, val
	}
	s.round++
	return s.round-1-s.best >= s.patience
}

// logLoss is the mean negative log-likelihood of labels under log-odds
// margins, computed stably as log(1+e^-m) or log(1+e^m).
func logLoss(margin []float64, y []bool) float64 {
	var sum float64
	for i, m := range margin {
		if !y[i] {
			m = -m
		}
		sum += softplus(-m)
	}
	return sum / float64(len(margin))
}

func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}
