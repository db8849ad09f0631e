package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPartitionParallel: the parallel partition of a large leaf gives the
// serial one's order exactly, left rows first, each side in row order.
func TestPartitionParallel(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 7))
	const rows, cols = 100_000, 3
	X := Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
	for i := range X.Data {
		X.Data[i] = float32(r.NormFloat64())
		if r.IntN(20) == 0 {
			X.Data[i] = float32(math.NaN())
		}
	}
	b := newBinner(X, 255, rows, 1)
	d := newBinned(X, &b, 1)
	for _, s := range []split{{feature: 1, bin: 100}, {feature: 2, bin: 10, defaultLeft: true}, {feature: 0, bin: 254}} {
		idx := make([]int32, 0, rows)
		for i := range rows {
			if r.IntN(3) > 0 { // a leaf's rows: increasing, with gaps
				idx = append(idx, int32(i))
			}
		}
		scratch := make([]int32, len(idx))
		a, b := slices.Clone(idx), slices.Clone(idx)
		na, nb := d.partition(a, scratch, s.feature, &s, 1), d.partition(b, scratch, s.feature, &s, 3)
		if na != nb || !slices.Equal(a, b) {
			t.Fatalf("split %+v: parallel partition (%d left) differs from serial (%d left)", s, nb, na)
		}
		if na == 0 || na == len(idx) {
			t.Fatalf("split %+v sends every row one way: the test proves nothing", s)
		}
	}
}
