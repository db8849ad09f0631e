// Package forecast anticipates daily counts: Holt-Winters exponential
// smoothing with additive seasonality, prediction intervals from the one-step
// error variance, a robust trend line, and a detector for a day that rises
// beyond what was forecast for it. It is pure: values in, values out.
package forecast

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"

	"github.com/occsimore/occsimore"
)

// Method is the model a fit settled on; short series get simpler ones.
type Method string

const (
	// MethodHoltWinters has a level, a trend and an additive season. It needs
	// at least two full seasons.
	MethodHoltWinters Method = "holt-winters"
	// MethodHolt (Holt's linear method) has a level and a trend. It needs
	// at least four observations.
	MethodHolt Method = "holt"
	// MethodMean forecasts the mean of the observations.
	MethodMean Method = "mean"
)

// Minimum lengths for each method, so that a model is never fitted on fewer
// one-step errors than it has parameters.
const (
	minHolt         = 4
	minSeasonsForHW = 2 // the initial state is estimated from two seasons
)

// Optimiser settings: parameters stay in [paramLo, paramHi], the grid has
// gridPoints values per parameter, and Nelder-Mead gets maxEvals evaluations.
const (
	paramLo, paramHi = 1e-4, 1 - 1e-4
	gridPoints       = 9
	maxEvals         = 600
)

// Params are the smoothing parameters in the classic form of Winters (1960),
// the one R's HoltWinters uses, each in [0, 1]:
//
//	level   ℓt = α(yt − st−m) + (1−α)(ℓt−1 + bt−1)
//	trend   bt = β(ℓt − ℓt−1) + (1−β)bt−1
//	season  st = γ(yt − ℓt) + (1−γ)st−m
//
// In the error-correction form of Hyndman et al. (ETS(A,A,A)) they are
// α, β·α and γ·(1−α).
type Params struct {
	Alpha float64 `json:"alpha"`
	Beta  float64 `json:"beta"`            // unused by MethodMean
	Gamma float64 `json:"gamma,omitempty"` // used by MethodHoltWinters only
}

// State is a model's components after some observation.
type State struct {
	Level float64
	Trend float64
	// Season[k] is the seasonal component of every time t with t mod Period
	// == k, t counted from the first observation. Nil without seasonality.
	Season []float64
}

// Model is a fitted model of a series y[0..N-1].
type Model struct {
	Method Method
	Period int // seasonal period; 0 without seasonality
	Params Params
	State  State // after the last observation
	N      int   // number of observations
	// Start is the index of the first observation predicted one step ahead;
	// those before it initialise the state.
	Start int
	// Fitted[i] is the one-step-ahead prediction of y[Start+i].
	Fitted []float64
	SSE    float64 // sum of squared one-step errors
	// Sigma2 is the variance of the one-step errors (their mean square, or
	// the sample variance for MethodMean); intervals scale with it.
	Sigma2 float64
}

// Interval is a point forecast and its prediction interval.
type Interval struct {
	Mean  float64 `json:"mean"`
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
}

// Fit fits the best model the length of y allows: Holt-Winters with period
// when y has two seasons, else Holt's linear method, else the mean. The
// parameters minimise the sum of squared one-step-ahead errors. A period
// below 2 means no seasonality.
func Fit(y []float64, period int) (*Model, error) {
	method, period, err := choose(y, period)
	if err != nil {
		return nil, err
	}
	if method == MethodMean {
		return fitMean(y), nil
	}
	p := optimise(y, method, period)
	return FitParams(y, period, p)
}

// FitParams runs the model with fixed parameters from the usual initial
// state: for Holt-Winters, the first two seasons give the level, the trend
// (the change of the seasonal mean) and the seasonal components; for Holt's
// method the first two observations give the level and the trend. The method
// is chosen from the length of y as in Fit.
func FitParams(y []float64, period int, p Params) (*Model, error) {
	method, period, err := choose(y, period)
	if err != nil {
		return nil, err
	}
	if err := p.validate(method); err != nil {
		return nil, err
	}
	switch method {
	case MethodMean:
		return fitMean(y), nil
	case MethodHolt:
		return run(y, 0, p, 2, State{Level: y[1], Trend: y[1] - y[0]}), nil
	}
	return run(y, period, p, period, initialSeasonal(y, period)), nil
}

// FitFrom runs Holt-Winters (or Holt's method when period < 2) with fixed
// parameters from a given state that holds just before y[start]. It is for
// reproducing a model whose initial state was estimated elsewhere.
func FitFrom(y []float64, period int, p Params, start int, s State) (*Model, error) {
	if period < 2 {
		period = 0
	}
	if err := checkValues(y); err != nil {
		return nil, err
	}
	method := MethodHoltWinters
	if period == 0 {
		method = MethodHolt
	}
	if err := p.validate(method); err != nil {
		return nil, err
	}
	switch {
	case start < 0 || start > len(y):
		return nil, occsimore.FieldErrorf("start", "start %d is outside the series of %d", start, len(y))
	case period > 0 && len(s.Season) != period:
		return nil, occsimore.FieldErrorf("season", "the state has %d seasonal components, want %d", len(s.Season), period)
	case !finite(s.Level) || !finite(s.Trend) || !allFinite(s.Season):
		return nil, occsimore.FieldErrorf("state", "the initial state must be finite")
	}
	s.Season = append([]float64(nil), s.Season...)
	return run(y, period, p, start, s), nil
}

// choose validates y and picks the method its length allows.
func choose(y []float64, period int) (Method, int, error) {
	if period < 0 {
		return "", 0, occsimore.FieldErrorf("period", "period %d is negative", period)
	}
	if period < 2 {
		period = 0
	}
	if len(y) == 0 {
		return "", 0, occsimore.Errorf(occsimore.EINVALID, "cannot fit an empty series")
	}
	if err := checkValues(y); err != nil {
		return "", 0, err
	}
	switch {
	case period > 0 && len(y) >= minSeasonsForHW*period:
		return MethodHoltWinters, period, nil
	case len(y) >= minHolt:
		return MethodHolt, 0, nil
	}
	return MethodMean, 0, nil
}

// maxValue bounds the magnitude of values, so that squared errors summed
// over any realistic series cannot overflow.
const maxValue = 1e100

func checkValues(y []float64) error {
	for i, v := range y {
		if !finite(v) || math.Abs(v) > maxValue {
			return occsimore.Errorf(occsimore.EINVALID, "value %d of the series is %v, not a finite number below 1e100", i, v)
		}
	}
	return nil
}

func (p Params) validate(m Method) error {
	in := func(v float64) bool { return v >= 0 && v <= 1 }
	switch {
	case m == MethodMean:
		return nil
	case !in(p.Alpha):
		return occsimore.FieldErrorf("alpha", "alpha %v must be in [0, 1]", p.Alpha)
	case !in(p.Beta):
		return occsimore.FieldErrorf("beta", "beta %v must be in [0, 1]", p.Beta)
	case m == MethodHoltWinters && !in(p.Gamma):
		return occsimore.FieldErrorf("gamma", "gamma %v must be in [0, 1]", p.Gamma)
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func allFinite(vs []float64) bool {
	for _, v := range vs {
		if !finite(v) {
			return false
		}
	}
	return true
}

// initialSeasonal estimates the state at the end of the first season from the
// first two: the trend is the change of the seasonal mean per step, the level
// is the first season's mean carried to its last step, and each seasonal
// component is that season's deviation from the trend line, so that the
// components sum to zero.
func initialSeasonal(y []float64, m int) State {
	mean1, mean2 := mean(y[:m]), mean(y[m:2*m])
	trend := (mean2 - mean1) / float64(m)
	mid := float64(m-1) / 2
	s := State{Level: mean1 + trend*mid, Trend: trend, Season: make([]float64, m)}
	for i := range m {
		s.Season[i] = y[i] - (mean1 + trend*(float64(i)-mid))
	}
	return s
}

// run filters y from start with state s (which it takes over) and returns
// the model.
func run(y []float64, period int, p Params, start int, s State) *Model {
	m := &Model{Method: MethodHoltWinters, Period: period, Params: p, N: len(y), Start: start,
		Fitted: make([]float64, 0, len(y)-start)}
	if period == 0 {
		m.Method = MethodHolt
		m.Params.Gamma = 0
	}
	m.SSE, m.State = filter(y, period, p, start, s, func(pred float64) { m.Fitted = append(m.Fitted, pred) })
	if n := len(m.Fitted); n > 0 {
		m.Sigma2 = m.SSE / float64(n)
	}
	return m
}

// filter runs the recursions over y[start:] and returns the sum of squared
// one-step errors and the final state. fitted, if not nil, sees each
// one-step prediction. It is the hot loop of the optimiser, so it does not
// allocate beyond the caller's season slice.
func filter(y []float64, period int, p Params, start int, s State, fitted func(float64)) (float64, State) {
	var sse float64
	level, trend := s.Level, s.Trend
	for t := start; t < len(y); t++ {
		var season float64
		k := 0
		if period > 0 {
			k = t % period
			season = s.Season[k]
		}
		pred := level + trend + season
		if fitted != nil {
			fitted(pred)
		}
		e := y[t] - pred
		sse += e * e
		prev := level
		level = p.Alpha*(y[t]-season) + (1-p.Alpha)*(level+trend)
		trend = p.Beta*(level-prev) + (1-p.Beta)*trend
		if period > 0 {
			s.Season[k] = p.Gamma*(y[t]-level) + (1-p.Gamma)*season
		}
	}
	s.Level, s.Trend = level, trend
	return sse, s
}

func fitMean(y []float64) *Model {
	mu := mean(y)
	m := &Model{Method: MethodMean, N: len(y), State: State{Level: mu}, Fitted: []float64{}}
	for _, v := range y {
		m.SSE += (v - mu) * (v - mu)
	}
	if len(y) > 1 {
		m.Sigma2 = m.SSE / float64(len(y)-1)
	}
	return m
}

func mean(y []float64) float64 {
	var sum float64
	for _, v := range y {
		sum += v
	}
	return sum / float64(len(y))
}

// optimise finds the parameters that minimise the one-step SSE: the best
// point of a coarse grid, refined by Nelder-Mead over logit-transformed
// parameters, which keeps them inside (0, 1) without constraints.
func optimise(y []float64, method Method, period int) Params {
	dim := 2
	var init State
	start := 2
	if method == MethodHoltWinters {
		dim, init, start = 3, initialSeasonal(y, period), period
	} else {
		init = State{Level: y[1], Trend: y[1] - y[0]}
	}
	season := make([]float64, len(init.Season))
	sse := func(p Params) float64 {
		s := init
		if s.Season != nil {
			copy(season, init.Season)
			s.Season = season
		}
		v, _ := filter(y, period, p, start, s, nil)
		if !finite(v) {
			return math.MaxFloat64
		}
		return v
	}
	toParams := func(x []float64) Params {
		p := Params{Alpha: logistic(x[0]), Beta: logistic(x[1])}
		if dim == 3 {
			p.Gamma = logistic(x[2])
		}
		return p
	}

	// Coarse grid first: Nelder-Mead alone can stall on the flat SSE
	// surfaces that short, noisy series have.
	best, bestSSE := Params{}, math.Inf(1)
	grid := make([]float64, gridPoints)
	for i := range grid {
		grid[i] = (float64(i) + 0.5) / float64(len(grid))
	}
	gammas := grid
	if dim == 2 {
		gammas = []float64{0}
	}
	for _, a := range grid {
		for _, b := range grid {
			for _, g := range gammas {
				p := Params{Alpha: a, Beta: b, Gamma: g}
				if v := sse(p); v < bestSSE {
					best, bestSSE = p, v
				}
			}
		}
	}

	x0 := []float64{logit(best.Alpha), logit(best.Beta)}
	if dim == 3 {
		x0 = append(x0, logit(best.Gamma))
	}
	res, err := optimize.Minimize(optimize.Problem{Func: func(x []float64) float64 { return sse(toParams(x)) }},
		x0, &optimize.Settings{FuncEvaluations: maxEvals}, &optimize.NelderMead{})
	// A failed or worse refinement keeps the grid's point; the status of a
	// run stopped by the evaluation budget is not a failure here.
	if err == nil && res != nil && finite(res.F) && res.F < bestSSE {
		best = toParams(res.X)
	}
	return best
}

func logistic(x float64) float64 {
	return paramLo + (paramHi-paramLo)/(1+math.Exp(-x))
}

func logit(p float64) float64 {
	p = (p - paramLo) / (paramHi - paramLo)
	p = min(max(p, 1e-9), 1-1e-9)
	return math.Log(p / (1 - p))
}

// Forecast returns the h next values with prediction intervals at the given
// coverage (for example 0.95). The variance of the h-step error is that of
// the equivalent ETS model: σ²(1 + Σ_{j<h} c_j²) with c_j = α(1 + jβ) +
// γ(1−α)·[j is a multiple of the period] (Hyndman et al. 2008, table 6.1);
// for the mean it is σ²(1 + 1/N).
func (m *Model) Forecast(h int, coverage float64) ([]Interval, error) {
	if h < 0 {
		return nil, occsimore.FieldErrorf("horizon", "horizon %d is negative", h)
	}
	if !(coverage > 0 && coverage < 1) {
		return nil, occsimore.FieldErrorf("coverage", "coverage %v must be between 0 and 1", coverage)
	}
	z := math.Sqrt2 * math.Erfinv(coverage)
	out := make([]Interval, h)
	var sumC2 float64 // Σ c_j² for j < step
	for i := range out {
		step := i + 1
		mu := m.State.Level + float64(step)*m.State.Trend
		if m.Period > 0 {
			mu += m.State.Season[(m.N-1+step)%m.Period]
		}
		variance := m.Sigma2 * (1 + sumC2)
		if m.Method == MethodMean {
			variance = m.Sigma2 * (1 + 1/float64(m.N))
		}
		half := z * math.Sqrt(variance)
		out[i] = Interval{Mean: mu, Lower: mu - half, Upper: mu + half}
		sumC2 += m.psi(step) * m.psi(step)
	}
	return out, nil
}

// psi is c_j, the weight of the error j steps back in the h-step error.
func (m *Model) psi(j int) float64 {
	if m.Method == MethodMean {
		return 0
	}
	c := m.Params.Alpha * (1 + float64(j)*m.Params.Beta)
	if m.Period > 0 && j%m.Period == 0 {
		c += m.Params.Gamma * (1 - m.Params.Alpha)
	}
	return c
}

// String describes the model briefly, for logs and pages.
func (m *Model) String() string {
	switch m.Method {
	case MethodHoltWinters:
		return fmt.Sprintf("Holt-Winters, period %d, α=%.2f β=%.2f γ=%.2f", m.Period, m.Params.Alpha, m.Params.Beta, m.Params.Gamma)
	case MethodHolt:
		return fmt.Sprintf("Holt linear, α=%.2f β=%.2f", m.Params.Alpha, m.Params.Beta)
	}
	return fmt.Sprintf("mean of %d values", m.N)
}
