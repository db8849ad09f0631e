package forecast

import (
	"math"
	"testing"

	"github.com/occsimore/occsimore"
)

// Tests that close gaps mutation testing found (issue 13): each asserts a
// behaviour that a plausible slip in the code would change.

// TestParamsBounds: each parameter is checked in [0, 1], both ends
// included, and Gamma only by the seasonal model, which uses it.
func TestParamsBounds(t *testing.T) {
	seasonal := []float64{1, 3, 2, 4, 4, 5} // two seasons of period 2
	holt := []float64{1, 3, 4, 7}
	for _, c := range []struct {
		y      []float64
		period int
		p      Params
		field  string // "" if accepted
	}{
		{seasonal, 2, Params{Alpha: 0, Beta: 0, Gamma: 0}, ""},
		{seasonal, 2, Params{Alpha: 1, Beta: 1, Gamma: 1}, ""},
		{seasonal, 2, Params{Alpha: -1e-9, Beta: 0.5, Gamma: 0.5}, "alpha"},
		{seasonal, 2, Params{Alpha: 1 + 1e-9, Beta: 0.5, Gamma: 0.5}, "alpha"},
		{seasonal, 2, Params{Alpha: 0.5, Beta: -1e-9, Gamma: 0.5}, "beta"},
		{seasonal, 2, Params{Alpha: 0.5, Beta: 1 + 1e-9, Gamma: 0.5}, "beta"},
		{seasonal, 2, Params{Alpha: 0.5, Beta: 0.5, Gamma: -1e-9}, "gamma"},
		{seasonal, 2, Params{Alpha: 0.5, Beta: 0.5, Gamma: 1 + 1e-9}, "gamma"},
		{seasonal, 2, Params{Alpha: 0.5, Beta: 0.5, Gamma: math.NaN()}, "gamma"},
		{seasonal, 2, Params{Alpha: math.NaN(), Beta: 0.5, Gamma: 0.5}, "alpha"},
		// Holt's method has no season: its Gamma is ignored, and reported 0.
		{holt, 0, Params{Alpha: 0.5, Beta: 0.5, Gamma: 7}, ""},
		{holt, 0, Params{Alpha: 0.5, Beta: 2}, "beta"},
	} {
		m, err := FitParams(c.y, c.period, c.p)
		if got := occsimore.ErrorField(err); got != c.field {
			t.Errorf("FitParams(%v, %d, %+v) = %v, want an error about %q", c.y, c.period, c.p, err, c.field)
			continue
		}
		if c.field != "" {
			if occsimore.ErrorCode(err) != occsimore.EINVALID {
				t.Errorf("%+v: error %v is not EINVALID", c.p, err)
			}
			continue
		}
		if m.Method == MethodHolt && m.Params.Gamma != 0 {
			t.Errorf("Holt model reports gamma %v", m.Params.Gamma)
		}
		if m.Method == MethodHoltWinters && m.Params != c.p {
			t.Errorf("model params %+v, want %+v", m.Params, c.p)
		}
	}
	// FitFrom validates the same way, with the method its period implies.
	s := State{Season: []float64{0, 0}}
	if _, err := FitFrom(seasonal, 2, Params{Alpha: 0.5, Beta: 0.5, Gamma: 1.5}, 2, s); occsimore.ErrorField(err) != "gamma" {
		t.Errorf("FitFrom seasonal with gamma 1.5: %v, want an error about gamma", err)
	}
	if _, err := FitFrom(holt, 0, Params{Alpha: 0.5, Beta: 0.5, Gamma: 1.5}, 2, State{}); err != nil {
		t.Errorf("FitFrom without season, gamma 1.5: %v", err)
	}
}

// TestGammaOneTakesLastSeason: with γ = 1 a seasonal component becomes the
// last deviation from the level, and with γ = 0 it never moves.
func TestGammaOneTakesLastSeason(t *testing.T) {
	y := []float64{1, 3, 2, 4, 4, 5}
	init := initialSeasonal(y, 2)
	still, err := FitParams(y, 2, Params{Alpha: 0.5, Beta: 0.5, Gamma: 0})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range still.State.Season {
		if v != init.Season[k] {
			t.Errorf("γ=0: season[%d] moved from %v to %v", k, init.Season[k], v)
		}
	}
	m, err := FitParams(y, 2, Params{Alpha: 0.5, Beta: 0.5, Gamma: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The last observation, y[5] (k = 1), left s₁ = y[5] − ℓ.
	if got, want := m.State.Season[1], y[5]-m.State.Level; got != want {
		t.Errorf("γ=1: season[1] = %v, want y − ℓ = %v", got, want)
	}
}

// TestForecastHorizon: a zero horizon is a valid, empty forecast; a negative
// one is an error about the horizon.
func TestForecastHorizon(t *testing.T) {
	m, err := Fit([]float64{1, 2, 3, 4, 5}, 0)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := m.Forecast(0, 0.95)
	if err != nil || len(fc) != 0 {
		t.Errorf("Forecast(0) = %v, %v, want no interval and no error", fc, err)
	}
	fc, err = m.Forecast(1, 0.95)
	if err != nil || len(fc) != 1 {
		t.Errorf("Forecast(1) = %v, %v, want one interval", fc, err)
	}
	if _, err := m.Forecast(-1, 0.95); occsimore.ErrorField(err) != "horizon" {
		t.Errorf("Forecast(-1) = %v, want an error about horizon", err)
	}
	for _, c := range []float64{0, 1, -0.5, 1.5} {
		if _, err := m.Forecast(1, c); occsimore.ErrorField(err) != "coverage" {
			t.Errorf("Forecast(1, %v) = %v, want an error about coverage", c, err)
		}
	}
}

// TestFitFromStart: the state may be given anywhere from before the first
// observation to after the last, and nowhere else; it must be finite.
func TestFitFromStart(t *testing.T) {
	y := []float64{1, 3, 4, 7}
	p := Params{Alpha: 0.5, Beta: 0.5}
	for _, start := range []int{0, 4} {
		m, err := FitFrom(y, 0, p, start, State{Level: 3, Trend: 2})
		if err != nil {
			t.Fatalf("FitFrom start %d: %v", start, err)
		}
		if got, want := len(m.Fitted), len(y)-start; got != want {
			t.Errorf("FitFrom start %d: %d fitted, want %d", start, got, want)
		}
	}
	for _, start := range []int{-1, 5} {
		if _, err := FitFrom(y, 0, p, start, State{}); occsimore.ErrorField(err) != "start" {
			t.Errorf("FitFrom start %d: %v, want an error about start", start, err)
		}
	}
	// From the state FitParams starts from, FitFrom gives the same model.
	a, err := FitParams(y, 0, p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := FitFrom(y, 1, p, 2, State{Level: 3, Trend: 2}) // period 1: no season
	if err != nil {
		t.Fatal(err)
	}
	if a.SSE != b.SSE || a.State.Level != b.State.Level || a.State.Trend != b.State.Trend || b.Period != 0 {
		t.Errorf("FitFrom = %+v, want %+v", b, a)
	}
	for _, s := range []State{{Level: math.Inf(1)}, {Trend: math.NaN()}} {
		if _, err := FitFrom(y, 0, p, 2, s); occsimore.ErrorField(err) != "state" {
			t.Errorf("FitFrom state %+v: %v, want an error about state", s, err)
		}
	}
	if _, err := FitFrom(y, 2, Params{Alpha: 0.5, Beta: 0.5, Gamma: 0.5}, 2, State{Season: []float64{0, math.NaN()}}); occsimore.ErrorField(err) != "state" {
		t.Errorf("FitFrom with a NaN season: %v, want an error about state", err)
	}
	if _, err := FitFrom([]float64{1, math.NaN()}, 0, p, 0, State{}); occsimore.ErrorCode(err) != occsimore.EINVALID {
		t.Errorf("FitFrom over NaN: %v, want EINVALID", err)
	}
}

// TestValueBound: values up to 1e100 in magnitude are accepted, beyond it
// refused.
func TestValueBound(t *testing.T) {
	for _, v := range []float64{1e100, -1e100} {
		if _, err := Fit([]float64{1, 2, v, 4}, 0); err != nil {
			t.Errorf("value %v: %v", v, err)
		}
	}
	for _, v := range []float64{math.Nextafter(1e100, math.Inf(1)), math.Nextafter(-1e100, math.Inf(-1))} {
		if _, err := Fit([]float64{1, 2, v, 4}, 0); occsimore.ErrorCode(err) != occsimore.EINVALID {
			t.Errorf("value %v: err = %v, want EINVALID", v, err)
		}
	}
}

// TestNoErrorsNoVariance: a model run from a state after the last
// observation has no one-step error: its variance is zero, not NaN, and it
// forecasts a point.
func TestNoErrorsNoVariance(t *testing.T) {
	m, err := FitFrom([]float64{1, 3, 4, 7}, 0, Params{Alpha: 0.5, Beta: 0.5}, 4, State{Level: 7, Trend: 2})
	if err != nil {
		t.Fatal(err)
	}
	if m.SSE != 0 || m.Sigma2 != 0 || len(m.Fitted) != 0 {
		t.Fatalf("SSE %v, σ² %v, %d fitted; want 0, 0, 0", m.SSE, m.Sigma2, len(m.Fitted))
	}
	fc, err := m.Forecast(2, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	if fc[1] != (Interval{Mean: 11, Lower: 11, Upper: 11}) {
		t.Errorf("forecast +2 = %+v, want 11 exactly", fc[1])
	}
}

// TestLogisticLogit: the optimiser's change of variable maps the real line
// onto [paramLo, paramHi], 0 to the middle, and logit inverts it.
func TestLogisticLogit(t *testing.T) {
	if got := logistic(0); math.Abs(got-0.5) > 1e-15 {
		t.Errorf("logistic(0) = %v, want 0.5", got)
	}
	if lo, hi := logistic(-800), logistic(800); lo != paramLo || hi != paramHi {
		t.Errorf("logistic(∓800) = %v, %v, want %v, %v", lo, hi, paramLo, paramHi)
	}
	for _, p := range []float64{0.001, 0.1, 0.3, 0.5, 0.77, 0.999} {
		if got := logistic(logit(p)); math.Abs(got-p) > 1e-12 {
			t.Errorf("logistic(logit(%v)) = %v", p, got)
		}
	}
	if logit(0.3) >= 0 || logit(0.7) <= 0 || math.Abs(logit(0.3)+logit(0.7)) > 1e-12 {
		t.Errorf("logit(0.3), logit(0.7) = %v, %v, want opposite signs and sizes", logit(0.3), logit(0.7))
	}
	// Outside the range, logit clamps rather than returning ±Inf or NaN.
	for _, p := range []float64{0, 1, -1, 2} {
		if v := logit(p); math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("logit(%v) = %v", p, v)
		}
	}
}

// TestFitHoltIsOptimal: on a trend without season, no point of a grid has a
// lower one-step SSE than the fitted parameters, nor does a small step from
// them along any axis.
func TestFitHoltIsOptimal(t *testing.T) {
	y := make([]float64, 40)
	for i := range y {
		y[i] = 50 + 2*float64(i) + 6*math.Sin(float64(i)*1.3) + 3*math.Cos(float64(i)*0.4)
	}
	m, err := Fit(y, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Method != MethodHolt {
		t.Fatalf("method %s, want holt", m.Method)
	}
	check := func(p Params) {
		if p.Alpha < 0 || p.Alpha > 1 || p.Beta < 0 || p.Beta > 1 {
			return
		}
		other, err := FitParams(y, 0, p)
		if err != nil {
			t.Fatal(err)
		}
		if other.SSE < m.SSE*(1-1e-6) {
			t.Fatalf("%+v has SSE %v below the fit's %v (%s)", p, other.SSE, m.SSE, m)
		}
	}
	for a := 0.01; a < 1; a += 0.03 {
		for b := 0.01; b < 1; b += 0.03 {
			check(Params{Alpha: a, Beta: b})
		}
	}
	for _, d := range []float64{-0.01, 0.01} {
		check(Params{Alpha: m.Params.Alpha + d, Beta: m.Params.Beta})
		check(Params{Alpha: m.Params.Alpha, Beta: m.Params.Beta + d})
	}
}
