package simulate

import (
	"io"
	"testing"
	"time"
)

// BenchmarkGenerateCards generates the handbook's world (5,000 customers,
// 10,000 terminals) over 30 days per iteration, profiles excluded, and
// reports transactions per second. Run with -cpu 1.
func BenchmarkGenerateCards(b *testing.B) {
	for _, tc := range []struct {
		name      string
		scenarios ScenarioSet
	}{{"handbook", HandbookScenarios}, {"all", AllScenarios}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := bookSized(30)
			cfg.Scenarios = tc.scenarios
			w, err := NewCardWorld(cfg)
			if err != nil {
				b.Fatal(err)
			}
			var n int64
			b.ReportAllocs()
			for b.Loop() {
				for range w.Transactions() {
					n++
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tx/s")
		})
	}
}

// BenchmarkCardWorld times building the book's profiles and available
// terminals.
func BenchmarkCardWorld(b *testing.B) {
	cfg := DefaultCards()
	for b.Loop() {
		if _, err := NewCardWorld(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCardsCSV(b *testing.B) {
	cfg := bookSized(10)
	w, err := NewCardWorld(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for b.Loop() {
		cw := NewCardsCSVWriter(io.Discard)
		for tx := range w.Transactions() {
			if err := cw.Write(tx); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := cw.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tx/s")
}

func BenchmarkCardsNDJSON(b *testing.B) {
	cfg := bookSized(10)
	w, err := NewCardWorld(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for b.Loop() {
		nw := w.NewNDJSONWriter(io.Discard, false)
		for tx := range w.Transactions() {
			if err := nw.Write(tx); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := nw.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tx/s")
}

func BenchmarkGenerateLogins(b *testing.B) {
	cfg := DefaultLogins()
	w, err := NewLoginWorld(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for b.Loop() {
		for range w.Logins() {
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "logins/s")
}

func BenchmarkLive(b *testing.B) {
	cfg := DefaultLive()
	cfg.WallStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l, err := NewLive(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		l.Next()
	}
}
