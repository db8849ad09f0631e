package behavior

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFastMath(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for range 100000 {
		x := -50 * r.Float64()
		if got, want := fastExp(x), math.Exp(x); math.Abs(got-want) > 1e-8*want {
			t.Fatalf("fastExp(%g) = %g, want %g", x, got, want)
		}
		y := math.Exp(r.Float64()*100 - 50)
		if got, want := fastLog(y), math.Log(y); math.Abs(got-want) > 1e-8*math.Max(1, math.Abs(want)) {
			t.Fatalf("fastLog(%g) = %g, want %g", y, got, want)
		}
	}
	for _, x := range []float64{0, -1, math.Inf(1), math.NaN(), 5e-324, 1} {
		if got, want := fastLog(x), math.Log(x); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("fastLog(%g) = %g, want %g", x, got, want)
		}
	}
	for _, x := range []float64{0, 701, -701, math.Inf(-1)} {
		if got, want := fastExp(x), math.Exp(x); math.Abs(got-want) > 1e-300 && !(x > 700 && math.IsInf(got, 1)) {
			t.Errorf("fastExp(%g) = %g, want %g", x, got, want)
		}
	}
	if got := fastExp(math.NaN()); !math.IsNaN(got) {
		t.Errorf("fastExp(NaN) = %g", got)
	}
	for _, x := range []float64{0, 1e-4, 1e-3, 0.5, 19, 21} {
		if got, want := decay(x), math.Exp(-x); math.Abs(got-want) > 1e-8 {
			t.Errorf("decay(%g) = %g, want %g", x, got, want)
		}
	}
}
