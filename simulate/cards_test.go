package simulate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// bookSized is the handbook's world with fewer days, so that tests stay
// quick under -race.
func bookSized(days int) CardsConfig {
	cfg := DefaultCards()
	cfg.Days = days
	return cfg
}

func collect(t testing.TB, cfg CardsConfig) (*CardWorld, []Tx) {
	t.Helper()
	w, err := NewCardWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var txs []Tx
	for tx := range w.Transactions() {
		txs = append(txs, *tx)
	}
	return w, txs
}

func TestDefaultCardsIsTheBookRun(t *testing.T) {
	cfg := DefaultCards()
	if got, want := cfg.Customers, 5000; got != want {
		t.Fatalf("customers = %d, want %d", got, want)
	}
	if got, want := cfg.Terminals, 10000; got != want {
		t.Fatalf("terminals = %d, want %d", got, want)
	}
	if got, want := cfg.Days, 183; got != want {
		t.Fatalf("days = %d, want %d", got, want)
	}
	if got, want := cfg.Start.Format(time.DateOnly), "2018-04-01"; got != want {
		t.Fatalf("start = %s, want %s", got, want)
	}
	if got, want := cfg.Radius, 5.0; got != want {
		t.Fatalf("radius = %g, want %g", got, want)
	}
	if got, want := cfg.Scenarios.String(), "1,2,3"; got != want {
		t.Fatalf("scenarios = %s, want %s", got, want)
	}
}

func TestProfiles(t *testing.T) {
	w, err := NewCardWorld(DefaultCards())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5000 {
		c := w.Customer(i)
		if c.ID != i || c.X < 0 || c.X >= 100 || c.Y < 0 || c.Y >= 100 {
			t.Fatalf("customer %d = %+v: location outside [0, 100)", i, c)
		}
		if c.MeanAmount < 5 || c.MeanAmount >= 100 || c.StdAmount != c.MeanAmount/2 || c.MeanTxPerDay < 0 || c.MeanTxPerDay >= 4 {
			t.Fatalf("customer %d = %+v: habits outside the handbook's ranges", i, c)
		}
	}
	for i := range 10000 {
		if tm := w.Terminal(i); tm.ID != i || tm.X < 0 || tm.X >= 100 || tm.Y < 0 || tm.Y >= 100 || len(tm.MCC) != 4 {
			t.Fatalf("terminal %d = %+v", i, tm)
		}
	}
}

func TestAvailableTerminals(t *testing.T) {
	cfg := DefaultCards()
	w, err := NewCardWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i := range cfg.Customers {
		total += len(w.AvailableTerminals(i))
	}
	// π·5²/100² of 10,000 terminals is 78.5, a little less near the edges;
	// the handbook reports about 75.
	if mean := float64(total) / float64(cfg.Customers); mean < 70 || mean > 80 {
		t.Fatalf("mean available terminals = %.1f, want about 75", mean)
	}
	// The grid must find exactly what a brute-force scan finds.
	for i := 0; i < cfg.Customers; i += 97 {
		c := w.Customer(i)
		var want []int32
		for j := range cfg.Terminals {
			tm := w.Terminal(j)
			if math.Sqrt((c.X-tm.X)*(c.X-tm.X)+(c.Y-tm.Y)*(c.Y-tm.Y)) < cfg.Radius {
				want = append(want, int32(j))
			}
		}
		if got := w.AvailableTerminals(i); !slices.Equal(got, want) {
			t.Fatalf("customer %d: available = %v, want %v", i, got, want)
		}
	}
}

// compromisedTerminals redraws scenario 2's terminals: terminal → days.
func compromisedTerminals(cfg CardsConfig) map[int32][]int {
	out := map[int32][]int{}
	s := newReusableStream()
	var two [2]int32
	for day := 0; day < cfg.Days-1; day++ {
		s.reseed(cfg.Seed, streamScenario2, uint64(day))
		n := sampleDistinct(s.Rand, cfg.Terminals, two[:])
		for _, tm := range two[:n] {
			out[tm] = append(out[tm], day)
		}
	}
	return out
}

// compromisedCustomers redraws scenario 3's customers: customer → days.
func compromisedCustomers(cfg CardsConfig) map[int32][]int {
	out := map[int32][]int{}
	s := newReusableStream()
	var three [3]int32
	for day := 0; day < cfg.Days-1; day++ {
		s.reseed(cfg.Seed, streamScenario3, uint64(day))
		n := sampleDistinct(s.Rand, cfg.Customers, three[:])
		for _, c := range three[:n] {
			out[c] = append(out[c], day)
		}
	}
	return out
}

func within(days []int, day, span int) bool {
	for _, s := range days {
		if s <= day && day < s+span {
			return true
		}
	}
	return false
}

func TestCardsStatistics(t *testing.T) {
	const days = 60
	cfg := bookSized(days)
	_, txs := collect(t, cfg)

	perDay := float64(len(txs)) / days
	// The book: 1,754,155 transactions over 183 days, 9.6k a day.
	if perDay < 9200 || perDay > 10000 {
		t.Fatalf("%.0f transactions a day, want 9.2k-10.0k", perDay)
	}
	// Past day 28 scenario 2 is at its steady state: the book's 0.837 %.
	var steady, frauds int
	var byScen [4]int
	for i := range txs {
		if txs[i].Day < 28 {
			continue
		}
		steady++
		if txs[i].Fraud {
			frauds++
			byScen[txs[i].Scenario]++
		}
	}
	rate := float64(frauds) / float64(steady)
	if rate < 0.006 || rate > 0.010 {
		t.Fatalf("fraud rate from day 28 = %.4f, want 0.6-1.0 %%", rate)
	}
	// The book's split is 973 / 9,077 / 4,631: 6.6 %, 61.8 %, 31.5 %.
	for s, want := range [...][2]float64{1: {0.03, 0.12}, 2: {0.45, 0.75}, 3: {0.20, 0.45}} {
		if s == 0 {
			continue
		}
		if share := float64(byScen[s]) / float64(frauds); share < want[0] || share > want[1] {
			t.Errorf("scenario %d share = %.3f, want %.2f-%.2f (counts %v)", s, share, want[0], want[1], byScen)
		}
	}
}

func TestCardsFraudRules(t *testing.T) {
	cfg := bookSized(45)
	_, txs := collect(t, cfg)
	terms := compromisedTerminals(cfg)
	custs := compromisedCustomers(cfg)

	type key struct{ cust, start int }
	inWindow := map[key]int{}   // transactions of a compromised customer's window
	s3InWindow := map[key]int{} // of which scenario 3
	for i := range txs {
		tx := &txs[i]
		cents := math.Round(tx.Amount * 100)
		switch tx.Scenario {
		case ScenarioNone:
			if tx.Amount > 220 {
				t.Fatalf("tx %d: amount %.2f above 220 is not fraud", tx.ID, tx.Amount)
			}
		case ScenarioAmount:
			if tx.Amount <= 220 {
				t.Fatalf("tx %d: scenario 1 with amount %.2f", tx.ID, tx.Amount)
			}
		case ScenarioTerminal:
		case ScenarioCustomer:
			if math.Mod(cents, 5) != 0 {
				t.Fatalf("tx %d: scenario 3 amount %.2f is not 5 × an amount in cents", tx.ID, tx.Amount)
			}
		default:
			t.Fatalf("tx %d: scenario %d with the handbook's scenarios only", tx.ID, tx.Scenario)
		}
		if tx.Fraud != (tx.Scenario != ScenarioNone) {
			t.Fatalf("tx %d: fraud %v with scenario %d", tx.ID, tx.Fraud, tx.Scenario)
		}
		// Scenario 2: a compromised terminal's transactions over the 28 days,
		// unless scenario 3 took them; no other.
		hit := within(terms[int32(tx.Terminal)], tx.Day, 28)
		if hit && tx.Scenario != ScenarioTerminal && tx.Scenario != ScenarioCustomer {
			t.Fatalf("tx %d at terminal %d day %d: compromised (days %v) but scenario %d", tx.ID, tx.Terminal, tx.Day, terms[int32(tx.Terminal)], tx.Scenario)
		}
		if !hit && tx.Scenario == ScenarioTerminal {
			t.Fatalf("tx %d at terminal %d day %d: scenario 2 outside any window (%v)", tx.ID, tx.Terminal, tx.Day, terms[int32(tx.Terminal)])
		}
		// Scenario 3: only compromised customers in their 14 days.
		starts := custs[int32(tx.Customer)]
		if tx.Scenario == ScenarioCustomer && !within(starts, tx.Day, 14) {
			t.Fatalf("tx %d of customer %d day %d: scenario 3 outside any window (%v)", tx.ID, tx.Customer, tx.Day, starts)
		}
		if len(starts) == 1 && within(starts, tx.Day, 14) {
			k := key{tx.Customer, starts[0]}
			inWindow[k]++
			if tx.Scenario == ScenarioCustomer {
				s3InWindow[k]++
			}
		}
	}
	// A customer compromised once has exactly int(n/3) of its n window
	// transactions multiplied (its window is complete: generation stops at
	// the last day).
	checked := 0
	for k, n := range inWindow {
		if got, want := s3InWindow[k], n/3; got != want {
			t.Fatalf("customer %d window from day %d: %d scenario 3 of %d, want %d", k.cust, k.start, got, n, want)
		}
		checked++
	}
	if checked < 50 {
		t.Fatalf("only %d scenario 3 windows checked", checked)
	}
}

func TestCardsOrderAndColumns(t *testing.T) {
	cfg := DefaultCards()
	cfg.Customers, cfg.Terminals, cfg.Days = 500, 1000, 20
	cfg.Scenarios = AllScenarios
	w, txs := collect(t, cfg)
	if len(txs) == 0 {
		t.Fatal("no transactions")
	}
	for i := range txs {
		tx := &txs[i]
		if got, want := tx.ID, int64(i); got != want {
			t.Fatalf("tx %d has id %d", i, got)
		}
		if i > 0 && tx.Seconds < txs[i-1].Seconds {
			t.Fatalf("tx %d at %d s before tx %d at %d s", i, tx.Seconds, i-1, txs[i-1].Seconds)
		}
		if got, want := tx.Time, w.Start().Add(time.Duration(tx.Seconds)*time.Second); !got.Equal(want) {
			t.Fatalf("tx %d: time %s, want start + %d s = %s", i, got, tx.Seconds, want)
		}
		if sec := tx.Seconds - int64(tx.Day)*86400; sec <= 0 || sec >= 86400 {
			t.Fatalf("tx %d: %d s into day %d", i, sec, tx.Day)
		}
		if c := tx.Amount * 100; tx.Amount < 0 || math.Abs(c-math.Round(c)) > 1e-6 {
			t.Fatalf("tx %d: amount %v is not whole cents", i, tx.Amount)
		}
	}
}

func TestCardsDeterminism(t *testing.T) {
	cfg := DefaultCards()
	cfg.Customers, cfg.Terminals, cfg.Days = 800, 1600, 30
	cfg.Scenarios = AllScenarios
	digest := func(cfg CardsConfig) uint64 {
		w, err := NewCardWorld(cfg)
		if err != nil {
			t.Fatal(err)
		}
		h := fnv.New64a()
		cw := NewCardsCSVWriter(h)
		for tx := range w.Transactions() {
			if err := cw.Write(tx); err != nil {
				t.Fatal(err)
			}
		}
		if err := cw.Flush(); err != nil {
			t.Fatal(err)
		}
		return h.Sum64()
	}
	a, b := digest(cfg), digest(cfg)
	if a != b {
		t.Fatalf("same seed, different output: %x, %x", a, b)
	}
	other := cfg
	other.Seed = 1
	if c := digest(other); c == a {
		t.Fatalf("seeds 0 and 1 give the same output %x", c)
	}
}

// Turning on scenarios 4 to 6 adds transactions but leaves the handbook's
// ones, and their labels, as they were.
func TestCardsExtraScenariosLeaveTheRestAlone(t *testing.T) {
	cfg := DefaultCards()
	cfg.Customers, cfg.Terminals, cfg.Days = 800, 1600, 40
	_, base := collect(t, cfg)
	cfg.Scenarios = AllScenarios
	_, all := collect(t, cfg)
	var kept []Tx
	for _, tx := range all {
		if tx.Scenario != ScenarioCardTesting && tx.Scenario != ScenarioBreach && tx.Scenario != ScenarioNeverUsed {
			tx.ID = 0
			kept = append(kept, tx)
		}
	}
	for i := range base {
		base[i].ID = 0
	}
	if len(kept) != len(base) {
		t.Fatalf("%d handbook transactions with scenarios 4 to 6, %d without", len(kept), len(base))
	}
	for i := range base {
		if kept[i] != base[i] {
			t.Fatalf("transaction %d differs: %+v with scenarios 4 to 6, %+v without", i, kept[i], base[i])
		}
	}
	if len(all) == len(base) {
		t.Fatal("scenarios 4 to 6 added nothing")
	}
}

func TestCardTestingAndBreach(t *testing.T) {
	const days = 60
	cfg := bookSized(days)
	cfg.Scenarios = AllScenarios
	w, txs := collect(t, cfg)

	type burst struct {
		n          int
		first, end int64
		terms      map[int]bool
	}
	bursts := map[[2]int]*burst{} // (customer, day)
	lastDay := map[int][]int{}    // customer → days of its handbook transactions
	var breachTx int
	for i := range txs {
		tx := &txs[i]
		c := w.Customer(tx.Customer)
		switch tx.Scenario {
		case ScenarioCardTesting:
			if tx.Amount < 0.5 || tx.Amount > 2 {
				t.Fatalf("tx %d: card testing amount %.2f outside 0.50-2.00", tx.ID, tx.Amount)
			}
			if slices.Contains(w.AvailableTerminals(tx.Customer), int32(tx.Terminal)) {
				t.Fatalf("tx %d: card testing at terminal %d the card already uses", tx.ID, tx.Terminal)
			}
			k := [2]int{tx.Customer, tx.Day}
			b := bursts[k]
			if b == nil {
				b = &burst{first: tx.Seconds, terms: map[int]bool{}}
				bursts[k] = b
			}
			b.n++
			b.end = tx.Seconds
			b.terms[tx.Terminal] = true
		case ScenarioBreach:
			breachTx++
			tm := w.Terminal(tx.Terminal)
			if d := math.Hypot(tm.X-c.X, tm.Y-c.Y); d < breachFarUnits {
				t.Fatalf("tx %d: breach fraud %.1f units from the customer, want at least %g", tx.ID, d, breachFarUnits)
			}
			// The card was used (at the breached terminal) 1 to 27 days before.
			if !slices.ContainsFunc(lastDay[tx.Customer], func(d int) bool { return d < tx.Day && d >= tx.Day-27 }) {
				t.Fatalf("tx %d: breach fraud on day %d but the card was not used in the 27 days before", tx.ID, tx.Day)
			}
			if !tx.Fraud {
				t.Fatalf("tx %d: scenario 5 not fraud", tx.ID)
			}
		case ScenarioNeverUsed:
		default:
			lastDay[tx.Customer] = append(lastDay[tx.Customer], tx.Day)
		}
	}
	// About CardTestingPerDay bursts a day (Poisson: 60 ± 8).
	if n := len(bursts); n < 35 || n > 90 {
		t.Fatalf("%d card-testing bursts in %d days, want about %g", n, days, cfg.CardTestingPerDay*days)
	}
	for k, b := range bursts {
		if b.n < 5 || b.n > 40 || len(b.terms) > 6 || b.end-b.first > 2*20*60 {
			t.Fatalf("burst of customer %d day %d: %d transactions at %d terminals over %d s", k[0], k[1], b.n, len(b.terms), b.end-b.first)
		}
	}
	// 0.2 breaches a day, about 7 cards each, half of them later used 1-3 times.
	if breachTx < 20 || breachTx > 400 {
		t.Fatalf("%d breach frauds in %d days", breachTx, days)
	}
}

// TestNeverUsedTerminals checks scenario 6 from its description: cards
// compromised then used for several days, each time at a terminal the card
// has never used before, with amounts like its holder's.
func TestNeverUsedTerminals(t *testing.T) {
	const days = 60
	cfg := bookSized(days)
	cfg.Scenarios = HandbookScenarios.With(ScenarioNeverUsed)
	w, txs := collect(t, cfg)
	used := make(map[[2]int]bool)    // (customer, terminal) seen on an earlier row
	usedDay := make(map[[2]int]int)  // … and the day of its first use
	fraudDays := make(map[int][]int) // customer → days of its scenario 6 rows
	var n int
	var zs []float64 // amounts of scenario 6 rows as z-scores of their card's habit
	for i := range txs {
		tx := &txs[i]
		k := [2]int{tx.Customer, tx.Terminal}
		if tx.Scenario == ScenarioNeverUsed {
			n++
			if !tx.Fraud {
				t.Fatalf("tx %d: scenario 6 not fraud", tx.ID)
			}
			if used[k] {
				t.Fatalf("tx %d: card %d at terminal %d, which it used on day %d", tx.ID, tx.Customer, tx.Terminal, usedDay[k])
			}
			c := w.Customer(tx.Customer)
			zs = append(zs, (tx.Amount-c.MeanAmount)/c.StdAmount)
			if d := fraudDays[tx.Customer]; len(d) == 0 || d[len(d)-1] != tx.Day {
				fraudDays[tx.Customer] = append(d, tx.Day)
			}
		}
		if !used[k] {
			used[k], usedDay[k] = true, tx.Day
		}
	}
	// About one card a day for 2 to 7 days, 1 to 3 times a day: ~60 × 4.5 × 2.
	if n < 250 || n > 900 {
		t.Fatalf("%d scenario 6 transactions in %d days, want about 540", n, days)
	}
	// Each compromise lasts at least 2 days (only the run's end cuts one).
	multi := 0
	for _, d := range fraudDays {
		if len(d) > 1 {
			multi++
		}
	}
	if multi < len(fraudDays)*9/10 {
		t.Fatalf("only %d of %d compromised cards used on several days", multi, len(fraudDays))
	}
	// Ordinary amounts: the card's own normal(mean, mean/2), so z-scores
	// average near 0 with sd near 1 (negative draws are redrawn uniform).
	mean, sd := meanSD(zs)
	if math.Abs(mean) > 0.15 || sd < 0.8 || sd > 1.2 {
		t.Fatalf("scenario 6 amounts: z mean %.3f sd %.3f, want about 0 and 1", mean, sd)
	}
	// Off by default: the handbook's run has none.
	_, plain := collect(t, bookSized(5))
	for _, tx := range plain {
		if tx.Scenario == ScenarioNeverUsed {
			t.Fatal("scenario 6 in the default run")
		}
	}
}

func meanSD(v []float64) (float64, float64) {
	var s, ss float64
	for _, x := range v {
		s += x
		ss += x * x
	}
	n := float64(len(v))
	m := s / n
	return m, math.Sqrt(ss/n - m*m)
}

func TestCardsValidate(t *testing.T) {
	for _, tc := range []struct {
		field string
		edit  func(*CardsConfig)
	}{
		{"customers", func(c *CardsConfig) { c.Customers = 0 }},
		{"terminals", func(c *CardsConfig) { c.Terminals = -1 }},
		{"days", func(c *CardsConfig) { c.Days = 0 }},
		{"days", func(c *CardsConfig) { c.Days = maxDays + 1 }},
		{"start", func(c *CardsConfig) { c.Start = time.Time{} }},
		{"radius", func(c *CardsConfig) { c.Radius = 0 }},
		{"radius", func(c *CardsConfig) { c.Radius = math.NaN() }},
		{"radius", func(c *CardsConfig) { c.Customers, c.Terminals, c.Radius = maxCardEntities, maxCardEntities, 5 }},
		{"scenarios", func(c *CardsConfig) { c.Scenarios = 1 << 7 }},
		{"card_testing_per_day", func(c *CardsConfig) { c.CardTestingPerDay = -1 }},
		{"breaches_per_day", func(c *CardsConfig) { c.BreachesPerDay = math.Inf(1) }},
		{"never_used_per_day", func(c *CardsConfig) { c.NeverUsedPerDay = math.NaN() }},
	} {
		cfg := DefaultCards()
		tc.edit(&cfg)
		_, err := NewCardWorld(cfg)
		if got, want := occsimore.ErrorCode(err), occsimore.EINVALID; got != want {
			t.Fatalf("%s: code %q, want %q (err %v)", tc.field, got, want, err)
		}
		if got, want := occsimore.ErrorField(err), tc.field; got != want {
			t.Fatalf("field %q, want %q (err %v)", got, want, err)
		}
	}
}

func TestCardsCSV(t *testing.T) {
	cfg := DefaultCards()
	cfg.Customers, cfg.Terminals, cfg.Days = 200, 400, 5
	cfg.Scenarios = AllScenarios
	_, txs := collect(t, cfg)
	var buf bytes.Buffer
	cw := NewCardsCSVWriter(&buf)
	for i := range txs {
		if err := cw.Write(&txs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(rows[0], ","), "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_TIME_SECONDS,TX_TIME_DAYS,TX_FRAUD,TX_FRAUD_SCENARIO"; got != want {
		t.Fatalf("header = %s, want %s", got, want)
	}
	if got, want := len(rows)-1, len(txs); got != want {
		t.Fatalf("%d rows, want %d", got, want)
	}
	for i, tx := range txs {
		want := []string{
			strconv.FormatInt(tx.ID, 10), tx.Time.Format("2006-01-02 15:04:05"), strconv.Itoa(tx.Customer), strconv.Itoa(tx.Terminal),
			strconv.FormatFloat(tx.Amount, 'f', 2, 64), strconv.FormatInt(tx.Seconds, 10), strconv.Itoa(tx.Day),
			map[bool]string{false: "0", true: "1"}[tx.Fraud], strconv.Itoa(int(tx.Scenario)),
		}
		if !slices.Equal(rows[i+1], want) {
			t.Fatalf("row %d = %v, want %v", i+1, rows[i+1], want)
		}
	}
}

// Our rows have the shape of the published dataset's rows.
func TestCardsCSVMatchesHandbookFile(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "shared", "data", "handbook", "transactions_raw.csv.gz"))
	if errors.Is(err, os.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the handbook data set is required in CI: %v", err)
		}
		t.Skipf("handbook data set not present beside the repository (%v)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	row := regexp.MustCompile(`^\d+,\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+,\d+,\d+\.\d\d,\d+,\d+,[01],[0-3]$`)
	var theirs []string
	for len(theirs) < 1001 && sc.Scan() {
		theirs = append(theirs, sc.Text())
	}
	if got, want := theirs[0], CardsCSVHeader; got != want {
		t.Fatalf("handbook header %s, ours %s", got, want)
	}
	for _, l := range theirs[1:] {
		if !row.MatchString(l) {
			t.Fatalf("handbook row %q does not match %s", l, row)
		}
	}
	cfg := DefaultCards()
	cfg.Customers, cfg.Terminals, cfg.Days = 200, 400, 3
	_, txs := collect(t, cfg)
	var buf bytes.Buffer
	cw := NewCardsCSVWriter(&buf)
	for i := range txs {
		if err := cw.Write(&txs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	ours := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if got, want := ours[0], theirs[0]; got != want {
		t.Fatalf("header %s, handbook's %s", got, want)
	}
	for _, l := range ours[1:] {
		if !row.MatchString(l) {
			t.Fatalf("our row %q does not match the handbook's shape %s", l, row)
		}
	}
}

func TestCardsEventAndNDJSON(t *testing.T) {
	cfg := DefaultCards()
	cfg.Customers, cfg.Terminals, cfg.Days = 200, 400, 5
	cfg.Scenarios = AllScenarios
	w, txs := collect(t, cfg)
	for _, labels := range []bool{false, true} {
		var buf bytes.Buffer
		nw := w.NewNDJSONWriter(&buf, labels)
		for i := range txs {
			if err := nw.Write(&txs[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := nw.Flush(); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if got, want := len(lines), len(txs); got != want {
			t.Fatalf("%d lines, want %d", got, want)
		}
		for i, line := range lines {
			tx := &txs[i]
			var want occsimore.Event
			w.Event(tx, &want)
			if err := want.Validate(); err != nil {
				t.Fatalf("tx %d: event invalid: %v", tx.ID, err)
			}
			if want.Card != strconv.Itoa(tx.Customer) || want.Customer != want.Card || want.Terminal != strconv.Itoa(tx.Terminal) || want.Amount != tx.Amount {
				t.Fatalf("tx %+v gave event %+v", tx, want)
			}
			if labels {
				want.Attrs = map[string]string{"fraud": map[bool]string{false: "0", true: "1"}[tx.Fraud], "fraud_scenario": strconv.Itoa(int(tx.Scenario))}
			}
			// Our hand-written line must be what the wire form says.
			std, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			var a, b map[string]any
			if err := json.Unmarshal([]byte(line), &a); err != nil {
				t.Fatalf("line %d %q: %v", i, line, err)
			}
			if err := json.Unmarshal(std, &b); err != nil {
				t.Fatal(err)
			}
			if ja, jb := mustJSON(t, a), mustJSON(t, b); ja != jb {
				t.Fatalf("line %d:\n ours %s\n want %s", i, ja, jb)
			}
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCardsStopEarly(t *testing.T) {
	seq, err := GenerateCards(bookSized(3))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range seq {
		n++
		if n == 10 {
			break
		}
	}
	if n != 10 {
		t.Fatalf("got %d transactions, want to stop at 10", n)
	}
}

func TestParseScenarios(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"1,2,3", "1,2,3", true},
		{" 5, 4 ,1", "1,4,5", true},
		{"", "none", true},
		{"none", "none", true},
		{"0", "", false},
		{"6", "6", true},
		{"7", "", false},
		{"1,,2", "", false},
		{"a", "", false},
	} {
		set, err := ParseScenarios(tc.in)
		if (err == nil) != tc.ok {
			t.Fatalf("ParseScenarios(%q) error %v, want ok %v", tc.in, err, tc.ok)
		}
		if err != nil {
			if got, want := occsimore.ErrorCode(err), occsimore.EINVALID; got != want {
				t.Fatalf("ParseScenarios(%q) code %q, want %q", tc.in, got, want)
			}
			continue
		}
		if got := set.String(); got != tc.want {
			t.Fatalf("ParseScenarios(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func FuzzParseScenarios(f *testing.F) {
	for _, s := range []string{"1,2,3", "1,2,3,4,5", "", "none", "9", " 2 ,3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := ParseScenarios(s)
		if err != nil {
			return
		}
		if set&^AllScenarios != 0 {
			t.Fatalf("ParseScenarios(%q) = %08b outside the known scenarios", s, set)
		}
		again, err := ParseScenarios(set.String())
		if err != nil || again != set {
			t.Fatalf("round trip of %q: %s gave %08b, %v", s, set, again, err)
		}
	})
}
