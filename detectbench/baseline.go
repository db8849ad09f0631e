package detectbench

import (
	"math"
	"strconv"
	"time"

	"github.com/occsimore/occsimore"
)

// Baseline is the crude scorer every engine figure stands beside: per-entity
// z-score of the log amount, novelty flags, travel speed and counts in the
// last minute, all online (each event is scored against the past, then
// learned). Its weights were set once from the description and are
// not tuned.
type Baseline struct {
	ents map[string]*baseEntity
	ips  map[string]*minuteCount
}

type baseEntity struct {
	n        int
	mean, m2 float64 // log amounts (Welford)
	seen     map[string]bool
	last     time.Time
	lat, lon float64
	hasLoc   bool
	recent   minuteCount
	events   int
}

// minuteCount holds the times of the last events, to count those of the last
// minute.
type minuteCount struct {
	t [16]int64
	n int
}

func (m *minuteCount) add(t time.Time) int {
	now := t.UnixNano()
	c := 0
	for _, x := range m.t[:min(m.n, len(m.t))] {
		if now-x < int64(time.Minute) && now >= x {
			c++
		}
	}
	m.t[m.n%len(m.t)] = now
	m.n++
	return c
}

// NewBaseline returns an empty baseline.
func NewBaseline() *Baseline {
	return &Baseline{ents: map[string]*baseEntity{}, ips: map[string]*minuteCount{}}
}

// Score scores ev against the past, learns it, and returns its score and its
// two largest reasons (codes named like the engine's: amount_high,
// new_country, new_device, new_terminal, new_hour, new_asn,
// impossible_travel, velocity_1m, ip_velocity_1m).
func (b *Baseline) Score(ev *occsimore.Event) (float64, [2]string) {
	key := ev.Card
	if key == "" {
		key = ev.User
	}
	e := b.ents[key]
	if e == nil {
		e = &baseEntity{seen: map[string]bool{}}
		b.ents[key] = e
	}
	var parts [9]float64
	codes := [9]string{"amount_high", "new_country", "new_device", "new_terminal", "new_hour", "new_asn", "impossible_travel", "velocity_1m", "ip_velocity_1m"}
	if ev.Amount > 0 {
		x := math.Log(ev.Amount)
		if e.n >= 5 {
			sd := math.Max(0.05, math.Sqrt(e.m2/float64(e.n-1)))
			parts[0] = math.Max(0, (x-e.mean)/sd)
		}
		e.n++
		d := x - e.mean
		e.mean += d / float64(e.n)
		e.m2 += d * (x - e.mean)
	}
	novel := func(i int, prefix, v string, w float64) {
		if v == "" {
			return
		}
		k := prefix + v
		if e.events >= 5 && !e.seen[k] {
			parts[i] = w
		}
		e.seen[k] = true
	}
	novel(1, "c", ev.Country, 3)
	novel(2, "d", ev.Device, 2)
	novel(3, "t", ev.Terminal, 1)
	novel(4, "h", strconv.Itoa(ev.Time.Hour()/3), 2)
	if ev.ASN != 0 {
		novel(5, "a", strconv.FormatUint(uint64(ev.ASN), 10), 2)
	}
	if ev.HasLocation {
		if e.hasLoc {
			d := km(e.lat, e.lon, ev.Lat, ev.Lon)
			h := ev.Time.Sub(e.last).Hours()
			if d > 100 && (h <= 0 || d/h > 900) {
				parts[6] = 4
			}
		}
		e.lat, e.lon, e.hasLoc, e.last = ev.Lat, ev.Lon, true, ev.Time
	}
	parts[7] = math.Max(0, float64(e.recent.add(ev.Time)-1))
	if ev.IP != "" {
		m := b.ips[ev.IP]
		if m == nil {
			m = &minuteCount{}
			b.ips[ev.IP] = m
		}
		parts[8] = math.Max(0, float64(m.add(ev.Time)-2))
	}
	e.events++
	var score float64
	first, second := -1, -1
	for i, p := range parts {
		score += p
		if p <= 0 {
			continue
		}
		if first < 0 || p > parts[first] {
			first, second = i, first
		} else if second < 0 || p > parts[second] {
			second = i
		}
	}
	var rs [2]string
	if first >= 0 {
		rs[0] = codes[first]
	}
	if second >= 0 {
		rs[1] = codes[second]
	}
	return score, rs
}
