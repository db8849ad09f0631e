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
	Model       string                  `json:"model,omitempty"`
	TrendPerDay *float64                `json:"trend_per_day,omitempty"`
	Forecast    []occsimore.DayForecast `json:"forecast,omitempty"`
	Rise        *riseJSON               `json:"rise,omitempty"`
}

type riseJSON struct {
	*occsimore.Rise
	Message string `json:"message"`
}

// newDailyResponse is the JSON form of r.
func newDailyResponse(r *occsimore.AttackReport) dailyResponse {
	resp := dailyResponse{Days: r.Days, Sector: r.Sector, Members: r.Members}
	if f := r.Forecast; f != nil {
		slope := f.TrendPerDay
		resp.Model, resp.TrendPerDay, resp.Forecast = f.Model, &slope, f.Days
		if f.Rise != nil {
			resp.Rise = &riseJSON{Rise: f.Rise, Message: f.Rise.Message()}
		}
	}
	return resp
}

// defaultDays is how many days the daily counts cover without since.
const defaultDays = 30

// handleAttacksDaily counts the member's attacks per UTC day, or with
// ?sector=true the counts summed over the member's own sector.
func (s *Server) handleAttacksDaily(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	var q occsimore.ReportQuery
	var sector bool
	err := eachParam(r.URL.Query(), "since, until, sector, forecast", func(key, v string) (err error) {
		switch key {
		case "forecast":
			if q.Horizon, err = strconv.Atoi(v); err != nil || q.Horizon < 1 || q.Horizon > 60 {
				return occsimore.FieldErrorf("forecast", "forecast %q must be a number of days from 1 to 60", v)
			}
		case "since":
			q.Since, err = parseTime(v)
		case "until":
			q.Until, err = parseTime(v)
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
	if q.Until.IsZero() {
		q.Until = s.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	}
	if q.Since.IsZero() {
		q.Since = q.Until.AddDate(0, 0, -defaultDays)
	}
	var rep *occsimore.AttackReport
	if sector {
		rep, err = s.AttackReports.SectorReport(r.Context(), p.Member.Sector, q)
	} else {
		rep, err = s.AttackReports.MemberReport(r.Context(), p.Member.ID, q)
	}
	if err != nil {
		return err
	}
	if rep.Withheld {
		return rep.WithheldError()
	}
	s.writeJSON(w, r, http.StatusOK, newDailyResponse(rep))
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
