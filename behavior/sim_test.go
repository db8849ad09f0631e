package behavior

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// The simulations below generate entities with stable habits for weeks, then
// plant single habit ruptures in a final test week among normal traffic.

var simStart = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC) // a Monday

type city struct {
	country  string
	lat, lon float64
}

var cities = []city{
	{"FR", 48.86, 2.35}, {"FR", 45.76, 4.84}, {"FR", 43.30, 5.37}, {"FR", 47.22, -1.55},
	{"DE", 52.52, 13.40}, {"DE", 48.14, 11.58}, {"BE", 50.85, 4.35}, {"ES", 40.42, -3.70},
}

var mccs = []string{"5411", "5812", "5541", "5311", "5912", "5999", "4111", "5814"}

type simMerchant struct {
	id, terminal, mcc, country string
	lat, lon                   float64
	ecom                       bool
}

type simCard struct {
	id, customer   string
	home           int
	mean, sd       float64
	perDay         float64
	hourMean       float64
	favs, ecomFavs []*simMerchant
}

// planted marks an event planted with the reason code it should carry.
type planted struct {
	ev   occsimore.Event
	code string
}

// leadIn marks planted events that start an attack without being one yet
// (the first purchases of a burst): they are processed but not judged.
// Normal events of an entity after its plant are not judged either, since
// the plant changed their context (a purchase at home after an impossible
// trip is itself an impossible trip).
const leadIn = "-"

type cardWorld struct {
	merchants map[int][]*simMerchant // by city
	ecom      []*simMerchant
	cards     []*simCard
}

func newCardWorld(r *rand.Rand, nCards int) *cardWorld {
	w := &cardWorld{merchants: map[int][]*simMerchant{}}
	n := 0
	for ci, c := range cities {
		for range 60 {
			n++
			w.merchants[ci] = append(w.merchants[ci], &simMerchant{
				id: fmt.Sprintf("m%d", n), terminal: fmt.Sprintf("t%d", n), mcc: mccs[r.IntN(len(mccs))], country: c.country,
				lat: c.lat + r.NormFloat64()*0.03, lon: c.lon + r.NormFloat64()*0.03,
			})
		}
	}
	for i := range 80 {
		country := []string{"FR", "FR", "FR", "DE", "BE", "ES"}[i%6]
		w.ecom = append(w.ecom, &simMerchant{id: fmt.Sprintf("e%d", i), terminal: fmt.Sprintf("et%d", i), mcc: mccs[r.IntN(len(mccs))], country: country, ecom: true})
	}
	for i := range nCards {
		home := []int{0, 0, 0, 1, 2, 3, 4, 5, 6, 7}[r.IntN(10)]
		mean := 10 + r.Float64()*90
		c := &simCard{id: fmt.Sprintf("card%d", i), customer: fmt.Sprintf("cust%d", i), home: home, mean: mean, sd: mean / 3,
			perDay: 1 + r.Float64()*2, hourMean: 10 + r.Float64()*8}
		ms := w.merchants[home]
		for _, j := range r.Perm(len(ms))[:6] {
			c.favs = append(c.favs, ms[j])
		}
		for range 2 {
			for {
				m := w.ecom[r.IntN(len(w.ecom))]
				if m.country == cities[home].country {
					c.ecomFavs = append(c.ecomFavs, m)
					break
				}
			}
		}
		w.cards = append(w.cards, c)
	}
	return w
}

func (w *cardWorld) tx(r *rand.Rand, c *simCard, at time.Time, m *simMerchant, amount float64) occsimore.Event {
	ev := occsimore.Event{
		MemberID: "mem_bank", Kind: "card.tx", Time: at, Card: c.id, Customer: c.customer,
		Terminal: m.terminal, Merchant: m.id, Amount: math.Round(amount*100) / 100, Currency: "EUR",
		Country: m.country, MCC: m.mcc, Channel: "pos",
	}
	if m.ecom {
		ev.Channel = "ecom"
	} else {
		ev.Lat, ev.Lon, ev.HasLocation = m.lat, m.lon, true
	}
	return ev
}

// normalTx draws an ordinary transaction of c on day d.
func (w *cardWorld) normalTx(r *rand.Rand, c *simCard, day int) occsimore.Event {
	hour := min(max(c.hourMean+r.NormFloat64()*2.5, 7), 22.9)
	at := simStart.AddDate(0, 0, day).Add(time.Duration(hour * float64(time.Hour)))
	var m *simMerchant
	switch u := r.Float64(); {
	case u < 0.75:
		m = c.favs[r.IntN(len(c.favs))]
	case u < 0.87:
		m = c.ecomFavs[r.IntN(len(c.ecomFavs))]
	case u < 0.94:
		ms := w.merchants[c.home]
		m = ms[r.IntN(len(ms))]
	default:
		for {
			m = w.ecom[r.IntN(len(w.ecom))]
			if m.country == cities[c.home].country {
				break
			}
		}
	}
	amount := c.mean + r.NormFloat64()*c.sd
	if amount <= 0.5 {
		amount = r.Float64() * 2 * c.mean
	}
	return w.tx(r, c, at, m, amount)
}

// simulateCards returns history, test-week normal events and planted events.
func simulateCards(seed uint64, nCards, historyDays int) (history, normal []occsimore.Event, plants []planted) {
	r := rand.New(rand.NewPCG(seed, 1))
	w := newCardWorld(r, nCards)
	for _, c := range w.cards {
		for d := range historyDays + 7 {
			for range poisson(r, c.perDay) {
				ev := w.normalTx(r, c, d)
				if d < historyDays {
					history = append(history, ev)
				} else {
					normal = append(normal, ev)
				}
			}
		}
	}
	// Plant ruptures on distinct cards during the test week, away from
	// their other events so each rupture stands alone.
	order := r.Perm(len(w.cards))
	next := 0
	card := func() *simCard { c := w.cards[order[next]]; next++; return c }
	day := func() int { return historyDays + 1 + r.IntN(5) }
	const perType = 8
	for range perType {
		// New country: an online purchase from Brazil at a usual hour.
		c := card()
		m := &simMerchant{id: "br-shop", terminal: "br-term", mcc: c.favs[0].mcc, country: "BR", ecom: true}
		ev := w.normalTx(r, c, day())
		plants = append(plants, planted{w.tx(r, c, ev.Time, m, ev.Amount), "new_country"})
	}
	for range perType {
		// Five times the usual amount at a usual merchant.
		c := card()
		ev := w.normalTx(r, c, day())
		ev.Amount = math.Round(c.mean*5*100) / 100
		ev.Merchant, ev.Terminal, ev.MCC, ev.Country, ev.Channel = c.favs[0].id, c.favs[0].terminal, c.favs[0].mcc, c.favs[0].country, "pos"
		ev.Lat, ev.Lon, ev.HasLocation = c.favs[0].lat, c.favs[0].lon, true
		plants = append(plants, planted{ev, "amount_high"})
	}
	for range perType {
		// A purchase at 3 a.m. at a usual merchant.
		c := card()
		ev := w.tx(r, c, simStart.AddDate(0, 0, day()).Add(3*time.Hour+time.Duration(r.IntN(40))*time.Minute), c.favs[0], c.mean)
		plants = append(plants, planted{ev, "unusual_hour"})
	}
	for range perType {
		// A burst: eight purchases in four minutes; the last four are
		// planted.
		c := card()
		at := simStart.AddDate(0, 0, day()).Add(time.Duration(c.hourMean * float64(time.Hour)))
		for i := range 8 {
			ev := w.tx(r, c, at.Add(time.Duration(i)*30*time.Second), c.favs[i%len(c.favs)], c.mean*(0.8+0.4*r.Float64()))
			if i < 4 {
				plants = append(plants, planted{ev, leadIn}) // the start of a burst is not yet a burst
			} else {
				plants = append(plants, planted{ev, "velocity_burst"})
			}
		}
	}
	for range perType {
		// Impossible travel: a purchase at home, then twenty minutes later
		// one at a usual-looking merchant 600+ km away in the same country.
		c := card()
		at := simStart.AddDate(0, 0, day()).Add(time.Duration(c.hourMean * float64(time.Hour)))
		first := w.tx(r, c, at, c.favs[0], c.mean)
		normal = append(normal, first)
		far := (c.home + 2) % 4 // another French city: Paris/Marseille, Lyon/Nantes...
		if cities[c.home].country != "FR" {
			far = map[int]int{4: 5, 5: 4, 6: 0, 7: 2}[c.home] // Munich, Berlin, Paris, Marseille
		}
		if haversineKm(cities[c.home].lat, cities[c.home].lon, cities[far].lat, cities[far].lon) < 400 {
			far = 2
		}
		m := *c.favs[1]
		m.lat, m.lon, m.country = cities[far].lat, cities[far].lon, cities[far].country
		plants = append(plants, planted{w.tx(r, c, at.Add(20*time.Minute), &m, c.mean), "impossible_travel"})
	}
	sortEvents(history)
	sortEvents(normal)
	return history, normal, plants
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

func sortEvents(evs []occsimore.Event) {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
}

// Logins.

type simUser struct {
	id               string
	home             int
	asns             []uint32
	ips              []string
	devices, agents  []string
	perDay, hourMean float64
	failRate         float64
}

var agents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126", "Mozilla/5.0 (Macintosh) Safari/17",
	"Mozilla/5.0 (iPhone; iOS 17) Mobile Safari", "Mozilla/5.0 (Linux; Android 14) Chrome/126 Mobile",
	"Mozilla/5.0 (X11; Linux x86_64) Firefox/127", "Mozilla/5.0 (Windows NT 10.0) Edge/126",
}

func newUsers(r *rand.Rand, n int) []*simUser {
	var us []*simUser
	for i := range n {
		u := &simUser{id: fmt.Sprintf("user%d", i), home: []int{0, 0, 0, 1, 2, 3, 4, 5, 6, 7}[r.IntN(10)],
			perDay: 1 + r.Float64()*3, hourMean: 9 + r.Float64()*9, failRate: 0.03}
		base := uint32(3000 + 10*u.home)
		for k := range 1 + r.IntN(3) {
			asn := base + uint32(r.IntN(6))
			if k == 0 || !slices.Contains(u.asns, asn) {
				u.asns = append(u.asns, asn)
			}
		}
		for range 2 + r.IntN(3) {
			u.ips = append(u.ips, fmt.Sprintf("10.%d.%d.%d", u.home, r.IntN(256), r.IntN(256)))
		}
		for k := range 1 + r.IntN(2) {
			u.devices = append(u.devices, fmt.Sprintf("dev-%d-%d", i, k))
			u.agents = append(u.agents, agents[r.IntN(len(agents))])
		}
		us = append(us, u)
	}
	return us
}

func (u *simUser) login(r *rand.Rand, at time.Time, success bool) occsimore.Event {
	c := cities[u.home]
	k := r.IntN(len(u.devices))
	j := r.IntN(len(u.ips))
	return occsimore.Event{
		MemberID: "mem_sso", Kind: "auth.login", Time: at, User: u.id, IP: u.ips[j], ASN: u.asns[j%len(u.asns)],
		Country: c.country, Lat: c.lat + r.NormFloat64()*0.05, Lon: c.lon + r.NormFloat64()*0.05, HasLocation: true,
		Device: u.devices[k], UserAgent: u.agents[k], Success: success, HasSuccess: true,
	}
}

func (u *simUser) normal(r *rand.Rand, day int) []occsimore.Event {
	hour := min(max(u.hourMean+r.NormFloat64()*2.5, 6.5), 23.5)
	at := simStart.AddDate(0, 0, day).Add(time.Duration(hour * float64(time.Hour)))
	if r.Float64() < u.failRate {
		f := u.login(r, at, false)
		s := u.login(r, at.Add(time.Duration(10+r.IntN(30))*time.Second), true)
		s.IP, s.ASN, s.Device, s.UserAgent = f.IP, f.ASN, f.Device, f.UserAgent
		return []occsimore.Event{f, s}
	}
	return []occsimore.Event{u.login(r, at, true)}
}

func simulateLogins(seed uint64, nUsers, historyDays int) (history, normal []occsimore.Event, plants []planted) {
	r := rand.New(rand.NewPCG(seed, 2))
	users := newUsers(r, nUsers)
	last := map[string]time.Time{}
	for _, u := range users {
		for d := range historyDays + 7 {
			for range poisson(r, u.perDay) {
				for _, ev := range u.normal(r, d) {
					if d < historyDays {
						history = append(history, ev)
					} else {
						normal = append(normal, ev)
					}
					if ev.Time.After(last[u.id]) {
						last[u.id] = ev.Time
					}
				}
			}
		}
	}
	order := r.Perm(len(users))
	next := 0
	user := func() *simUser { u := users[order[next]]; next++; return u }
	const perType = 8
	// Plants happen after the user's last normal login, at its usual time
	// of day on a later day, at least gap after it.
	after := func(u *simUser, gap time.Duration) time.Time {
		at := last[u.id].Truncate(24 * time.Hour).Add(time.Duration(u.hourMean * float64(time.Hour)))
		for at.Sub(last[u.id]) < gap {
			at = at.AddDate(0, 0, 1)
		}
		return at
	}
	for range perType {
		// From abroad (a VPN or a stolen password used with a spoofed
		// device), 14 hours after the last login: far but not impossible.
		u := user()
		ev := u.login(r, after(u, 14*time.Hour), true)
		ev.Country, ev.Lat, ev.Lon, ev.ASN, ev.IP = "US", 40.71, -74.0, 7922, "203.0.113.9"
		plants = append(plants, planted{ev, "new_country"})
	}
	for range perType {
		// A new device at home.
		u := user()
		ev := u.login(r, after(u, 20*time.Hour), true)
		ev.Device, ev.UserAgent = "dev-attacker", "python-requests/2.32"
		plants = append(plants, planted{ev, "new_device"})
	}
	for range perType {
		// Impossible travel: Tokyo an hour after a login at home.
		u := user()
		at := after(u, 10*time.Hour)
		home := u.login(r, at, true)
		normal = append(normal, home)
		ev := u.login(r, at.Add(time.Hour), true)
		ev.Country, ev.Lat, ev.Lon = "JP", 35.68, 139.69
		plants = append(plants, planted{ev, "impossible_travel"})
	}
	for range perType {
		// 3 a.m. login, otherwise normal.
		u := user()
		day := last[u.id].Truncate(24*time.Hour).AddDate(0, 0, 1)
		ev := u.login(r, day.Add(3*time.Hour+time.Duration(r.IntN(50))*time.Minute), true)
		plants = append(plants, planted{ev, "unusual_hour"})
	}
	for range perType {
		// Password guessing: twelve failures within two minutes; the last
		// six are planted.
		u := user()
		at := after(u, 8*time.Hour)
		for i := range 12 {
			ev := u.login(r, at.Add(time.Duration(i)*10*time.Second), false)
			if i < 6 {
				plants = append(plants, planted{ev, leadIn})
			} else {
				plants = append(plants, planted{ev, "failure_burst"})
			}
		}
	}
	sortEvents(history)
	sortEvents(normal)
	return history, normal, plants
}

// replay processes history, then the test week (normal and planted,
// merged in time order), and returns their scores.
type scored struct {
	score   float64
	plant   string // expected code, "" for normal events
	reasons []Reason
}

func replay(t testing.TB, e *Engine, history, normal []occsimore.Event, plants []planted) []scored {
	t.Helper()
	var res Result
	for i := range history {
		if err := e.Process(&history[i], &res); err != nil {
			t.Fatalf("history event %d: %v", i, err)
		}
	}
	var week []planted
	for _, ev := range normal {
		week = append(week, planted{ev: ev})
	}
	week = append(week, plants...)
	sort.SliceStable(week, func(i, j int) bool { return week[i].ev.Time.Before(week[j].ev.Time) })
	entity := func(ev *occsimore.Event) string { return ev.Card + ev.User }
	plantedAt := map[string]time.Time{}
	for _, p := range plants {
		if t, ok := plantedAt[entity(&p.ev)]; !ok || p.ev.Time.Before(t) {
			plantedAt[entity(&p.ev)] = p.ev.Time
		}
	}
	out := make([]scored, 0, len(week))
	for i := range week {
		if err := e.Process(&week[i].ev, &res); err != nil {
			t.Fatalf("test event %d: %v", i, err)
		}
		code := week[i].code
		if t, ok := plantedAt[entity(&week[i].ev)]; ok && code == "" && !week[i].ev.Time.Before(t) {
			code = leadIn
		}
		if code != leadIn {
			out = append(out, scored{score: res.Score, plant: code, reasons: slices.Clone(res.TopReasons())})
		}
	}
	return out
}

func quantile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(int(q*float64(len(s))), len(s)-1)]
}

func checkPlanted(t *testing.T, out []scored) {
	t.Helper()
	var normal []float64
	nPlanted := 0
	for _, s := range out {
		if s.plant == "" {
			normal = append(normal, s.score)
		} else {
			nPlanted++
		}
	}
	p99 := quantile(normal, 0.99)
	t.Logf("%d normal events: median %.2f, p99 %.2f, max %.2f; %d planted", len(normal), quantile(normal, 0.5), p99, quantile(normal, 1), nPlanted)
	for _, s := range out {
		if s.plant == "" {
			continue
		}
		codes := make([]string, 0, len(s.reasons))
		for _, r := range s.reasons {
			codes = append(codes, fmt.Sprintf("%s(%.1f)", r.Code, r.Contribution))
		}
		if s.score <= p99 {
			t.Errorf("planted %s scored %.2f, not above the normal p99 %.2f; reasons %v", s.plant, s.score, p99, codes)
		}
		top2 := false
		for i := 0; i < len(s.reasons) && i < 2; i++ {
			top2 = top2 || s.reasons[i].Code == s.plant
		}
		if !top2 {
			t.Errorf("planted %s (score %.2f) lacks its code in its top two reasons: %v", s.plant, s.score, codes)
		}
	}
	byScore := slices.Clone(out)
	sort.SliceStable(byScore, func(i, j int) bool { return byScore[i].score > byScore[j].score })
	hit := 0
	for _, s := range byScore[:nPlanted] {
		if s.plant != "" {
			hit++
		}
	}
	if got, want := float64(hit)/float64(nPlanted), 0.8; got < want {
		t.Errorf("planted share of the top %d scores = %.2f, want >= %.2f", nPlanted, got, want)
	}
	t.Logf("planted share of the top %d: %.2f", nPlanted, float64(hit)/float64(nPlanted))
}

func TestPlantedCardRuptures(t *testing.T) {
	history, normal, plants := simulateCards(7, 300, 42)
	e := newTestEngine(t)
	checkPlanted(t, replay(t, e, history, normal, plants))
}

func TestPlantedLoginRuptures(t *testing.T) {
	history, normal, plants := simulateLogins(11, 300, 42)
	e := newTestEngine(t)
	checkPlanted(t, replay(t, e, history, normal, plants))
}

func newTestEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewEngine(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return e
}
