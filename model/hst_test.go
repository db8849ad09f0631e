package model

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/occsimore/occsimore"
)

// gaussPoint fills x with a point near the centre of the unit cube, or far
// away in a corner if outlier.
func gaussPoint(r *rand.Rand, x []float32, outlier bool) {
	for j := range x {
		if outlier {
			// Far corner: 0.9 to 1 in every dimension, beyond 8σ.
			x[j] = 0.9 + 0.1*r.Float32()
		} else {
			x[j] = float32(0.4 + 0.05*r.NormFloat64())
		}
	}
}

func TestHSTFindsOutliers(t *testing.T) {
	t.Parallel()
	const dims = 4
	cfg := DefaultHST(dims)
	cfg.Height = 10
	cfg.Seed = 3
	m, err := NewHST(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, dims)
	if m.Ready() {
		t.Fatal("Ready before the first window")
	}
	for range 2 * cfg.Window {
		gaussPoint(r, x, false)
		m.Update(x)
	}
	if !m.Ready() {
		t.Fatal("not Ready after two windows")
	}
	var scores []float64
	var labels []bool
	for i := range 20000 {
		out := i%100 == 50 // 1% outliers
		gaussPoint(r, x, out)
		s := m.Score(x)
		if s < 0 || s > 1 {
			t.Fatalf("score %v outside [0, 1]", s)
		}
		scores = append(scores, s)
		labels = append(labels, out)
		m.Update(x)
	}
	auc := ROCAUC(scores, labels)
	t.Logf("AUC %.4f", auc)
	if got := auc; !(got > 0.95) {
		t.Fatalf("AUC of outliers vs normal points = %v, want > 0.95", got)
	}
	// Outliers should sit in the top percentile: at least 90% of them
	// score above the 99th percentile of normal points.
	var normal []float64
	for i, s := range scores {
		if !labels[i] {
			normal = append(normal, s)
		}
	}
	thr := quantile(normal, 0.99)
	var above, total int
	for i, s := range scores {
		if labels[i] {
			total++
			if s > thr {
				above++
			}
		}
	}
	if frac := float64(above) / float64(total); frac < 0.9 {
		t.Fatalf("%d of %d outliers above the normal points' 99th percentile %v, want 90%%", above, total, thr)
	}
}

func quantile(v []float64, q float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func TestHSTDeterministicAndAllocFree(t *testing.T) {
	cfg := HSTConfig{Dims: 3, Trees: 10, Height: 8, Window: 50, Seed: 9,
		Min: []float32{-10, -10, -10}, Max: []float32{10, 10, 10}}
	a, err := NewHST(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewHST(cfg)
	r := rand.New(rand.NewPCG(4, 4))
	x := make([]float32, 3)
	for range 500 {
		for j := range x {
			x[j] = float32(r.NormFloat64())
		}
		if sa, sb := a.Score(x), b.Score(x); sa != sb {
			t.Fatalf("same seed, scores %v and %v", sa, sb)
		}
		a.Update(x)
		b.Update(x)
	}
	if got := testing.AllocsPerRun(100, func() { a.Update(x) }); got != 0 {
		t.Fatalf("Update allocates %v times, want 0", got)
	}
	var sink float64
	if got := testing.AllocsPerRun(100, func() { sink += a.Score(x) }); got != 0 {
		t.Fatalf("Score allocates %v times, want 0", got)
	}
	_ = sink
}

func TestHSTRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []HSTConfig{
		{Dims: 0, Trees: 1, Height: 2, Window: 10},
		{Dims: 2, Trees: 1, Height: 2, Window: 10, Min: []float32{0}, Max: []float32{1}},
		{Dims: 1, Trees: 1, Height: 2, Window: 10, Min: []float32{1}, Max: []float32{1}},
		{Dims: 1, Trees: 1, Height: 40, Window: 10},
	} {
		if _, err := NewHST(c); occsimore.ErrorCode(err) != occsimore.EINVALID {
			t.Errorf("NewHST(%+v): err = %v, want EINVALID", c, err)
		}
	}
}

func TestHSTWindowsByHand(t *testing.T) {
	t.Parallel()
	// One tree of height 1 over one dimension: the root splits at some
	// p in (0, 1), so 0 falls left and 1 right. With Window 4 the largest
	// score sum is 1·4·2^1 = 8. A point whose leaf holds all 4 reference
	// points scores 1 − 4·2/8 = 0; an empty leaf scores 1.
	m, err := NewHST(HSTConfig{Dims: 1, Trees: 1, Height: 1, Window: 4, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	zero, one := []float32{0}, []float32{1}
	feed := func(xs ...[]float32) {
		for _, x := range xs {
			m.Update(x)
		}
	}
	check := func(step string, x []float32, want float64) {
		t.Helper()
		if got := m.Score(x); !near(got, want) {
			t.Fatalf("%s: Score(%v) = %v, want %v", step, x, got, want)
		}
	}
	feed(zero, zero, zero)
	check("first window unfinished", zero, 1)
	feed(zero)
	check("after window 1 of zeros", zero, 0)
	check("after window 1 of zeros", one, 1)
	feed(one, one, one, one)
	check("after window 2 of ones", zero, 1)
	check("after window 2 of ones", one, 0)
	feed(zero, one, zero)
	check("window 3 unfinished keeps window 2", one, 0)
	feed(one)
	// Two points in each leaf: 1 − 2·2/8.
	check("after mixed window 3", zero, 0.5)
	check("after mixed window 3", one, 0.5)
	feed(one, one, one, one)
	// The left leaf was not touched in window 4: its mass must read 0, not
	// the 2 it counted in window 3.
	check("after window 4 of ones", zero, 1)
	check("after window 4 of ones", one, 0)
}
