package behavior

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/occsimore/occsimore"
)

// Profile layout. A profile is a fixed-size []uint32 whose words are laid out
// per role when the engine starts: a 4-word header, then one block per
// feature. Floats are stored as float32 bits. Storing all profiles of a role
// in one flat slab keeps them compact (no per-profile allocation, no
// pointers for the garbage collector to scan).
const (
	hdrLastLo = 0 // unix nanoseconds of the latest event, low word; 0 = no event yet
	hdrLastHi = 1
	hdrFirst  = 2 // unix seconds of the first event
	hdrCount  = 3 // events seen, saturating
	hdrWords  = 4

	maxStride = 256 // words in a profile
	maxRates  = 16  // distinct decay rates in a role

	riskSlots = 3 // pending label buckets per entity
)

// Global features, before the per-role ones.
const (
	featScore = iota
	featHour
	featWeekday
	featWeekend
	featNight
	nGlobalFeatures
)

// compiledSpec is a Spec turned into offsets, rates and names.
type compiledSpec struct {
	kind        string
	thresholds  Thresholds
	roles       []*roleLayout
	raw         []rawFeature // numeric attributes given as features once
	features    []string
	fingerprint uint64 // of the layout, checked by ReadSnapshot
	nouns       bool   // some role has a noun other than its name
	strings     uint8  // the Event string fields its hashes read, for prefetchStrings
}

type rawFeature struct {
	a    attr
	feat int
}

type roleLayout struct {
	name   string
	noun   string // names the entity in reason sentences
	src    attr   // where the entity id comes from
	weight float64
	peerBy attr
	stride int
	rates  []float64 // per second
	num    []numBlock
	cat    []catBlock
	hours  *hoursBlock
	vel    []velBlock
	gap    *gapBlock
	travel *travelBlock
	risk   *riskBlock
	feat   int // index of the role's first feature
	// decayOffs lists every decayed word of the profile, grouped by rate
	// in decayRuns, and exposures the velocity exposures, so that advance
	// is a few flat loops.
	decayOffs []uint16
	decayRuns []decayRun
	exposures []exposureWord
}

// decayRun ends, at decayOffs[end], the words that decay at rate.
type decayRun struct {
	rate uint8
	end  uint16
}

type exposureWord struct {
	off  uint16
	rate uint8
	long float64 // seconds
}

type numBlock struct {
	a       attr
	off     int
	rates   []int
	hls     []Duration
	longest int // index in hls of the half-life used by the score
	log     bool
	// priorVar stands for the peers' variance while they are not ready
	// (0: none); minVar floors the variance.
	priorVar float64
	minVar   float64
	weight   float64
	mute     bool
	feat     int
	codeHi   string
	codeLo   string
}

type catBlock struct {
	a       attr
	dictID  uint64 // attribute id in the value dictionary, shifted left 32
	off     int
	k       int
	rate    int
	pop     bool
	weight  float64
	mute    bool
	feat    int
	codeNew string
	group   uint8 // 1 + index of its group in the role, 0 if none
	// The seen filter: seenWords words at seenOff (0: none).
	seenOff   int
	seenWords int
}

type hoursBlock struct {
	off    int
	weight float64
	mute   bool
	feat   int
}

type velBlock struct {
	off      int
	rates    []int
	wins     []Duration
	winSecs  []float64 // wins in seconds, as Duration.Seconds gives them
	longRate int
	long     Duration
	only     uint8  // 0 any, 1 success, 2 failure
	novelOf  int    // counts only events new to this categorical block (-1: any)
	attr     string // that block's attribute, for reasons
	minExp   float64
	weight   float64
	mute     bool
	feat     int
	code     string
}

type gapBlock struct {
	off    int
	rate   int
	weight float64
	mute   bool
	feat   int
}

type travelBlock struct {
	off           int
	rate          int    // of the home area's decay
	countryID     uint64 // dictionary id of "country", shifted left 32
	maxKmh, minKm float64
	weight        float64
	mute          bool
	feat          int
}

type riskBlock struct {
	off    int
	rate   int
	delay  int64 // nanoseconds
	prior  float64
	weight float64
	mute   bool
	feat   int
	code   string
}

const (
	onlyAny = iota
	onlySuccess
	onlyFailure
)

// dictIDs numbers the attributes whose values the dictionary keeps for
// reason sentences; the same attribute shares its id across kinds.
type dictIDs struct {
	names []string
}

func (d *dictIDs) id(name string) uint64 {
	i := slices.Index(d.names, name)
	if i < 0 {
		d.names = append(d.names, name)
		i = len(d.names) - 1
	}
	return uint64(i+1) << 32
}

// noun returns the noun of role for reason sentences.
func (cs *compiledSpec) noun(role string) string {
	for _, rl := range cs.roles {
		if rl.name == role {
			return rl.noun
		}
	}
	return role
}

func compile(s Spec, ids *dictIDs) (*compiledSpec, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	cs := &compiledSpec{kind: s.Kind, thresholds: s.Thresholds}
	names := []string{"score", "hour", "weekday", "weekend", "night"}
	var fp strings.Builder
	fmt.Fprintf(&fp, "v1 %s;", s.Kind)
	// Raw numeric values, once per attribute.
	for _, r := range s.Roles {
		for _, n := range r.Numeric {
			a, _ := parseAttr(n.Attr)
			if !slices.ContainsFunc(cs.raw, func(f rawFeature) bool { return f.a.name == a.name }) {
				cs.raw = append(cs.raw, rawFeature{a: a, feat: len(names)})
				names = append(names, a.name)
			}
		}
	}
	for ri, r := range s.Roles {
		rl := &roleLayout{name: r.Role, noun: r.Role, src: roleAttr(r.Role), weight: weightOr1(r.Weight), feat: len(names)}
		if r.Noun != "" && r.Noun != r.Role {
			rl.noun, cs.nouns = r.Noun, true
		}
		if r.PeerBy != "" {
			rl.peerBy, _ = parseAttr(r.PeerBy)
		}
		off := hdrWords
		rate := func(perSecond float64) int {
			if i := slices.Index(rl.rates, perSecond); i >= 0 {
				return i
			}
			rl.rates = append(rl.rates, perSecond)
			return len(rl.rates) - 1
		}
		halfLife := func(d Duration) int { return rate(math.Ln2 / d.D().Seconds()) }
		window := func(d Duration) int { return rate(1 / d.D().Seconds()) }
		pre := r.Role + "."
		names = append(names, pre+"events", pre+"age_days")
		fmt.Fprintf(&fp, "role %s;", r.Role)
		for _, n := range r.Numeric {
			a, _ := parseAttr(n.Attr)
			b := numBlock{a: a, off: off, hls: n.HalfLives, log: n.Log, weight: weightOr1(n.Weight) * rl.weight,
				mute: n.Mute, feat: len(names), codeHi: a.short() + "_high", codeLo: a.short() + "_low"}
			if n.Log {
				b.priorVar, b.minVar = logPriorVar, logMinVar
			}
			for i, h := range n.HalfLives {
				b.rates = append(b.rates, halfLife(h))
				if h > n.HalfLives[b.longest] {
					b.longest = i
				}
				names = append(names, fmt.Sprintf("%s%s.count_%s", pre, a.short(), h),
					fmt.Sprintf("%s%s.mean_%s", pre, a.short(), h), fmt.Sprintf("%s%s.z_%s", pre, a.short(), h))
			}
			fmt.Fprintf(&fp, "num %s %v %v@%d;", a.name, n.HalfLives, n.Log, off)
			off += 3 * len(n.HalfLives)
			rl.num = append(rl.num, b)
		}
		var groups []string
		for _, c := range r.Categorical {
			a, _ := parseAttr(c.Attr)
			b := catBlock{a: a, dictID: ids.id(a.name), off: off, k: c.TopK, rate: halfLife(c.HalfLife), pop: c.Population,
				weight: weightOr1(c.Weight) * rl.weight, mute: c.Mute, feat: len(names), codeNew: "new_" + a.short()}
			names = append(names, pre+a.short()+".new", pre+a.short()+".share", pre+a.short()+".llr")
			if c.Group != "" {
				g := slices.Index(groups, c.Group)
				if g < 0 {
					groups = append(groups, c.Group)
					g = len(groups) - 1
				}
				b.group = uint8(g + 1)
			}
			fmt.Fprintf(&fp, "cat %s %d %s %v@%d;", a.name, c.TopK, c.HalfLife, c.Population, off)
			off += 2 + 2*c.TopK
			if c.Seen > 0 {
				b.seenOff, b.seenWords = off, c.Seen/32
				fmt.Fprintf(&fp, "seen %d@%d;", c.Seen, off)
				off += b.seenWords
			}
			rl.cat = append(rl.cat, b)
		}
		if h := r.Hours; h != nil {
			rl.hours = &hoursBlock{off: off, weight: weightOr1(h.Weight) * rl.weight, mute: h.Mute, feat: len(names)}
			names = append(names, pre+"hour.share", pre+"hour.z", pre+"hour.llr", pre+"weekday.llr")
			fmt.Fprintf(&fp, "hours@%d;", off)
			off += 8
		}
		for _, v := range r.Velocity {
			b := velBlock{off: off, wins: v.Windows, long: v.Long, minExp: v.MinExpected, novelOf: -1,
				weight: weightOr1(v.Weight) * rl.weight, mute: v.Mute, feat: len(names), code: "velocity_burst"}
			if b.long == 0 {
				b.long = days(30)
			}
			if b.minExp == 0 {
				b.minExp = 0.5
			}
			noun := "count"
			switch v.Only {
			case "success":
				b.only, noun, b.code = onlySuccess, "successes", "success_burst"
			case "failure":
				b.only, noun, b.code = onlyFailure, "failures", "failure_burst"
			}
			if v.NewOf != "" {
				a, _ := parseAttr(v.NewOf)
				b.novelOf = slices.IndexFunc(rl.cat, func(c catBlock) bool { return c.a.name == a.name })
				noun = "new_" + a.short()
				b.code = noun + "_rate"
				b.attr = a.name
			}
			for _, w := range v.Windows {
				b.rates = append(b.rates, window(w))
				b.winSecs = append(b.winSecs, w.D().Seconds())
				names = append(names, fmt.Sprintf("%s%s_%s", pre, noun, w))
			}
			b.longRate = window(b.long)
			names = append(names, pre+noun+"_rate_per_day")
			fmt.Fprintf(&fp, "vel %v %s %d %d@%d;", v.Windows, b.long, b.only, b.novelOf, off)
			off += len(v.Windows) + 2
			rl.vel = append(rl.vel, b)
		}
		if g := r.Gap; g != nil {
			rl.gap = &gapBlock{off: off, rate: halfLife(g.HalfLife), weight: weightOr1(g.Weight) * rl.weight, mute: g.Mute, feat: len(names)}
			names = append(names, pre+"gap_log", pre+"gap.z")
			fmt.Fprintf(&fp, "gap %s@%d;", g.HalfLife, off)
			off += 3
		}
		if t := r.Travel; t != nil {
			rl.travel = &travelBlock{off: off, rate: halfLife(homeHalfLife), countryID: ids.id("country"), maxKmh: t.MaxKmh, minKm: t.MinKm,
				weight: weightOr1(t.Weight) * rl.weight, mute: t.Mute, feat: len(names)}
			names = append(names, pre+"travel_km", pre+"travel_kmh", pre+"home_km")
			fmt.Fprintf(&fp, "travel home@%d;", off)
			off += 7
		}
		if k := r.Risk; k != nil {
			prior := k.Prior
			if prior == 0 {
				prior = 5
			}
			rl.risk = &riskBlock{off: off, rate: halfLife(k.HalfLife), delay: int64(k.LabelDelay), prior: prior,
				weight: weightOr1(k.Weight) * rl.weight, mute: k.Mute, feat: len(names), code: "risky_" + r.Role}
			names = append(names, pre+"risk", pre+"risk_labels")
			fmt.Fprintf(&fp, "risk %s@%d;", k.HalfLife, off)
			off += 2 + 3*riskSlots
		}
		rl.stride = off
		rl.compileDecays()
		cs.strings |= fieldOf(rl.src.kind) | fieldOf(rl.peerBy.kind)
		for _, b := range rl.cat {
			cs.strings |= fieldOf(b.a.kind)
		}
		if off > maxStride {
			return nil, occsimore.FieldErrorf(fmt.Sprintf("roles[%d]", ri), "role %q needs %d profile words, more than %d", r.Role, off, maxStride)
		}
		if len(rl.rates) > maxRates {
			return nil, occsimore.FieldErrorf(fmt.Sprintf("roles[%d]", ri), "role %q uses %d distinct half-lives and windows, more than %d", r.Role, len(rl.rates), maxRates)
		}
		cs.roles = append(cs.roles, rl)
	}
	if len(names) > MaxFeatures {
		return nil, occsimore.FieldErrorf("roles", "kind %q has %d features, more than %d", s.Kind, len(names), MaxFeatures)
	}
	cs.features = names
	cs.fingerprint = hashString(0, fp.String())
	return cs, nil
}

// compileDecays lists the words that advance decays, block by block.
func (rl *roleLayout) compileDecays() {
	byRate := make([][]uint16, len(rl.rates))
	add := func(off, rate int) {
		byRate[rate] = append(byRate[rate], uint16(off))
	}
	defer func() {
		for r, offs := range byRate {
			if len(offs) > 0 {
				rl.decayOffs = append(rl.decayOffs, offs...)
				rl.decayRuns = append(rl.decayRuns, decayRun{rate: uint8(r), end: uint16(len(rl.decayOffs))})
			}
		}
	}()
	for _, b := range rl.num {
		for j, r := range b.rates {
			add(b.off+3*j, r)
		}
	}
	for _, b := range rl.cat {
		add(b.off, b.rate)
		add(b.off+1, b.rate)
		for j := 0; j < b.k; j++ {
			add(b.off+3+2*j, b.rate)
		}
	}
	for _, b := range rl.vel {
		for j, r := range b.rates {
			add(b.off+j, r)
		}
		o := b.off + len(b.rates)
		add(o, b.longRate)
		rl.exposures = append(rl.exposures, exposureWord{off: uint16(o + 1), rate: uint8(b.longRate), long: b.long.D().Seconds()})
	}
	if b := rl.gap; b != nil {
		add(b.off, b.rate)
	}
	if b := rl.risk; b != nil {
		add(b.off, b.rate)
		add(b.off+1, b.rate)
	}
	if b := rl.travel; b != nil {
		add(b.off+4, b.rate)
	}
}
