package simulate

import (
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/occsimore/occsimore"
)

// LoginScenario labels what produced a login.
type LoginScenario uint8

const (
	LoginNormal           LoginScenario = iota // the account's owner
	LoginStuffing                              // credential stuffing: many accounts from fresh hosting ASNs
	LoginImpossibleTravel                      // a far country minutes after a habitual login
	LoginNewDevice                             // an unknown device at an odd local hour
	maxLoginScenario      = LoginNewDevice
)

var loginScenarioNames = [...]string{"normal", "credential_stuffing", "impossible_travel", "new_device"}

// String returns the scenario's name, such as "credential_stuffing".
func (s LoginScenario) String() string {
	if s <= maxLoginScenario {
		return loginScenarioNames[s]
	}
	return "scenario" + strconv.Itoa(int(s))
}

// LoginsConfig configures the login simulator. Start from DefaultLogins.
type LoginsConfig struct {
	Users int
	Days  int
	Start time.Time // first day; only its UTC date counts
	Seed  uint64

	// LoginsPerDay is the mean number of sessions a user opens on a
	// weekday; each user's own rate is uniform on [0.1, 2·LoginsPerDay-0.1],
	// and weekends see 35 % of it.
	LoginsPerDay float64
	// StuffingPerDay is the mean number of credential-stuffing campaigns a
	// day; each tries about StuffingTargets accounts (a fifth of them
	// unknown) and an attempt on an existing account succeeds with
	// probability StuffingSuccess.
	StuffingPerDay  float64
	StuffingTargets float64
	StuffingSuccess float64
	// ImpossibleTravelPerDay is the mean number a day of logins from a far
	// country 5 to 45 minutes after the owner's.
	ImpossibleTravelPerDay float64
	// NewDevicePerDay is the mean number a day of logins from an unknown
	// device between 01:00 and 05:00 local time.
	NewDevicePerDay float64
}

// DefaultLogins is a month of 1,000 users from 2024-01-01 with a campaign
// every other day and one takeover of each other kind a day.
func DefaultLogins() LoginsConfig {
	return LoginsConfig{
		Users:                  1000,
		Days:                   30,
		Start:                  time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		LoginsPerDay:           1.2,
		StuffingPerDay:         0.5,
		StuffingTargets:        100,
		StuffingSuccess:        0.01,
		ImpossibleTravelPerDay: 1,
		NewDevicePerDay:        1,
	}
}

const maxUsers = 10_000_000

// Validate checks the configuration; errors are EINVALID naming the field.
func (c LoginsConfig) Validate() error {
	rate := func(field string, v float64) error {
		if !(v >= 0 && v <= maxPerDayRate) {
			return occsimore.FieldErrorf(field, "%s %g must be between 0 and %d", field, v, maxPerDayRate)
		}
		return nil
	}
	switch {
	case c.Users < 1 || c.Users > maxUsers:
		return occsimore.FieldErrorf("users", "users %d must be between 1 and %d", c.Users, maxUsers)
	case c.Days < 1 || c.Days > maxDays:
		return occsimore.FieldErrorf("days", "days %d must be between 1 and %d", c.Days, maxDays)
	case c.Start.IsZero():
		return occsimore.FieldErrorf("start", "start date is required")
	case c.Start.Year() < 1970 || c.Start.Year() > 2099-c.Days/365:
		return occsimore.FieldErrorf("start", "start %s must leave the run between 1970 and 2100", c.Start.Format(time.DateOnly))
	case !(c.LoginsPerDay > 0.1 && c.LoginsPerDay <= 100):
		return occsimore.FieldErrorf("logins_per_day", "logins per day %g must be above 0.1 and at most 100", c.LoginsPerDay)
	case !(c.StuffingSuccess >= 0 && c.StuffingSuccess <= 1):
		return occsimore.FieldErrorf("stuffing_success", "stuffing success %g must be between 0 and 1", c.StuffingSuccess)
	}
	if err := rate("stuffing_per_day", c.StuffingPerDay); err != nil {
		return err
	}
	if !(c.StuffingTargets >= 1 && c.StuffingTargets <= 100_000) {
		return occsimore.FieldErrorf("stuffing_targets", "stuffing targets %g must be between 1 and 100000", c.StuffingTargets)
	}
	if err := rate("impossible_travel_per_day", c.ImpossibleTravelPerDay); err != nil {
		return err
	}
	return rate("new_device_per_day", c.NewDevicePerDay)
}

// Login is one login attempt with the RBA dataset's fields, our device
// fingerprint and the labels.
type Login struct {
	ID         int64     // rank in time order, from 0
	Time       time.Time // in the account's home zone, so its hour is local
	User       int       // account number; numbers from Users up are unknown accounts
	IP         string
	ASN        uint32
	Country    string // ISO 3166-1 alpha-2
	Region     string
	City       string
	Lat, Lon   float64
	Device     string // device fingerprint
	DeviceType string // desktop, mobile, tablet or bot
	UserAgent  string
	Browser    string
	OS         string
	RTT        int // round-trip time in milliseconds
	Success    bool
	AttackIP   bool // the attempt comes from an attacker
	ATO        bool // an attacker got in: account takeover
	Scenario   LoginScenario
}

// Event fills ev with l as an "auth.login" event, without MemberID or
// labels.
func (l *Login) Event(ev *occsimore.Event) {
	*ev = occsimore.Event{
		ID:          strconv.FormatInt(l.ID, 10),
		Kind:        KindAuthLogin,
		Time:        l.Time,
		User:        strconv.Itoa(l.User),
		IP:          l.IP,
		ASN:         l.ASN,
		Country:     l.Country,
		Lat:         l.Lat,
		Lon:         l.Lon,
		HasLocation: true,
		Device:      l.Device,
		UserAgent:   l.UserAgent,
		Success:     l.Success,
		HasSuccess:  true,
	}
}

// device is one of a user's devices.
type device struct {
	id string
	ua *userAgent
}

// loginUser holds a user's habits.
type loginUser struct {
	home, homeCity     int // country and city index
	second, secondCity int // a second habitual country, or -1
	isp, mobile        int // ASN indexes
	secondISP          int
	ispIPs             [2]string
	mobileIP, secondIP string
	devices            []device
	rate, peak, spread float64 // logins a weekday; hour of day and its spread
}

// LoginWorld holds the users of a configuration. It is read-only once
// built and safe for concurrent use.
type LoginWorld struct {
	cfg   LoginsConfig
	start time.Time
	users []loginUser
}

// NewLoginWorld validates cfg and draws the users' habits.
func NewLoginWorld(cfg LoginsConfig) (*LoginWorld, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	y, m, d := cfg.Start.UTC().Date()
	w := &LoginWorld{cfg: cfg, start: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
	r := newStream(cfg.Seed, streamUsers, 0)
	var homes []int
	var cum []float64
	total := 0.0
	for i, c := range countries {
		if c.weight > 0 {
			total += c.weight
			homes = append(homes, i)
			cum = append(cum, total)
		}
	}
	pickHome := func() int {
		u := r.Float64() * total
		i, _ := slices.BinarySearch(cum, u)
		return homes[min(i, len(homes)-1)]
	}
	w.users = make([]loginUser, cfg.Users)
	for i := range w.users {
		u := &w.users[i]
		u.home = pickHome()
		hc := &countries[u.home]
		u.homeCity = r.IntN(len(hc.cities))
		u.second, u.secondCity = -1, -1
		if r.Float64() < 0.3 {
			if s := pickHome(); s != u.home {
				u.second = s
				u.secondCity = r.IntN(len(countries[s].cities))
				u.secondISP = asnIndex(countries[s].isps[r.IntN(len(countries[s].isps))])
				u.secondIP = ipString(u.secondISP, uint16(r.Uint32()))
			}
		}
		u.isp = asnIndex(hc.isps[r.IntN(len(hc.isps))])
		u.mobile = asnIndex(hc.mobile)
		u.ispIPs = [2]string{ipString(u.isp, uint16(r.Uint32())), ipString(u.isp, uint16(r.Uint32()))}
		u.mobileIP = ipString(u.mobile, uint16(r.Uint32()))
		// A primary device, often a second of the other kind, sometimes a tablet.
		mobileFirst := r.Float64() < 0.55
		kinds := []bool{mobileFirst}
		if r.Float64() < 0.6 {
			kinds = append(kinds, !mobileFirst)
		}
		for _, mobile := range kinds {
			list := desktopUAs
			if mobile {
				list = mobileUAs
			}
			u.devices = append(u.devices, device{id: fingerprint(r), ua: &list[r.IntN(len(list))]})
		}
		if r.Float64() < 0.15 {
			u.devices = append(u.devices, device{id: fingerprint(r), ua: &tabletUAs[r.IntN(len(tabletUAs))]})
		}
		u.rate = 0.1 + r.Float64()*(2*cfg.LoginsPerDay-0.2)
		u.peak = 8 + r.Float64()*11
		u.spread = 1 + r.Float64()*2
	}
	return w, nil
}

// fingerprint draws a device fingerprint such as "d3fa2c19b07e1".
func fingerprint(r *rand.Rand) string {
	const hex = "0123456789abcdef"
	var b [13]byte
	b[0] = 'd'
	v := r.Uint64()
	for i := 1; i < len(b); i++ {
		b[i] = hex[v&15]
		v >>= 4
	}
	return string(b[:])
}

// Config returns the configuration the world was built from.
func (w *LoginWorld) Config() LoginsConfig { return w.cfg }

// Start returns midnight UTC of the first day.
func (w *LoginWorld) Start() time.Time { return w.start }

// GenerateLogins builds the world of cfg and returns its logins; see
// LoginWorld.Logins.
func GenerateLogins(cfg LoginsConfig) (iter.Seq[*Login], error) {
	w, err := NewLoginWorld(cfg)
	if err != nil {
		return nil, err
	}
	return w.Logins(), nil
}

// Logins returns the run's login attempts in time order over the UTC days
// [Start, Start+Days), with ids counting from 0 in that order. Each
// iteration replays the same run. The *Login handed to yield is reused:
// copy it to keep it.
//
// Owners log in at their habitual hours (local daytime, a third as often on
// weekends), mostly from their home city through their fixed-line or mobile
// provider, sometimes from a second habitual country, on one of their 1 to 3
// devices; 4 % of sessions begin with a failed attempt. Attacks follow
// LoginsConfig.
func (w *LoginWorld) Logins() iter.Seq[*Login] {
	return func(yield func(*Login) bool) {
		g := &loginGen{w: w, s: newReusableStream()}
		g.rands = make([]*rand.Rand, len(w.users))
		for i := range w.users {
			g.rands[i] = newStream(w.cfg.Seed, streamUserLogins, uint64(i))
		}
		// Local day L of a user lands in UTC days L-1 to L+1, so UTC day
		// L-1 is complete once local day L is generated.
		for local := 0; local <= w.cfg.Days; local++ {
			g.generate(local)
			if local >= 1 && !g.emit(local-1, yield) {
				return
			}
		}
	}
}

// server is where round-trip times are measured from (Frankfurt).
const serverLat, serverLon = 50.11, 8.68

type loginGen struct {
	w       *LoginWorld
	rands   []*rand.Rand
	s       *stream
	buckets [3][]Login // by UTC day mod 3
	keys    []uint64
	id      int64
}

func (g *loginGen) bucket(day int) *[]Login { return &g.buckets[(day%3+3)%3] }

// add files l under its UTC day, dropping it outside the run.
func (g *loginGen) add(l Login) {
	day := int(math.Floor(l.Time.Sub(g.w.start).Hours() / 24))
	if day < 0 || day >= g.w.cfg.Days {
		return
	}
	b := g.bucket(day)
	*b = append(*b, l)
}

func rtt(r *rand.Rand, c *city, mobile bool) int {
	ms := 8 + haversineKm(serverLat, serverLon, c.lat, c.lon)/80 + r.ExpFloat64()*5
	if mobile {
		ms += 25
	}
	return int(ms)
}

// generate draws every user's own logins of local day.
func (g *loginGen) generate(local int) {
	y, m, d := g.w.start.Date()
	weekend := g.w.start.AddDate(0, 0, local).Weekday()
	factor := 1.0
	if weekend == time.Saturday || weekend == time.Sunday {
		factor = 0.35
	}
	for i := range g.w.users {
		u := &g.w.users[i]
		r := g.rands[i]
		mean := u.rate * factor
		n := poisson(r, mean, math.Exp(-mean))
		if n == 0 {
			continue
		}
		midnight := time.Date(y, m, d+local, 0, 0, 0, 0, zones[u.home])
		for range n {
			h := u.peak + u.spread*r.NormFloat64()
			for try := 0; (h < 6 || h >= 23.5) && try < 10; try++ {
				h = u.peak + u.spread*r.NormFloat64()
			}
			h = min(max(h, 6), 23.5)
			dev := &u.devices[0]
			if len(u.devices) > 1 && r.Float64() >= 0.7 {
				dev = &u.devices[1+r.IntN(len(u.devices)-1)]
			}
			l := Login{
				Time: midnight.Add(time.Duration(h*3600) * time.Second), User: i,
				Device: dev.id, DeviceType: dev.ua.device, UserAgent: dev.ua.ua, Browser: dev.ua.browser, OS: dev.ua.os,
				Success: true,
			}
			var c *city
			var mobile bool
			switch {
			case u.second >= 0 && r.Float64() < 0.08:
				c = &countries[u.second].cities[u.secondCity]
				l.Country, l.ASN, l.IP = countries[u.second].code, asns[u.secondISP].number, u.secondIP
			case dev.ua.device == "mobile" && r.Float64() < 0.4:
				c, mobile = &countries[u.home].cities[u.homeCity], true
				l.Country, l.ASN, l.IP = countries[u.home].code, asns[u.mobile].number, u.mobileIP
			default:
				c = &countries[u.home].cities[u.homeCity]
				ip := u.ispIPs[0]
				if r.Float64() >= 0.8 {
					ip = u.ispIPs[1]
				}
				l.Country, l.ASN, l.IP = countries[u.home].code, asns[u.isp].number, ip
			}
			l.Region, l.City, l.Lat, l.Lon = c.region, c.name, c.lat, c.lon
			l.RTT = rtt(r, c, mobile)
			if r.Float64() < 0.04 {
				failed := l
				failed.Success = false
				failed.Time = l.Time.Add(-time.Duration(5+r.IntN(56)) * time.Second)
				g.add(failed)
			}
			g.add(l)
		}
	}
}

// emit adds the attacks of UTC day, sorts the day and yields it.
func (g *loginGen) emit(day int, yield func(*Login) bool) bool {
	g.stuffing(day)
	g.impossibleTravel(day)
	g.newDevice(day)
	b := g.bucket(day)
	logins := *b
	dayStart := g.w.start.Add(time.Duration(day) * 24 * time.Hour).Unix()
	g.keys = g.keys[:0]
	for i := range logins {
		g.keys = append(g.keys, uint64(logins[i].Time.Unix()-dayStart)<<32|uint64(i))
	}
	slices.Sort(g.keys)
	for _, k := range g.keys {
		l := &logins[uint32(k)]
		l.ID = g.id
		g.id++
		if !yield(l) {
			return false
		}
	}
	clear(logins) // drop the strings
	*b = logins[:0]
	return true
}

// stuffing adds day's credential-stuffing campaigns: from one hosting ASN
// no user has, 3 to 30 addresses try a list of accounts over 10 to 120
// minutes with one tool's user agent.
func (g *loginGen) stuffing(day int) {
	cfg := &g.w.cfg
	r := g.s
	r.reseed(cfg.Seed, streamStuffing, uint64(day))
	var hosting []int
	for i, a := range asns {
		if a.hosting {
			hosting = append(hosting, i)
		}
	}
	dayStart := g.w.start.Add(time.Duration(day) * 24 * time.Hour)
	for range poisson(r.Rand, cfg.StuffingPerDay, math.Exp(-cfg.StuffingPerDay)) {
		a := hosting[r.IntN(len(hosting))]
		ci := countryIndex(asns[a].country)
		c := &countries[ci].cities[0]
		ips := make([]string, 3+r.IntN(28))
		devs := make([]string, len(ips))
		for i := range ips {
			ips[i] = ipString(a, uint16(r.Uint32()))
			devs[i] = fingerprint(r.Rand)
		}
		ua := &botUAs[r.IntN(len(botUAs))]
		dur := 600 + r.IntN(6600)
		begin := r.IntN(86400 - dur)
		targets := max(1, poisson(r.Rand, cfg.StuffingTargets, math.Exp(-cfg.StuffingTargets)))
		for range targets {
			user := r.IntN(cfg.Users)
			zone := zones[g.w.users[user].home]
			if r.Float64() < 0.2 { // a leaked account this service never had
				user = cfg.Users + r.IntN(10*cfg.Users)
				zone = time.UTC
			}
			k := r.IntN(len(ips))
			ok := user < cfg.Users && r.Float64() < cfg.StuffingSuccess
			g.add(Login{
				Time: dayStart.Add(time.Duration(begin+r.IntN(dur)) * time.Second).In(zone), User: user,
				IP: ips[k], ASN: asns[a].number, Country: asns[a].country, Region: c.region, City: c.name, Lat: c.lat, Lon: c.lon,
				Device: devs[k], DeviceType: ua.device, UserAgent: ua.ua, Browser: ua.browser, OS: ua.os,
				RTT:     rtt(r.Rand, c, false),
				Success: ok, AttackIP: true, ATO: ok, Scenario: LoginStuffing,
			})
		}
	}
}

// impossibleTravel adds day's takeovers from far away: 5 to 45 minutes
// after one of the owner's logins, a successful login from a country more
// than 3,000 km away, on a residential ASN there, from a new device.
func (g *loginGen) impossibleTravel(day int) {
	cfg := &g.w.cfg
	r := g.s
	r.reseed(cfg.Seed, streamTravel, uint64(day))
	logins := *g.bucket(day)
	dayEnd := g.w.start.Add(time.Duration(day+1) * 24 * time.Hour)
	for range poisson(r.Rand, cfg.ImpossibleTravelPerDay, math.Exp(-cfg.ImpossibleTravelPerDay)) {
		var base *Login
		for range 100 {
			if len(logins) == 0 {
				break
			}
			l := &logins[r.IntN(len(logins))]
			if l.Scenario == LoginNormal && l.Success && l.Time.Before(dayEnd.Add(-time.Hour)) {
				base = l
				break
			}
		}
		if base == nil {
			continue
		}
		var far []int
		for i, c := range countries {
			if c.weight == 0 && len(c.isps) > 0 && haversineKm(base.Lat, base.Lon, c.cities[0].lat, c.cities[0].lon) > 3000 {
				far = append(far, i)
			}
		}
		ci := far[r.IntN(len(far))]
		fc := &countries[ci]
		c := &fc.cities[r.IntN(len(fc.cities))]
		a := asnIndex(fc.isps[r.IntN(len(fc.isps))])
		list := desktopUAs
		if r.Float64() < 0.5 {
			list = mobileUAs
		}
		ua := &list[r.IntN(len(list))]
		l := Login{
			Time: base.Time.Add(time.Duration(300+r.IntN(2400)) * time.Second), User: base.User,
			IP: ipString(a, uint16(r.Uint32())), ASN: asns[a].number, Country: fc.code, Region: c.region, City: c.name, Lat: c.lat, Lon: c.lon,
			Device: fingerprint(r.Rand), DeviceType: ua.device, UserAgent: ua.ua, Browser: ua.browser, OS: ua.os,
			RTT:     rtt(r.Rand, c, false),
			Success: true, AttackIP: true, ATO: true, Scenario: LoginImpossibleTravel,
		}
		logins = append(logins, l) // base may move: it is not used after this
		*g.bucket(day) = logins
	}
}

// newDevice adds day's takeovers from an unknown device between 01:00 and
// 05:00 in the owner's zone, from the owner's country but another
// provider's address.
func (g *loginGen) newDevice(day int) {
	cfg := &g.w.cfg
	r := g.s
	r.reseed(cfg.Seed, streamNewDevice, uint64(day))
	dayStart := g.w.start.Add(time.Duration(day) * 24 * time.Hour)
	dayEnd := dayStart.Add(24 * time.Hour)
	for range poisson(r.Rand, cfg.NewDevicePerDay, math.Exp(-cfg.NewDevicePerDay)) {
		user := r.IntN(cfg.Users)
		u := &g.w.users[user]
		zone := zones[u.home]
		sec := 3600 + r.IntN(4*3600)
		// The local night that falls in this UTC day: try the local dates
		// around it.
		var t time.Time
		for _, dd := range [...]int{0, 1, -1} {
			y, m, d := dayStart.AddDate(0, 0, dd).Date()
			c := time.Date(y, m, d, 0, 0, sec, 0, zone)
			if !c.Before(dayStart) && c.Before(dayEnd) {
				t = c
				break
			}
		}
		if t.IsZero() {
			continue
		}
		hc := &countries[u.home]
		a := u.isp
		if len(hc.isps) > 1 {
			for a == u.isp {
				a = asnIndex(hc.isps[r.IntN(len(hc.isps))])
			}
		}
		c := &hc.cities[r.IntN(len(hc.cities))]
		ua := &rareUAs[r.IntN(len(rareUAs))]
		g.add(Login{
			Time: t, User: user,
			IP: ipString(a, uint16(r.Uint32())), ASN: asns[a].number, Country: hc.code, Region: c.region, City: c.name, Lat: c.lat, Lon: c.lon,
			Device: fingerprint(r.Rand), DeviceType: ua.device, UserAgent: ua.ua, Browser: ua.browser, OS: ua.os,
			RTT:     rtt(r.Rand, c, false),
			Success: true, AttackIP: true, ATO: true, Scenario: LoginNewDevice,
		})
	}
}

// LoginsSummary counts logins, failures and attacks.
type LoginsSummary struct {
	Logins     int64
	Failed     int64
	AttackIP   int64
	ATO        int64
	ByScenario [maxLoginScenario + 1]int64
	Users      int // distinct accounts tried
	seen       map[int]struct{}
}

// Add counts l.
func (s *LoginsSummary) Add(l *Login) {
	s.Logins++
	if !l.Success {
		s.Failed++
	}
	if l.AttackIP {
		s.AttackIP++
	}
	if l.ATO {
		s.ATO++
	}
	if int(l.Scenario) < len(s.ByScenario) {
		s.ByScenario[l.Scenario]++
	}
	if s.seen == nil {
		s.seen = make(map[int]struct{})
	}
	if _, ok := s.seen[l.User]; !ok {
		s.seen[l.User] = struct{}{}
		s.Users++
	}
}
