package attackreport_test

import (
	"context"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/attackreport"
	"github.com/occsimore/occsimore/forecast"
)

// fakeAttacks answers the daily counts from memory; the other methods are
// not used.
type fakeAttacks struct {
	occsimore.AttackService
	days    []occsimore.DayCount
	members int
}

func (f *fakeAttacks) AttacksPerDay(context.Context, string, time.Time, time.Time) ([]occsimore.DayCount, error) {
	return f.days, nil
}

func (f *fakeAttacks) SectorAttacksPerDay(context.Context, string, time.Time, time.Time) ([]occsimore.DayCount, int, error) {
	return f.days, f.members, nil
}

var now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func history(n int) []occsimore.DayCount {
	first := now.Truncate(24*time.Hour).AddDate(0, 0, 1-n)
	days := make([]occsimore.DayCount, n)
	for i := range days {
		days[i] = occsimore.DayCount{Day: first.AddDate(0, 0, i), Count: 10 + i%7}
	}
	return days
}

// TestSectorRule: a sector's counts are given from three members, withheld
// below, and no setting lowers the bound.
func TestSectorRule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		members, min int
		withheld     bool
	}{
		{members: 1, withheld: true},
		{members: 2, withheld: true},
		{members: 3},
		{members: 10},
		{members: 2, min: 1, withheld: true}, // a lower setting is ignored
		{members: 3, min: 4, withheld: true}, // a higher one applies
		{members: 4, min: 4},
	} {
		fake := &fakeAttacks{days: history(30), members: tc.members}
		s := &attackreport.Service{Attacks: fake, Now: func() time.Time { return now }, MinSectorMembers: tc.min}
		until := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
		r, err := s.SectorReport(t.Context(), "banking", occsimore.ReportQuery{Since: until.AddDate(0, 0, -30), Until: until, Horizon: 7})
		if err != nil {
			t.Fatal(err)
		}
		if r.Withheld != tc.withheld {
			t.Errorf("%d members, setting %d: withheld %v, want %v", tc.members, tc.min, r.Withheld, tc.withheld)
		}
		if r.Members != tc.members || r.Sector != "banking" {
			t.Errorf("%d members: report says %d members of %q", tc.members, r.Members, r.Sector)
		}
		if r.Withheld {
			if r.Days != nil || r.Forecast != nil {
				t.Errorf("%d members: withheld report carries counts", tc.members)
			}
			if got := occsimore.ErrorCode(r.WithheldError()); got != occsimore.EFORBIDDEN {
				t.Errorf("withheld error code %q, want %q", got, occsimore.EFORBIDDEN)
			}
		} else if len(r.Days) != 30 || r.Forecast == nil || len(r.Forecast.Days) != 7 {
			t.Errorf("%d members: %d days and forecast %+v, want 30 days and 7 forecast", tc.members, len(r.Days), r.Forecast)
		}
	}
}

// TestMemberReportForecast: the report's forecast is forecast's analysis,
// of the complete days when the range ends after now.
func TestMemberReportForecast(t *testing.T) {
	t.Parallel()
	days := history(57)
	s := attackreport.New(&fakeAttacks{days: days}, func() time.Time { return now })
	until := days[len(days)-1].Day.Add(24 * time.Hour)
	for _, tc := range []struct {
		name    string
		until   time.Time
		analyze func([]occsimore.DayCount, int, float64) (*forecast.Analysis, error)
	}{
		{"today partial", until, forecast.AnalyzeToDate},
		{"complete", now.AddDate(0, 0, -1), forecast.Analyze}, // a range that ended before now
	} {
		r, err := s.MemberReport(t.Context(), "m", occsimore.ReportQuery{Since: days[0].Day, Until: tc.until, Horizon: 14})
		if err != nil {
			t.Fatal(err)
		}
		want, err := tc.analyze(days, 14, forecast.Coverage)
		if err != nil {
			t.Fatal(err)
		}
		f := r.Forecast
		if f.Model != want.Model.String() || f.TrendPerDay != want.Trend.Slope || f.TrendAt(3) != want.Trend.At(3) || len(f.Days) != 14 || f.Days[0] != want.Forecast[0] {
			t.Errorf("%s: forecast %+v, want %+v", tc.name, f, want)
		}
	}
	r, err := s.MemberReport(t.Context(), "m", occsimore.ReportQuery{Since: days[0].Day, Until: until})
	if err != nil || r.Forecast != nil || len(r.Days) != len(days) {
		t.Fatalf("without horizon: %+v, %v; want the days without forecast", r, err)
	}
}
