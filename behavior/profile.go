package behavior

import (
	"math"
	"math/bits"
	"time"

	"github.com/occsimore/occsimore"
)

// Scoring constants. Contributions are in nats (natural logs of likelihood
// ratios).
const (
	// priorEvents is how many events of the peer group an entity's own
	// numeric history is blended with: with W events, the entity weighs
	// W/(W+3).
	priorEvents = 3.0
	// settleEvents is how fast an entity's top-K table takes over from its
	// peers: it weighs 1-exp(-W/3) after W events. The ramp is steeper than
	// W/(W+a) on purpose: with the latter a new value could never be less
	// likely than a/(W+a), whatever the peers say, and a card that always
	// stayed in one country would find a new one barely more surprising
	// than a new shop. With the ramp, the entity's own new-value rate,
	// smoothed towards its peers', decides once it has a few events.
	settleEvents = 3.0
	// novelPrior is the weight, in events, of the peer new-value rate in an
	// entity's own new-value rate.
	novelPrior = 2.0
	// huberK is where the numeric surprisal turns from quadratic to linear,
	// in standard deviations, so heavy tails do not explode.
	huberK = 2.0
	// priorHours is priorEvents for the hour and day tables: a histogram
	// personalises faster than a top-K table.
	priorHours = 1.0
	priorDays  = 7.0
	// floorContribution bounds how much familiarity can take off the score
	// per feature, and familiarityCap in all: familiar values are strongly
	// correlated (the usual device comes with the usual IP, ASN and
	// country), so summing them in full would let them hide one broken
	// habit.
	floorContribution  = -1.0
	familiarFloorRatio = 0.36787944117144233 // exp(floorContribution)
	familiarityCap     = 1.0
	// capContribution bounds one feature's contribution.
	capContribution = 20.0
	// noiseFloor is taken off a tail surprisal (-log of a p-value: numbers,
	// the time of day): it exceeds x with probability e^-x, so each such
	// habit of an ordinary event adds about one nat of noise, and a score
	// summing several would outrank one habit broken hard. A likelihood
	// ratio (new values, velocity, travel) averages at most zero on
	// ordinary events and keeps its value.
	noiseFloor = 1.0
	// groupShare is the weight of every contribution of a group of
	// correlated habits but its largest.
	groupShare = 0.25
	// minReason is the smallest contribution worth a reason.
	minReason = 0.5
	// travelBase is the contribution of a move at exactly the speed limit,
	// and travelSlope how much each factor e of speed above it adds: 500 km
	// in 12 minutes weighs more than 300 km in an hour.
	travelBase  = 7.0
	travelSlope = 3.0
	// peerReadyEvents is how many events peer statistics need before
	// numeric scores lean on them.
	peerReadyEvents = 20
	// minClockVar is the smallest variance of a time of day, in radians²:
	// one hour.
	minClockVar = (2 * math.Pi / 24) * (2 * math.Pi / 24)
	// ratePriorSeconds is the time, in seconds at the peer rate, that a
	// velocity estimate starts from.
	ratePriorSeconds = 86400.0
	// enoughHistory is how many events of its own an entity needs before
	// its peers no longer weigh in its numeric habits.
	enoughHistory = 10.0
	// priorVarEvents is the weight, in events, of the typical entity's
	// spread in an entity's own (log-scale attributes only).
	priorVarEvents = 5.0
	// robustEvents is how many events an entity (or peer group) needs
	// before a value it learns is clipped to winsorK standard deviations
	// of its mean.
	robustEvents = 3.0
	winsorK      = 4.0
	// logPriorVar is the variance a log-scale attribute is given when no
	// peers are ready: amounts within a factor of about 1.6 of each other.
	logPriorVar = 0.25
	// logMinVar floors the variance of a log-scale attribute: an entity
	// that always spends the same is not expected to be a clock.
	logMinVar = 0.04
	// maxLinear bounds a linear numeric value so that every statistic
	// (squares included) stays finite in a float32 profile; maxNumVar
	// bounds a variance likewise.
	maxLinear = 1e15
	// maxDegrees bounds the degrees of freedom of a numeric score's Student
	// t: however long its history, an entity's values have heavier tails
	// than a Gaussian.
	maxDegrees = 50.0
	// A new value that the member's population almost never has is rarer
	// still for a legitimate customer (a holiday destination is common
	// among peers, a fraudster's country or a hosting network is not): it
	// adds log(rareShare / population share), at most rareCap nats; a new
	// value common among peers takes off at most commonCap.
	rareShare = 0.01
	rareCap   = 5.0
	commonCap = 2.0
	// The home area: a centroid of the entity's locations at a 30-day
	// half-life, known after homeEvents of them; an event more than awayKm
	// from it is away from home.
	homeHalfLife = Duration(30 * 24 * time.Hour)
	homeEvents   = 3.0
	awayKm       = 100.0
	maxNumVar    = 1e36
)

// Word accessors. Profiles are []uint32; floats are float32 bits.
func f32(p []uint32, i int) float64       { return float64(math.Float32frombits(p[i])) }
func setF32(p []uint32, i int, v float64) { p[i] = math.Float32bits(float32(v)) }

func lastTime(p []uint32) int64 { return int64(uint64(p[hdrLastLo]) | uint64(p[hdrLastHi])<<32) }
func setLastTime(p []uint32, t int64) {
	p[hdrLastLo] = uint32(uint64(t))
	p[hdrLastHi] = uint32(uint64(t) >> 32)
}

// contribute adds a weighted, clamped contribution to the score and returns
// it, with whether it is large enough for a reason. Callers build the Reason
// only then: most contributions get none.
func (c *evCtx) contribute(weight, v float64) (float64, bool) {
	if !(v == v) { // NaN: no evidence
		return 0, false
	}
	v = min(max(v, floorContribution), capContribution) * weight
	if v < 0 {
		c.familiar += v
		return v, false
	}
	c.res.Score += v
	return v, v >= minReason
}

// contributeGroup is contribute for a block of a group of correlated
// habits (a new network comes with a new address, a new country with new
// shops): the group adds its largest contribution in full and the others
// at groupShare, so that one change of place does not count four times.
// Each block adds its share as it comes: groupShare of itself plus the rest
// of what it raises the group's largest by.
func (c *evCtx) contributeGroup(g uint8, weight, v float64) (float64, bool) {
	if g == 0 || !(v > 0) {
		return c.contribute(weight, v)
	}
	v = min(v, capContribution) * weight
	top := c.groupMax[g]
	add := groupShare*v + (1-groupShare)*max(v-top, 0)
	c.groupMax[g] = max(top, v)
	c.res.Score += add
	return add, add >= minReason
}

// reason keeps r, whose contribution is v, among the result's reasons.
func (c *evCtx) reason(v float64, r *Reason) {
	r.Contribution = v
	c.res.addReason(r)
}

// run scores the event against profile p and, if c.update, moves the
// profile to the event's time and counts it (velocity, count, last time).
// What the event teaches the habits is folded in by learn, once the whole
// event is scored, unless it is blocked. sp is the reference peer
// statistics; rs.pop and grp (if not nil) are the ones to update.
func (rl *roleLayout) run(c *evCtx, p []uint32, rs *roleStore, sp, grp *peerStats) {
	last := lastTime(p)
	isNew := last == 0
	late := !isNew && c.t < last
	obs := &unitRates
	var lateObs [maxRates]float64
	switch {
	case isNew:
	case late:
		rl.lateWeights(last-c.t, &lateObs)
		obs = &lateObs
	default:
		if dt := float64(c.t-last) / 1e9; dt > 0 {
			var fac [maxRates]float64
			for i, r := range rl.rates {
				fac[i] = decay(dt * r)
			}
			rl.advance(p, &fac)
		}
	}
	if rl.risk != nil {
		ref := max(last, c.t)
		if late {
			ref = last
		}
		rl.promote(p, c.t, ref)
	}

	f := &c.res.Features
	count := p[hdrCount]
	age := 0.0
	if !isNew {
		age = max(float64(c.t)/1e9-float64(p[hdrFirst]), 0)
	}
	f[rl.feat] = float32(count)
	f[rl.feat+1] = float32(age / 86400)

	c.novel = 0
	c.groupMax = [MaxGroups + 1]float64{}
	for i := range rl.num {
		rl.num[i].run(c, rl, p, sp, i)
	}
	for i := range rl.cat {
		rl.cat[i].run(c, rl, p, sp, i)
	}
	if rl.hours != nil {
		rl.hours.run(c, rl, p, sp)
	}
	c.away = false
	if rl.travel != nil { // before velocity, which needs c.away
		rl.travel.run(c, rl, p)
	}
	for i := range rl.vel {
		rl.vel[i].run(c, rl, p, obs, age, sp, rs.pop, grp, i)
	}
	if rl.gap != nil {
		rl.gap.run(c, rl, p, last, isNew || late, sp)
	}
	if rl.risk != nil {
		rl.risk.run(c, rl, p, rs)
	}

	if !c.update {
		return
	}
	c.last[c.role] = last
	if isNew {
		p[hdrFirst] = uint32(c.t / 1e9)
	} else if s := uint32(c.t / 1e9); s < p[hdrFirst] {
		p[hdrFirst] = s
	}
	if !late {
		setLastTime(p, c.t)
	}
	if count < math.MaxUint32 {
		p[hdrCount] = count + 1
	}
}

// learn folds the event into the habits of profile p, whose time before
// the event was last, and into the peer statistics: the second half of
// Process for an event that is not blocked, so that fraud stopped at the
// door does not become the card's habit.
func (rl *roleLayout) learn(c *evCtx, p []uint32, rs *roleStore, grp *peerStats, last int64) {
	isNew := last == 0
	late := !isNew && c.t < last
	obs := &unitRates
	var lateObs [maxRates]float64
	if late {
		rl.lateWeights(last-c.t, &lateObs)
		obs = &lateObs
	}
	for i := range rl.num {
		rl.num[i].learn(c, p, obs, rs.pop, grp, i)
	}
	for i := range rl.cat {
		rl.cat[i].learn(c, p, obs, rs.pop, grp, i)
	}
	if rl.hours != nil {
		rl.hours.learn(c, p, rs.pop, grp)
	}
	if rl.gap != nil && !isNew && !late {
		rl.gap.learn(c, p, rs.pop, grp)
	}
	if rl.travel != nil {
		rl.travel.learn(c, p, obs)
	}
}

// remember marks the event's values in the seen filters of p.
func (rl *roleLayout) remember(c *evCtx, p []uint32) {
	for i := range rl.cat {
		b := &rl.cat[i]
		if b.seenWords == 0 {
			continue
		}
		if _, _, _, sh, ok := b.hash(c, i); ok {
			b.markSeen(p, sh)
		}
	}
}

// lateWeights is the weight, at each rate, of an event ns nanoseconds
// older than its profile.
func (rl *roleLayout) lateWeights(ns int64, w *[maxRates]float64) {
	dt := float64(ns) / 1e9
	for i, r := range rl.rates {
		w[i] = decay(dt * r)
	}
}

// unitRates is the observation weight at every rate of an event that is
// not late. Read only.
var unitRates = func() (w [maxRates]float64) {
	for i := range w {
		w[i] = 1
	}
	return w
}()

// advance decays every decayed counter of p by the factors of its rates.
func (rl *roleLayout) advance(p []uint32, fac *[maxRates]float64) {
	from := 0
	for _, r := range rl.decayRuns {
		f := fac[r.rate]
		for _, o := range rl.decayOffs[from:r.end] {
			p[o] = math.Float32bits(float32(float64(math.Float32frombits(p[o])) * f))
		}
		from = int(r.end)
	}
	// Exposure: the decayed count a unit-rate process would have.
	for _, x := range rl.exposures {
		setF32(p, int(x.off), x.long-(x.long-f32(p, int(x.off)))*fac[x.rate])
	}
}

// numObserve folds x with weight w into the decayed mean and variance at o.
// Once the entity has robustEvents events, x is first clipped to
// winsorK standard deviations of the mean, so that one outlier the score
// let through moves the habit by at most that much.
func numObserve(p []uint32, o int, w, x, minVar float64) {
	W, mu, v := f32(p, o), f32(p, o+1), f32(p, o+2)
	W1 := W + w
	if !(W1 > 0) {
		return
	}
	d := x - mu
	if lim := winsorK * winsorK * max(v, minVar); W >= robustEvents && d*d > lim {
		r := math.Sqrt(lim)
		x = min(max(x, mu-r), mu+r)
		d = x - mu
	}
	mu1 := mu + w*d/W1
	v1 := (W*v + w*d*(x-mu1)) / W1
	setF32(p, o, W1)
	setF32(p, o+1, mu1)
	setF32(p, o+2, min(max(v1, 0), maxNumVar))
}

// blend mixes an entity's mean and variance (weight W) with its peers'
// (weight priorEvents at first), so that a new entity is judged against
// them. The peers' weight fades to nothing at enoughHistory events: they
// help a cold start but never move the usual value, nor widen the scale,
// of an entity with a history of its own. Peers with fewer than
// peerReadyEvents events (a member's first) are not trusted; priorVar, if
// positive, then stands for their variance (a log-scale attribute has a
// natural one), else the entity stands alone once it has priorEvents
// events, with a spread of at least 10% of its mean.
func blend(W, mu, v float64, peer *peerNum, peerEvents uint64, priorVar float64) (mean, variance float64, ok bool) {
	a := priorEvents * max(0, 1-W/enoughHistory)
	switch {
	case peer.W > 0 && peerEvents >= peerReadyEvents:
		mean = (W*mu + a*peer.Mean) / (W + a)
		variance = (W*v + a*peer.Var) / (W + a)
		if peer.Within > 0 {
			priorVar = peer.Within
		}
	case priorVar > 0:
		if W <= 0 {
			return 0, 0, false
		}
		mean = mu
		variance = (W*v + a*priorVar) / (W + a)
	default:
		if W < priorEvents {
			return 0, 0, false
		}
		return mu, max(v, 0.01*mu*mu), true
	}
	if priorVar > 0 {
		// A spread estimated from W events is itself uncertain: shrink it
		// towards the spread a typical entity keeps (not the spread between
		// entities), with the weight of priorVarEvents events.
		variance = (W*variance + priorVarEvents*priorVar) / (W + priorVarEvents)
	}
	return mean, variance, true
}

// surprisal is the excess surprisal of a z-score under a density that is
// Gaussian in its core and Laplace in its tails: 0 on average for normal
// values, linear in |z| far out.
func surprisal(z float64) float64 {
	a := math.Abs(z)
	if a <= huberK {
		return 0.5*a*a - 0.5
	}
	return huberK*a - 0.5*huberK*huberK - 0.5
}

// tailSurprisal is -log of the two-sided Gaussian p-value of z: 0 at the
// mean, 8.5 nats at p = 2e-4 (3.7σ), so that a numeric habit broken that
// rarely weighs what a new country does for an entity that keeps to one.
func tailSurprisal(z float64) float64 {
	a := math.Abs(z) * math.Sqrt2 / 2
	if a < 5 {
		return -fastLog(math.Erfc(a))
	}
	// erfc(a) ~ exp(-a²)/(a√π) (1 - 1/(2a²)), within 1% here.
	return a*a + fastLog(a*math.SqrtPi) - fastLog(1-0.5/(a*a))
}

// value reads the block's attribute of the event, bounded so that every
// statistic (squares included) stays finite in a float32 profile, and
// returns it with its modelled form (its log for a log-scale block).
// excessSurprisal is the tail surprisal of a Student t value z with nu
// degrees of freedom, less noiseFloor, and never below zero; or below, any
// value at most floor when that is more, for a caller that takes the
// larger. Most values are ordinary: a bound spares them the tail.
func excessSurprisal(z, nu, floor float64) float64 {
	a := math.Abs(z)
	// tailSurprisal(z) <= z²/2 + 0.8|z| + 0.1 for every z, and tToZ
	// shrinks |z|.
	if 0.5*a*a+0.8*a+0.1-noiseFloor <= max(floor, 0) {
		return 0
	}
	return max(tailSurprisal(tToZ(z, nu))-noiseFloor, 0)
}

// tToZ maps a Student t value with nu degrees of freedom (at most
// maxDegrees: real habits have heavier tails than a Gaussian) to the normal
// z of the same tail probability, after Wallace (1959): within 2% of z for
// nu >= 3 out to p = 1e-6.
func tToZ(t, nu float64) float64 {
	nu = min(max(nu, 1), maxDegrees)
	z := math.Sqrt(nu*fastLog1p(t*t/nu)) * (1 - 1/(4*nu))
	return math.Copysign(z, t)
}

// fastLog1p is log(1+x) for x >= 0 at fastLog's cost; precise enough for
// the scores, whose x are never tiny where it matters.
func fastLog1p(x float64) float64 {
	if x < 1e-4 {
		return x * (1 - x/2)
	}
	return fastLog(1 + x)
}

func (b *numBlock) value(c *evCtx) (raw, x float64, ok bool) {
	raw, ok = numValue(c.ev, b.a)
	if !ok || (b.log && raw <= -1) {
		return 0, 0, false
	}
	raw = min(max(raw, -maxLinear), maxLinear)
	if !b.log {
		return raw, raw, true
	}
	if b.a.kind != attrAmount {
		return raw, fastLog1p(raw), true
	}
	// Every role of a card payment models the log of its amount: once.
	if !c.logAmountOK {
		c.logAmount, c.logAmountOK = fastLog1p(raw), true
	}
	return raw, c.logAmount, true
}

func (b *numBlock) run(c *evCtx, rl *roleLayout, p []uint32, sp *peerStats, idx int) {
	raw, x, ok := b.value(c)
	if !ok {
		return
	}
	f := &c.res.Features
	peer := &sp.num[idx]
	for j := range b.rates {
		o := b.off + 3*j
		W, mu, v := f32(p, o), f32(p, o+1), f32(p, o+2)
		fo := b.feat + 3*j
		f[fo] = float32(W)
		if W > 0 {
			f[fo+1] = float32(b.raw(mu))
		}
		mean, variance, ok := blend(W, mu, v, peer, sp.n, b.priorVar)
		if !ok {
			continue
		}
		sd := math.Sqrt(max(variance, b.minVar) + 1e-4*mean*mean + 1e-12)
		z := (x - mean) / sd
		f[fo+2] = float32(z)
		if j != b.longest || b.mute {
			continue
		}
		if z < 0 && b.log {
			// Spending less than usual is no evidence of fraud on its
			// own (card testing shows as a burst), and a log scale has a
			// long low tail: coffee on a card that mostly buys groceries.
			continue
		}
		// The mean and spread are estimates from about W events (and the
		// peers' prior): judge z as a Student t with that many degrees of
		// freedom, so that a young entity's narrow spread does not make
		// an ordinary value look extreme.
		nu := W + priorEvents*max(0, 1-W/enoughHistory) - 1
		if b.priorVar > 0 {
			nu += priorVarEvents // the spread's prior is worth that many events
		}
		s := excessSurprisal(z, nu, 0)
		if v, ok := c.contribute(b.weight, s); ok {
			r := Reason{Code: b.codeHi, Role: rl.name, Attr: b.a.name, form: formNumeric,
				Value: raw, Baseline: b.raw(mean), Sigma: z}
			if b.log {
				r.form = formRatio
			}
			if z < 0 {
				r.Code = b.codeLo
			}
			c.reason(v, &r)
		}
	}
}

// learn folds the value into the entity's statistics and its peers'.
func (b *numBlock) learn(c *evCtx, p []uint32, obs *[maxRates]float64, pop, grp *peerStats, idx int) {
	_, x, ok := b.value(c)
	if !ok {
		return
	}
	// The entity's own spread, once it has one worth the name.
	within := math.NaN()
	if o := b.off + 3*b.longest; f32(p, o) >= enoughHistory {
		within = f32(p, o+2)
	}
	for j, r := range b.rates {
		numObserve(p, b.off+3*j, obs[r], x, b.minVar)
	}
	pop.num[idx].addRobust(pop, x, b.minVar, within)
	if grp != nil {
		grp.num[idx].addRobust(grp, x, b.minVar, within)
	}
}

// raw undoes the Log transform for display.
func (b *numBlock) raw(v float64) float64 {
	if b.log {
		return fastExp(v) - 1
	}
	return v
}

// Categorical block layout: W, novel, then k × (fingerprint, weight), then
// the seen filter's words.
func (b *catBlock) find(p []uint32, fp uint32) int {
	for j := 0; j < b.k; j++ {
		if p[b.off+2+2*j] == fp {
			return j
		}
	}
	return -1
}

// seenBits are the two bits of the seen filter that stand for seen hash h.
func (b *catBlock) seenBits(h uint64) (uint32, uint32) {
	n := uint64(b.seenWords * 32)
	return uint32(h % n), uint32((h >> 32) % n)
}

// seen reports whether the entity ever had value h, by its seen filter (a
// Bloom filter of two bits a value, false positives but never a false
// negative): a value out of its top K may still be an old one.
func (b *catBlock) seen(p []uint32, h uint64) bool {
	if b.seenWords == 0 {
		return false
	}
	i, j := b.seenBits(h)
	o := b.seenOff
	return p[o+int(i>>5)]>>(i&31)&1 != 0 && p[o+int(j>>5)]>>(j&31)&1 != 0
}

func (b *catBlock) markSeen(p []uint32, h uint64) {
	i, j := b.seenBits(h)
	p[b.seenOff+int(i>>5)] |= 1 << (i & 31)
	p[b.seenOff+int(j>>5)] |= 1 << (j & 31)
}

// hash reads the block's value of the event and hashes it, once per
// event: learn finds the hashes run made. h is seeded (the engine's secret
// seed); sh, for the seen filter only, is not, so that a journal replayed
// under another seed (a restart with no snapshot) rebuilds the same
// filters. A crafted value could at worst look met to one entity, which
// nobody can aim without knowing that entity's values.
func (b *catBlock) hash(c *evCtx, idx int) (s string, n, h, sh uint64, ok bool) {
	s, n, ok = catValue(c.ev, &b.a)
	if !ok {
		return "", 0, 0, 0, false
	}
	if c.hashSet[c.role]&(1<<idx) != 0 {
		return s, n, c.hashes[c.role][idx], c.seenHashes[c.role][idx], true
	}
	if b.a.kind == attrCountry {
		h = c.countryHash()
	} else {
		h = c.e.catHash(s, n)
	}
	if b.seenWords > 0 {
		if s == "" {
			sh = hashUint(0, n)
		} else {
			sh = hashString(0, s)
		}
	}
	c.hashes[c.role][idx], c.seenHashes[c.role][idx] = h, sh
	c.hashSet[c.role] |= 1 << idx
	return s, n, h, sh, true
}

func (b *catBlock) run(c *evCtx, rl *roleLayout, p []uint32, sp *peerStats, idx int) {
	s, n, h, sh, ok := b.hash(c, idx)
	if !ok {
		return
	}
	fp := fingerprint(h)
	W, novel := f32(p, b.off), f32(p, b.off+1)
	found := b.find(p, fp)
	isNovel := found < 0 && !b.seen(p, sh)
	// A new value names the entity's top value in its reason.
	top := -1
	var topW float64
	if isNovel {
		for j := 0; j < b.k; j++ {
			o := b.off + 2 + 2*j
			if p[o] == 0 {
				continue
			}
			if w := f32(p, o+1); top < 0 || w > topW {
				top, topW = j, w
			}
		}
		c.novel |= 1 << idx
	}
	pc := &sp.cat[idx]
	lam := 1 - c.settle.decay(W/settleEvents)
	var llr, share float64
	switch {
	case found >= 0:
		share = f32(p, b.off+3+2*found) / W
		if b.pop {
			if pp, ok := pc.share(h); ok {
				// Only familiarity (a ratio below 1) counts here, and no
				// more than the floor: spare the logarithm outside.
				switch ratio := pp / (lam*share + (1-lam)*pp); {
				case ratio < familiarFloorRatio:
					llr = floorContribution
				case ratio < 1:
					llr = fastLog(ratio)
				}
			}
		}
	case isNovel:
		rate := (novel + novelPrior*pc.novelRate()) / (W + novelPrior)
		llr = -fastLog(lam*rate + 1 - lam)
		if b.pop && sp.n >= peerReadyEvents {
			if pp, ok := pc.newValueShare(h); ok {
				llr += min(max(fastLog(rareShare/max(pp, 1e-9)), -commonCap), rareCap)
			}
		}
	}
	f := &c.res.Features
	f[b.feat] = b2f(isNovel)
	f[b.feat+1] = float32(share)
	f[b.feat+2] = float32(llr)
	if !b.mute {
		if v, ok := c.contributeGroup(b.group, b.weight, llr); ok && isNovel && top >= 0 {
			c.reason(v, &Reason{Code: b.codeNew, Role: rl.name, Attr: b.a.name, form: formNew, Text: s, Value: float64(n),
				Share: topW / W, topKey: b.dictID | uint64(p[b.off+2+2*top])})
		}
	}
}

// learn counts the value in the entity's table, replacing its least
// frequent value if it is new and the table full, and in its peers'.
func (b *catBlock) learn(c *evCtx, p []uint32, obs *[maxRates]float64, pop, grp *peerStats, idx int) {
	s, n, h, sh, ok := b.hash(c, idx)
	if !ok {
		return
	}
	fp := fingerprint(h)
	W := f32(p, b.off)
	found := b.find(p, fp)
	isNovel := found < 0 && !b.seen(p, sh)
	w := obs[b.rate]
	hist := W > 0
	setF32(p, b.off, W+w)
	if found >= 0 {
		o := b.off + 3 + 2*found
		setF32(p, o, f32(p, o)+w)
	} else {
		if hist && isNovel {
			setF32(p, b.off+1, f32(p, b.off+1)+w)
		}
		j, least := -1, 0.0
		for i := 0; i < b.k; i++ {
			o := b.off + 2 + 2*i
			if p[o] == 0 {
				j = i
				break
			}
			if w := f32(p, o+1); j < 0 || w < least {
				j, least = i, w
			}
		}
		p[b.off+2+2*j] = fp
		setF32(p, b.off+3+2*j, w)
		c.dict.add(b.dictID|uint64(fp), s, b.a.kind, n)
	}
	if b.seenWords > 0 {
		b.markSeen(p, sh)
	}
	b.observe(pop, idx, h, hist, isNovel)
	if grp != nil {
		b.observe(grp, idx, h, hist, isNovel)
	}
}

// observe counts a value (hash h) in peer statistics ps.
func (b *catBlock) observe(ps *peerStats, idx int, h uint64, hist, novel bool) {
	pcu := &ps.cat[idx]
	pcu.W += ps.g
	if hist {
		pcu.Hist += ps.g
		if novel {
			pcu.Novel += ps.g
		}
	}
	if b.pop {
		pcu.addValue(h, ps.g)
	}
}

// Hours block layout: 8 words holding 24 hour-of-day then 7 day-of-week
// uint8 counters. When one would overflow, all of its table are halved, so
// the table forgets by volume rather than by time.
func byteAt(p []uint32, off, i int) uint32 { return (p[off+i>>2] >> (8 * uint(i&3))) & 0xff }
func setByte(p []uint32, off, i int, v uint32) {
	w, s := off+i>>2, 8*uint(i&3)
	p[w] = p[w]&^(0xff<<s) | (v&0xff)<<s
}

func bumpByte(p []uint32, off, from, n, i int) {
	if byteAt(p, off, from+i) == 255 {
		for j := from; j < from+n; j++ {
			setByte(p, off, j, byteAt(p, off, j)/2)
		}
	}
	setByte(p, off, from+i, byteAt(p, off, from+i)+1)
}

func (b *hoursBlock) run(c *evCtx, rl *roleLayout, p []uint32, sp *peerStats) {
	h, d := c.hour, c.dow
	cnt := func(i int) float64 { return float64(byteAt(p, b.off, i)) }
	// The counters are small integers: their sums are exact in any order,
	// and empty hours add nothing to the resultant (x+0 is x), so only the
	// hours in use are visited, in order.
	var lanes uint32 // two 16-bit sums of bytes, at most 6*2*255 each
	var C, S float64
	for w := range 6 {
		v := p[b.off+w]
		lanes += v&0x00ff00ff + v>>8&0x00ff00ff
		for v != 0 {
			k := bits.TrailingZeros32(v) >> 3
			x := float64(v >> (8 * k) & 0xff)
			C += x * hourCos[4*w+k]
			S += x * hourSin[4*w+k]
			v &^= 0xff << (8 * k)
		}
	}
	n := lanes&0xffff + lanes>>16
	v6, v7 := p[b.off+6], p[b.off+7]&0xffffff // days 24-30; byte 31 is unused
	N := float64(n)
	dN := float64(v6&0xff + v6>>8&0xff + v6>>16&0xff + v6>>24 + v7&0xff + v7>>8&0xff + v7>>16)
	// The histogram: Freeman's ratio of an attacker's chance of this hour
	// to the entity's, smoothed over neighbouring hours. The attacker is
	// half the population, half uniform: attackers keep other clocks than
	// the member's customers, and a time nobody uses is not safer for it.
	own := 0.0
	if N > 0 {
		own = (0.5*cnt(h) + 0.25*cnt((h+23)%24) + 0.25*cnt((h+1)%24)) / N
	}
	// Peers with few events (a member's first) are not trusted: uniform.
	ready := sp.n >= peerReadyEvents
	pp, pd := 1.0/24, 1.0/7
	if ready {
		pp, pd = sp.hourShare(h), sp.dayShare(d)
	}
	lam := N / (N + priorHours)
	hl := fastLog((0.5*pp + 0.5/24) / (lam*own + (1-lam)*pp))
	// The clock: how far, in circular standard deviations, the time is from
	// the entity's usual time of day (a wrapped normal fitted to the
	// histogram, blended with the peers'), so that 3 a.m. is further from
	// a 9-to-5 habit than 7 p.m. is. The larger of the two counts.
	var pc, ps float64
	if ready {
		pc, ps = sp.hourResultant()
	}
	cb := (C + priorEvents*pc) / (N + priorEvents)
	sb := (S + priorEvents*ps) / (N + priorEvents)
	z := 0.0
	if r2 := cb*cb + sb*sb; r2 > 1e-6 {
		r := math.Sqrt(r2)
		dist := math.Acos(min(max((cb*c.cosT+sb*c.sinT)/r, -1), 1))
		if cb*c.sinT-sb*c.cosT < 0 {
			dist = -dist // earlier than usual
		}
		// A habit is no more precise than an hour: the histogram's bins
		// are an hour wide and people are not clocks.
		z = dist / math.Sqrt(max(-fastLog(r2), minClockVar))
		// The usual time is estimated from N events: a t, as for numbers.
		hl = max(hl, excessSurprisal(z, N+priorEvents-1, hl))
	}
	ownD := 0.0
	if dN > 0 {
		ownD = cnt(24+d) / dN
	}
	// Seven days share far fewer events each than 24 hours would: a
	// weekday with no event yet is weak evidence until weeks have passed.
	lamD := dN / (dN + priorDays)
	dl := fastLog((0.5*pd + 0.5/7) / (lamD*ownD + (1-lamD)*pd))
	f := &c.res.Features
	f[b.feat] = float32(own)
	f[b.feat+1] = float32(z)
	f[b.feat+2] = float32(hl)
	f[b.feat+3] = float32(dl)
	if !b.mute {
		if v, ok := c.contribute(b.weight, hl); ok {
			usual := 0.0
			if z != 0 {
				usual = math.Mod(math.Atan2(sb, cb)*24/(2*math.Pi)+24, 24)
			}
			c.reason(v, &Reason{Code: "unusual_hour", Role: rl.name, form: formHour, Value: c.clock, Share: own, Baseline: pp, Sigma: z, Count: usual})
		}
		if v, ok := c.contribute(b.weight, dl); ok {
			c.reason(v, &Reason{Code: "unusual_day", Role: rl.name, form: formDay, Value: float64(d), Share: ownD, Baseline: pd})
		}
	}
}

func (b *hoursBlock) learn(c *evCtx, p []uint32, pop, grp *peerStats) {
	bumpByte(p, b.off, 0, 24, c.hour)
	bumpByte(p, b.off, 24, 7, c.dow)
	pop.addHour(c.hour, c.dow)
	if grp != nil {
		grp.addHour(c.hour, c.dow)
	}
}

// fastExp is exp with a relative error under 1e-8, ample for float32
// profiles, at a fraction of math.Exp's cost.
func fastExp(x float64) float64 {
	switch {
	case x < -700:
		return 0
	case x > 700:
		return math.Inf(1)
	case x != x:
		return x
	}
	const ln2Hi, ln2Lo = 6.93147180369123816490e-01, 1.90821492927058770002e-10
	k := math.Floor(x*math.Log2E + 0.5)
	r := x - k*ln2Hi - k*ln2Lo // |r| <= ln2/2
	e := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040+r*(1.0/40320))))))))
	return e * math.Float64frombits(uint64(int64(k)+1023)<<52)
}

// fastLog is log with a relative error under 1e-8, for x > 0; it defers to
// math.Log for zero, negative, subnormal, infinite and NaN arguments.
func fastLog(x float64) float64 {
	bits := math.Float64bits(x)
	exp := int(bits>>52) - 1023 // the sign bit makes negative x out of range
	if exp <= -1023 || exp >= 1024 {
		return math.Log(x)
	}
	m := math.Float64frombits(bits&(1<<52-1) | 1023<<52) // in [1, 2)
	if m > math.Sqrt2 {
		m /= 2
		exp++
	}
	// log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.172.
	s := (m - 1) / (m + 1)
	s2 := s * s
	return float64(exp)*math.Ln2 + 2*s*(1+s2*(1.0/3+s2*(1.0/5+s2*(1.0/7+s2*(1.0/9+s2/11)))))
}

// decay is exp(-x) for x >= 0, skipping the exponential where it is 0 or 1
// to float32 precision.
func decay(x float64) float64 {
	switch {
	case x > 20: // e^-20 is 2e-9, nothing next to float32 counts
		return 0
	case x < 1e-3:
		return 1 - x*(1-x*(0.5-x/6))
	}
	return fastExp(-x)
}

// hourCos and hourSin place the middle of each hour on the unit circle.
var hourCos, hourSin = func() (c, s [24]float64) {
	for i := range 24 {
		a := (float64(i) + 0.5) * 2 * math.Pi / 24
		c[i], s[i] = math.Cos(a), math.Sin(a)
	}
	return c, s
}()

// Velocity block layout: one decayed count per window, then the long count
// and the exposure (the long count a rate of one event per second would
// give over the entity's life), whose ratio is the entity's usual rate.
func (b *velBlock) run(c *evCtx, rl *roleLayout, p []uint32, obs *[maxRates]float64, age float64, sp, pop, grp *peerStats, idx int) {
	match := b.only == onlyAny || (c.ev.HasSuccess && c.ev.Success == (b.only == onlySuccess))
	if b.novelOf >= 0 {
		// Away from home every place is new: only new places at home
		// say that someone else holds the card.
		match = match && c.novel&(1<<b.novelOf) != 0 && !c.away
	}
	f := &c.res.Features
	lo := b.off + len(b.rates)
	cLong := f32(p, lo)
	tauEff := f32(p, lo+1)
	own := 0.0
	if tauEff > 0 {
		own = cLong / tauEff
	}
	peer := &sp.vel[idx]
	rate, known := 0.0, true
	switch {
	case peer.W > 0:
		rate = (cLong + fastExp(peer.Mean)*ratePriorSeconds) / (tauEff + ratePriorSeconds)
	case tauEff >= ratePriorSeconds:
		rate = own
	default:
		known = false
	}
	if known {
		f[b.feat+len(b.rates)] = float32(rate * 86400)
	}
	best, bj, bx, bm := 0.0, -1, 0.0, 0.0
	for j := range b.rates {
		x := f32(p, b.off+j)
		f[b.feat+j] = float32(x) + b2f(match)
		if !known || !match {
			continue
		}
		m := rate * b.winSecs[j] // not Seconds(), which divides
		me := max(m, b.minExp)
		if x > me {
			if llr := x*fastLog(x/me) - x + me; llr > best {
				best, bj, bx, bm = llr, j, x, m
			}
		}
	}
	if !b.mute && bj >= 0 {
		if v, ok := c.contribute(b.weight, best); ok {
			c.reason(v, &Reason{Code: b.code, Role: rl.name, Attr: b.attr, form: formVelocity, Value: bx, Baseline: bm, Window: b.wins[bj].D()})
		}
	}
	if !c.update || !match {
		return
	}
	for j, r := range b.rates {
		setF32(p, b.off+j, f32(p, b.off+j)+obs[r])
	}
	setF32(p, lo, cLong+obs[b.longRate])
	if age >= ratePriorSeconds && own > 0 {
		lr := fastLog(own)
		pop.vel[idx].add(pop.g, lr)
		if grp != nil {
			grp.vel[idx].add(grp.g, lr)
		}
	}
}

// Gap block layout: W, mean and variance of log(seconds since the previous
// event).
func (b *gapBlock) run(c *evCtx, rl *roleLayout, p []uint32, last int64, skip bool, sp *peerStats) {
	if skip {
		return
	}
	secs := max(float64(c.t-last)/1e9, 1)
	x := fastLog(secs)
	f := &c.res.Features
	f[b.feat] = float32(x)
	mean, variance, ok := blend(f32(p, b.off), f32(p, b.off+1), f32(p, b.off+2), &sp.gap, sp.n, 0)
	if ok {
		z := (x - mean) / math.Sqrt(variance+0.01)
		f[b.feat+1] = float32(z)
		if !b.mute {
			code := "gap_long"
			if z < 0 {
				code = "gap_short"
			}
			if v, ok := c.contribute(b.weight, surprisal(z)); ok {
				c.reason(v, &Reason{Code: code, Role: rl.name, form: formGap, Value: secs, Baseline: fastExp(mean), Sigma: z})
			}
		}
	}
}

func (b *gapBlock) learn(c *evCtx, p []uint32, pop, grp *peerStats) {
	x := float64(c.res.Features[b.feat]) // the log gap run computed
	numObserve(p, b.off, 1, x, 0)
	pop.gap.add(pop.g, x)
	if grp != nil {
		grp.gap.add(grp.g, x)
	}
}

// Travel block layout: lat, lon (float32), unix seconds of that location (0:
// none), fingerprint of its country; then the home area: the decayed weight,
// latitude and longitude of the entity's locations (a centroid at a
// homeHalfLife half-life).
func (b *travelBlock) run(c *evCtx, rl *roleLayout, p []uint32) {
	ev := c.ev
	if !ev.HasLocation {
		return
	}
	tloc := p[b.off+2]
	sec := c.t / 1e9
	if tloc != 0 {
		km := distanceKm(f32(p, b.off), f32(p, b.off+1), ev.Lat, ev.Lon)
		elapsed := math.Abs(float64(sec - int64(tloc)))
		kmh := km / max(elapsed/3600, 1.0/60)
		f := &c.res.Features
		f[b.feat] = float32(km)
		f[b.feat+1] = float32(kmh)
		if !b.mute && km >= b.minKm && kmh > b.maxKmh {
			r := Reason{Code: "impossible_travel", Role: rl.name, form: formTravel, Value: kmh, Baseline: b.maxKmh, Count: km,
				Window: time.Duration(elapsed) * time.Second}
			if cfp := p[b.off+3]; cfp != 0 {
				r.topKey = b.countryID | uint64(cfp)
			}
			if v, ok := c.contribute(b.weight, travelBase+travelSlope*fastLog(kmh/b.maxKmh)); ok {
				c.reason(v, &r)
			}
		}
	}
	if W := f32(p, b.off+4); W >= homeEvents {
		km := flatKm(f32(p, b.off+5), f32(p, b.off+6), ev.Lat, ev.Lon)
		c.res.Features[b.feat+2] = float32(km)
		c.away = km > awayKm
	}
}

// learn moves the entity's last location to the event's, unless the event
// is older than it, and its home area towards it. A blocked event moves
// neither: the next event of the real customer is not measured from where
// the fraudster was.
func (b *travelBlock) learn(c *evCtx, p []uint32, obs *[maxRates]float64) {
	ev := c.ev
	if !ev.HasLocation {
		return
	}
	b.learnHome(p, ev, obs[b.rate])
	sec := c.t / 1e9
	if sec < int64(p[b.off+2]) {
		return
	}
	setF32(p, b.off, ev.Lat)
	setF32(p, b.off+1, ev.Lon)
	p[b.off+2] = uint32(sec)
	var cfp uint32
	if ev.Country != "" {
		cfp = fingerprint(c.countryHash())
		if cfp != p[b.off+3] {
			c.dict.add(b.countryID|uint64(cfp), ev.Country, attrCountry, 0)
		}
	}
	p[b.off+3] = cfp
}

// learnHome moves the home area towards the event's location, with weight w.
func (b *travelBlock) learnHome(p []uint32, ev *occsimore.Event, w float64) {
	W := f32(p, b.off+4)
	W1 := W + w
	if !(W1 > 0) {
		return
	}
	lat, lon := f32(p, b.off+5), f32(p, b.off+6)
	if W == 0 {
		lat, lon = ev.Lat, ev.Lon
	}
	dlon := ev.Lon - lon
	switch { // the short way round the antimeridian
	case dlon > 180:
		dlon -= 360
	case dlon < -180:
		dlon += 360
	}
	lat += (ev.Lat - lat) * w / W1
	lon += dlon * w / W1
	if lon > 180 {
		lon -= 360
	} else if lon < -180 {
		lon += 360
	}
	setF32(p, b.off+4, W1)
	setF32(p, b.off+5, lat)
	setF32(p, b.off+6, lon)
}

const earthRadiusKm = 6371.0088

// distanceKm is the great-circle distance, by the flat approximation when
// the points are close (most of a card's payments are in one town), where
// it is within 0.5%.
func distanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	if math.Abs(lat2-lat1) < 1 && math.Abs(lon2-lon1) < 1 && math.Abs(lat1) < 70 {
		return flatKm(lat1, lon1, lat2, lon2)
	}
	return haversineKm(lat1, lon1, lat2, lon2)
}

// flatKm is the distance between two points on the equirectangular
// approximation: within 1% of the great circle up to a few hundred km from
// the poles, which is all "away from home" needs, at a third of the cost.
func flatKm(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dlon := lon2 - lon1
	switch {
	case dlon > 180:
		dlon -= 360
	case dlon < -180:
		dlon += 360
	}
	x := dlon * rad * math.Cos((lat1+lat2)*rad/2)
	y := (lat2 - lat1) * rad
	return earthRadiusKm * math.Sqrt(x*x+y*y)
}

func haversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dlat := (lat2 - lat1) * rad
	dlon := (lon2 - lon1) * rad
	s1, s2 := math.Sin(dlat/2), math.Sin(dlon/2)
	a := s1*s1 + math.Cos(lat1*rad)*math.Cos(lat2*rad)*s2*s2
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(min(a, 1)))
}

// Risk block layout: decayed fraud and labelled weights (F, N), then
// riskSlots pending buckets of (usable hour, fraud weight, labelled weight),
// the weights referenced at the bucket's hour.
func (b *riskBlock) run(c *evCtx, rl *roleLayout, p []uint32, rs *roleStore) {
	F, N := f32(p, b.off), f32(p, b.off+1)
	f := &c.res.Features
	f[b.feat+1] = float32(N)
	pr, ok := rs.labels.rate()
	if !ok {
		if N > 0 {
			f[b.feat] = float32(F / N)
		}
		return
	}
	re := (F + b.prior*pr) / (N + b.prior)
	f[b.feat] = float32(re)
	if !b.mute {
		if v, ok := c.contribute(b.weight, fastLog(re/pr)); ok {
			c.reason(v, &Reason{Code: b.code, Role: rl.name, form: formRisk, Value: re, Baseline: pr, Count: N})
		}
	}
}

// promote moves the pending labels usable at t into F and N, which are
// referenced at ref (the profile's time after this event).
func (rl *roleLayout) promote(p []uint32, t, ref int64) {
	b := rl.risk
	rate := rl.rates[b.rate]
	for s := range riskSlots {
		o := b.off + 2 + 3*s
		h := p[o]
		if h == 0 || int64(h)*hourNanos > t {
			continue
		}
		d := fastExp(-float64(ref-int64(h)*hourNanos) / 1e9 * rate)
		setF32(p, b.off, f32(p, b.off)+f32(p, o+1)*d)
		setF32(p, b.off+1, f32(p, b.off+1)+f32(p, o+2)*d)
		p[o], p[o+1], p[o+2] = 0, 0, 0
	}
}
