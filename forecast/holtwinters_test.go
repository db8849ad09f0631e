package forecast

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/occsimore/occsimore"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestFitParamsHolt checks Holt's method against values computed by hand:
// y = 1 3 4 7, α = β = 0.5, state from the first two points (ℓ=3, b=2):
//
//	t=2: ŷ=5     e=−1    ℓ=4.5   b=1.75
//	t=3: ŷ=6.25  e=0.75  ℓ=6.625 b=1.9375
//
// SSE = 1.5625, σ² = 0.78125; ŷ(+1) = 8.5625, ŷ(+2) = 10.5, and the
// two-step variance is σ²(1 + c₁²) with c₁ = α(1+β) = 0.75.
func TestFitParamsHolt(t *testing.T) {
	t.Parallel()
	m, err := FitParams([]float64{1, 3, 4, 7}, 7, Params{Alpha: 0.5, Beta: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Method, MethodHolt; got != want {
		t.Fatalf("method = %s, want %s", got, want)
	}
	if got, want := m.Fitted, []float64{5, 6.25}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("fitted = %v, want %v", got, want)
	}
	if got, want := m.SSE, 1.5625; got != want {
		t.Fatalf("SSE = %v, want %v", got, want)
	}
	if got, want := m.State, (State{Level: 6.625, Trend: 1.9375}); got.Level != want.Level || got.Trend != want.Trend {
		t.Fatalf("state = %+v, want %+v", got, want)
	}
	fc, err := m.Forecast(2, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fc[0].Mean, 8.5625; got != want {
		t.Fatalf("forecast +1 = %v, want %v", got, want)
	}
	if got, want := fc[1].Mean, 10.5; got != want {
		t.Fatalf("forecast +2 = %v, want %v", got, want)
	}
	z := 1.959963984540054
	if got, want := fc[0].Upper, 8.5625+z*math.Sqrt(0.78125); !near(got, want, 1e-9) {
		t.Fatalf("upper +1 = %v, want %v", got, want)
	}
	if got, want := fc[1].Lower, 10.5-z*math.Sqrt(0.78125*1.5625); !near(got, want, 1e-9) {
		t.Fatalf("lower +2 = %v, want %v", got, want)
	}
}

// TestFitParamsHoltWinters checks a period-2 model computed by hand:
// y = 1 3 2 4 4 5, α = β = γ = 0.5. The first two seasons (means 2 and 3)
// give b=0.5, ℓ=2.25, s=(−0.75, 0.75), which predict y[2], y[3] exactly;
//
//	t=4: ŷ=3     e=1      ℓ=4.25  b=0.75   s₀=−0.5
//	t=5: ŷ=5.75  e=−0.75  ℓ=4.625 b=0.5625 s₁=0.5625
//
// SSE = 1.5625 over 4 errors; ŷ(+1) = 4.625+0.5625−0.5 = 4.6875,
// ŷ(+2) = 4.625+1.125+0.5625 = 6.3125; c₁ = 0.75, c₂ = α(1+2β)+γ(1−α) = 1.25.
func TestFitParamsHoltWinters(t *testing.T) {
	t.Parallel()
	m, err := FitParams([]float64{1, 3, 2, 4, 4, 5}, 2, Params{Alpha: 0.5, Beta: 0.5, Gamma: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Method, MethodHoltWinters; got != want {
		t.Fatalf("method = %s, want %s", got, want)
	}
	want := []float64{2, 4, 3, 5.75}
	for i, w := range want {
		if got := m.Fitted[i]; got != w {
			t.Fatalf("fitted[%d] = %v, want %v", i, got, w)
		}
	}
	if got, want := m.SSE, 1.5625; got != want {
		t.Fatalf("SSE = %v, want %v", got, want)
	}
	if got, want := m.Sigma2, 0.390625; got != want {
		t.Fatalf("σ² = %v, want %v", got, want)
	}
	if got, want := m.State.Season, []float64{-0.5, 0.5625}; got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("season = %v, want %v", got, want)
	}
	fc, err := m.Forecast(3, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fc[0].Mean, 4.6875; got != want {
		t.Fatalf("forecast +1 = %v, want %v", got, want)
	}
	if got, want := fc[1].Mean, 6.3125; got != want {
		t.Fatalf("forecast +2 = %v, want %v", got, want)
	}
	z := 1.959963984540054
	for i, v := range []float64{0.390625, 0.390625 * 1.5625, 0.390625 * (1 + 0.5625 + 1.5625)} {
		if got, want := fc[i].Upper-fc[i].Mean, z*math.Sqrt(v); !near(got, want, 1e-9) {
			t.Fatalf("half-width +%d = %v, want %v", i+1, got, want)
		}
	}
}

// TestForecastVarianceClosedForm compares the summed weights with the closed
// form of Hyndman et al. (2008) for ETS(A,A,A):
// σ²[1 + (h−1){α² + αβh + β²h(2h−1)/6} + γk{2α + γ + βm(k+1)}], k = ⌊(h−1)/m⌋,
// in the ETS parameters β = αβ*, γ = γ*(1−α).
func TestForecastVarianceClosedForm(t *testing.T) {
	t.Parallel()
	p := Params{Alpha: 0.3, Beta: 0.2, Gamma: 0.4}
	const period = 7
	m := &Model{Method: MethodHoltWinters, Period: period, Params: p, N: 21, Sigma2: 2.5,
		State: State{Season: make([]float64, period)}}
	fc, err := m.Forecast(30, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	a, b, g := p.Alpha, p.Alpha*p.Beta, p.Gamma*(1-p.Alpha)
	z := 1.959963984540054
	for i, iv := range fc {
		h := float64(i + 1)
		k := math.Floor((h - 1) / period)
		v := m.Sigma2 * (1 + (h-1)*(a*a+a*b*h+b*b*h*(2*h-1)/6) + g*k*(2*a+g+b*period*(k+1)))
		if got, want := iv.Upper-iv.Mean, z*math.Sqrt(v); !near(got, want, 1e-9*want) {
			t.Fatalf("h=%v: half-width %v, want %v", h, got, want)
		}
	}
}

// loadCO2 reads R's co2 data set: monthly Mauna Loa CO₂, 1959-1997.
func loadCO2(t *testing.T) []float64 {
	t.Helper()
	f, err := os.Open("testdata/co2.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var y []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, err := strconv.ParseFloat(strings.TrimSpace(sc.Text()), 64)
		if err != nil {
			t.Fatal(err)
		}
		y = append(y, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return y
}

// TestCO2MatchesR reproduces the example of R's ?HoltWinters, HoltWinters(co2),
// with R 4.2.2's fitted parameters and initial state (from decompose of the
// first two years): the SSE, the final coefficients and predict()'s 95 %
// intervals must agree. The values below were printed by that R.
func TestCO2MatchesR(t *testing.T) {
	t.Parallel()
	y := loadCO2(t)
	if got, want := len(y), 468; got != want {
		t.Fatalf("co2 has %d values, want %d", got, want)
	}
	p := Params{Alpha: 0.512648443564179, Beta: 0.00949766904602902, Gamma: 0.472886787994818}
	s0 := State{Level: 315.765763888889011923, Trend: 0.088301282051277519, Season: []float64{
		-0.23444444444445858, 0.19263888888891265, 0.74388888888889448, 2.15972222222219079,
		3.13138888888888323, 2.65888888888891506, 0.48013888888882167, -1.31611111111110790,
		-2.34527777777774782, -2.93819444444447209, -1.58527777777775714, -0.94736111111107368}}
	m, err := FitFrom(y, 12, p, 12, s0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Fitted[0], 315.61962072649584; !near(got, want, 1e-9) {
		t.Fatalf("first fitted = %v, want %v", got, want)
	}
	if got, want := m.SSE, 43.1298613676973; !near(got, want, 1e-8) {
		t.Fatalf("SSE = %v, want %v", got, want)
	}
	if got, want := m.State.Level, 364.76162366898694245; !near(got, want, 1e-8) {
		t.Fatalf("a = %v, want %v", got, want)
	}
	if got, want := m.State.Trend, 0.12474380425042415; !near(got, want, 1e-10) {
		t.Fatalf("b = %v, want %v", got, want)
	}
	// R's s1…s12 are the components of the 12 months after the last.
	rs := []float64{0.22152745995515724, 0.95528006045129210, 1.59847439486224974, 2.87580291519829245,
		3.28200883534773080, 2.44069898939628338, 0.89694326358493837, -1.37964276138164443,
		-3.41123761724333718, -3.25701626483365514, -1.91348502861714342, -0.58442498557984512}
	for j, want := range rs {
		if got := m.State.Season[(len(y)+j)%12]; !near(got, want, 1e-9) {
			t.Fatalf("s%d = %v, want %v", j+1, got, want)
		}
	}
	// predict.HoltWinters scales by var(residuals), the sample variance.
	m.Sigma2 = 0.094520901928956486
	fc, err := m.Forecast(24, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		h               int
		fit, upr, lower float64
	}{
		{1, 365.10789493319254, 365.71047119596346, 364.50531867042162},
		{2, 365.96639133793906, 366.64487836766358, 365.28790430821454},
		{12, 365.67412433441217, 366.91378777879737, 364.43446089002697},
		{13, 366.60482058419763, 367.93525011051833, 365.27439105787693},
		{24, 367.17104998541726, 368.96276639187261, 365.37933357896191},
	} {
		iv := fc[c.h-1]
		if !near(iv.Mean, c.fit, 1e-8) || !near(iv.Upper, c.upr, 1e-8) || !near(iv.Lower, c.lower, 1e-8) {
			t.Fatalf("h=%d: %+v, want fit %v [%v, %v]", c.h, iv, c.fit, c.lower, c.upr)
		}
	}
}

// TestFitCO2 checks that the optimiser, from this package's own initial
// state, fits the same data as well as R does and finds similar parameters:
// a level that adapts fast, a nearly constant trend.
func TestFitCO2(t *testing.T) {
	t.Parallel()
	y := loadCO2(t)
	m, err := Fit(y, 12)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Method, MethodHoltWinters; got != want {
		t.Fatalf("method = %s, want %s", got, want)
	}
	// R's L-BFGS-B reached 43.13 from its initial state; the grid and
	// Nelder-Mead must do no worse from this package's.
	if got, limit := m.SSE, 43.1298613676973; got > limit {
		t.Fatalf("SSE = %v, want at most %v (%s)", got, limit, m)
	}
	if m.Params.Alpha < 0.3 || m.Params.Alpha > 0.7 || m.Params.Beta > 0.1 {
		t.Fatalf("params = %+v, want α near R's 0.51 and β near R's 0.01", m.Params)
	}
}

// TestFitIsOptimal checks that no point of a fine grid beats the fitted
// parameters by more than a rounding margin.
func TestFitIsOptimal(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	y := make([]float64, 56)
	for i := range y {
		y[i] = 100 + 0.5*float64(i) + 20*math.Sin(2*math.Pi*float64(i)/7) + rng.NormFloat64()*8
	}
	m, err := Fit(y, 7)
	if err != nil {
		t.Fatal(err)
	}
	for a := 0.02; a < 1; a += 0.06 {
		for b := 0.02; b < 1; b += 0.06 {
			for g := 0.02; g < 1; g += 0.06 {
				other, err := FitParams(y, 7, Params{Alpha: a, Beta: b, Gamma: g})
				if err != nil {
					t.Fatal(err)
				}
				if other.SSE < m.SSE*(1-1e-6) {
					t.Fatalf("(%.2f, %.2f, %.2f) has SSE %v below the fit's %v (%s)", a, b, g, other.SSE, m.SSE, m)
				}
			}
		}
	}
}

// TestFitRecoversSeasonAndTrend fits a weekly pattern on a rising line with
// mild noise, and expects the forecast to follow the true continuation.
func TestFitRecoversSeasonAndTrend(t *testing.T) {
	t.Parallel()
	pattern := [7]float64{-30, 10, 25, 20, 15, 0, -40} // sums to zero
	const slope, noise = 1.5, 3.0
	truth := func(i int) float64 { return 200 + slope*float64(i) + pattern[i%7] }
	rng := rand.New(rand.NewPCG(7, 7))
	y := make([]float64, 56)
	for i := range y {
		y[i] = truth(i) + rng.NormFloat64()*noise
	}
	m, err := Fit(y, 7)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := m.Forecast(14, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	for h, iv := range fc {
		want := truth(len(y) + h)
		if !near(iv.Mean, want, 4*noise+0.5*float64(h+1)) {
			t.Fatalf("forecast +%d = %.1f, want about %.1f (%s)", h+1, iv.Mean, want, m)
		}
		if want < iv.Lower-noise || want > iv.Upper+noise {
			t.Fatalf("truth %.1f at +%d is far outside [%.1f, %.1f]", want, h+1, iv.Lower, iv.Upper)
		}
	}
	if got := m.State.Trend; !near(got, slope, 0.5) {
		t.Fatalf("trend = %v, want about %v", got, slope)
	}
	// Seasonal components of the next week against the pattern.
	for j := range 7 {
		i := len(y) + j
		if got, want := m.State.Season[i%7], pattern[i%7]; !near(got, want, 3*noise) {
			t.Fatalf("season of day %d = %.1f, want about %.1f", i%7, got, want)
		}
	}
	if got := TheilSen(y).Slope; !near(got, slope, 0.3) {
		t.Fatalf("Theil-Sen slope = %v, want about %v", got, slope)
	}
}

// TestFitMethodByLength checks the fallbacks for short series.
func TestFitMethodByLength(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n      int
		period int
		want   Method
	}{
		{1, 7, MethodMean}, {3, 7, MethodMean}, {4, 7, MethodHolt}, {13, 7, MethodHolt},
		{14, 7, MethodHoltWinters}, {60, 7, MethodHoltWinters}, {60, 0, MethodHolt}, {60, 1, MethodHolt},
	} {
		y := make([]float64, c.n)
		for i := range y {
			y[i] = float64(10 + i%3)
		}
		m, err := Fit(y, c.period)
		if err != nil {
			t.Fatalf("n=%d period=%d: %v", c.n, c.period, err)
		}
		if got := m.Method; got != c.want {
			t.Fatalf("n=%d period=%d: method %s, want %s", c.n, c.period, got, c.want)
		}
		fc, err := m.Forecast(3, 0.9)
		if err != nil {
			t.Fatal(err)
		}
		for _, iv := range fc {
			if !finite(iv.Mean) || !finite(iv.Upper) || iv.Lower > iv.Mean || iv.Mean > iv.Upper {
				t.Fatalf("n=%d: bad interval %+v", c.n, iv)
			}
		}
	}
}

func TestFitMean(t *testing.T) {
	t.Parallel()
	m, err := Fit([]float64{2, 4, 9}, 7)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.State.Level, 5.0; got != want {
		t.Fatalf("mean = %v, want %v", got, want)
	}
	// Sample variance: (9 + 1 + 16) / 2.
	if got, want := m.Sigma2, 13.0; got != want {
		t.Fatalf("σ² = %v, want %v", got, want)
	}
	fc, err := m.Forecast(2, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	half := 1.959963984540054 * math.Sqrt(13*(1+1.0/3))
	for _, iv := range fc {
		if iv.Mean != 5 || !near(iv.Upper-iv.Mean, half, 1e-9) {
			t.Fatalf("interval %+v, want 5 ± %v", iv, half)
		}
	}
}

func TestFitZeros(t *testing.T) {
	t.Parallel()
	m, err := Fit(make([]float64, 56), 7)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := m.Forecast(14, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	for _, iv := range fc {
		if iv != (Interval{}) {
			t.Fatalf("forecast of zeros = %+v, want zeros", iv)
		}
	}
}

func TestFitRejects(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		y      []float64
		period int
	}{
		"empty":    {nil, 7},
		"NaN":      {[]float64{1, math.NaN(), 3, 4}, 7},
		"Inf":      {[]float64{1, 2, math.Inf(1), 4}, 7},
		"huge":     {[]float64{1, 2, 1e200, 4}, 7},
		"negative": {[]float64{1, 2, 3, 4}, -1},
	} {
		if _, err := Fit(c.y, c.period); occsimore.ErrorCode(err) != occsimore.EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
	if _, err := FitParams([]float64{1, 2, 3, 4, 5}, 0, Params{Alpha: 1.5}); occsimore.ErrorCode(err) != occsimore.EINVALID {
		t.Errorf("alpha 1.5: err = %v, want EINVALID", err)
	}
	m, err := Fit([]float64{1, 2, 3, 4, 5}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		h        int
		coverage float64
	}{{-1, 0.95}, {3, 0}, {3, 1}, {3, math.NaN()}} {
		if _, err := m.Forecast(c.h, c.coverage); occsimore.ErrorCode(err) != occsimore.EINVALID {
			t.Errorf("Forecast(%d, %v): err = %v, want EINVALID", c.h, c.coverage, err)
		}
	}
	if _, err := FitFrom([]float64{1, 2, 3}, 2, Params{}, 1, State{Season: []float64{1}}); occsimore.ErrorCode(err) != occsimore.EINVALID {
		t.Errorf("FitFrom with a short season: err = %v, want EINVALID", err)
	}
}

// FuzzFit fits random series: any finite input must give a model and finite,
// ordered intervals, never a panic or a NaN.
func FuzzFit(f *testing.F) {
	f.Add([]byte{}, uint8(7), 1.0)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(7), 1.0)
	f.Add([]byte{1, 200, 3, 4, 250, 6, 7, 8, 9, 10, 11, 12, 13, 14, 255, 0}, uint8(7), 1e6)
	f.Add([]byte{5, 5, 5, 5, 9}, uint8(2), 0.001)
	f.Fuzz(func(t *testing.T, data []byte, period uint8, scale float64) {
		if !finite(scale) || math.Abs(scale) > 1e80 {
			return
		}
		y := make([]float64, len(data))
		for i, b := range data {
			y[i] = float64(b) * scale
		}
		m, err := Fit(y, int(period%30))
		if len(y) == 0 {
			if err == nil {
				t.Fatal("an empty series fitted")
			}
			return
		}
		if err != nil {
			t.Fatalf("Fit(%v): %v", y, err)
		}
		if !finite(m.SSE) || !finite(m.Sigma2) || m.Sigma2 < 0 {
			t.Fatalf("SSE %v, σ² %v", m.SSE, m.Sigma2)
		}
		fc, err := m.Forecast(14, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		for h, iv := range fc {
			if !finite(iv.Mean) || !finite(iv.Lower) || !finite(iv.Upper) || iv.Lower > iv.Mean || iv.Mean > iv.Upper {
				t.Fatalf("+%d: interval %+v (%s)", h+1, iv, m)
			}
		}
		TheilSen(y)
	})
}
