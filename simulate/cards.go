package simulate

import (
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/occsimore/occsimore"
)

// CardsConfig configures the card transaction simulator. The zero value is
// not usable: start from DefaultCards.
type CardsConfig struct {
	Customers int       // customers, each with one card
	Terminals int       // terminals
	Days      int       // days simulated
	Start     time.Time // first day; only its UTC date counts
	Radius    float64   // a customer uses the terminals closer than this, in units of the 100×100 square
	Seed      uint64    // one seed reproduces the whole run
	Scenarios ScenarioSet

	// CardTestingPerDay is the mean number of card-testing bursts a day
	// (scenario 4).
	CardTestingPerDay float64
	// BreachesPerDay is the mean number of terminals breached a day
	// (scenario 5).
	BreachesPerDay float64
	// NeverUsedPerDay is the mean number of cards compromised a day and
	// then used at terminals they never used (scenario 6).
	NeverUsedPerDay float64
}

// DefaultCards is the handbook's run: 5,000 customers, 10,000 terminals,
// 183 days from 2018-04-01, r = 5, its three fraud scenarios. The rates of
// scenarios 4 to 6 apply only when those scenarios are added.
func DefaultCards() CardsConfig {
	return CardsConfig{
		Customers:         5000,
		Terminals:         10000,
		Days:              183,
		Start:             time.Date(2018, 4, 1, 0, 0, 0, 0, time.UTC),
		Radius:            5,
		Scenarios:         HandbookScenarios,
		CardTestingPerDay: 1,
		BreachesPerDay:    0.2,
		NeverUsedPerDay:   1,
	}
}

// Limits that keep a configuration within memory.
const (
	maxCardEntities = 10_000_000
	maxDays         = 36_600
	maxAvailable    = 100_000_000 // available terminals over all customers
	maxPerDayRate   = 1000
)

// Validate checks the configuration; errors are EINVALID naming the field.
func (c CardsConfig) Validate() error {
	switch {
	case c.Customers < 1 || c.Customers > maxCardEntities:
		return occsimore.FieldErrorf("customers", "customers %d must be between 1 and %d", c.Customers, maxCardEntities)
	case c.Terminals < 1 || c.Terminals > maxCardEntities:
		return occsimore.FieldErrorf("terminals", "terminals %d must be between 1 and %d", c.Terminals, maxCardEntities)
	case c.Days < 1 || c.Days > maxDays:
		return occsimore.FieldErrorf("days", "days %d must be between 1 and %d", c.Days, maxDays)
	case c.Start.IsZero():
		return occsimore.FieldErrorf("start", "start date is required")
	case c.Start.Year() < 1970 || c.Start.Year() > 2099-c.Days/365:
		return occsimore.FieldErrorf("start", "start %s must leave the run between 1970 and 2100", c.Start.Format(time.DateOnly))
	case !(c.Radius > 0 && c.Radius <= 200):
		return occsimore.FieldErrorf("radius", "radius %g must be above 0 and at most 200", c.Radius)
	case c.Scenarios&^AllScenarios != 0:
		return occsimore.FieldErrorf("scenarios", "unknown scenario in %08b", c.Scenarios)
	case !(c.CardTestingPerDay >= 0 && c.CardTestingPerDay <= maxPerDayRate):
		return occsimore.FieldErrorf("card_testing_per_day", "card testing rate %g must be between 0 and %d", c.CardTestingPerDay, maxPerDayRate)
	case !(c.BreachesPerDay >= 0 && c.BreachesPerDay <= maxPerDayRate):
		return occsimore.FieldErrorf("breaches_per_day", "breach rate %g must be between 0 and %d", c.BreachesPerDay, maxPerDayRate)
	case !(c.NeverUsedPerDay >= 0 && c.NeverUsedPerDay <= maxPerDayRate):
		return occsimore.FieldErrorf("never_used_per_day", "never-used-terminal compromise rate %g must be between 0 and %d", c.NeverUsedPerDay, maxPerDayRate)
	}
	// A customer sees about terminals·πr²/100² terminals.
	if share := math.Min(1, math.Pi*c.Radius*c.Radius/1e4); float64(c.Customers)*float64(c.Terminals)*share > maxAvailable {
		return occsimore.FieldErrorf("radius", "customers × terminals within radius %g exceed %d: lower one of them", c.Radius, maxAvailable)
	}
	return nil
}

// Customer is a customer profile of the handbook: a location on the 100×100
// square, an amount habit and a daily transaction rate.
type Customer struct {
	ID           int
	X, Y         float64
	MeanAmount   float64
	StdAmount    float64
	MeanTxPerDay float64
}

// Terminal is a terminal profile: a location on the square, and the
// merchant category we give it.
type Terminal struct {
	ID   int
	X, Y float64
	MCC  string
}

// Tx is one transaction, with the handbook's columns.
type Tx struct {
	ID       int64     // TRANSACTION_ID: rank in time order, from 0
	Time     time.Time // TX_DATETIME, UTC
	Customer int       // CUSTOMER_ID; the customer is the card
	Terminal int       // TERMINAL_ID
	Amount   float64   // TX_AMOUNT: whole cents
	Seconds  int64     // TX_TIME_SECONDS since the start
	Day      int       // TX_TIME_DAYS
	Fraud    bool      // TX_FRAUD
	Scenario Scenario  // TX_FRAUD_SCENARIO; 0 when not fraud
}

// CardWorld holds the customer and terminal profiles of a configuration
// and each customer's available terminals. It is read-only once built and
// safe for concurrent use.
type CardWorld struct {
	cfg       CardsConfig
	start     time.Time
	customers []Customer
	terminals []Terminal
	avail     []int32 // available terminals of every customer, concatenated
	availOff  []int   // customer c's are avail[availOff[c]:availOff[c+1]]
}

// mccs are common merchant category codes (ISO 18245) handed to terminals.
var mccs = [...]string{"5411", "5812", "5541", "5912", "5311", "5814", "5999", "4111", "5651", "5732", "5499", "7011"}

// NewCardWorld validates cfg and draws the profiles: customers on stream
// (Seed, customers), terminals on stream (Seed, terminals), as the handbook
// seeds them with 0 and 1.
func NewCardWorld(cfg CardsConfig) (*CardWorld, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	y, m, d := cfg.Start.UTC().Date()
	w := &CardWorld{cfg: cfg, start: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}

	r := newStream(cfg.Seed, streamCustomers, 0)
	w.customers = make([]Customer, cfg.Customers)
	for i := range w.customers {
		c := &w.customers[i]
		c.ID = i
		c.X = r.Float64() * 100
		c.Y = r.Float64() * 100
		c.MeanAmount = 5 + r.Float64()*95
		c.StdAmount = c.MeanAmount / 2
		c.MeanTxPerDay = r.Float64() * 4
	}
	r = newStream(cfg.Seed, streamTerminals, 0)
	w.terminals = make([]Terminal, cfg.Terminals)
	for i := range w.terminals {
		t := &w.terminals[i]
		t.ID = i
		t.X = r.Float64() * 100
		t.Y = r.Float64() * 100
		t.MCC = mccs[mix64(cfg.Seed^mix64(streamMCC)^uint64(i))%uint64(len(mccs))]
	}
	w.findAvailable()
	return w, nil
}

// findAvailable lists, for each customer, the terminals at distance
// strictly below the radius, in increasing id as numpy's where gives them.
// Terminals are bucketed in a grid of cells at least r wide so that only
// the 3×3 cells around a customer need checking.
func (w *CardWorld) findAvailable() {
	r := w.cfg.Radius
	cell := math.Max(r, 100.0/1024)
	n := max(1, int(math.Ceil(100/cell)))
	cellOf := func(x, y float64) (int, int) {
		return min(int(x/cell), n-1), min(int(y/cell), n-1)
	}
	// Counting sort of terminals into cells keeps each cell in id order.
	start := make([]int32, n*n+1)
	for _, t := range w.terminals {
		cx, cy := cellOf(t.X, t.Y)
		start[cy*n+cx+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	fill := slices.Clone(start[:n*n])
	byCell := make([]int32, len(w.terminals))
	for i, t := range w.terminals {
		cx, cy := cellOf(t.X, t.Y)
		byCell[fill[cy*n+cx]] = int32(i)
		fill[cy*n+cx]++
	}

	share := math.Min(1, math.Pi*r*r/1e4)
	w.avail = make([]int32, 0, int(float64(len(w.customers))*float64(len(w.terminals))*share*1.1)+16)
	w.availOff = make([]int, len(w.customers)+1)
	for i, c := range w.customers {
		from := len(w.avail)
		cx, cy := cellOf(c.X, c.Y)
		for gy := max(0, cy-1); gy <= min(n-1, cy+1); gy++ {
			for gx := max(0, cx-1); gx <= min(n-1, cx+1); gx++ {
				for _, id := range byCell[start[gy*n+gx]:start[gy*n+gx+1]] {
					t := &w.terminals[id]
					if dx, dy := c.X-t.X, c.Y-t.Y; math.Sqrt(dx*dx+dy*dy) < r {
						w.avail = append(w.avail, id)
					}
				}
			}
		}
		slices.Sort(w.avail[from:])
		w.availOff[i+1] = len(w.avail)
	}
}

// Config returns the configuration the world was built from.
func (w *CardWorld) Config() CardsConfig { return w.cfg }

// Start returns midnight UTC of the first day.
func (w *CardWorld) Start() time.Time { return w.start }

// Customer returns customer i's profile.
func (w *CardWorld) Customer(i int) Customer { return w.customers[i] }

// Terminal returns terminal i's profile.
func (w *CardWorld) Terminal(i int) Terminal { return w.terminals[i] }

// AvailableTerminals returns the ids of the terminals customer i uses, in
// increasing order. The slice is shared: do not modify it.
func (w *CardWorld) AvailableTerminals(i int) []int32 {
	return w.avail[w.availOff[i]:w.availOff[i+1]:w.availOff[i+1]]
}

// GenerateCards builds the world of cfg and returns its transactions; see
// CardWorld.Transactions.
func GenerateCards(cfg CardsConfig) (iter.Seq[*Tx], error) {
	w, err := NewCardWorld(cfg)
	if err != nil {
		return nil, err
	}
	return w.Transactions(), nil
}

// Transactions returns the run's transactions in time order, with
// TRANSACTION_ID counting from 0 in that order. Each iteration replays the
// same run. The *Tx handed to yield is reused: copy it to keep it.
//
// The handbook's rules, with its constants:
//   - each day, each customer makes Poisson(MeanTxPerDay) transactions at
//     int(normal(43200, 20000)) seconds, dropped outside (0, 86400), of amount
//     normal(mean, std) (a negative draw is replaced by uniform(0, 2·mean)),
//     rounded half to even to cents, at a terminal drawn uniformly from the
//     available ones;
//   - scenario 1 marks amounts above 220;
//   - scenario 2 compromises 2 terminals a day for 28 days;
//   - scenario 3 compromises 3 customers a day and, over the next 14 days,
//     multiplies a third of their transactions by 5;
//   - the loops of scenarios 2 and 3 run over days 0 to Days-2, and a label
//     of scenario 3 overrides 2, which overrides 1, as the handbook applies
//     them in that order.
//
// Scenarios 4 to 6 add transactions of their own, which the handbook's
// scenarios never relabel. Transactions a customer makes the same second
// are ordered by customer, then by generation.
func (w *CardWorld) Transactions() iter.Seq[*Tx] {
	return func(yield func(*Tx) bool) {
		g := newCardGen(w)
		g.run(yield)
	}
}

// lookahead is how many days are generated before a day is labelled and
// emitted: scenario 3 needs its whole 14-day window to pick a third of it.
const lookahead = 13

// rec is a transaction inside the generator: 24 bytes, no pointers.
type rec struct {
	cents int64
	sec   int32 // seconds into its day
	cust  int32
	term  int32
	picks uint8 // how many scenario 3 windows multiplied it by 5
	scen  uint8 // 4 or 5 for the transactions those scenarios add, else 0
}

type txRef struct{ day, idx int32 }

// window is one compromised customer of scenario 3.
type window struct {
	start int
	cust  int32
	cands []txRef
}

// breach is one breached terminal of scenario 5.
type breach struct {
	term  int32
	start int
	seen  []int32
	r     *rand.Rand
}

type cardGen struct {
	w     *CardWorld
	cfg   CardsConfig
	rands []*rand.Rand // one per customer
	expL  []float64    // exp(-MeanTxPerDay)
	ring  [lookahead + 1][]rec
	keys  []uint64
	s     *stream // reseeded per day for scenario draws
	tx    Tx
	id    int64

	// Scenario 2.
	termUntil []int32 // a terminal's transactions are fraud on days before this
	// Scenario 3.
	windows     []window
	nextWindow  int             // first window not yet sampled
	compromised []bool          // the customer has at least one window
	byCust      map[int32][]int // customer → its windows
	// Scenarios 4 and 5.
	injected  [][]rec // transactions added to future days
	breaches  []*breach
	breachOf  []int32 // terminal → 1 + index into breaches, or 0
	nBreaches int
	// Scenario 6: every terminal each customer has used, as bits over its
	// available terminals (avail's positions) and a list of the others.
	usedBits []uint64
	usedFar  map[int32][]int32
	thefts   []theft
}

// theft is a card of scenario 6, used by the fraudster before day until.
type theft struct {
	cust  int32
	until int
}

func newCardGen(w *CardWorld) *cardGen {
	cfg := w.cfg
	g := &cardGen{w: w, cfg: cfg, s: newReusableStream()}
	g.rands = make([]*rand.Rand, len(w.customers))
	g.expL = make([]float64, len(w.customers))
	pcgs := make([]rand.PCG, len(w.customers))
	for i := range w.customers {
		seedPCG(&pcgs[i], cfg.Seed, streamCustomerTx, uint64(i))
		g.rands[i] = rand.New(&pcgs[i])
		g.expL[i] = math.Exp(-w.customers[i].MeanTxPerDay)
	}
	if cfg.Scenarios.Has(ScenarioTerminal) {
		g.termUntil = make([]int32, len(w.terminals))
	}
	if cfg.Scenarios.Has(ScenarioCustomer) {
		g.compromised = make([]bool, len(w.customers))
		g.byCust = make(map[int32][]int)
		var three [3]int32
		for day := 0; day < cfg.Days-1; day++ {
			g.s.reseed(cfg.Seed, streamScenario3, uint64(day))
			n := sampleDistinct(g.s.Rand, len(w.customers), three[:])
			for _, c := range three[:n] {
				g.byCust[c] = append(g.byCust[c], len(g.windows))
				g.windows = append(g.windows, window{start: day, cust: c})
				g.compromised[c] = true
			}
		}
	}
	if cfg.Scenarios.Has(ScenarioCardTesting) || cfg.Scenarios.Has(ScenarioBreach) {
		g.injected = make([][]rec, cfg.Days)
	}
	if cfg.Scenarios.Has(ScenarioBreach) {
		g.breachOf = make([]int32, len(w.terminals))
	}
	if cfg.Scenarios.Has(ScenarioNeverUsed) {
		g.usedBits = make([]uint64, (len(w.avail)+63)/64)
		g.usedFar = make(map[int32][]int32)
	}
	return g
}

func (g *cardGen) run(yield func(*Tx) bool) {
	next := 0 // next day to generate
	for day := range g.cfg.Days {
		for next < g.cfg.Days && next <= day+lookahead {
			g.generate(next)
			next++
			g.sampleWindows(next)
		}
		if !g.emit(day, yield) {
			return
		}
	}
}

// generate draws the handbook's transactions of day for every customer into
// the day's ring slot, and notes those scenarios 3 and 5 watch.
func (g *cardGen) generate(day int) {
	if g.breachOf != nil {
		g.openBreaches(day)
	}
	slot := g.ring[day%len(g.ring)][:0]
	for c := range g.w.customers {
		cu := &g.w.customers[c]
		r := g.rands[c]
		n := poisson(r, cu.MeanTxPerDay, g.expL[c])
		if n == 0 {
			continue
		}
		avail := g.w.avail[g.w.availOff[c]:g.w.availOff[c+1]]
		from := len(slot)
		for range n {
			sec := int(r.NormFloat64()*20000 + 86400/2) // int() truncates toward zero, as Python's
			if sec <= 0 || sec >= 86400 {
				continue
			}
			a := r.NormFloat64()*cu.StdAmount + cu.MeanAmount
			if a < 0 {
				a = r.Float64() * 2 * cu.MeanAmount
			}
			cents := int64(math.RoundToEven(a * 100)) // numpy's round: rint(a·100)/100
			if len(avail) == 0 {
				continue
			}
			term := avail[r.IntN(len(avail))]
			slot = append(slot, rec{cents: cents, sec: int32(sec), cust: int32(c), term: term})
		}
		if g.compromised != nil && g.compromised[c] {
			for _, wi := range g.byCust[int32(c)] {
				win := &g.windows[wi]
				if win.start <= day && day < win.start+14 {
					for i := from; i < len(slot); i++ {
						win.cands = append(win.cands, txRef{int32(day), int32(i)})
					}
				}
			}
		}
		if g.breachOf != nil {
			for i := from; i < len(slot); i++ {
				if b := g.breachOf[slot[i].term]; b != 0 {
					g.sight(g.breaches[b-1], day, int32(c))
				}
			}
		}
	}
	g.ring[day%len(g.ring)] = slot
}

// sampleWindows samples the windows of scenario 3 whose 14 days are all
// generated (or that run past the end), once days [0, generated) exist.
func (g *cardGen) sampleWindows(generated int) {
	for g.nextWindow < len(g.windows) {
		win := &g.windows[g.nextWindow]
		if win.start+14 > generated && generated < g.cfg.Days {
			return
		}
		k := len(win.cands) / 3 // the handbook's int(n/3)
		if k > 0 {
			g.s.reseed(g.cfg.Seed, streamScenario3Pick, uint64(g.nextWindow))
			for i := range k { // partial Fisher-Yates
				j := i + g.s.IntN(len(win.cands)-i)
				win.cands[i], win.cands[j] = win.cands[j], win.cands[i]
				ref := win.cands[i]
				g.ring[int(ref.day)%len(g.ring)][ref.idx].picks++
			}
		}
		win.cands = nil
		g.nextWindow++
	}
}

// emit labels day's transactions, sorts them by time and yields them.
func (g *cardGen) emit(day int, yield func(*Tx) bool) bool {
	cfg := &g.cfg
	if g.injected != nil {
		if cfg.Scenarios.Has(ScenarioCardTesting) {
			g.cardTesting(day)
		}
		g.ring[day%len(g.ring)] = append(g.ring[day%len(g.ring)], g.injected[day]...)
		g.injected[day] = nil
	}
	if g.usedBits != nil {
		// The day's terminals count as used before the fraudster picks
		// his: a never-used terminal is new to the card to the day's end.
		for _, r := range g.ring[day%len(g.ring)] {
			g.markUsed(r.cust, r.term)
		}
		g.neverUsed(day)
	}
	if g.termUntil != nil && day < cfg.Days-1 {
		var two [2]int32
		g.s.reseed(cfg.Seed, streamScenario2, uint64(day))
		n := sampleDistinct(g.s.Rand, len(g.w.terminals), two[:])
		for _, t := range two[:n] {
			g.termUntil[t] = max(g.termUntil[t], int32(day+28))
		}
	}
	recs := g.ring[day%len(g.ring)]
	g.keys = g.keys[:0]
	for i := range recs {
		g.keys = append(g.keys, uint64(recs[i].sec)<<32|uint64(i))
	}
	slices.Sort(g.keys)

	s1, s2 := cfg.Scenarios.Has(ScenarioAmount), g.termUntil != nil
	dayStart := g.w.start.Add(time.Duration(day) * 24 * time.Hour)
	tx := &g.tx
	for _, k := range g.keys {
		r := &recs[uint32(k)]
		cents := r.cents
		scen := Scenario(r.scen)
		if scen == ScenarioNone {
			switch {
			case r.picks > 0:
				scen = ScenarioCustomer
				for range r.picks {
					if cents > math.MaxInt64/5 {
						break
					}
					cents *= 5
				}
			case s2 && g.termUntil[r.term] > int32(day):
				scen = ScenarioTerminal
			case s1 && cents > 22000:
				scen = ScenarioAmount
			}
		}
		*tx = Tx{
			ID:       g.id,
			Time:     dayStart.Add(time.Duration(r.sec) * time.Second),
			Customer: int(r.cust),
			Terminal: int(r.term),
			Amount:   float64(cents) / 100,
			Seconds:  int64(day)*86400 + int64(r.sec),
			Day:      day,
			Fraud:    scen != ScenarioNone,
			Scenario: scen,
		}
		g.id++
		if !yield(tx) {
			return false
		}
	}
	return true
}

// farTerminal draws terminals uniformly until one lies at least minDist
// from customer c, keeping the farthest seen if 64 draws find none.
func (g *cardGen) farTerminal(r *rand.Rand, c int32, minDist float64) int32 {
	cu := &g.w.customers[c]
	best, bestD := int32(0), -1.0
	for range 64 {
		t := int32(r.IntN(len(g.w.terminals)))
		dx, dy := g.w.terminals[t].X-cu.X, g.w.terminals[t].Y-cu.Y
		d := math.Sqrt(dx*dx + dy*dy)
		if d >= minDist {
			return t
		}
		if d > bestD {
			best, bestD = t, d
		}
	}
	return best
}

// cardTesting adds day's card-testing bursts (scenario 4): a fraudster
// checks a stolen card with 5 to 20 payments of 0.50 to 2.00, 5 to 60
// seconds apart, at 1 to 3 terminals the card has never been near.
func (g *cardGen) cardTesting(day int) {
	r := g.s
	r.reseed(g.cfg.Seed, streamScenario4, uint64(day))
	rate := g.cfg.CardTestingPerDay
	for range poisson(r.Rand, rate, math.Exp(-rate)) {
		c := int32(r.IntN(len(g.w.customers)))
		var terms [3]int32
		nt := 1 + r.IntN(3)
		for i := range nt {
			terms[i] = g.farTerminal(r.Rand, c, g.cfg.Radius)
		}
		sec := 1 + r.IntN(86400-1800)
		for range 5 + r.IntN(16) {
			g.injected[day] = append(g.injected[day], rec{
				cents: int64(50 + r.IntN(151)),
				sec:   int32(sec),
				cust:  c,
				term:  terms[r.IntN(nt)],
				scen:  uint8(ScenarioCardTesting),
			})
			sec += 5 + r.IntN(56)
		}
	}
}

// Constants of scenario 5.
const (
	breachWindow   = 14   // days a breached terminal skims the cards used on it
	breachDelay    = 14   // the stolen cards are used 14 to 27 days after the breach starts
	breachVictim   = 0.5  // share of skimmed cards later used
	breachFarUnits = 50.0 // fraud happens at least this far from the customer (100 km on the map)
)

// openBreaches starts day's breaches (scenario 5) and closes those whose
// window ended.
func (g *cardGen) openBreaches(day int) {
	for i, b := range g.breaches {
		if b != nil && b.start+breachWindow <= day {
			if g.breachOf[b.term] == int32(i+1) {
				g.breachOf[b.term] = 0
			}
			g.breaches[i] = nil
		}
	}
	r := g.s
	r.reseed(g.cfg.Seed, streamScenario5, uint64(day))
	rate := g.cfg.BreachesPerDay
	for range poisson(r.Rand, rate, math.Exp(-rate)) {
		t := int32(r.IntN(len(g.w.terminals)))
		g.breaches = append(g.breaches, &breach{term: t, start: day, r: newStream(g.cfg.Seed, streamBreach, uint64(g.nBreaches))})
		g.nBreaches++
		g.breachOf[t] = int32(len(g.breaches))
	}
}

// sight records that customer c used breached terminal b on day. The first
// time, the card may become a victim: 1 to 3 transactions far from home
// 14 to 27 days after the breach began, of 1 to 3 times the usual amount.
func (g *cardGen) sight(b *breach, day int, c int32) {
	if slices.Contains(b.seen, c) {
		return
	}
	b.seen = append(b.seen, c)
	r := b.r
	if r.Float64() >= breachVictim {
		return
	}
	fday := b.start + breachDelay + r.IntN(14)
	n := 1 + r.IntN(3)
	if fday <= day || fday >= g.cfg.Days {
		return
	}
	mean := g.w.customers[c].MeanAmount
	for range n {
		sec := 43200
		for range 100 {
			if s := int(r.NormFloat64()*20000 + 43200); s > 0 && s < 86400 {
				sec = s
				break
			}
		}
		g.injected[fday] = append(g.injected[fday], rec{
			cents: int64(math.Round(mean * (1 + 2*r.Float64()) * 100)),
			sec:   int32(sec),
			cust:  c,
			term:  g.farTerminal(r, c, breachFarUnits),
			scen:  uint8(ScenarioBreach),
		})
	}
}

// Constants of scenario 6.
const (
	theftMinDays = 2 // a compromised card is used 2 to 7 days
	theftMaxDays = 7
	theftMaxTx   = 3 // 1 to 3 transactions a day
)

// neverUsed adds day's transactions of scenario 6: each day about
// NeverUsedPerDay cards are compromised, and each compromised card is used
// by the fraudster 1 to 3 times a day for 2 to 7 days, every time at a
// terminal, drawn among all, that the card has never used, at an hour and
// an amount drawn as the card's holder's are (its own amount habit).
func (g *cardGen) neverUsed(day int) {
	r := g.s
	r.reseed(g.cfg.Seed, streamScenario6, uint64(day))
	if day < g.cfg.Days-1 { // the loop of the handbook's scenarios
		rate := g.cfg.NeverUsedPerDay
		for range poisson(r.Rand, rate, math.Exp(-rate)) {
			c := int32(r.IntN(len(g.w.customers)))
			g.thefts = append(g.thefts, theft{cust: c, until: day + theftMinDays + r.IntN(theftMaxDays-theftMinDays+1)})
		}
	}
	g.thefts = slices.DeleteFunc(g.thefts, func(t theft) bool { return t.until <= day })
	slot := day % len(g.ring)
	for _, t := range g.thefts {
		cu := &g.w.customers[t.cust]
		for range 1 + r.IntN(theftMaxTx) {
			sec := 43200
			for range 100 {
				if s := int(r.NormFloat64()*20000 + 43200); s > 0 && s < 86400 {
					sec = s
					break
				}
			}
			a := r.NormFloat64()*cu.StdAmount + cu.MeanAmount
			if a < 0 {
				a = r.Float64() * 2 * cu.MeanAmount
			}
			term := int32(-1)
			for range 1000 {
				if c := int32(r.IntN(len(g.w.terminals))); !g.used(t.cust, c) {
					term = c
					break
				}
			}
			if term < 0 { // the card has used (nearly) every terminal
				continue
			}
			g.markUsed(t.cust, term)
			g.ring[slot] = append(g.ring[slot], rec{
				cents: int64(math.RoundToEven(a * 100)),
				sec:   int32(sec),
				cust:  t.cust,
				term:  term,
				scen:  uint8(ScenarioNeverUsed),
			})
		}
	}
}

// used reports whether customer c has used terminal t.
func (g *cardGen) used(c, t int32) bool {
	off := g.w.availOff[c]
	if i, ok := slices.BinarySearch(g.w.avail[off:g.w.availOff[c+1]], t); ok {
		b := off + i
		return g.usedBits[b/64]&(1<<(b%64)) != 0
	}
	return slices.Contains(g.usedFar[c], t)
}

// markUsed records that customer c used terminal t.
func (g *cardGen) markUsed(c, t int32) {
	off := g.w.availOff[c]
	if i, ok := slices.BinarySearch(g.w.avail[off:g.w.availOff[c+1]], t); ok {
		b := off + i
		g.usedBits[b/64] |= 1 << (b % 64)
		return
	}
	if !slices.Contains(g.usedFar[c], t) {
		g.usedFar[c] = append(g.usedFar[c], t)
	}
}

// CardsSummary counts transactions and frauds by scenario.
type CardsSummary struct {
	Transactions int64
	Frauds       int64
	ByScenario   [maxScenario + 1]int64
	Days         int // days seen: the last TX_TIME_DAYS + 1
}

// Add counts tx.
func (s *CardsSummary) Add(tx *Tx) {
	s.Transactions++
	if tx.Fraud {
		s.Frauds++
	}
	if int(tx.Scenario) < len(s.ByScenario) {
		s.ByScenario[tx.Scenario]++
	}
	s.Days = max(s.Days, tx.Day+1)
}

// FraudRate is frauds ÷ transactions, 0 with no transactions.
func (s *CardsSummary) FraudRate() float64 {
	if s.Transactions == 0 {
		return 0
	}
	return float64(s.Frauds) / float64(s.Transactions)
}
