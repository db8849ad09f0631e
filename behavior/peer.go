package behavior

import (
	"math"
)

// peerStats is the population (or a peer group) of one (member, kind, role):
// what a typical entity looks like, used to score entities with little
// history and as the reference of the likelihood ratios.
//
// Decay uses growing weights instead of multiplying every counter at each
// event: an observation at time t weighs 2^((t-t0)/halfLife), so older
// observations weigh relatively less, and only ratios are ever read. When
// weights get large they are rescaled and t0 moves forward.
type peerStats struct {
	t0    int64   // unix nanoseconds; reference of the growing weights
	g     float64 // weight of the current event (transient)
	n     uint64  // events seen, undecayed: a group serves once it has enough
	num   []peerNum
	cat   []peerCat
	hours [24]float64
	days  [7]float64
	// Sums of hours and days, and the hours' resultant on the unit circle,
	// kept up to date so that scoring need not add 24 numbers. Snapshots
	// keep them rather than recompute them, so that a restored engine
	// scores to the last bit like the original.
	hourTot, hourC, hourS, dayTot float64
	vel                           []peerNum // mean of log(entity rate per second)
	gap                           peerNum   // log seconds between an entity's events
}

// peerNum is a decayed mean and variance of the values of the peers'
// events and, for numeric habits, Within: the mean of the entities' own
// variances at those events, the spread a typical entity keeps.
type peerNum struct{ W, Mean, Var, Within float64 }

type peerCat struct {
	W, Hist, Novel float64 // all events; events of entities with history; of those, new values
	keys           []uint64
	w              []float64
}

func newPeerStats(rl *roleLayout) *peerStats {
	p := &peerStats{num: make([]peerNum, len(rl.num)), cat: make([]peerCat, len(rl.cat)), vel: make([]peerNum, len(rl.vel))}
	for i, c := range rl.cat {
		if c.pop {
			p.cat[i].keys = make([]uint64, 0, populationTop)
			p.cat[i].w = make([]float64, 0, populationTop)
		}
	}
	return p
}

// halvingsBeforeRescale bounds the growing weights well inside float64.
const halvingsBeforeRescale = 200

// prepare sets the weight of an event at t, rescaling if needed.
// Roles of one event share it when their statistics started together.
func (p *peerStats) prepare(t int64, halfLife float64, m *memo) {
	if p.n == 0 && p.t0 == 0 {
		p.t0 = t
	}
	k := float64(t-p.t0) / halfLife
	if k > halvingsBeforeRescale {
		p.scale(math.Exp2(-k))
		p.t0 = t
		k = 0
	}
	p.g = m.exp(k * math.Ln2)
	p.n++
}

// scale multiplies every weight (never a mean or a variance) by f.
func (p *peerStats) scale(f float64) {
	for i := range p.num {
		p.num[i].W *= f
	}
	for i := range p.cat {
		c := &p.cat[i]
		c.W *= f
		c.Hist *= f
		c.Novel *= f
		for j := range c.w {
			c.w[j] *= f
		}
	}
	for i := range p.hours {
		p.hours[i] *= f
	}
	for i := range p.days {
		p.days[i] *= f
	}
	p.sumHours()
	for i := range p.vel {
		p.vel[i].W *= f
	}
	p.gap.W *= f
}

// add folds x with weight w into a running weighted mean and variance.
func (s *peerNum) add(w, x float64) {
	w1 := s.W + w
	if !(w1 > 0) || math.IsInf(w1, 0) {
		return
	}
	d := x - s.Mean
	s.Mean += w * d / w1
	s.Var = (s.W*s.Var + w*d*(x-s.Mean)) / w1
	s.W = w1
}

// addRobust is add with weight ps.g, once ps has peerReadyEvents events
// with x clipped to winsorK standard deviations of the mean (at least
// minVar): one member's outliers must not move every entity's prior.
// within, if not NaN, is the entity's own variance, folded into Within.
func (s *peerNum) addRobust(ps *peerStats, x, minVar, within float64) {
	if d, lim := x-s.Mean, winsorK*winsorK*max(s.Var, minVar); ps.n > peerReadyEvents && s.W > 0 && d*d > lim {
		r := math.Sqrt(lim)
		x = min(max(x, s.Mean-r), s.Mean+r)
	}
	if within == within && s.W+ps.g > 0 {
		if s.Within == 0 {
			s.Within = within
		} else {
			s.Within += ps.g * (min(within, maxNumVar) - s.Within) / (s.W + ps.g)
		}
	}
	s.add(ps.g, x)
}

// addValue counts value h in the population table, replacing the least
// frequent value when full.
func (c *peerCat) addValue(h uint64, g float64) {
	for i, k := range c.keys {
		if k == h {
			c.w[i] += g
			return
		}
	}
	if len(c.keys) < cap(c.keys) {
		c.keys = append(c.keys, h)
		c.w = append(c.w, g)
		return
	}
	if len(c.keys) == 0 {
		return
	}
	m := 0
	for i := range c.w {
		if c.w[i] < c.w[m] {
			m = i
		}
	}
	c.keys[m], c.w[m] = h, g
}

// share is the population share of h; a value outside the table gets half
// the share of the table's least frequent value.
func (c *peerCat) share(h uint64) (float64, bool) {
	if c.W <= 0 || len(c.keys) == 0 {
		return 0, false
	}
	m := c.w[0]
	for i, k := range c.keys {
		if k == h {
			return c.w[i] / c.W, true
		}
		m = min(m, c.w[i])
	}
	return 0.5 * m / c.W, true
}

// newValueShare is how common value h is among the peers, for a value new
// to an entity: its share if the population table keeps it, else the share
// of all the values the table lets go (its tail), at least half its least
// frequent one. An attribute with a long tail (networks, merchants) makes
// any unkept value common enough; one with a few values (countries)
// makes an unkept value rare.
func (c *peerCat) newValueShare(h uint64) (float64, bool) {
	if c.W <= 0 || len(c.keys) == 0 {
		return 0, false
	}
	m, sum := c.w[0], 0.0
	for i, k := range c.keys {
		if k == h {
			return c.w[i] / c.W, true
		}
		m = min(m, c.w[i])
		sum += c.w[i]
	}
	return max(0.5*m, c.W-sum) / c.W, true
}

// novelRate is the share of new values among events of entities that had
// history, with a floor so that a log never sees zero.
func (c *peerCat) novelRate() float64 {
	if c.Hist <= 0 {
		return defaultNovelRate
	}
	return min(max(c.Novel/c.Hist, 1e-3), 1)
}

const defaultNovelRate = 0.1

func (p *peerStats) addHour(h, d int) {
	p.hours[h] += p.g
	p.days[d] += p.g
	p.hourTot += p.g
	p.hourC += p.g * hourCos[h]
	p.hourS += p.g * hourSin[h]
	p.dayTot += p.g
}

// sumHours recomputes the derived sums.
func (p *peerStats) sumHours() {
	p.hourTot, p.hourC, p.hourS, p.dayTot = 0, 0, 0, 0
	for i, v := range p.hours {
		p.hourTot += v
		p.hourC += v * hourCos[i]
		p.hourS += v * hourSin[i]
	}
	for _, v := range p.days {
		p.dayTot += v
	}
}

// hourShare is the population share of hour h, smoothed over the
// neighbouring hours and mixed with 2% of uniform.
func (p *peerStats) hourShare(h int) float64 {
	if p.hourTot <= 0 {
		return 1.0 / 24
	}
	k := 0.5*p.hours[h] + 0.25*p.hours[(h+23)%24] + 0.25*p.hours[(h+1)%24]
	return 0.98*k/p.hourTot + 0.02/24
}

// hourResultant is the mean of the population's hours on the unit circle.
func (p *peerStats) hourResultant() (c, s float64) {
	if p.hourTot <= 0 {
		return 0, 0
	}
	return p.hourC / p.hourTot, p.hourS / p.hourTot
}

func (p *peerStats) dayShare(d int) float64 {
	if p.dayTot <= 0 {
		return 1.0 / 7
	}
	return 0.98*p.days[d]/p.dayTot + 0.02/7
}

// labelStats counts labels of a role's population, for the population fraud
// rate. Labels wait in pending, keyed by the hour they become usable, until
// an event at or after that hour.
type labelStats struct {
	t0         int64
	F, N       float64 // growing weights, see peerStats
	pending    map[uint32][2]float64
	minPending uint32 // smallest key of pending, 0 if empty
}

func (l *labelStats) add(hour uint32, fraud bool) {
	if l.pending == nil {
		l.pending = make(map[uint32][2]float64)
	}
	v := l.pending[hour]
	if fraud {
		v[0]++
	}
	v[1]++
	l.pending[hour] = v
	if l.minPending == 0 || hour < l.minPending {
		l.minPending = hour
	}
}

// promote moves the labels usable at t (unix nanoseconds) into F and N,
// oldest hour first: summed in map order, two hours usable at once would
// make the last bits of F and N, and so of scores, differ from run to run.
func (l *labelStats) promote(t int64, halfLife float64) {
	for l.minPending != 0 && int64(l.minPending)*hourNanos <= t {
		h := l.minPending
		v := l.pending[h]
		delete(l.pending, h)
		ht := int64(h) * hourNanos
		if l.N == 0 && l.t0 == 0 {
			l.t0 = ht
		}
		k := float64(ht-l.t0) / halfLife
		if k > halvingsBeforeRescale {
			f := math.Exp2(-k)
			l.F *= f
			l.N *= f
			l.t0 = ht
			k = 0
		}
		g := math.Exp2(k)
		l.F += v[0] * g
		l.N += v[1] * g
		l.minPending = 0
		for k := range l.pending {
			if l.minPending == 0 || k < l.minPending {
				l.minPending = k
			}
		}
	}
}

// rate is the population fraud rate, or false with no usable label yet.
func (l *labelStats) rate() (float64, bool) {
	if !(l.N > 0) {
		return 0, false
	}
	return min(max(l.F/l.N, 1e-4), 1-1e-4), true
}

const hourNanos = int64(3600e9)
