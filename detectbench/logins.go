package detectbench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/occsimore/occsimore"
)

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
}

const botUA = "python-requests/2.31.0"

type device struct{ id, ua string }

// place is where a login comes from.
type place struct {
	c       *country
	city    int
	asn     uint32
	asnType string
	ip      string
}

type user struct {
	id      string
	idx     int
	home    *country
	city    int
	zone    *time.Location
	isp     uint32
	mobile  uint32
	devices []device
	hours   habitHours
	rate    float64
	trips   []trip
	rows    []row
}

// ipOf returns an address in asn for key: stable, so that the same key gives
// the same address.
func ipOf(asn uint32, key uint64) string {
	key = key*0x9e3779b97f4a7c15 + uint64(asn)
	key ^= key >> 29
	return fmt.Sprintf("%d.%d.%d.%d", 11+asn%200, (asn/200)%250, byte(key>>8), 1+byte(key)%254)
}

func (u *user) homePlace(day int) place {
	return place{u.home, u.city, u.isp, "isp", ipOf(u.isp, uint64(u.idx)<<16|uint64(day/14))}
}

func (u *user) login(r *rand.Rand, t time.Time, p place, d device, ok bool) occsimore.Event {
	lat, lon := jitter(r, p.c.cities[p.city])
	return occsimore.Event{
		Kind: "auth.login", Time: t, User: u.id, IP: p.ip, ASN: p.asn, Country: p.c.code,
		Lat: lat, Lon: lon, HasLocation: true, Device: d.id, UserAgent: d.ua,
		Success: ok, HasSuccess: true, Attrs: map[string]string{"asn_type": p.asnType},
	}
}

func newUser(seed uint64, i, days int) *user {
	r := rng(seed, 2, i+1)
	u := &user{id: fmt.Sprintf("user%05d", i), idx: i, home: pickHome(r)}
	u.city = pickCity(r, u.home)
	u.zone = u.home.zone()
	u.isp = u.home.isps[r.IntN(len(u.home.isps))]
	if r.Float64() < 0.6 {
		u.mobile = u.home.mobile
	}
	for k := range 1 + zipf(r, 3) {
		u.devices = append(u.devices, device{fmt.Sprintf("fp-%s-%d", u.id, k), userAgents[r.IntN(len(userAgents))]})
	}
	u.hours = newHours(r)
	u.rate = math.Min(10, math.Max(0.2, math.Exp(math.Log(1.4)+0.6*r.NormFloat64())))
	if r.Float64() < 0.2 {
		for range 1 + r.IntN(3) {
			ts := makeTrips(r, u.home, u.city, days, 1, 0)
			if r.Float64() < 0.5 {
				ts = makeTrips(r, u.home, u.city, days, 0, 1)
			}
			if len(ts) > 0 {
				t := ts[0]
				t.to = t.from + 2 + r.IntN(6)
				u.trips = append(u.trips, t)
			}
		}
	}
	for day := range days {
		tr := tripOn(u.trips, day)
		p := u.homePlace(day)
		switch {
		case tr != nil && tr.c == u.home:
			p.city = tr.city
			if u.mobile != 0 {
				p.asn, p.asnType = u.mobile, "mobile"
			}
			p.ip = ipOf(p.asn, uint64(u.idx)<<16|uint64(tr.from)|1<<15)
		case tr != nil:
			a := tr.c.isps[tr.from%len(tr.c.isps)]
			p = place{tr.c, tr.city, a, "isp", ipOf(a, uint64(u.idx)<<16|uint64(tr.from)|1<<14)}
		}
		for range poisson(r, u.rate) {
			t := at(day, u.hours.draw(r), u.zone)
			d := u.devices[zipf(r, len(u.devices))]
			if r.Float64() < 0.03 {
				u.rows = append(u.rows, row{u.login(r, t.Add(-time.Duration(5+r.IntN(36))*time.Second), p, d, false), -1})
			}
			u.rows = append(u.rows, row{u.login(r, t, p, d, true), -1})
		}
	}
	sortByTime(u.rows)
	u.rows = keepSpeed(u.rows)
	return u
}

// Logins generates the login half of cfg.
func Logins(cfg Config) (*Set, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	users := make([]*user, cfg.Users)
	for i := range users {
		users[i] = newUser(cfg.Seed, i, cfg.Days)
	}
	r := rng(cfg.Seed, 2, 0)
	windowStart := at(cfg.Days-incidentDays, 0, time.UTC)
	homeAnchors := func(u *user) []int {
		var out []int
		for i, rw := range u.rows {
			if rw.ev.Success && rw.ev.Country == u.home.code && rw.ev.ASN == u.isp && !rw.ev.Time.Before(windowStart) {
				out = append(out, i)
			}
		}
		return out
	}
	n := perKind(cfg.Users, 40)
	chosen, err := assign(r, len(users), LoginKinds, n, func(k Kind, i int) bool {
		switch k {
		case NewDeviceNight:
			return !users[i].hours.owl
		case FarSession:
			return len(homeAnchors(users[i])) > 0
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	var incs []Incident
	for k, kind := range LoginKinds {
		for _, i := range chosen[k] {
			id := len(incs)
			incs = append(incs, Incident{Kind: kind, Entity: users[i].id})
			plantLogin(r, users, i, kind, id, cfg.Days, homeAnchors)
		}
	}
	var rows []row
	for _, u := range users {
		rows = append(rows, u.rows...)
	}
	return finish("logins", LoginKinds, rows, incs), nil
}

// plantLogin adds incident id of kind against users[i].
func plantLogin(r *rand.Rand, users []*user, i int, kind Kind, id, days int, homeAnchors func(*user) []int) {
	u := users[i]
	day := windowDay(r, days, 1)
	t := at(day, u.hours.draw(r), u.zone)
	hosting := func(c *country) place {
		a := hostingASNs[r.IntN(len(hostingASNs))]
		return place{c, 0, a, "hosting", ipOf(a, r.Uint64())}
	}
	newDevice := device{fmt.Sprintf("fp-%s-x", u.id), userAgents[r.IntN(len(userAgents))]}
	switch kind {
	case Stuffing, SprayThenSuccess:
		// Victims' rows belong to the incident too; their own logins are
		// left as they are: an attack from afar is expected to clash.
		p := hosting(&fars[r.IntN(len(fars))])
		bot := device{fmt.Sprintf("bot-%d", id), botUA}
		tries, gap := 40, func() time.Duration { return 6 * time.Second }
		if kind == SprayThenSuccess {
			tries, gap = 25, func() time.Duration { return time.Duration(45+r.IntN(46)) * time.Second }
		}
		t = at(day, uniform(r, 0, 24), time.UTC)
		for _, v := range r.Perm(len(users))[:min(tries+1, len(users))] {
			if v == i || tries == 0 {
				continue
			}
			tries--
			vu := users[v]
			vu.rows = append(vu.rows, row{vu.login(r, t.In(vu.zone), p, bot, false), id})
			sortByTime(vu.rows)
			t = t.Add(gap())
		}
		if kind == SprayThenSuccess {
			t = t.Add(time.Duration(2+r.IntN(9)) * time.Minute)
		}
		u.rows = append(u.rows, row{u.login(r, t.In(u.zone), p, bot, true), id})
		sortByTime(u.rows)
		return
	}
	var ev occsimore.Event
	var keep func(*occsimore.Event) bool
	switch kind {
	case NewDeviceNight:
		p := u.homePlace(day)
		p.ip = ipOf(p.asn, r.Uint64())
		ev = u.login(r, at(day, uniform(r, 2, 4), u.zone), p, newDevice, true)
	case NewCountryHosting:
		o := &homes[r.IntN(len(homes))]
		for o == u.home {
			o = &homes[r.IntN(len(homes))]
		}
		ev = u.login(r, t, hosting(o), newDevice, true)
	case FarSession:
		as := homeAnchors(u)
		anchor := u.rows[as[r.IntN(len(as))]].ev
		f := &fars[r.IntN(len(fars))]
		p := place{f, 0, f.isps[0], "isp", ipOf(f.isps[0], r.Uint64())}
		ev = u.login(r, anchor.Time.Add(30*time.Minute), p, device{anchor.Device, anchor.UserAgent}, true)
		keep = func(e *occsimore.Event) bool { return e.Time.Equal(anchor.Time) && e.IP == anchor.IP }
		u.rows = dropBetween(u.rows, anchor.Time, ev.Time)
	case HomeVPN:
		p := hosting(u.home)
		p.city = u.city
		ev = u.login(r, t, p, u.devices[0], true)
	}
	u.rows = dropConflicts(u.rows, []occsimore.Event{ev}, keep)
	u.rows = append(u.rows, row{ev, id})
	sortByTime(u.rows)
}
