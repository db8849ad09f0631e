package behavior

import (
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/occsimore/occsimore"
)

// The views are the root package's: the engine builds them, the adapters
// show them without importing the engine.
type (
	ProfileView     = occsimore.ProfileView
	NumericView     = occsimore.NumericView
	CategoricalView = occsimore.CategoricalView
	ValueShare      = occsimore.ValueShare
	HoursView       = occsimore.HoursView
	VelocityView    = occsimore.VelocityView
	WindowCount     = occsimore.WindowCount
	GapView         = occsimore.GapView
	LocationView    = occsimore.LocationView
	LatLon          = occsimore.LatLon
	RiskView        = occsimore.RiskView
)

// Profile returns the profile of the entity id of role for member, from the
// first kind (in spec order) that has one.
func (e *Engine) Profile(member, role, id string) (ProfileView, bool) {
	for _, cs := range e.specs {
		if v, ok := e.ProfileOf(member, cs.kind, role, id); ok {
			return v, true
		}
	}
	return ProfileView{}, false
}

// ProfileOf returns the profile of the entity id of role in kind for member.
func (e *Engine) ProfileOf(member, kind, role, id string) (ProfileView, bool) {
	ki := e.spec(kind)
	if ki < 0 {
		return ProfileView{}, false
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	tn := e.lookupTenant(member)
	if tn == nil {
		return ProfileView{}, false
	}
	for _, rs := range tn.kinds[ki].roles {
		if rs.layout.name != role {
			continue
		}
		key := hashString(e.seed, id)
		sh := rs.shardOf(key)
		sh.mu.Lock()
		q := sh.get(key, rs.layout.stride)
		var p [maxStride]uint32
		copy(p[:], q)
		sh.mu.Unlock()
		if q == nil || lastTime(p[:]) == 0 {
			return ProfileView{}, false
		}
		v := e.view(tn, rs.layout, p[:rs.layout.stride])
		v.Member, v.Kind, v.Role, v.ID = member, kind, role, id
		return v, true
	}
	return ProfileView{}, false
}

func (e *Engine) view(tn *tenant, rl *roleLayout, p []uint32) ProfileView {
	v := ProfileView{
		Events: p[hdrCount],
		First:  time.Unix(int64(p[hdrFirst]), 0).UTC(),
		Last:   time.Unix(0, lastTime(p)).UTC(),
	}
	for _, b := range rl.num {
		for j := range b.rates {
			o := b.off + 3*j
			n := NumericView{Attr: b.a.name, HalfLife: b.hls[j], Count: f32(p, o), Mean: b.raw(f32(p, o+1)), Std: math.Sqrt(f32(p, o+2))}
			if b.log { // report the spread on the value's own scale
				n.Std = b.raw(f32(p, o+1)+math.Sqrt(f32(p, o+2))) - n.Mean
			}
			v.Numeric = append(v.Numeric, n)
		}
	}
	for _, b := range rl.cat {
		W := f32(p, b.off)
		cv := CategoricalView{Attr: b.a.name, HalfLife: Duration(time.Duration(math.Ln2 / rl.rates[b.rate] * 1e9)), Count: W}
		if W > 0 {
			cv.NewRate = f32(p, b.off+1) / W
		}
		for j := 0; j < b.k; j++ {
			o := b.off + 2 + 2*j
			if p[o] == 0 || W <= 0 {
				continue
			}
			name := tn.dict.lookup(b.dictID | uint64(p[o]))
			if name == "" {
				name = "#" + strconv.FormatUint(uint64(p[o]), 16)
			}
			cv.Top = append(cv.Top, ValueShare{Value: name, Share: f32(p, o+1) / W})
		}
		sort.SliceStable(cv.Top, func(i, j int) bool { return cv.Top[i].Share > cv.Top[j].Share })
		v.Categorical = append(v.Categorical, cv)
	}
	if b := rl.hours; b != nil {
		h := &HoursView{}
		var dn float64
		for i := range 24 {
			h.Hours[i] = float64(byteAt(p, b.off, i))
			h.Events += h.Hours[i]
		}
		for i := range 7 {
			h.Days[i] = float64(byteAt(p, b.off, 24+i))
			dn += h.Days[i]
		}
		if h.Events > 0 && dn > 0 {
			for i := range h.Hours {
				h.Hours[i] /= h.Events
			}
			for i := range h.Days {
				h.Days[i] /= dn
			}
			for d := range 7 {
				for hr := range 24 {
					h.HourOfWeek[d][hr] = h.Days[d] * h.Hours[hr]
				}
			}
		}
		v.Hours = h
	}
	for _, b := range rl.vel {
		vv := VelocityView{Only: [...]string{"", "success", "failure"}[b.only]}
		for j := range b.rates {
			vv.Windows = append(vv.Windows, WindowCount{Window: b.wins[j], Count: f32(p, b.off+j)})
		}
		if te := f32(p, b.off+len(b.rates)+1); te > 0 {
			vv.RatePerDay = f32(p, b.off+len(b.rates)) / te * 86400
		}
		v.Velocity = append(v.Velocity, vv)
	}
	if b := rl.gap; b != nil && f32(p, b.off) > 0 {
		v.Gap = &GapView{Count: f32(p, b.off), TypicalSeconds: math.Exp(f32(p, b.off+1)), LogStd: math.Sqrt(f32(p, b.off+2))}
	}
	if b := rl.travel; b != nil && p[b.off+2] != 0 {
		l := &LocationView{Lat: f32(p, b.off), Lon: f32(p, b.off+1), Time: time.Unix(int64(p[b.off+2]), 0).UTC()}
		if cfp := p[b.off+3]; cfp != 0 {
			l.Country = tn.dict.lookup(b.countryID | uint64(cfp))
		}
		if f32(p, b.off+4) >= homeEvents {
			l.Home = &LatLon{Lat: f32(p, b.off+5), Lon: f32(p, b.off+6)}
		}
		v.Location = l
	}
	if b := rl.risk; b != nil {
		r := &RiskView{Labelled: f32(p, b.off+1)}
		if r.Labelled > 0 {
			r.FraudRate = f32(p, b.off) / r.Labelled
		}
		for s := range riskSlots {
			r.Pending += f32(p, b.off+4+3*s)
		}
		v.Risk = r
	}
	return v
}
