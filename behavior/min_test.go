package behavior

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// TestMinSpec checks that the minimal spec loads, keeps at least 20
// features, and explains a card used abroad, for much more, on a new
// device, then in a burst.
func TestMinSpec(t *testing.T) {
	s := loadSpecFile(t, minSpecFile)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	e := newSpecEngine(t, s)
	names := e.FeatureNames("card.tx")
	if got := len(names); got < 20 {
		t.Fatalf("minimal spec has %d features, want at least 20: %v", got, names)
	}
	for _, want := range []string{"card.amount.z_30d", "card.country.llr", "card.merchant.new", "card.device.new",
		"card.count_1h", "card.count_1d", "card.gap.z"} {
		if !slices.Contains(names, want) {
			t.Errorf("minimal spec has no feature %q; features: %v", want, names)
		}
	}

	// Three weeks of a card in France, about 40 EUR a day at one of two
	// shops, from one phone.
	var res Result
	ev := occsimore.Event{MemberID: "mem_bank", Kind: "card.tx", Card: "c1", Terminal: "t1", Merchant: "m1",
		Amount: 40, Currency: "EUR", Country: "FR", MCC: "5411", Channel: "pos", Device: "phone"}
	for d := range 21 {
		ev.Time = simStart.AddDate(0, 0, d).Add(10 * time.Hour)
		ev.Amount = 35 + float64(d%4)*3
		ev.Merchant = fmt.Sprintf("m%d", d%2)
		if err := e.Process(&ev, &res); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := res.NFeatures, len(names); got != want {
		t.Fatalf("NFeatures = %d, want %d", got, want)
	}
	// Then 900 EUR in Spain from a new laptop...
	ev.Time = ev.Time.Add(2 * time.Minute)
	ev.Amount, ev.Country, ev.Device, ev.Merchant = 900, "ES", "laptop", "m9"
	if err := e.Process(&ev, &res); err != nil {
		t.Fatal(err)
	}
	if res.Decision != Block {
		t.Errorf("decision = %s (score %.1f), want block; reasons %v", res.Decision, res.Score, res.TopReasons())
	}
	for _, code := range []string{"amount_high", "new_country", "new_device"} {
		if !res.HasReason(code, MaxReasons) {
			t.Errorf("no reason %s among %v", code, res.TopReasons())
		}
	}
	// ... four more times in eight minutes.
	for range 4 {
		ev.Time = ev.Time.Add(2 * time.Minute)
		if err := e.Process(&ev, &res); err != nil {
			t.Fatal(err)
		}
	}
	if !res.HasReason("velocity_burst", MaxReasons) {
		t.Errorf("no reason velocity_burst among %v", res.TopReasons())
	}
}

// BenchmarkProcessCardTxMin is BenchmarkProcessCardTxLean under the minimal
// spec (testdata/card-min.toml: the card alone, 25 features).
func BenchmarkProcessCardTxMin(b *testing.B) {
	e := newSpecEngine(b, loadSpecFile(b, minSpecFile))
	benchLeanWith(b, e, leanTemplates(5000, 1<<16))
}

// BenchmarkProcessBatchMin is BenchmarkProcessBatchLean under the minimal
// spec: batches of 64 over 512, 4,096 and 65,536 event templates.
func BenchmarkProcessBatchMin(b *testing.B) {
	evs := leanTemplates(5000, 1<<16)
	for _, n := range []int{512, 4096, 1 << 16} {
		b.Run(fmt.Sprintf("templates=%d", n), func(b *testing.B) {
			benchLeanBatch(b, newSpecEngine(b, loadSpecFile(b, minSpecFile)), evs[:n])
		})
	}
}
