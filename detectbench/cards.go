package detectbench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
)

const (
	cityTerminals = 400 // terminals of each city
	webMerchants  = 300
)

var (
	posMCC = []string{"5411", "5812", "5541", "5912", "5311", "5651", "5999", "5814"}
	webMCC = []string{"5399", "5734", "4121", "5818", "5732", "4722"}
)

// card is one card's habits and its generated rows.
type card struct {
	id        string
	home      *country
	homeCity  int
	zone      *time.Location
	median    float64
	sigma     float64
	rate      float64
	hours     habitHours
	favs      []int // terminal numbers in the home city
	newShare  float64
	ecomShare float64
	devices   []string
	webFavs   []int
	trips     []trip
	rows      []row
}

func (c *card) amount(r *rand.Rand) float64 {
	return math.Round(c.median*math.Exp(c.sigma*r.NormFloat64())*100) / 100
}

func terminalID(cc *country, cityIdx, n int) string {
	return fmt.Sprintf("T%s%d-%03d", cc.code, cityIdx, n)
}

// pos returns a card-present payment at terminal n of city ci of country cc.
func (c *card) pos(r *rand.Rand, t time.Time, cc *country, ci, n int, amount float64) occsimore.Event {
	lat, lon := jitter(r, cc.cities[ci])
	return occsimore.Event{
		Kind: "card.tx", Time: t, Card: c.id, Terminal: terminalID(cc, ci, n),
		Merchant: fmt.Sprintf("M%s%d-%03d", cc.code, ci, n/2), MCC: posMCC[n%len(posMCC)],
		Amount: amount, Currency: "EUR", Country: cc.code, Lat: lat, Lon: lon, HasLocation: true, Channel: "pos",
	}
}

// ecom returns a domestic e-commerce payment at web merchant m from device.
func (c *card) ecom(t time.Time, m int, device string, amount float64) occsimore.Event {
	return occsimore.Event{
		Kind: "card.tx", Time: t, Card: c.id, Merchant: fmt.Sprintf("W%03d", m), MCC: webMCC[m%len(webMCC)],
		Amount: amount, Currency: "EUR", Country: c.home.code, Channel: "ecom", Device: device,
	}
}

func (c *card) favTerminal(r *rand.Rand) int { return c.favs[zipf(r, len(c.favs))] }
func (c *card) device(r *rand.Rand) string   { return c.devices[zipf(r, len(c.devices))] }
func (c *card) webMerchant(r *rand.Rand) int {
	if r.Float64() < 0.3 {
		return r.IntN(webMerchants)
	}
	return c.webFavs[zipf(r, len(c.webFavs))]
}

func newCard(seed uint64, i, days int) *card {
	r := rng(seed, 1, i+1)
	c := &card{id: fmt.Sprintf("card%05d", i), home: pickHome(r)}
	c.homeCity = pickCity(r, c.home)
	c.zone = c.home.zone()
	c.median = logUniform(r, 8, 150)
	c.sigma = uniform(r, 0.3, 0.6)
	c.rate = math.Min(8, math.Max(0.2, math.Exp(math.Log(1.25)+0.6*r.NormFloat64())))
	c.hours = newHours(r)
	for range 4 + r.IntN(12) {
		c.favs = append(c.favs, r.IntN(cityTerminals))
	}
	c.newShare = uniform(r, 0.03, 0.2)
	if r.Float64() < 0.4 {
		c.ecomShare = uniform(r, 0.1, 0.4)
		nd := 1 + zipf(r, 4)
		for k := range nd {
			c.devices = append(c.devices, fmt.Sprintf("dev-%s-%d", c.id, k))
		}
		for range 3 + r.IntN(6) {
			c.webFavs = append(c.webFavs, r.IntN(webMerchants))
		}
	}
	c.trips = makeTrips(r, c.home, c.homeCity, days, 0.35, 0.08)
	for day := range days {
		n := poisson(r, c.rate)
		hs := make([]float64, n)
		for k := range hs {
			hs[k] = c.hours.draw(r)
		}
		tr := tripOn(c.trips, day)
		for _, h := range hs {
			t := at(day, h, c.zone)
			a := c.amount(r)
			if c.ecomShare > 0 && r.Float64() < c.ecomShare {
				dev := c.device(r)
				if r.Float64() < 0.004 {
					dev = fmt.Sprintf("dev-%s-%d", c.id, len(c.devices))
					c.devices = append(c.devices, dev)
				}
				c.rows = append(c.rows, row{c.ecom(t, c.webMerchant(r), dev, a), -1})
				continue
			}
			switch {
			case tr != nil:
				c.rows = append(c.rows, row{c.pos(r, t, tr.c, tr.city, r.IntN(cityTerminals), a), -1})
			case r.Float64() < c.newShare:
				c.rows = append(c.rows, row{c.pos(r, t, c.home, c.homeCity, r.IntN(cityTerminals), a), -1})
			default:
				c.rows = append(c.rows, row{c.pos(r, t, c.home, c.homeCity, c.favTerminal(r), a), -1})
			}
		}
	}
	sortByTime(c.rows)
	c.rows = keepSpeed(c.rows)
	return c
}

// Cards generates the card half of cfg.
func Cards(cfg Config) (*Set, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cards := make([]*card, cfg.Cards)
	for i := range cards {
		cards[i] = newCard(cfg.Seed, i, cfg.Days)
	}
	r := rng(cfg.Seed, 1, 0)
	windowStart := at(cfg.Days-incidentDays, 0, time.UTC)
	homeAnchors := func(c *card) []int {
		var out []int
		hc := c.home.cities[c.homeCity]
		for i, rw := range c.rows {
			if rw.ev.HasLocation && !rw.ev.Time.Before(windowStart) && km(rw.ev.Lat, rw.ev.Lon, hc.lat, hc.lon) < 30 {
				out = append(out, i)
			}
		}
		return out
	}
	n := perKind(cfg.Cards, 60)
	chosen, err := assign(r, len(cards), CardKinds, n, func(k Kind, i int) bool {
		c := cards[i]
		switch k {
		case Night:
			return !c.hours.owl
		case EcomBurst, NewDevice:
			return c.ecomShare > 0
		case FastTravel:
			return c.home.partner(c.homeCity) >= 0 && len(homeAnchors(c)) > 0
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	var incs []Incident
	for k, kind := range CardKinds {
		for _, i := range chosen[k] {
			c := cards[i]
			id := len(incs)
			incs = append(incs, Incident{Kind: kind, Entity: c.id})
			plantCard(r, c, kind, id, cfg.Days, homeAnchors)
		}
	}
	var rows []row
	for _, c := range cards {
		rows = append(rows, c.rows...)
	}
	return finish("cards", CardKinds, rows, incs), nil
}

// plantCard adds incident id of kind to c's rows.
func plantCard(r *rand.Rand, c *card, kind Kind, id, days int, homeAnchors func(*card) []int) {
	day := windowDay(r, days, 1)
	t := at(day, c.hours.draw(r), c.zone)
	var evs []occsimore.Event
	var keep func(*occsimore.Event) bool
	switch kind {
	case FarCountry:
		f := &fars[r.IntN(len(fars))]
		evs = append(evs, c.pos(r, t, f, 0, r.IntN(cityTerminals), c.amount(r)))
	case AmountSpike:
		evs = append(evs, c.pos(r, t, c.home, c.homeCity, c.favTerminal(r), math.Round(c.median*uniform(r, 5, 8)*100)/100))
	case Night:
		evs = append(evs, c.pos(r, at(day, uniform(r, 2, 4), c.zone), c.home, c.homeCity, c.favTerminal(r), c.amount(r)))
	case EcomBurst:
		m, dev := c.webFavs[zipf(r, len(c.webFavs))], c.device(r)
		for k := range 8 {
			a := math.Round(c.median*math.Exp(-c.sigma*uniform(r, 1, 2))*100) / 100
			evs = append(evs, c.ecom(t.Add(time.Duration(k)*20*time.Second), m, dev, a))
		}
	case FastTravel:
		as := homeAnchors(c)
		anchor := c.rows[as[r.IntN(len(as))]].ev
		p := c.home.partner(c.homeCity)
		evs = append(evs, c.pos(r, anchor.Time.Add(12*time.Minute), c.home, p, r.IntN(cityTerminals), c.amount(r)))
		keep = func(ev *occsimore.Event) bool { return ev.Time.Equal(anchor.Time) && ev.Terminal == anchor.Terminal }
		// The owner's payments between the anchor and the incident would
		// make it something else than "12 minutes after the last one".
		c.rows = dropBetween(c.rows, anchor.Time, evs[0].Time)
	case NewDevice:
		evs = append(evs, c.ecom(t, c.webFavs[zipf(r, len(c.webFavs))], fmt.Sprintf("dev-%s-x", c.id), c.amount(r)))
	case NewTerminals:
		used := map[int]bool{}
		prefix := terminalID(c.home, c.homeCity, 0)
		prefix = prefix[:len(prefix)-3]
		for _, rw := range c.rows {
			if strings.HasPrefix(rw.ev.Terminal, prefix) {
				used[terminalNumber(rw.ev.Terminal)] = true
			}
		}
		start := windowDay(r, days, 5)
		for d := range 3 + r.IntN(3) {
			for range 2 + r.IntN(5) {
				n := r.IntN(cityTerminals)
				for used[n] {
					n = r.IntN(cityTerminals)
				}
				used[n] = true
				evs = append(evs, c.pos(r, at(start+d, c.hours.draw(r), c.zone), c.home, c.homeCity, n, c.amount(r)))
			}
		}
	}
	c.rows = dropConflicts(c.rows, evs, keep)
	for _, ev := range evs {
		c.rows = append(c.rows, row{ev, id})
	}
	sortByTime(c.rows)
}

// dropBetween drops the normal rows strictly between a and b.
func dropBetween(rows []row, a, b time.Time) []row {
	out := rows[:0]
	for _, rw := range rows {
		if rw.inc < 0 && rw.ev.Time.After(a) && rw.ev.Time.Before(b) {
			continue
		}
		out = append(out, rw)
	}
	return out
}

func terminalNumber(id string) int {
	var n int
	fmt.Sscanf(id[len(id)-3:], "%d", &n)
	return n
}
