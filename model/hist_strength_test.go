package model

import (
	"math"
	"slices"
	"testing"
)

// Binning at its edges (issue 13).

// TestBinnerSamplesRows: cuts are placed from at most BinSampleRows rows
// spread evenly over the matrix, every step-th row from the first.
func TestBinnerSamplesRows(t *testing.T) {
	for _, tc := range []struct {
		rows, sample int
		want         []float32 // the first cuts
		n            int       // cuts, +Inf included
	}{
		{100, 100, []float32{0.5, 1.5}, 100},  // every row: one bin per value
		{1000, 100, []float32{5, 15}, 100},    // every 10th row: 0, 10, 20...
		{1001, 100, []float32{5.5, 16.5}, 91}, // every 11th: 0, 11, ..., 990
		{199, 100, []float32{1, 3}, 100},      // every 2nd: 0, 2, ..., 198
	} {
		X := NewMatrix(tc.rows, 1)
		for i := range X.Data {
			X.Data[i] = float32(i)
		}
		cuts := newBinner(X, 255, tc.sample, 2).cuts[0]
		if len(cuts) != tc.n || cuts[0] != tc.want[0] || cuts[1] != tc.want[1] || !math.IsInf(float64(cuts[len(cuts)-1]), 1) {
			t.Errorf("%d rows, %d sampled: %d cuts %v..., want %d starting %v", tc.rows, tc.sample, len(cuts), cuts[:min(3, len(cuts))], tc.n, tc.want)
		}
	}
}

// TestQuantileCutsEdges: maxBins distinct values still get a bin each; one
// more switches to quantiles, and a heavy top value keeps its own bin.
func TestQuantileCutsEdges(t *testing.T) {
	vals := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(n - i) // unsorted
		}
		return v
	}
	cuts := quantileCuts(vals(8), 8)
	want := []float32{1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, float32(math.Inf(1))}
	if !slices.Equal(cuts, want) {
		t.Errorf("8 values, 8 bins: cuts %v, want %v", cuts, want)
	}
	cuts = quantileCuts(vals(9), 8)
	// Quantiles of 1..9 at q·9/8: values 2, 3, ..., 8, then +Inf.
	want = []float32{2, 3, 4, 5, 6, 7, 8, float32(math.Inf(1))}
	if !slices.Equal(cuts, want) {
		t.Errorf("9 values, 8 bins: cuts %v, want %v", cuts, want)
	}
	// 20 small values and 80 copies of 100: the quantiles past the 20th
	// are all 100, the largest, which must not be cut (its bin would be
	// empty above it).
	heavy := make([]float32, 0, 100)
	for i := range 20 {
		heavy = append(heavy, float32(i))
	}
	for range 80 {
		heavy = append(heavy, 100)
	}
	cuts = quantileCuts(heavy, 10)
	want = []float32{10, float32(math.Inf(1))}
	if !slices.Equal(cuts, want) {
		t.Errorf("heavy top: cuts %v, want %v", cuts, want)
	}
	b := binner{cuts: [][]float32{cuts}}
	if b.bin(0, 10) != 0 || b.bin(0, 10.5) != 1 || b.bin(0, 100) != 1 || b.bin(0, float32(math.Inf(-1))) != 0 {
		t.Errorf("bins of 10, 10.5, 100, -Inf: %d %d %d %d", b.bin(0, 10), b.bin(0, 10.5), b.bin(0, 100), b.bin(0, float32(math.Inf(-1))))
	}
}

// TestQuantileCutsSkipRepeats: a value repeated across several quantiles
// is cut once: cuts strictly increase, so no bin is empty.
func TestQuantileCutsSkipRepeats(t *testing.T) {
	vals := make([]float32, 0, 100)
	for range 60 {
		vals = append(vals, 0)
	}
	for i := range 40 {
		vals = append(vals, float32(i+1))
	}
	cuts := quantileCuts(vals, 4) // values at 25, 50, 75: 0, 0, 16
	want := []float32{0, 16, float32(math.Inf(1))}
	if !slices.Equal(cuts, want) {
		t.Errorf("cuts %v, want %v", cuts, want)
	}
}

// TestBinnedLiveColumns: only features that differ between rows become
// columns; the others map to -1.
func TestBinnedLiveColumns(t *testing.T) {
	nan := float32(math.NaN())
	X := NewMatrix(3, 5)
	copy(X.Data, []float32{
		1, 7, nan, 0, nan,
		2, 7, nan, 1, 5,
		3, 7, nan, 0, nan,
	})
	bn := newBinner(X, 255, 100, 1)
	for _, threads := range []int{1, 3} {
		d := newBinned(X, &bn, threads)
		if d.cols != 3 || !slices.Equal(d.column, []int{0, -1, -1, 1, 2}) || !slices.Equal(d.feature, []int{0, 3, 4}) {
			t.Errorf("threads %d: %d columns, column %v, feature %v", threads, d.cols, d.column, d.feature)
		}
		if d.bin(2, 2) != missingBin || d.bin(1, 2) == missingBin || d.bin(0, 0) == d.bin(2, 0) {
			t.Errorf("threads %d: bins of row 2, feature 4: %d; row 1: %d", threads, d.bin(2, 2), d.bin(1, 2))
		}
	}
}
