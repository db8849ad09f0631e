package forecast

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

var firstDay = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// daysOf turns counts into consecutive days from firstDay.
func daysOf(counts []int) []occsimore.DayCount {
	days := make([]occsimore.DayCount, len(counts))
	for i, c := range counts {
		days[i] = occsimore.DayCount{Day: firstDay.AddDate(0, 0, i), Count: c}
	}
	return days
}

// weekdayCounts is 8 weeks of attacks: busy on working days, quiet at
// weekends, with Poisson-like noise.
func weekdayCounts(seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 1))
	counts := make([]int, 56)
	for i := range counts {
		base := 120.0
		if wd := firstDay.AddDate(0, 0, i).Weekday(); wd == time.Saturday || wd == time.Sunday {
			base = 40
		}
		counts[i] = int(math.Round(base + rng.NormFloat64()*math.Sqrt(base)))
	}
	return counts
}

func TestRiseMessage(t *testing.T) {
	t.Parallel()
	r := Rise{Day: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), Count: 412, Forecast: 180.2, Upper: 259.6, Coverage: 0.95}
	if got, want := r.Message(), "412 attacks on 2026-11-26, above the forecast 180 (95 % bound 260)"; got != want {
		t.Fatalf("message = %q, want %q", got, want)
	}
	r = Rise{Day: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), Count: 1, Forecast: -0.3, Upper: 0.9, Coverage: 0.99}
	if got, want := r.Message(), "1 attack on 2026-01-02, above the forecast 0 (99 % bound 1)"; got != want {
		t.Fatalf("message = %q, want %q", got, want)
	}
}

func TestDetectRise(t *testing.T) {
	t.Parallel()
	counts := weekdayCounts(3)
	// The last day is a Wednesday-like working day (day 55 from a Thursday).
	last := firstDay.AddDate(0, 0, len(counts)-1)
	counts[len(counts)-1] = 412
	r, rose, err := DetectRise(daysOf(counts), 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if !rose {
		t.Fatalf("412 after weeks of about 120 did not rise (forecast %.0f, bound %.0f)", r.Forecast, r.Upper)
	}
	if got, want := r.Day, last; !got.Equal(want) {
		t.Fatalf("rise day = %v, want %v", got, want)
	}
	if r.Forecast < 60 || r.Forecast > 180 || r.Upper <= r.Forecast || r.Upper > 412 {
		t.Fatalf("forecast %.1f, bound %.1f: want a working-day forecast below the bound, below 412", r.Forecast, r.Upper)
	}

	// The same history with an ordinary last day does not rise.
	counts[len(counts)-1] = int(math.Round(r.Forecast))
	if _, rose, err := DetectRise(daysOf(counts), 0.95); err != nil || rose {
		t.Fatalf("an ordinary day: rose %v, err %v", rose, err)
	}
}

// TestDetectRiseWeekend checks that seasonality matters: a weekend day at a
// working-day level is a rise, though it would be ordinary on a Tuesday.
func TestDetectRiseWeekend(t *testing.T) {
	t.Parallel()
	counts := weekdayCounts(5)
	// firstDay is a Thursday; day 58 is a Saturday.
	counts = append(counts, 110, 95, 115)
	if wd := firstDay.AddDate(0, 0, len(counts)-1).Weekday(); wd != time.Saturday {
		t.Fatalf("the last day is a %s, want Saturday", wd)
	}
	r, rose, err := DetectRise(daysOf(counts), 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if !rose {
		t.Fatalf("115 on a Saturday (usually ~40) did not rise: forecast %.0f, bound %.0f", r.Forecast, r.Upper)
	}
}

func TestDetectRiseShortHistory(t *testing.T) {
	t.Parallel()
	_, rose, err := DetectRise(daysOf([]int{1, 2, 1, 2, 1, 2, 500}), 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if rose {
		t.Fatal("six days of history judged a rise")
	}
	_, rose, err = DetectRise(daysOf([]int{1, 2, 1, 2, 1, 2, 1, 500}), 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if !rose {
		t.Fatal("seven quiet days then 500 is not a rise")
	}
}

// TestDetectRiseZeros: after weeks without attacks, one attack is noise and
// five are a rise.
func TestDetectRiseZeros(t *testing.T) {
	t.Parallel()
	counts := make([]int, 57)
	counts[56] = 1
	if _, rose, err := DetectRise(daysOf(counts), 0.95); err != nil || rose {
		t.Fatalf("one attack after none: rose %v, err %v", rose, err)
	}
	counts[56] = 5
	r, rose, err := DetectRise(daysOf(counts), 0.95)
	if err != nil || !rose {
		t.Fatalf("five attacks after none: rose %v, err %v", rose, err)
	}
	if got, want := r.Message(), "5 attacks on 2026-11-26, above the forecast 0 (95 % bound 2)"; got != want {
		t.Fatalf("message = %q, want %q", got, want)
	}
}

func TestAnalyze(t *testing.T) {
	t.Parallel()
	counts := weekdayCounts(9)
	days := daysOf(counts)
	a, err := Analyze(days, 14, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Model.Method, MethodHoltWinters; got != want {
		t.Fatalf("method = %s, want %s", got, want)
	}
	if got, want := len(a.Forecast), 14; got != want {
		t.Fatalf("%d forecast days, want %d", got, want)
	}
	for i, f := range a.Forecast {
		if want := days[len(days)-1].Day.AddDate(0, 0, i+1); !f.Day.Equal(want) {
			t.Fatalf("forecast %d is for %v, want %v", i, f.Day, want)
		}
		weekend := f.Day.Weekday() == time.Saturday || f.Day.Weekday() == time.Sunday
		if weekend && f.Mean > 80 || !weekend && f.Mean < 80 {
			t.Fatalf("%s (%s): forecast %.0f, want about %v", f.Day.Format(time.DateOnly), f.Day.Weekday(), f.Mean, map[bool]int{true: 40, false: 120}[weekend])
		}
		if f.Lower < 0 || f.Lower > f.Mean || f.Upper < f.Mean {
			t.Fatalf("forecast %+v is not ordered", f)
		}
	}
	if math.Abs(a.Trend.Slope) > 1 {
		t.Fatalf("trend %.2f per day on a flat series", a.Trend.Slope)
	}
	if a.Rise != nil {
		t.Fatalf("an ordinary last day rose: %s", a.Rise.Message())
	}
}

// TestAnalyzeClampsAtZero: a falling series must not forecast negative
// attacks.
func TestAnalyzeClampsAtZero(t *testing.T) {
	t.Parallel()
	counts := make([]int, 20)
	for i := range counts {
		counts[i] = max(0, 60-4*i)
	}
	a, err := Analyze(daysOf(counts), 14, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Trend.Slope, -4.0; a.Trend.Slope >= -3 {
		t.Fatalf("slope %v, want about %v", got, want)
	}
	for _, f := range a.Forecast {
		if f.Mean < 0 || f.Lower < 0 || f.Upper < 0 {
			t.Fatalf("negative forecast %+v", f)
		}
	}
}

func TestAnalyzeRejects(t *testing.T) {
	t.Parallel()
	gap := daysOf([]int{1, 2, 3})
	gap[2].Day = gap[2].Day.AddDate(0, 0, 1)
	for name, days := range map[string][]occsimore.DayCount{
		"empty":    nil,
		"gap":      gap,
		"negative": daysOf([]int{1, -2, 3}),
	} {
		if _, err := Analyze(days, 14, 0.95); occsimore.ErrorCode(err) != occsimore.EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
}
