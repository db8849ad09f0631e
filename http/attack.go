package http

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/forecast"
)

type attacksResponse struct {
	Attacks []*occsimore.Attack `json:"attacks"`
	// Next is the cursor of the following page (pass it as ?before=), empty
	// on the last page.
	Next string `json:"next,omitempty"`
}

// handleListAttacks lists the member's attacks, newest first.
func (s *Server) handleListAttacks(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	var f occsimore.AttackFilter
	err := eachParam(r.URL.Query(), "scenario, source, since, until, before, limit", func(key, v string) (err error) {
		switch key {
		case "scenario":
			f.Scenario = v
		case "source":
			f.Source = v
		case "since":
			f.Since, err = parseTime(v)
		case "until":
			f.Until, err = parseTime(v)
		case "before":
			f.Before = v
		case "limit":
			f.Limit, err = parseLimit(v)
		default:
			return errUnknownParam
		}
		return err
	})
	if err != nil {
		return err
	}
	as, err := s.Attacks.ListAttacks(r.Context(), p.Member.ID, f)
	if err != nil {
		return fmt.Errorf("list attacks: %w", err)
	}
	resp := attacksResponse{Attacks: as}
	if resp.Attacks == nil {
		resp.Attacks = []*occsimore.Attack{}
	}
	if limit := cmp.Or(f.Limit, 50); len(as) == limit {
		resp.Next = as[len(as)-1].ID
	}
	s.writeJSON(w, r, http.StatusOK, resp)
	return nil
}

type dailyResponse struct {
	Days []occsimore.DayCount `json:"days"`
	// Sector and Members are set for a sector's aggregate.
	Sector  string `json:"sector,omitempty"`
	Members int    `json:"members,omitempty"`
	// With ?forecast=N: the trend, N days of forecast, and the rise alert.
	Model       string                 `json:"model,omitempty"`
	TrendPerDay *float64               `json:"trend_per_day,omitempty"`
	Forecast    []forecast.DayForecast `json:"forecast,omitempty"`
	Rise        *riseJSON              `json:"rise,omitempty"`
}

type riseJSON struct {
	*forecast.Rise
	Message string `json:"message"`
}

// withForecast adds the analysis of days to resp. When the range ends
// after now, its last day is still going on and counts as partial.
func withForecast(resp *dailyResponse, days []occsimore.DayCount, horizon int, partial bool) error {
	analyze := forecast.Analyze
	if partial {
		analyze = forecast.AnalyzeToDate
	}
	a, err := analyze(days, horizon, forecast.Coverage)
	if err != nil {
		return err
	}
	slope := a.Trend.Slope
	resp.Model, resp.TrendPerDay, resp.Forecast = a.Model.String(), &slope, a.Forecast[:horizon]
	if a.Rise != nil {
		resp.Rise = &riseJSON{Rise: a.Rise, Message: a.Rise.Message()}
	}
	return nil
}

// defaultDays is how many days the daily counts cover without since.
const defaultDays = 30

// handleAttacksDaily counts the member's attacks per UTC day, or with
// ?sector=true the counts summed over the member's own sector.
func (s *Server) handleAttacksDaily(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	var since, until time.Time
	var sector bool
	horizon := 0
	err := eachParam(r.URL.Query(), "since, until, sector, forecast", func(key, v string) (err error) {
		switch key {
		case "forecast":
			if horizon, err = strconv.Atoi(v); err != nil || horizon < 1 || horizon > 60 {
				return occsimore.FieldErrorf("forecast", "forecast %q must be a number of days from 1 to 60", v)
			}
		case "since":
			since, err = parseTime(v)
		case "until":
			until, err = parseTime(v)
		case "sector":
			sector, err = strconv.ParseBool(v)
		default:
			return errUnknownParam
		}
		return err
	})
	if err != nil {
		return err
	}
	// By default the last 30 days, today included.
	if until.IsZero() {
		until = s.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	}
	if since.IsZero() {
		since = until.AddDate(0, 0, -defaultDays)
	}
	if !sector {
		days, err := s.Attacks.AttacksPerDay(r.Context(), p.Member.ID, since, until)
		if err != nil {
			return fmt.Errorf("attacks per day: %w", err)
		}
		resp := dailyResponse{Days: days}
		if horizon > 0 {
			if err := withForecast(&resp, days, horizon, until.After(s.Now())); err != nil {
				return err
			}
		}
		s.writeJSON(w, r, http.StatusOK, resp)
		return nil
	}
	days, members, err := s.Attacks.SectorAttacksPerDay(r.Context(), p.Member.Sector, since, until)
	if err != nil {
		return fmt.Errorf("sector attacks per day: %w", err)
	}
	if least := cmp.Or(s.SectorMinMembers, 3); members < least {
		return occsimore.Errorf(occsimore.EFORBIDDEN,
			"sector %s has %d members; its counts are shown from %d, so that no member's own counts can be told", p.Member.Sector, members, least)
	}
	resp := dailyResponse{Days: days, Sector: p.Member.Sector, Members: members}
	if horizon > 0 {
		if err := withForecast(&resp, days, horizon, until.After(s.Now())); err != nil {
			return err
		}
	}
	s.writeJSON(w, r, http.StatusOK, resp)
	return nil
}

// errUnknownParam is returned by eachParam's callback for a key it does not know.
var errUnknownParam = occsimore.Errorf(occsimore.EINVALID, "unknown query parameter")

// eachParam calls fn for each query parameter. Unknown parameters are
// errors, so that a typo does not silently widen a query; every error names
// the parameter.
func eachParam(q url.Values, known string, fn func(key, value string) error) error {
	for key, vals := range q {
		v := vals[0]
		err := fn(key, v)
		if err == errUnknownParam {
			return occsimore.FieldErrorf(key, "unknown query parameter %q; known: %s", key, known)
		}
		if err == nil {
			continue
		}
		msg := err.Error()
		if e, ok := errors.AsType[*occsimore.Error](err); ok {
			if e.Field != "" {
				return err
			}
			msg = e.Message
		}
		return occsimore.FieldErrorf(key, "%s=%q is not valid: %s", key, v, msg)
	}
	return nil
}

// parseTime reads an RFC 3339 time or a date (midnight UTC).
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, occsimore.Errorf(occsimore.EINVALID, "want an RFC 3339 time or a date such as 2026-03-01")
	}
	return t, nil
}
