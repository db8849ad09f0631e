package forecast

import "slices"

// Line is y = Intercept + Slope·x.
type Line struct {
	Slope     float64 `json:"slope"`
	Intercept float64 `json:"intercept"`
}

// At returns the line's value at x.
func (l Line) At(x float64) float64 { return l.Intercept + l.Slope*x }

// TheilSen fits a line to y[x] for x = 0, 1, …: the slope is the median of
// the slopes between all pairs of points and the intercept the median of
// y − slope·x. Unlike least squares it ignores a minority of outlying days,
// such as one attack wave, so it says where the series is heading. It is
// quadratic in len(y), which suits weeks of daily counts. A single point
// gives a flat line through it; no points give the zero line.
func TheilSen(y []float64) Line {
	n := len(y)
	if n == 0 {
		return Line{}
	}
	slopes := make([]float64, 0, n*(n-1)/2)
	for i := range n {
		for j := i + 1; j < n; j++ {
			slopes = append(slopes, (y[j]-y[i])/float64(j-i))
		}
	}
	var l Line
	if len(slopes) > 0 {
		l.Slope = median(slopes)
	}
	resid := make([]float64, n)
	for i, v := range y {
		resid[i] = v - l.Slope*float64(i)
	}
	l.Intercept = median(resid)
	return l
}

// median sorts v in place and returns its median; v must not be empty.
func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
