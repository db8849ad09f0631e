package model

import (
	"math"
	"slices"
	"sync"
)

// missingBin is the bin of NaN values in every feature; value bins are
// numbered from 0 and never reach it because maxBins is at most 255.
const missingBin = 255

// binner maps raw feature values to bins. Bin b of feature f holds the values
// v with cuts[f][b-1] < v <= cuts[f][b]; the last cut is +Inf.
type binner struct {
	cuts [][]float32
}

// newBinner computes up to maxBins quantile bins per feature from the rows of
// X, using at most sampleRows rows spread evenly over X, features spread over
// threads goroutines.
func newBinner(X Matrix, maxBins, sampleRows, threads int) binner {
	step := 1
	if X.Rows > sampleRows {
		step = (X.Rows + sampleRows - 1) / sampleRows
	}
	b := binner{cuts: make([][]float32, X.Cols)}
	parallel(X.Cols, threads, func(lo, hi int) {
		vals := make([]float32, 0, X.Rows/step+1)
		for f := lo; f < hi; f++ {
			vals = vals[:0]
			for i := 0; i < X.Rows; i += step {
				if v := X.Data[i*X.Cols+f]; !isNaN32(v) {
					vals = append(vals, v)
				}
			}
			b.cuts[f] = quantileCuts(vals, maxBins)
		}
	})
	return b
}

// parallel calls fn on up to threads contiguous chunks of [0, n) at once.
func parallel(n, threads int, fn func(lo, hi int)) {
	threads = max(1, min(threads, n))
	if threads == 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for t := range threads {
		wg.Go(func() { fn(t*n/threads, (t+1)*n/threads) })
	}
	wg.Wait()
}

// quantileCuts sorts vals and returns at most maxBins increasing upper bounds,
// the last being +Inf. With few distinct values every value gets its own bin,
// cut at the midpoint to the next one; otherwise cuts fall at equal-count
// quantiles.
func quantileCuts(vals []float32, maxBins int) []float32 {
	slices.Sort(vals)
	distinct := slices.Compact(slices.Clone(vals))
	inf := float32(math.Inf(1))
	if len(distinct) <= maxBins {
		cuts := make([]float32, 0, len(distinct)+1)
		for i := 0; i+1 < len(distinct); i++ {
			cuts = append(cuts, distinct[i]+(distinct[i+1]-distinct[i])/2)
		}
		return append(cuts, inf)
	}
	cuts := make([]float32, 0, maxBins)
	for q := 1; q < maxBins; q++ {
		v := vals[q*len(vals)/maxBins]
		if len(cuts) == 0 || v > cuts[len(cuts)-1] {
			// Keep the cut strictly below the largest value so the top bin
			// is never empty.
			if v < vals[len(vals)-1] {
				cuts = append(cuts, v)
			}
		}
	}
	return append(cuts, inf)
}

func isNaN32(v float32) bool { return v != v }

// bin returns the bin of value v for feature f.
func (b *binner) bin(f int, v float32) uint8 {
	if isNaN32(v) {
		return missingBin
	}
	c := b.cuts[f]
	// The first cut >= v; the last cut is +Inf, so i < len(c).
	i, _ := slices.BinarySearch(c, v)
	return uint8(i)
}

// binned is a training matrix as bins, stored row by row: a histogram pass
// reads each of its rows' bins as one contiguous run, so deep leaves, whose
// rows are scattered, cost one or two cache misses per row rather than one
// per feature.
type binned struct {
	rows, cols int
	nbins      []int       // value bins per feature
	bins       []uint8     // row i's bins at bins[i*cols : (i+1)*cols]
	cuts       [][]float32 // the binner's cuts, to turn a bin split into a threshold
}

// A histogram has 256 slots per feature, feature f at f*256, the missing bin
// at slot 255: a bin indexes its slot directly, with no remapping in the
// hot loop.
const histWidth = 256

func newBinned(X Matrix, b *binner, threads int) *binned {
	d := &binned{rows: X.Rows, cols: X.Cols, cuts: b.cuts, nbins: make([]int, X.Cols), bins: make([]uint8, X.Rows*X.Cols)}
	for f := range X.Cols {
		d.nbins[f] = len(b.cuts[f])
	}
	parallel(X.Rows, threads, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := X.Data[i*X.Cols : (i+1)*X.Cols]
			out := d.bins[i*X.Cols : (i+1)*X.Cols]
			for f, v := range row {
				out[f] = b.bin(f, v)
			}
		}
	})
	return d
}

// bin returns the bin of feature f in row r.
func (d *binned) bin(r int32, f int) uint8 { return d.bins[int(r)*d.cols+f] }

func (d *binned) histLen() int { return d.cols * histWidth }

// histBin sums gradients, hessians and row counts of the rows in one bin.
type histBin struct {
	g, h float64
	n    int
}

// buildHist fills hist (length d.histLen()) for the rows in idx whose gradients
// gs and hessians hs are given in the same order as idx. Only the features in
// feats, which are increasing, are filled. The features are split into up to
// threads contiguous groups, one goroutine each, that all walk the rows in
// order; so every bin is summed by one goroutine in row order and the result
// does not depend on the thread count.
func (d *binned) buildHist(hist []histBin, idx []int32, gs, hs []float64, feats []int, threads int) {
	all := len(feats) == d.cols
	group := func(fs []int) {
		for _, f := range fs {
			clear(hist[f*histWidth : (f+1)*histWidth])
		}
		gs, hs := gs[:len(idx)], hs[:len(idx)] // lets the compiler drop bounds checks
		cols := d.cols
		if all {
			lo, hi := fs[0], fs[len(fs)-1]+1
			h := hist[lo*histWidth : hi*histWidth]
			for i, r := range idx {
				g, hh := gs[i], hs[i]
				row := d.bins[int(r)*cols+lo : int(r)*cols+hi]
				for k, b := range row {
					e := &h[k*histWidth+int(b)]
					e.g += g
					e.h += hh
					e.n++
				}
			}
			return
		}
		for i, r := range idx {
			g, hh := gs[i], hs[i]
			row := d.bins[int(r)*cols : (int(r)+1)*cols]
			for _, f := range fs {
				e := &hist[f*histWidth+int(row[f])]
				e.g += g
				e.h += hh
				e.n++
			}
		}
	}
	// Small nodes are not worth a goroutine.
	if threads <= 1 || len(idx)*len(feats) < 1<<15 {
		group(feats)
		return
	}
	threads = min(threads, len(feats))
	var wg sync.WaitGroup
	for t := range threads {
		fs := feats[t*len(feats)/threads : (t+1)*len(feats)/threads]
		wg.Go(func() { group(fs) })
	}
	wg.Wait()
}

// subtractHist sets dst = parent - sibling over the features in feats.
func (d *binned) subtractHist(dst, parent, sibling []histBin, feats []int) {
	for _, f := range feats {
		for i := f * histWidth; i < (f+1)*histWidth; i++ {
			dst[i] = histBin{g: parent[i].g - sibling[i].g, h: parent[i].h - sibling[i].h, n: parent[i].n - sibling[i].n}
		}
	}
}

// binCut returns the raw-value threshold of "bin <= b" for feature f.
func binCut(d *binned, f int, b uint8) float32 { return d.cuts[f][b] }
