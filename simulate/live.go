package simulate

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/occsimore/occsimore"
)

// Plant names a habit rupture planted in the live stream.
type Plant string

const (
	PlantAmount5x         Plant = "amount_5x"         // a card pays five times its usual amount
	PlantNewCountry       Plant = "new_country"       // a card or account used from a country never seen
	PlantNightHour        Plant = "night_hour"        // a card or account active between 02:00 and 05:00 local
	PlantBurst            Plant = "burst"             // 10 to 20 events of one card or account within minutes
	PlantImpossibleTravel Plant = "impossible_travel" // a far country 10 to 30 minutes after a home event
	PlantNewDevice        Plant = "new_device"        // an account logs in from an unknown device and browser
)

// Reasons returns the reason codes of package behavior's default specs
// that should explain an alert on the plant, any one of them sufficing:
// the demo can check that a planted event was caught for the right reason.
// A card planted in a new country is usually far from its last payment
// too, so impossible_travel counts for it.
func (p Plant) Reasons() []string {
	switch p {
	case PlantAmount5x:
		return []string{"amount_high"}
	case PlantNewCountry:
		return []string{"new_country", "new_asn", "impossible_travel"}
	case PlantNightHour:
		return []string{"unusual_hour"}
	case PlantBurst:
		return []string{"velocity_burst", "failure_burst", "gap_short", "new_terminal"}
	case PlantImpossibleTravel:
		return []string{"impossible_travel", "new_country"}
	case PlantNewDevice:
		return []string{"new_device", "new_user_agent"}
	}
	return nil
}

var (
	cardPlants  = [...]Plant{PlantAmount5x, PlantNewCountry, PlantNightHour, PlantBurst, PlantImpossibleTravel}
	loginPlants = [...]Plant{PlantNewDevice, PlantNewCountry, PlantNightHour, PlantBurst, PlantImpossibleTravel}
)

// LiveConfig configures the live demonstration stream: a French bank's
// cards and online-banking accounts in compressed time.
type LiveConfig struct {
	Member    string    // set as each event's MemberID
	Seed      uint64    //
	WallStart time.Time // wall-clock time at which Start plays
	Start     time.Time // simulated time of the live part; zero means WallStart
	// Speedup is how many simulated seconds pass in a wall second.
	Speedup float64
	// History is simulated time before Start, all due at WallStart, so that
	// profiles have habits to break; nothing is planted in it.
	History time.Duration
	Cards   int // cards paying about 3 times a day
	Users   int // accounts logging in about twice a day
	// PlantRate is the probability that a live arrival is a planted
	// rupture instead of ordinary traffic.
	PlantRate float64
}

// DefaultLive is 200 cards and 100 accounts, 14 days of history (about
// 11,000 events, all due at once), then a simulated day every 144 wall
// seconds: about 6 events a second, with 1 % of arrivals planted, one
// rupture every 15 to 20 seconds. WallStart is left for the caller.
func DefaultLive() LiveConfig {
	return LiveConfig{Speedup: 600, History: 14 * 24 * time.Hour, Cards: 200, Users: 100, PlantRate: 0.01}
}

// Validate checks the configuration; errors are EINVALID naming the field.
func (c LiveConfig) Validate() error {
	switch {
	case c.WallStart.IsZero():
		return occsimore.FieldErrorf("wall_start", "wall start is required")
	case !(c.Speedup >= 1 && c.Speedup <= 1e6):
		return occsimore.FieldErrorf("speedup", "speedup %g must be between 1 and 1000000", c.Speedup)
	case c.History < 0 || c.History > 366*24*time.Hour:
		return occsimore.FieldErrorf("history", "history %s must be between 0 and 366 days", c.History)
	case c.Cards < 0 || c.Cards > 1_000_000 || c.Users < 0 || c.Users > 1_000_000 || c.Cards+c.Users == 0:
		return occsimore.FieldErrorf("cards", "cards (%d) and users (%d) must be 0 to 1000000, not both 0", c.Cards, c.Users)
	case !(c.PlantRate >= 0 && c.PlantRate <= 1):
		return occsimore.FieldErrorf("plant_rate", "plant rate %g must be between 0 and 1", c.PlantRate)
	}
	return nil
}

// LiveEvent is one event of the live stream.
type LiveEvent struct {
	Event occsimore.Event
	// Due is the wall-clock time at which to send the event. It never
	// decreases along the stream.
	Due time.Time
	// Plant is the rupture this event carries, or "" for ordinary traffic.
	Plant Plant
	// PlantID numbers planted ruptures from 1; the events of one burst share
	// it. 0 for ordinary traffic.
	PlantID int
}

// liveZone is the bank's: Paris, without daylight saving.
var liveZone = time.FixedZone("CET", 3600)

// liveHourWeight is how busy each local hour is, at most 1.
var liveHourWeight = [24]float64{
	0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.2, 0.5, 1, 1, 1, 1,
	0.9, 0.9, 1, 1, 1, 1, 1, 0.7, 0.7, 0.7, 0.3, 0.1,
}

type liveTerm struct {
	id, merchant, mcc string
	lat, lon          float64
}

type liveCard struct {
	id      string
	terms   []liveTerm
	mu, sig float64 // log-normal amount
}

type liveUser struct {
	id            string
	city          *city
	isp, mobile   int
	ip, mobileIP  string
	devices       []device
	primaryMobile bool
}

// Live generates the live stream. It is deterministic: the same config
// gives the same events with the same due times. It is not safe for
// concurrent use.
type Live struct {
	cfg      LiveConfig
	r        *rand.Rand
	cards    []liveCard
	users    []liveUser
	far      []int // far countries
	hosting  []int
	cardRate float64 // share of arrivals that are card payments
	rate     float64 // arrivals per simulated second at the busiest hour
	next     time.Time
	pending  livePending
	seq      uint64
	n        int64
	plants   int
	idPrefix string
}

// NewLive validates cfg and draws the population.
func NewLive(cfg LiveConfig) (*Live, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Start.IsZero() {
		cfg.Start = cfg.WallStart
	}
	l := &Live{cfg: cfg, r: newStream(cfg.Seed, streamLive, 0)}
	l.idPrefix = "live-" + strconv.FormatInt(cfg.Start.Unix(), 10) + "-"
	r := l.r
	fr := &countries[countryIndex("FR")]
	for i := range cfg.Cards {
		home := &fr.cities[r.IntN(len(fr.cities))]
		c := liveCard{id: "card" + strconv.Itoa(1000+i), mu: math.Log(10 + r.Float64()*70), sig: 0.3 + r.Float64()*0.3}
		for j := range 4 + r.IntN(7) {
			n := strconv.Itoa(i*16 + j)
			c.terms = append(c.terms, liveTerm{
				id: "T" + n, merchant: "M" + n, mcc: mccs[r.IntN(len(mccs))],
				lat: home.lat + r.NormFloat64()*0.03, lon: home.lon + r.NormFloat64()*0.04,
			})
		}
		l.cards = append(l.cards, c)
	}
	for i := range cfg.Users {
		u := liveUser{id: "user" + strconv.Itoa(1000+i), city: &fr.cities[r.IntN(len(fr.cities))]}
		u.isp = asnIndex(fr.isps[r.IntN(len(fr.isps))])
		u.mobile = asnIndex(fr.mobile)
		u.ip = ipString(u.isp, uint16(r.Uint32()))
		u.mobileIP = ipString(u.mobile, uint16(r.Uint32()))
		u.primaryMobile = r.Float64() < 0.55
		first, second := desktopUAs, mobileUAs
		if u.primaryMobile {
			first, second = second, first
		}
		u.devices = append(u.devices, device{id: fingerprint(r), ua: &first[r.IntN(len(first))]})
		if r.Float64() < 0.5 {
			u.devices = append(u.devices, device{id: fingerprint(r), ua: &second[r.IntN(len(second))]})
		}
		l.users = append(l.users, u)
	}
	for i, c := range countries {
		if c.weight == 0 && len(c.isps) > 0 && haversineKm(fr.cities[0].lat, fr.cities[0].lon, c.cities[0].lat, c.cities[0].lon) > 3000 {
			l.far = append(l.far, i)
		}
	}
	for i, a := range asns {
		if a.hosting {
			l.hosting = append(l.hosting, i)
		}
	}
	perDay := 3*float64(cfg.Cards) + 2*float64(cfg.Users)
	l.cardRate = 3 * float64(cfg.Cards) / perDay
	// The hour weights average about 0.6: scale so each entity keeps its
	// daily count.
	mean := 0.0
	for _, w := range liveHourWeight {
		mean += w / 24
	}
	l.rate = perDay / 86400 / mean
	l.next = cfg.Start.Add(-cfg.History)
	l.advance()
	return l, nil
}

// Next returns the next event of the endless stream. The caller sends it
// at its Due time.
func (l *Live) Next() LiveEvent {
	for len(l.pending) == 0 || l.pending[0].ev.Event.Time.After(l.next) {
		l.arrive(l.next)
		l.advance()
	}
	p := heap.Pop(&l.pending).(pendingEvent)
	ev := p.ev
	ev.Event.ID = l.idPrefix + strconv.FormatInt(l.n, 10)
	l.n++
	ev.Event.MemberID = l.cfg.Member
	if d := ev.Event.Time.Sub(l.cfg.Start); d > 0 {
		ev.Due = l.cfg.WallStart.Add(time.Duration(float64(d) / l.cfg.Speedup))
	} else {
		ev.Due = l.cfg.WallStart
	}
	return ev
}

// advance moves l.next to the next arrival: a Poisson process at the
// busiest hour's rate, thinned by the hour's weight.
func (l *Live) advance() {
	for {
		l.next = l.next.Add(time.Duration(l.r.ExpFloat64() / l.rate * float64(time.Second)))
		if l.r.Float64() < liveHourWeight[l.next.In(liveZone).Hour()] {
			return
		}
	}
}

func (l *Live) push(ev LiveEvent) {
	ev.Event.Time = ev.Event.Time.Truncate(time.Millisecond).In(liveZone)
	heap.Push(&l.pending, pendingEvent{ev: ev, seq: l.seq})
	l.seq++
}

// arrive generates what happens at t: an ordinary event, or after Start
// and with probability PlantRate, a planted rupture.
func (l *Live) arrive(t time.Time) {
	r := l.r
	card := r.Float64() < l.cardRate
	planted := !t.Before(l.cfg.Start) && r.Float64() < l.cfg.PlantRate
	if card {
		c := &l.cards[r.IntN(len(l.cards))]
		if !planted {
			l.push(LiveEvent{Event: l.cardEvent(c, t)})
			return
		}
		l.plantCard(c, t, cardPlants[r.IntN(len(cardPlants))])
		return
	}
	u := &l.users[r.IntN(len(l.users))]
	if !planted {
		l.push(LiveEvent{Event: l.loginEvent(u, t)})
		return
	}
	l.plantLogin(u, t, loginPlants[r.IntN(len(loginPlants))])
}

// cardEvent is an ordinary payment: a habitual terminal, favouring the
// first ones, and a usual amount.
func (l *Live) cardEvent(c *liveCard, t time.Time) occsimore.Event {
	r := l.r
	term := &c.terms[min(r.IntN(len(c.terms)), r.IntN(len(c.terms)))]
	return occsimore.Event{
		Kind: KindCardTx, Time: t, Card: c.id, Customer: c.id, Terminal: term.id, Merchant: term.merchant,
		Amount: math.Round(math.Exp(c.mu+c.sig*r.NormFloat64())*100) / 100, Currency: cardsCurrency, Country: "FR",
		Lat: term.lat, Lon: term.lon, HasLocation: true, MCC: term.mcc, Channel: "pos",
	}
}

// loginEvent is an ordinary login: a habitual device from home, through
// the mobile carrier now and then; 3 % are mistyped passwords.
func (l *Live) loginEvent(u *liveUser, t time.Time) occsimore.Event {
	r := l.r
	dev := &u.devices[0]
	if len(u.devices) > 1 && r.Float64() < 0.25 {
		dev = &u.devices[1]
	}
	a, ip := u.isp, u.ip
	if dev.ua.device == "mobile" && r.Float64() < 0.4 {
		a, ip = u.mobile, u.mobileIP
	}
	return occsimore.Event{
		Kind: KindAuthLogin, Time: t, User: u.id, IP: ip, ASN: asns[a].number, Country: "FR",
		Lat: u.city.lat, Lon: u.city.lon, HasLocation: true, Device: dev.id, UserAgent: dev.ua.ua,
		Success: r.Float64() >= 0.03, HasSuccess: true,
	}
}

// nextNight returns a time between 02:00 and 05:00 local after t.
func (l *Live) nextNight(t time.Time) time.Time {
	lt := t.In(liveZone)
	y, m, d := lt.Date()
	n := time.Date(y, m, d, 2, 0, l.r.IntN(3*3600), 0, liveZone)
	if !n.After(t) {
		n = n.AddDate(0, 0, 1)
	}
	return n
}

// farPlace draws a far country and a city in it.
func (l *Live) farPlace() (*country, *city) {
	fc := &countries[l.far[l.r.IntN(len(l.far))]]
	return fc, &fc.cities[l.r.IntN(len(fc.cities))]
}

func (l *Live) plantCard(c *liveCard, t time.Time, p Plant) {
	r := l.r
	l.plants++
	id := l.plants
	switch p {
	case PlantAmount5x:
		ev := l.cardEvent(c, t)
		ev.Amount = math.Round(5*math.Exp(c.mu)*(0.9+0.2*r.Float64())*100) / 100
		l.push(LiveEvent{Event: ev, Plant: p, PlantID: id})
	case PlantNewCountry, PlantImpossibleTravel:
		at := t
		if p == PlantImpossibleTravel {
			l.push(LiveEvent{Event: l.cardEvent(c, t)}) // the owner, at home
			at = t.Add(time.Duration(600+r.IntN(1200)) * time.Second)
		}
		fc, fcity := l.farPlace()
		ev := l.cardEvent(c, at)
		n := strconv.Itoa(r.IntN(1000))
		ev.Terminal, ev.Merchant, ev.Country = "T-"+fc.code+"-"+n, "M-"+fc.code+"-"+n, fc.code
		ev.Lat, ev.Lon = fcity.lat, fcity.lon
		l.push(LiveEvent{Event: ev, Plant: p, PlantID: id})
	case PlantNightHour:
		l.push(LiveEvent{Event: l.cardEvent(c, l.nextNight(t)), Plant: p, PlantID: id})
	case PlantBurst:
		// Card testing: small payments at one online shop the card never used.
		n := strconv.Itoa(r.IntN(1000))
		at := t
		for range 10 + r.IntN(11) {
			ev := l.cardEvent(c, at)
			ev.Terminal, ev.Merchant, ev.MCC, ev.Channel = "T-WEB-"+n, "M-WEB-"+n, "5999", "ecom"
			ev.Amount = float64(50+r.IntN(151)) / 100
			l.push(LiveEvent{Event: ev, Plant: p, PlantID: id})
			at = at.Add(time.Duration(3+r.IntN(10)) * time.Second)
		}
	}
}

func (l *Live) plantLogin(u *liveUser, t time.Time, p Plant) {
	r := l.r
	l.plants++
	id := l.plants
	switch p {
	case PlantNewDevice:
		ev := l.loginEvent(u, t)
		ua := &rareUAs[r.IntN(len(rareUAs))]
		ev.Device, ev.UserAgent, ev.Success = fingerprint(r), ua.ua, true
		l.push(LiveEvent{Event: ev, Plant: p, PlantID: id})
	case PlantNewCountry, PlantImpossibleTravel:
		at := t
		if p == PlantImpossibleTravel {
			home := l.loginEvent(u, t)
			home.Success = true
			l.push(LiveEvent{Event: home})
			at = t.Add(time.Duration(600+r.IntN(1200)) * time.Second)
		}
		fc, fcity := l.farPlace()
		a := asnIndex(fc.isps[r.IntN(len(fc.isps))])
		ev := l.loginEvent(u, at)
		ev.IP, ev.ASN, ev.Country, ev.Lat, ev.Lon, ev.Success = ipString(a, uint16(r.Uint32())), asns[a].number, fc.code, fcity.lat, fcity.lon, true
		if p == PlantImpossibleTravel { // the intruder's own machine
			ua := &desktopUAs[r.IntN(len(desktopUAs))]
			ev.Device, ev.UserAgent = fingerprint(r), ua.ua
		}
		l.push(LiveEvent{Event: ev, Plant: p, PlantID: id})
	case PlantNightHour:
		ev := l.loginEvent(u, l.nextNight(t))
		ev.Success = true
		l.push(LiveEvent{Event: ev, Plant: p, PlantID: id})
	case PlantBurst:
		// Password guessing: one hosting address, a tool's user agent.
		a := l.hosting[r.IntN(len(l.hosting))]
		ci := countryIndex(asns[a].country)
		ip, dev, ua := ipString(a, uint16(r.Uint32())), fingerprint(r), &botUAs[r.IntN(len(botUAs))]
		at := t
		for range 10 + r.IntN(11) {
			ev := l.loginEvent(u, at)
			ev.IP, ev.ASN, ev.Country = ip, asns[a].number, asns[a].country
			ev.Lat, ev.Lon = countries[ci].cities[0].lat, countries[ci].cities[0].lon
			ev.Device, ev.UserAgent, ev.Success = dev, ua.ua, false
			l.push(LiveEvent{Event: ev, Plant: p, PlantID: id})
			at = at.Add(time.Duration(2+r.IntN(8)) * time.Second)
		}
	}
}

// pendingEvent orders events by time, then by creation.
type pendingEvent struct {
	ev  LiveEvent
	seq uint64
}

type livePending []pendingEvent

func (p livePending) Len() int { return len(p) }
func (p livePending) Less(i, j int) bool {
	if c := p[i].ev.Event.Time.Compare(p[j].ev.Event.Time); c != 0 {
		return c < 0
	}
	return p[i].seq < p[j].seq
}
func (p livePending) Swap(i, j int) { p[i], p[j] = p[j], p[i] }
func (p *livePending) Push(x any)   { *p = append(*p, x.(pendingEvent)) }
func (p *livePending) Pop() any {
	old := *p
	x := old[len(old)-1]
	*p = old[:len(old)-1]
	return x
}
