package behavior

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/occsimore/occsimore"
)

// leanSpecFile is a lean card.tx spec in the format of a specs file
// (config.LoadSpecs): every feature family once.
const leanSpecFile = "testdata/card-lean.toml"

// minSpecFile is a leaner card.tx spec still: the card alone, 25 features.
const minSpecFile = "testdata/card-min.toml"

// loadLeanSpec decodes leanSpecFile.
func loadLeanSpec(tb testing.TB) Spec { return loadSpecFile(tb, leanSpecFile) }

// loadSpecFile decodes a specs file of one spec as config.ParseSpecs does,
// refusing unknown keys.
func loadSpecFile(tb testing.TB, path string) Spec {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var file struct {
		Specs []Spec `toml:"spec"`
	}
	md, err := toml.Decode(string(b), &file)
	if err != nil {
		tb.Fatalf("decode %s: %v", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		tb.Fatalf("%s: unknown key %s", path, und[0])
	}
	if got, want := len(file.Specs), 1; got != want {
		tb.Fatalf("%s has %d specs, want %d", path, got, want)
	}
	return file.Specs[0]
}

func newLeanEngine(tb testing.TB) *Engine {
	tb.Helper()
	return newSpecEngine(tb, loadLeanSpec(tb))
}

func newSpecEngine(tb testing.TB, s Spec) *Engine {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.Specs = []Spec{s}
	e, err := NewEngine(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// leanTemplates are cardTemplates with a device: one or two per card, as a
// card's wallet phones and browsers.
func leanTemplates(nCards, n int) []occsimore.Event {
	evs := cardTemplates(nCards, n)
	r := rand.New(rand.NewPCG(44, 44))
	for i := range evs {
		evs[i].Device = fmt.Sprintf("dev-%s-%d", evs[i].Card, r.IntN(2))
	}
	return evs
}

// TestLeanSpec checks that the lean spec loads, covers every feature family
// and explains a card used far away, for much more, on a new device.
func TestLeanSpec(t *testing.T) {
	s := loadLeanSpec(t)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	e := newLeanEngine(t)
	names := e.FeatureNames("card.tx")
	for _, want := range []string{"card.amount.mean_1d", "card.amount.z_30d", "card.country.llr", "card.merchant.new",
		"card.device.new", "card.hour.llr", "card.weekday.llr", "card.count_1h", "card.count_1d", "card.gap.z",
		"card.travel_kmh", "terminal.risk"} {
		if !slices.Contains(names, want) {
			t.Errorf("lean spec has no feature %q; features: %v", want, names)
		}
	}

	// Three weeks of a card in Paris, 40 EUR at 10:00 at one of two shops.
	var res Result
	ev := occsimore.Event{MemberID: "mem_bank", Kind: "card.tx", Card: "c1", Terminal: "t1", Merchant: "m1",
		Amount: 40, Currency: "EUR", Country: "FR", MCC: "5411", Channel: "pos", Device: "phone",
		Lat: 48.86, Lon: 2.35, HasLocation: true}
	for d := range 21 {
		ev.Time = simStart.AddDate(0, 0, d).Add(10 * time.Hour)
		ev.Amount = 35 + float64(d%4)*3
		ev.Merchant, ev.Terminal = fmt.Sprintf("m%d", d%2), fmt.Sprintf("t%d", d%2)
		if err := e.Process(&ev, &res); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := res.NFeatures, len(names); got != want {
		t.Fatalf("NFeatures = %d, want %d", got, want)
	}
	// Forty minutes later: 900 EUR in Madrid from a new device.
	ev.Time = ev.Time.Add(40 * time.Minute)
	ev.Amount, ev.Country, ev.Device, ev.Merchant, ev.Terminal = 900, "ES", "laptop", "m9", "t9"
	ev.Lat, ev.Lon = 40.42, -3.70
	if err := e.Process(&ev, &res); err != nil {
		t.Fatal(err)
	}
	if res.Decision != Block {
		t.Errorf("decision = %s (score %.1f), want block; reasons %v", res.Decision, res.Score, res.TopReasons())
	}
	for _, code := range []string{"amount_high", "new_country", "new_device", "impossible_travel"} {
		if !res.HasReason(code, MaxReasons) {
			t.Errorf("no reason %s among %v", code, res.TopReasons())
		}
	}
}

// BenchmarkProcessCardTxLean is BenchmarkProcessCardTx under the lean spec
// (two profiles per event, every feature family once), with labelled
// terminals so that the risk block scores.
func BenchmarkProcessCardTxLean(b *testing.B) {
	benchLean(b, leanTemplates(5000, 1<<16))
}

// BenchmarkProcessCardTxLeanHot cycles through 512 events, whose entities
// and event data stay in the CPU caches: the cost of the computation alone,
// without the cache misses of BenchmarkProcessCardTxLean's 5,000 cards and
// 65,536 events.
func BenchmarkProcessCardTxLeanHot(b *testing.B) {
	benchLean(b, leanTemplates(5000, 1<<16)[:512])
}

func benchLean(b *testing.B, evs []occsimore.Event) {
	benchLeanWith(b, newLeanEngine(b), evs)
}

// benchLeanWith runs the lean benchmark's stream, warm-up and labels
// through e.
func benchLeanWith(b *testing.B, e *Engine, evs []occsimore.Event) {
	s := &stream{evs: evs, t0: simStart, step: 20 * time.Millisecond}
	warmLean(b, e, s)
	var res Result
	measure(b, func() error { return e.Process(s.next(), &res) })
	b.ReportMetric(float64(res.NFeatures), "features")
}

// warmLean runs s four times round its templates through e, so that every
// entity has history, with a label for one event in twenty if the spec
// keeps a fraud rate.
func warmLean(b *testing.B, e *Engine, s *stream) {
	var res Result
	for i := range 4 * len(s.evs) {
		ev := s.next()
		if err := e.Process(ev, &res); err != nil {
			b.Fatal(err)
		}
		if i%20 == 0 && len(e.cfg.RiskRoles(ev.Kind)) > 0 {
			// Labels of events long past, usable at once.
			old := ev.Time.AddDate(0, 0, -30)
			if err := e.Label(ev.MemberID, "terminal", ev.Terminal, i%400 == 0, old, old); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestLeanZeroAllocs checks that the lean spec, with labels, allocates
// nothing per event.
func TestLeanZeroAllocs(t *testing.T) {
	e := newLeanEngine(t)
	s := &stream{evs: leanTemplates(500, 4000), t0: simStart, step: time.Second}
	var res Result
	for i := range 8000 {
		ev := s.next()
		if err := e.Process(ev, &res); err != nil {
			t.Fatal(err)
		}
		if i%20 == 0 {
			old := ev.Time.AddDate(0, 0, -30)
			if err := e.Label(ev.MemberID, "terminal", ev.Terminal, i%400 == 0, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := testing.AllocsPerRun(2000, func() {
		if err := e.Process(s.next(), &res); err != nil {
			t.Fatal(err)
		}
	}); got != 0 {
		t.Errorf("Process under the lean spec allocates %g times per event", got)
	}
}
