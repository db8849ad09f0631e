package http_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
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
	small := newFixtureWith(t, func(s *occhttp.Server) { s.SectorMinMembers = 4 })
	r := small.do(t, "GET", "/v1/attacks/daily?sector=true", small.bankReader, "")
	if got, want := r.status, http.StatusForbidden; got != want {
		t.Fatalf("small sector: status %d, want %d; body %s", got, want, r.body)
	}
	if got, want := r.problem(t).Code, occsimore.EFORBIDDEN; got != want {
		t.Fatalf("small sector: code %q, want %q", got, want)
	}
}
