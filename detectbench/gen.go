package detectbench

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/occsimore/occsimore"
)

// Kind is an incident kind.
type Kind string

// Card incident kinds.
const (
	FarCountry   Kind = "far_country"
	AmountSpike  Kind = "amount_spike"
	Night        Kind = "night"
	EcomBurst    Kind = "ecom_burst"
	FastTravel   Kind = "fast_travel"
	NewDevice    Kind = "new_device"
	NewTerminals Kind = "new_terminals"
)

// Login incident kinds.
const (
	Stuffing          Kind = "credential_stuffing"
	SprayThenSuccess  Kind = "spray_then_success"
	NewDeviceNight    Kind = "new_device_night"
	NewCountryHosting Kind = "new_country_hosting"
	FarSession        Kind = "far_session"
	HomeVPN           Kind = "home_vpn"
)

// CardKinds and LoginKinds list the kinds of each half, in report order.
var (
	CardKinds  = []Kind{FarCountry, AmountSpike, Night, EcomBurst, FastTravel, NewDevice, NewTerminals}
	LoginKinds = []Kind{Stuffing, SprayThenSuccess, NewDeviceNight, NewCountryHosting, FarSession, HomeVPN}
)

// Config sizes one generated data set.
type Config struct {
	Seed  uint64
	Cards int // 0: no card half
	Users int // 0: no login half
	Days  int // at least 20: incidents fall in the last 10
}

// DefaultConfig is the scale of issue 10.
func DefaultConfig(seed uint64) Config { return Config{Seed: seed, Cards: 3000, Users: 2000, Days: 90} }

// Start is the first day of every data set.
var Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

const incidentDays = 10

// Incident is one planted rupture and the rows (indexes into Set.Events) it
// made.
type Incident struct {
	Kind   Kind   `json:"kind"`
	Entity string `json:"entity"`
	Rows   []int  `json:"rows"`
}

// Set is one half of a data set, in time order.
type Set struct {
	Name      string // "cards" or "logins"
	Kinds     []Kind
	Events    []occsimore.Event
	Incident  []int // per event: its index in Incidents, or -1 if normal
	Incidents []Incident
}

// Validate checks c.
func (c Config) Validate() error {
	if c.Cards < 0 || c.Users < 0 || c.Cards+c.Users == 0 {
		return fmt.Errorf("detectbench: cards %d and users %d must be 0 or more, not both 0", c.Cards, c.Users)
	}
	if c.Days < 2*incidentDays {
		return fmt.Errorf("detectbench: days %d must be at least %d", c.Days, 2*incidentDays)
	}
	return nil
}

// perKind is the number of incidents of each kind for n entities.
func perKind(n, per int) int { return max(1, n/per) }

// row is an event being generated.
type row struct {
	ev  occsimore.Event
	inc int // -1: normal
}

// rng returns the random stream of one entity (or of the planting, at
// stream 0), independent of every other.
func rng(seed uint64, half, stream int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(half)<<40|uint64(stream)))
}

func poisson(r *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// zipf picks 0..n-1 with weights 1/(i+1).
func zipf(r *rand.Rand, n int) int {
	var h float64
	for i := range n {
		h += 1 / float64(i+1)
	}
	x := r.Float64() * h
	for i := range n {
		if x -= 1 / float64(i+1); x < 0 {
			return i
		}
	}
	return n - 1
}

func logUniform(r *rand.Rand, lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo)))
}

func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

// habitHours is a usual time of day.
type habitHours struct {
	peak, spread float64
	owl          bool
}

func newHours(r *rand.Rand) habitHours {
	if r.Float64() < 0.08 {
		return habitHours{peak: uniform(r, 20, 23), spread: 2, owl: true}
	}
	return habitHours{peak: uniform(r, 9, 19), spread: uniform(r, 1.5, 3.5)}
}

// draw returns an hour of day, as a fraction.
func (h habitHours) draw(r *rand.Rand) float64 {
	for {
		x := h.peak + h.spread*r.NormFloat64()
		if h.owl {
			return math.Mod(x+48, 24)
		}
		if x >= 6.5 && x < 23.5 {
			return x
		}
	}
}

// at returns day d of the period at hour h of zone z.
func at(day int, h float64, z *time.Location) time.Time {
	d := Start.AddDate(0, 0, day)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, z).Add(time.Duration(h * float64(time.Hour)))
}

// jitter places a point about 5 km around c.
func jitter(r *rand.Rand, c city) (float64, float64) {
	return c.lat + 0.045*r.NormFloat64(), c.lon + 0.045*r.NormFloat64()/math.Cos(c.lat*math.Pi/180)
}

func pickHome(r *rand.Rand) *country {
	x := r.Float64()
	for i := range homes {
		if x -= homes[i].weight; x < 0 {
			return &homes[i]
		}
	}
	return &homes[0]
}

func pickCity(r *rand.Rand, c *country) int {
	if r.Float64() < 0.4 {
		return 0
	}
	return r.IntN(len(c.cities))
}

// trip is a stay away from the home city.
type trip struct {
	from, to int // days, to excluded
	c        *country
	city     int
}

func makeTrips(r *rand.Rand, home *country, homeCity, days int, domestic, abroad float64) []trip {
	var ts []trip
	if r.Float64() < domestic && len(home.cities) > 1 {
		for range max(1, poisson(r, 1.5)) {
			c := r.IntN(len(home.cities) - 1)
			if c >= homeCity {
				c++
			}
			from := r.IntN(days)
			ts = append(ts, trip{from, from + 1 + r.IntN(5), home, c})
		}
	}
	if r.Float64() < abroad {
		o := &homes[r.IntN(len(homes))]
		for o == home {
			o = &homes[r.IntN(len(homes))]
		}
		from := r.IntN(days)
		ts = append(ts, trip{from, from + 2 + r.IntN(6), o, 0})
	}
	return ts
}

func tripOn(ts []trip, day int) *trip {
	for i := range ts {
		if day >= ts[i].from && day < ts[i].to {
			return &ts[i]
		}
	}
	return nil
}

// speedOK reports whether going from a to b is no faster than 150 km/h
// (with 30 km of slack for jitter).
func speedOK(a, b *occsimore.Event) bool {
	if !a.HasLocation || !b.HasLocation {
		return true
	}
	d := km(a.Lat, a.Lon, b.Lat, b.Lon)
	if d < 30 {
		return true
	}
	h := math.Abs(b.Time.Sub(a.Time).Hours())
	return d <= 150*h
}

// keepSpeed drops the located rows that would imply more than 150 km/h from
// the previous kept located row. rows are in time order.
func keepSpeed(rows []row) []row {
	out := rows[:0]
	var last *occsimore.Event
	for _, rw := range rows {
		if rw.ev.HasLocation {
			if last != nil && !speedOK(last, &rw.ev) {
				continue
			}
		}
		out = append(out, rw)
		if rw.ev.HasLocation {
			last = &out[len(out)-1].ev
		}
	}
	return out
}

// dropConflicts drops the normal rows of rows that would imply more than 150
// km/h with any of the incident events, except keep.
func dropConflicts(rows []row, inc []occsimore.Event, keep func(*occsimore.Event) bool) []row {
	return slices.DeleteFunc(rows, func(rw row) bool {
		if rw.inc >= 0 || (keep != nil && keep(&rw.ev)) {
			return false
		}
		for i := range inc {
			if !speedOK(&rw.ev, &inc[i]) {
				return true
			}
		}
		return false
	})
}

// finish sorts rows by time into a Set.
func finish(name string, kinds []Kind, rows []row, incs []Incident) *Set {
	slices.SortStableFunc(rows, func(a, b row) int { return a.ev.Time.Compare(b.ev.Time) })
	s := &Set{Name: name, Kinds: kinds, Incidents: incs,
		Events: make([]occsimore.Event, len(rows)), Incident: make([]int, len(rows))}
	p := "c"
	if name == "logins" {
		p = "l"
	}
	for i := range rows {
		s.Events[i] = rows[i].ev
		s.Events[i].ID = fmt.Sprintf("%s%07d", p, i)
		s.Incident[i] = rows[i].inc
		if k := rows[i].inc; k >= 0 {
			incs[k].Rows = append(incs[k].Rows, i)
		}
	}
	return s
}

// windowDay returns a random day of the incident window, leaving room for
// span days.
func windowDay(r *rand.Rand, days, span int) int {
	return days - incidentDays + r.IntN(incidentDays-span+1)
}

// assign gives each kind n entities drawn in a seeded order among those
// eligible, each entity at most one incident. It returns entity index per
// kind.
func assign(r *rand.Rand, entities int, kinds []Kind, n int, eligible func(Kind, int) bool) ([][]int, error) {
	order := r.Perm(entities)
	used := make([]bool, entities)
	out := make([][]int, len(kinds))
	for k, kind := range kinds {
		for _, e := range order {
			if len(out[k]) == n {
				break
			}
			if !used[e] && eligible(kind, e) {
				used[e] = true
				out[k] = append(out[k], e)
			}
		}
		if len(out[k]) < n {
			return nil, fmt.Errorf("detectbench: only %d of %d entities eligible for %s", len(out[k]), n, kind)
		}
	}
	return out, nil
}

func sortByTime(rows []row) {
	slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(a.ev.Time.UnixNano(), b.ev.Time.UnixNano()) })
}
