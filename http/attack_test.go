package http_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/attackreport"
	occhttp "github.com/occsimore/occsimore/http"
)

type attackPage struct {
	Attacks []*occsimore.Attack `json:"attacks"`
	Next    string              `json:"next"`
}

type daily struct {
	Days    []occsimore.DayCount `json:"days"`
	Sector  string               `json:"sector"`
	Members int                  `json:"members"`
}

// seedAttacks stores n attacks of m, one an hour back from the clock, the
// scenario alternating between ssh-bf and http-probing.
func seedAttacks(t *testing.T, e *env, m *occsimore.Member, n int) []*occsimore.Attack {
	t.Helper()
	var as []*occsimore.Attack
	for i := range n {
		end := e.clock.Now().Add(-time.Duration(i) * time.Hour)
		as = append(as, &occsimore.Attack{Scenario: []string{"ssh-bf", "http-probing"}[i%2], Scope: occsimore.ScopeIP,
			Source: fmt.Sprintf("192.0.2.%d", i), Start: end.Add(-time.Minute), End: end, Events: 5, Message: "m"})
	}
	if err := e.db.CreateAttacks(t.Context(), m.ID, as); err != nil {
		t.Fatal(err)
	}
	return as
}

func TestListAttacks(t *testing.T) {
	f := newFixture(t)
	as := seedAttacks(t, f.env, f.bank, 5) // as[0] newest
	seedAttacks(t, f.env, f.pharma, 2)
	page := func(t *testing.T, r response) attackPage {
		var p attackPage
		r.decode(t, &p)
		return p
	}
	ids := func(p attackPage) []string {
		var s []string
		for _, a := range p.Attacks {
			s = append(s, a.ID)
		}
		return s
	}
	var next string
	f.run([]scenario{
		{name: "first page", method: "GET", path: "/v1/attacks?limit=3", bearer: f.bankReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				p := page(t, r)
				if got, want := ids(p), []string{as[0].ID, as[1].ID, as[2].ID}; !slices.Equal(got, want) || p.Next != as[2].ID {
					t.Fatalf("page %v next %q, want %v next %q", got, p.Next, want, as[2].ID)
				}
				next = p.Next
			}},
	})
	f.run([]scenario{
		{name: "last page", method: "GET", path: "/v1/attacks?limit=3&before=" + next, bearer: f.bankReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				p := page(t, r)
				if got, want := ids(p), []string{as[3].ID, as[4].ID}; !slices.Equal(got, want) || p.Next != "" {
					t.Fatalf("page %v next %q, want %v and no next", got, p.Next, want)
				}
			}},
		{name: "filters", method: "GET", path: "/v1/attacks?scenario=ssh-bf&since=" + as[2].End.Format(time.RFC3339),
			bearer: f.bankReader, status: http.StatusOK, check: func(t *testing.T, r response) {
				if got, want := ids(page(t, r)), []string{as[0].ID, as[2].ID}; !slices.Equal(got, want) {
					t.Fatalf("filtered %v, want %v", got, want)
				}
			}},
		{name: "by source", method: "GET", path: "/v1/attacks?source=192.0.2.3", bearer: f.bankReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				if got, want := ids(page(t, r)), []string{as[3].ID}; !slices.Equal(got, want) {
					t.Fatalf("by source %v, want %v", got, want)
				}
			}},
		{name: "empty is an array", method: "GET", path: "/v1/attacks?scenario=none", bearer: f.bankReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				if got, want := string(r.body), `{"attacks":[]}`+"\n"; got != want {
					t.Fatalf("body %s, want %s", got, want)
				}
			}},
		{name: "bad since", method: "GET", path: "/v1/attacks?since=yesterday", bearer: f.bankReader,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "since"},
		{name: "limit too large", method: "GET", path: "/v1/attacks?limit=501", bearer: f.bankReader,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "limit"},
		{name: "limit zero", method: "GET", path: "/v1/attacks?limit=0", bearer: f.bankReader,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "limit"},
		{name: "limit negative", method: "GET", path: "/v1/attacks?limit=-1", bearer: f.bankReader,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "limit"},
		{name: "limit not a number", method: "GET", path: "/v1/attacks?limit=ten", bearer: f.bankReader,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "limit"},
		{name: "unknown parameter", method: "GET", path: "/v1/attacks?country=FR", bearer: f.bankReader,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "country"},
		{name: "other member's cursor", method: "GET", path: "/v1/attacks?before=" + as[0].ID, bearer: f.pharmaAdmin,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "before"},
		{name: "ingest may not read", method: "GET", path: "/v1/attacks", bearer: f.bankIngest,
			status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
	})
}

func TestAttacksDaily(t *testing.T) {
	f := newFixture(t) // ops, bank and pharma are all banking members
	today := f.clock.Now().UTC().Truncate(24 * time.Hour)
	seedAttacks(t, f.env, f.bank, 30) // the clock is 11:00: 12 today, 18 yesterday
	seedAttacks(t, f.env, f.pharma, 3)
	counts := func(d daily) []int {
		var c []int
		for _, x := range d.Days {
			c = append(c, x.Count)
		}
		return c
	}
	f.run([]scenario{
		{name: "default: the last 30 days", method: "GET", path: "/v1/attacks/daily", bearer: f.bankReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var d daily
				r.decode(t, &d)
				if got, want := len(d.Days), 30; got != want {
					t.Fatalf("%d days, want %d", got, want)
				}
				if last := d.Days[29]; !last.Day.Equal(today) || last.Count != 12 || d.Days[28].Count != 18 || d.Sector != "" {
					t.Fatalf("last days %+v %+v, sector %q", d.Days[28], last, d.Sector)
				}
			}},
		{name: "dates", method: "GET", path: "/v1/attacks/daily?since=" + today.AddDate(0, 0, -2).Format(time.DateOnly) +
			"&until=" + today.AddDate(0, 0, 1).Format(time.DateOnly), bearer: f.bankReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var d daily
				r.decode(t, &d)
				if got, want := counts(d), []int{0, 18, 12}; !slices.Equal(got, want) {
					t.Fatalf("counts %v, want %v", got, want)
				}
			}},
		{name: "sector", method: "GET", path: "/v1/attacks/daily?sector=true&since=" + today.Format(time.RFC3339), bearer: f.bankReader,
			status: http.StatusOK, check: func(t *testing.T, r response) {
				var d daily
				r.decode(t, &d)
				if got, want := counts(d), []int{15}; !slices.Equal(got, want) || d.Sector != "banking" || d.Members != 3 {
					t.Fatalf("sector %q (%d members) counts %v, want banking (3) %v", d.Sector, d.Members, got, want)
				}
			}},
		{name: "until before since", method: "GET", path: "/v1/attacks/daily?since=2026-11-02&until=2026-11-01", bearer: f.bankReader,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "until"},
		{name: "bad sector flag", method: "GET", path: "/v1/attacks/daily?sector=banking", bearer: f.bankReader,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "sector"},
		{name: "bad until", method: "GET", path: "/v1/attacks/daily?until=11/27", bearer: f.bankReader,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "until"},
	})

	// A sector with fewer members than required is refused.
	small := newFixtureWith(t, func(s *occhttp.Server) {
		s.AttackReports = &attackreport.Service{Attacks: s.Attacks, Now: s.Now, MinSectorMembers: 4}
	})
	r := small.do(t, "GET", "/v1/attacks/daily?sector=true", small.bankReader, "")
	if got, want := r.status, http.StatusForbidden; got != want {
		t.Fatalf("small sector: status %d, want %d; body %s", got, want, r.body)
	}
	if got, want := r.problem(t).Code, occsimore.EFORBIDDEN; got != want {
		t.Fatalf("small sector: code %q, want %q", got, want)
	}
}

// TestAttacksDailyForecast: with ?forecast=N the daily counts come with the
// trend, N days of forecast and a rise alert when today's count so far is
// already above its forecast's upper bound.
func TestAttacksDailyForecast(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	var as []*occsimore.Attack
	add := func(end time.Time, i int) {
		as = append(as, &occsimore.Attack{Scenario: "ssh-bf", Scope: occsimore.ScopeIP,
			Source: fmt.Sprintf("198.51.100.%d", i%250), Start: end.Add(-time.Minute), End: end, Events: 6, Message: "m"})
	}
	for d := 1; d <= 28; d++ { // four quiet weeks: 5 a day, 8 on Mondays
		n := 5
		if today.AddDate(0, 0, -d).Weekday() == time.Monday {
			n = 8
		}
		for i := range n {
			add(today.AddDate(0, 0, -d).Add(12*time.Hour+time.Duration(i)*time.Minute), i)
		}
	}
	for i := range 40 { // then a wave this morning
		add(now.Add(-time.Duration(i)*time.Minute), i)
	}
	if err := f.env.db.CreateAttacks(t.Context(), f.bank.ID, as); err != nil {
		t.Fatal(err)
	}
	type withForecast struct {
		Days        []occsimore.DayCount `json:"days"`
		Model       string               `json:"model"`
		TrendPerDay *float64             `json:"trend_per_day"`
		Forecast    []struct {
			Day                time.Time
			Mean, Lower, Upper float64
		} `json:"forecast"`
		Rise *struct {
			Count   int    `json:"count"`
			Message string `json:"message"`
		} `json:"rise"`
	}
	f.run([]scenario{
		{name: "forecast", method: "GET", path: "/v1/attacks/daily?forecast=7", bearer: f.bankReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var d withForecast
				r.decode(t, &d)
				if got, want := len(d.Forecast), 7; got != want {
					t.Fatalf("%d forecast days, want %d", got, want)
				}
				if !d.Forecast[0].Day.Equal(today) {
					t.Fatalf("first forecast day %v, want today %v (today is partial)", d.Forecast[0].Day, today)
				}
				for _, fd := range d.Forecast {
					if fd.Mean < 3 || fd.Mean > 10 || fd.Lower > fd.Mean || fd.Upper < fd.Mean {
						t.Fatalf("forecast %+v out of line with 5-8 attacks a day", fd)
					}
				}
				if d.TrendPerDay == nil || d.Model == "" {
					t.Fatalf("no trend or model: %+v", d)
				}
				if d.Rise == nil || d.Rise.Count != 40 || !strings.Contains(d.Rise.Message, "40 attacks on "+today.Format(time.DateOnly)) {
					t.Fatalf("rise = %+v, want today's 40 attacks", d.Rise)
				}
			}},
		{name: "no forecast by default", method: "GET", path: "/v1/attacks/daily", bearer: f.bankReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var d withForecast
				r.decode(t, &d)
				if d.Forecast != nil || d.Rise != nil || d.TrendPerDay != nil {
					t.Fatalf("forecast without asking: %+v", d)
				}
			}},
		{name: "bad horizon", method: "GET", path: "/v1/attacks/daily?forecast=365", bearer: f.bankReader,
			status: http.StatusBadRequest, code: occsimore.EINVALID, field: "forecast"},
	})
}
