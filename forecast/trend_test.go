package forecast

import "testing"

func TestTheilSen(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		y    []float64
		want Line
	}{
		{"empty", nil, Line{}},
		{"one point", []float64{4}, Line{Slope: 0, Intercept: 4}},
		{"line", []float64{2, 5, 8, 11}, Line{Slope: 3, Intercept: 2}},
		// Pairwise slopes: six of 1, then 25, 33, 49, 97: the median is 1,
		// and the residuals y−x are 0 0 0 0 96, so the intercept is 0.
		{"outlier", []float64{0, 1, 2, 3, 100}, Line{Slope: 1, Intercept: 0}},
		// Slopes −1, 1, 0 → median 0; intercept median(3, 2, 3) = 3.
		{"even", []float64{3, 2, 3}, Line{Slope: 0, Intercept: 3}},
	} {
		if got := TheilSen(c.y); got != c.want {
			t.Errorf("%s: TheilSen(%v) = %+v, want %+v", c.name, c.y, got, c.want)
		}
	}
	if got, want := (Line{Slope: 2, Intercept: 1}).At(3), 7.0; got != want {
		t.Fatalf("At(3) = %v, want %v", got, want)
	}
}
