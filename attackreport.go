package occsimore

import (
	"context"
	"fmt"
	"math"
	"time"
)

// MinSectorMembers is the fewest members a sector needs before its daily
// attack counts are shown to its members. With two, either member could
// subtract its own counts from the sum and read the other's; with three,
// what remains is still a sum over two.
const MinSectorMembers = 3

// ReportQuery selects the days of an attack report: [Since, Until), UTC days.
// With Horizon > 0 the report forecasts that many days after the last. A
// range that ends after now has a last day still going on, which counts as
// partial: the models see only the complete days and the partial one is
// compared with its forecast.
type ReportQuery struct {
	Since, Until time.Time
	Horizon      int
}

// AttackReport is a series of daily attack counts and, when a forecast was
// asked for, what it says about the days ahead.
type AttackReport struct {
	Days []DayCount
	// Sector, Members and MinMembers are set for a sector's aggregate.
	// Withheld means the sector has fewer than MinMembers members: its
	// counts are not given, only how many members it has.
	Sector     string
	Members    int
	MinMembers int
	Withheld   bool
	Forecast   *AttackForecast // nil without a horizon
}

// WithheldError is the error an adapter answers a withheld sector report
// with.
func (r *AttackReport) WithheldError() error {
	return Errorf(EFORBIDDEN, "sector %s has %d members; its counts are shown from %d, so that no member's own counts can be told",
		r.Sector, r.Members, r.MinMembers)
}

// AttackForecast is the analysis of a series of daily counts.
type AttackForecast struct {
	Model string // the fitted model, e.g. "Holt linear, α=0.30 β=0.10"
	// The Theil-Sen trend through the complete days, x in days from the
	// first: TrendStart is its value on the first day, TrendPerDay its slope.
	TrendStart  float64
	TrendPerDay float64
	Coverage    float64       // of the forecast intervals, e.g. 0.95
	Days        []DayForecast // the days after the last complete one
	// Rise is the last day's rise above the forecast made without it, or
	// nil when it did not rise (or there is too little history to tell).
	Rise *Rise
}

// TrendAt is the trend's value x days after the first day.
func (f *AttackForecast) TrendAt(x float64) float64 { return f.TrendStart + f.TrendPerDay*x }

// DayForecast is the forecast of one day's count.
type DayForecast struct {
	Day   time.Time `json:"day"` // midnight UTC
	Mean  float64   `json:"mean"`
	Lower float64   `json:"lower"` // never below zero
	Upper float64   `json:"upper"`
}

// Rise is a day whose count exceeded the upper bound of the forecast made
// for it from the days before.
type Rise struct {
	Day      time.Time `json:"day"`
	Count    int       `json:"count"`
	Forecast float64   `json:"forecast"`
	Upper    float64   `json:"upper"`
	Coverage float64   `json:"coverage"` // of the interval Upper bounds, e.g. 0.95
}

// Message says what rose, for an alert:
// "412 attacks on 2026-11-26, above the forecast 180 (95 % bound 260)".
func (r *Rise) Message() string {
	noun := "attacks"
	if r.Count == 1 {
		noun = "attack"
	}
	return fmt.Sprintf("%d %s on %s, above the forecast %.0f (%.4g %% bound %.0f)",
		r.Count, noun, r.Day.UTC().Format(time.DateOnly), math.Max(r.Forecast, 0),
		100*r.Coverage, r.Upper)
}

// AttackReportService reports attacks per day with their forecast, for a
// member or for its sector. It is where the sector rule lives: a sector's
// counts are withheld below MinSectorMembers members.
type AttackReportService interface {
	MemberReport(ctx context.Context, memberID string, q ReportQuery) (*AttackReport, error)
	SectorReport(ctx context.Context, sector string, q ReportQuery) (*AttackReport, error)
}
