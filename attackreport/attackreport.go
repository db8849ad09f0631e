// Package attackreport is the attack-report service: attacks per day from
// the store, for a member or its sector, with their trend, forecast and rise
// from package forecast. The sector rule lives here and nowhere else: a
// sector's counts are withheld below occsimore.MinSectorMembers members.
package attackreport

import (
	"context"
	"fmt"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/forecast"
)

// Service implements occsimore.AttackReportService over an AttackService.
type Service struct {
	Attacks occsimore.AttackService
	// Now tells whether a query's last day is still going on.
	Now occsimore.Now
	// MinSectorMembers overrides occsimore.MinSectorMembers when above it; a
	// lower value is ignored, so no configuration can weaken the rule.
	MinSectorMembers int
}

var _ occsimore.AttackReportService = (*Service)(nil)

// New returns a Service over attacks with the given clock.
func New(attacks occsimore.AttackService, now occsimore.Now) *Service {
	return &Service{Attacks: attacks, Now: now}
}

// MemberReport counts the member's attacks per day in q's range.
func (s *Service) MemberReport(ctx context.Context, memberID string, q occsimore.ReportQuery) (*occsimore.AttackReport, error) {
	days, err := s.Attacks.AttacksPerDay(ctx, memberID, q.Since, q.Until)
	if err != nil {
		return nil, fmt.Errorf("attacks per day: %w", err)
	}
	r := &occsimore.AttackReport{Days: days}
	if err := s.forecast(r, q); err != nil {
		return nil, err
	}
	return r, nil
}

// SectorReport sums the attacks per day of the sector's members, or
// withholds them when the sector has too few members.
func (s *Service) SectorReport(ctx context.Context, sector string, q occsimore.ReportQuery) (*occsimore.AttackReport, error) {
	days, members, err := s.Attacks.SectorAttacksPerDay(ctx, sector, q.Since, q.Until)
	if err != nil {
		return nil, fmt.Errorf("sector attacks per day: %w", err)
	}
	least := max(s.MinSectorMembers, occsimore.MinSectorMembers)
	r := &occsimore.AttackReport{Sector: sector, Members: members, MinMembers: least}
	if members < least {
		r.Withheld = true
		return r, nil
	}
	r.Days = days
	if err := s.forecast(r, q); err != nil {
		return nil, err
	}
	return r, nil
}

// forecast adds the analysis of r.Days when q asks for one. When the range
// ends after now, its last day is still going on and counts as partial.
func (s *Service) forecast(r *occsimore.AttackReport, q occsimore.ReportQuery) error {
	if q.Horizon <= 0 {
		return nil
	}
	f, err := Forecast(r.Days, q.Horizon, q.Until.After(s.now()))
	if err != nil {
		return err
	}
	r.Forecast = f
	return nil
}

// Forecast analyses consecutive daily counts: horizon days of forecast
// after the last complete day, the trend and the rise. With partial, the
// last day is still going on (see forecast.AnalyzeToDate).
func Forecast(days []occsimore.DayCount, horizon int, partial bool) (*occsimore.AttackForecast, error) {
	analyze := forecast.Analyze
	if partial {
		analyze = forecast.AnalyzeToDate
	}
	a, err := analyze(days, horizon, forecast.Coverage)
	if err != nil {
		return nil, err
	}
	return &occsimore.AttackForecast{
		Model:       a.Model.String(),
		TrendStart:  a.Trend.At(0),
		TrendPerDay: a.Trend.Slope,
		Coverage:    forecast.Coverage,
		Days:        a.Forecast[:horizon],
		Rise:        a.Rise,
	}, nil
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}
