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
//
// It holds only the live features, as columns: a feature whose value is the
// same in every row (all missing, typically, in fraud features computed for
// contexts a row lacks) puts every row in one bin, so no split on it can leave
// a row on both sides and it can never split; leaving it out changes no
// model and saves its share of every histogram pass.
type binned struct {
	rows, cols int
	feature    []int       // feature of each column
	column     []int       // column of each feature, -1 if not live
	nbins      []int       // value bins per column
	bins       []uint8     // row i's bins at bins[i*cols : (i+1)*cols]
	cuts       [][]float32 // the binner's cuts per column, to turn a bin split into a threshold
}

// A histogram has 256 slots per column, column c at c*256, the missing bin
// at slot 255: a bin indexes its slot directly, with no remapping in the
// hot loop.
const histWidth = 256

func newBinned(X Matrix, b *binner, threads int) *binned {
	d := &binned{rows: X.Rows, column: make([]int, X.Cols)}
	for f, live := range liveFeatures(X, threads) {
		d.column[f] = -1
		if live {
			d.column[f] = len(d.feature)
			d.feature = append(d.feature, f)
			d.nbins = append(d.nbins, len(b.cuts[f]))
			d.cuts = append(d.cuts, b.cuts[f])
		}
	}
	d.cols = len(d.feature)
	d.bins = make([]uint8, X.Rows*d.cols)
	parallel(X.Rows, threads, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := X.Data[i*X.Cols : (i+1)*X.Cols]
			out := d.bins[i*d.cols : (i+1)*d.cols]
			for c, f := range d.feature {
				out[c] = b.bin(f, row[f])
			}
		}
	})
	return d
}

// liveFeatures reports, for each feature, whether two rows of X differ in it
// (NaN counting as one value).
func liveFeatures(X Matrix, threads int) []bool {
	live := make([]bool, X.Cols)
	if X.Rows == 0 {
		return live
	}
	first := X.Row(0)
	var mu sync.Mutex
	parallel(X.Rows, threads, func(lo, hi int) {
		seen := make([]bool, X.Cols)
		for i := lo; i < hi; i++ {
			for f, v := range X.Row(i) {
				if v != first[f] && !(isNaN32(v) && isNaN32(first[f])) {
					seen[f] = true
				}
			}
		}
		mu.Lock()
		for f, s := range seen {
			live[f] = live[f] || s
		}
		mu.Unlock()
	})
	return live
}

// bin returns the bin of column c in row r.
func (d *binned) bin(r int32, c int) uint8 { return d.bins[int(r)*d.cols+c] }

func (d *binned) histLen() int { return d.cols * histWidth }

// histBin sums gradients, hessians and row counts of the rows in one bin.
type histBin struct {
	g, h float64
	n    int
}

// histFeats fills hist over the features fs, which are increasing, from the
// rows idx whose gradients gs and hessians hs are given in the same order as
// idx. With run set, fs is a run of consecutive features. Every bin is summed
// in row order, so the result does not depend on how the features are split
// into groups, nor on which goroutine fills which group.
func (d *binned) histFeats(hist []histBin, idx []int32, gs, hs []float64, fs []int, run bool) {
	for _, f := range fs {
		clear(hist[f*histWidth : (f+1)*histWidth])
	}
	gs, hs = gs[:len(idx)], hs[:len(idx)] // lets the compiler drop bounds checks
	cols := d.cols
	if run {
		lo, hi := fs[0], fs[len(fs)-1]+1
		h := hist[lo*histWidth : hi*histWidth]
		for i, r := range idx {
			g, hh := gs[i], hs[i]
			row := d.bins[int(r)*cols+lo : int(r)*cols+hi]
			off := 0
			for _, b := range row {
				e := &h[off+int(b)]
				e.g += g
				e.h += hh
				e.n++
				off += histWidth
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

// subtractHist sets dst = dst - sibling over the features in fs: a parent's
// histogram becomes its larger child's.
func subtractHist(dst, sibling []histBin, fs []int) {
	for _, f := range fs {
		dst, sib := dst[f*histWidth:(f+1)*histWidth], sibling[f*histWidth:(f+1)*histWidth]
		for i := range dst {
			dst[i] = histBin{g: dst[i].g - sib[i].g, h: dst[i].h - sib[i].h, n: dst[i].n - sib[i].n}
		}
	}
}

// partition reorders rows, left rows first, each side in its original order,
// and returns the number of left rows; scratch holds at least len(rows). A
// large leaf is split into chunks partitioned by threads goroutines: each
// writes its left rows to the front of its part of scratch and its right rows
// to the back, in reverse; the parts are then put together in order, so the
// result is the serial one.
func (d *binned) partition(rows, scratch []int32, f int, s *split, threads int) int {
	if threads <= 1 || len(rows) < 1<<15 {
		nl := 0
		rest := scratch[:0]
		for _, r := range rows {
			if goesLeft(d.bin(r, f), s) {
				rows[nl] = r
				nl++
			} else {
				rest = append(rest, r)
			}
		}
		copy(rows[nl:], rest)
		return nl
	}
	scratch = scratch[:len(rows)]
	lefts := make([]int, threads)
	var wg sync.WaitGroup
	for t := range threads {
		lo, hi := t*len(rows)/threads, (t+1)*len(rows)/threads
		wg.Go(func() {
			front, back := lo, hi
			for _, r := range rows[lo:hi] {
				if goesLeft(d.bin(r, f), s) {
					scratch[front] = r
					front++
				} else {
					back--
					scratch[back] = r
				}
			}
			lefts[t] = front - lo
		})
	}
	wg.Wait()
	nl := 0
	for t := range threads {
		lo := t * len(rows) / threads
		nl += copy(rows[nl:], scratch[lo:lo+lefts[t]])
	}
	at := nl
	for t := range threads {
		lo, hi := t*len(rows)/threads, (t+1)*len(rows)/threads
		for i := hi - 1; i >= lo+lefts[t]; i-- {
			rows[at] = scratch[i]
			at++
		}
	}
	return nl
}

// goesLeft reports whether bin bn of the split's feature sends its row left.
func goesLeft(bn uint8, s *split) bool {
	return bn <= s.bin && bn != missingBin || bn == missingBin && s.defaultLeft
}

// binCut returns the raw-value threshold of "bin <= b" for column c.
func binCut(d *binned, c int, b uint8) float32 { return d.cuts[c][b] }
