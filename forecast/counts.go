package forecast

import (
	"math"
	"time"

	"github.com/occsimore/occsimore"
)

// Weekly is the seasonal period of daily counts: attacks follow the working
// week.
const Weekly = 7

// Coverage is the default coverage of prediction intervals.
const Coverage = 0.95

// MinRiseHistory is how many days must precede a day before it can be judged
// a rise: fewer give too loose a variance to trust.
const MinRiseHistory = 7

// minCountVariance floors the error variance of count models. Counts are
// whole numbers, so a flat history (all zeros, say) must not make a single
// extra attack look like a surge.
const minCountVariance = 1

const day = 24 * time.Hour

// DayForecast and Rise are the root package's, so that adapters show them
// without importing the models.
type (
	DayForecast = occsimore.DayForecast
	Rise        = occsimore.Rise
)

// Analysis is what the history of daily counts says about the days ahead.
type Analysis struct {
	Model *Model
	// Trend is the Theil-Sen line through the history, x in days from the
	// first day: Slope is attacks per day.
	Trend    Line
	Forecast []DayForecast // the days after the last, one per day
	// Rise is the last day's rise above the forecast made without it, or
	// nil when it did not rise (or there is too little history to tell).
	Rise *Rise
}

// Analyze fits a weekly Holt-Winters model to days (consecutive UTC days, as
// AttackService.AttacksPerDay returns them; shorter histories get simpler
// models), forecasts horizon days with intervals of the given coverage, fits
// the trend and checks the last day for a rise.
func Analyze(days []occsimore.DayCount, horizon int, coverage float64) (*Analysis, error) {
	y, err := series(days)
	if err != nil {
		return nil, err
	}
	m, err := fitCounts(y)
	if err != nil {
		return nil, err
	}
	ivs, err := m.Forecast(horizon, coverage)
	if err != nil {
		return nil, err
	}
	a := &Analysis{Model: m, Trend: TheilSen(y), Forecast: make([]DayForecast, len(ivs))}
	last := days[len(days)-1].Day.UTC()
	for i, iv := range ivs {
		a.Forecast[i] = DayForecast{
			Day:  last.Add(time.Duration(i+1) * day),
			Mean: math.Max(iv.Mean, 0), Lower: math.Max(iv.Lower, 0), Upper: math.Max(iv.Upper, 0),
		}
	}
	r, rose, err := DetectRise(days, coverage)
	if err != nil {
		return nil, err
	}
	if rose {
		a.Rise = &r
	}
	return a, nil
}

// AnalyzeToDate is Analyze for a series whose last day is still going on
// (today): the model is fitted on the complete days before it, Forecast[0]
// is that day's forecast, and the day is a rise as soon as its count so far
// exceeds the forecast's upper bound, since a count only grows. Otherwise
// Rise is the last complete day's, if it rose.
func AnalyzeToDate(days []occsimore.DayCount, horizon int, coverage float64) (*Analysis, error) {
	if len(days) < 2 {
		return nil, occsimore.Errorf(occsimore.EINVALID, "%d days to analyse, want at least 2 (complete days and today)", len(days))
	}
	complete, today := days[:len(days)-1], days[len(days)-1]
	a, err := Analyze(complete, max(horizon, 1), coverage)
	if err != nil {
		return nil, err
	}
	if f := a.Forecast[0]; float64(today.Count) > f.Upper {
		a.Rise = &Rise{Day: today.Day, Count: today.Count, Forecast: f.Mean, Upper: f.Upper, Coverage: coverage}
	}
	return a, nil
}

// DetectRise fits a model to all days but the last and forecasts the last.
// It reports true, with the Rise, when the last day's count is above the
// upper bound of the interval with the given coverage; false when it is
// within the bound or fewer than MinRiseHistory days precede the last.
func DetectRise(days []occsimore.DayCount, coverage float64) (Rise, bool, error) {
	y, err := series(days)
	if err != nil {
		return Rise{}, false, err
	}
	if len(y)-1 < MinRiseHistory {
		return Rise{}, false, nil
	}
	m, err := fitCounts(y[:len(y)-1])
	if err != nil {
		return Rise{}, false, err
	}
	ivs, err := m.Forecast(1, coverage)
	if err != nil {
		return Rise{}, false, err
	}
	last := days[len(days)-1]
	r := Rise{Day: last.Day.UTC(), Count: last.Count, Forecast: ivs[0].Mean, Upper: ivs[0].Upper, Coverage: coverage}
	return r, float64(last.Count) > r.Upper, nil
}

// fitCounts fits a weekly model and floors its variance for whole counts.
func fitCounts(y []float64) (*Model, error) {
	m, err := Fit(y, Weekly)
	if err != nil {
		return nil, err
	}
	m.Sigma2 = math.Max(m.Sigma2, minCountVariance)
	return m, nil
}

// series checks that days are consecutive UTC days with counts that are not
// negative, and returns the counts.
func series(days []occsimore.DayCount) ([]float64, error) {
	if len(days) == 0 {
		return nil, occsimore.Errorf(occsimore.EINVALID, "no days to analyse")
	}
	y := make([]float64, len(days))
	for i, d := range days {
		if d.Count < 0 {
			return nil, occsimore.Errorf(occsimore.EINVALID, "day %s has a negative count %d", d.Day.Format(time.DateOnly), d.Count)
		}
		if i > 0 && !d.Day.Equal(days[i-1].Day.Add(day)) {
			return nil, occsimore.Errorf(occsimore.EINVALID, "day %s does not follow %s",
				d.Day.UTC().Format(time.RFC3339), days[i-1].Day.UTC().Format(time.RFC3339))
		}
		y[i] = float64(d.Count)
	}
	return y, nil
}
