package behavior

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// cardTemplates draws n transactions of nCards cards; benchmarks stamp them
// with increasing times.
func cardTemplates(nCards, n int) []occsimore.Event {
	r := rand.New(rand.NewPCG(42, 42))
	w := newCardWorld(r, nCards)
	evs := make([]occsimore.Event, n)
	for i := range evs {
		evs[i] = w.normalTx(r, w.cards[r.IntN(len(w.cards))], 0)
	}
	return evs
}

func loginTemplates(nUsers, n int) []occsimore.Event {
	r := rand.New(rand.NewPCG(43, 43))
	us := newUsers(r, nUsers)
	evs := make([]occsimore.Event, 0, n)
	for len(evs) < n {
		evs = append(evs, us[r.IntN(len(us))].normal(r, 0)...)
	}
	return evs[:n]
}

// stream processes events cyclically with times advancing by step, so that
// the engine sees an endless, ordered stream.
type stream struct {
	evs  []occsimore.Event
	t0   time.Time
	step time.Duration
	i    int
}

func (s *stream) next() *occsimore.Event {
	ev := &s.evs[s.i%len(s.evs)]
	ev.Time = s.t0.Add(time.Duration(s.i) * s.step)
	s.i++
	return ev
}

func benchProcess(b *testing.B, evs []occsimore.Event, step time.Duration) {
	e := newTestEngine(b)
	s := &stream{evs: evs, t0: simStart, step: step}
	var res Result
	for range 4 * len(evs) { // warm: every entity has history
		if err := e.Process(s.next(), &res); err != nil {
			b.Fatal(err)
		}
	}
	measure(b, func() error { return e.Process(s.next(), &res) })
	b.ReportMetric(float64(res.NFeatures), "features")
}

// measure runs process b.N times and reports events per second of wall
// time and of CPU time (cpu-events/s, where the platform tells).
func measure(b *testing.B, process func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	cpu0, cpuOK := cpuTime()
	for range b.N {
		if err := process(); err != nil {
			b.Fatal(err)
		}
	}
	cpu1, _ := cpuTime()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	if cpuOK && cpu1 > cpu0 {
		b.ReportMetric(float64(b.N)/(cpu1-cpu0).Seconds(), "cpu-events/s")
	}
}

// BenchmarkProcessCardTx: 5,000 cards and customers, 3,000 terminals and
// merchants, four profiles per event.
func BenchmarkProcessCardTx(b *testing.B) {
	benchProcess(b, cardTemplates(5000, 1<<16), 20*time.Millisecond)
}

// BenchmarkProcessCardOnly: the card profile alone (one profile per
// event, 41 of the 77 features), the cost of one entity.
func BenchmarkProcessCardOnly(b *testing.B) {
	evs := cardTemplates(5000, 1<<16)
	for i := range evs {
		evs[i].Customer, evs[i].Terminal, evs[i].Merchant = "", "", ""
	}
	benchProcess(b, evs, 20*time.Millisecond)
}

// BenchmarkProcessLogin: 5,000 users and their IPs.
func BenchmarkProcessLogin(b *testing.B) {
	benchProcess(b, loginTemplates(5000, 1<<16), 20*time.Millisecond)
}

// BenchmarkProcessCardTxParallel runs Process from GOMAXPROCS goroutines,
// each on its own copy of the templates.
func BenchmarkProcessCardTxParallel(b *testing.B) {
	e := newTestEngine(b)
	evs := cardTemplates(5000, 1<<16)
	var res Result
	s := &stream{evs: evs, t0: simStart, step: 20 * time.Millisecond}
	for range 4 * len(evs) {
		if err := e.Process(s.next(), &res); err != nil {
			b.Fatal(err)
		}
	}
	copies := make(chan *stream, runtime.GOMAXPROCS(0))
	for range cap(copies) {
		// Times stay within the allowed lateness of each other.
		copies <- &stream{evs: append([]occsimore.Event(nil), evs...), t0: simStart, step: 20 * time.Millisecond, i: s.i}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		local := <-copies
		var res Result
		for pb.Next() {
			if err := e.Process(local.next(), &res); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkProfileMemory creates one million card profiles per iteration
// and reports the heap they take per entity, index included. Run it with
// -benchtime 1x.
func BenchmarkProfileMemory(b *testing.B) {
	for range b.N {
		b.ReportMetric(profileBytes(b, 1_000_000), "bytes/entity")
	}
}

func profileBytes(tb testing.TB, n int) float64 {
	e := newTestEngine(tb)
	ev := occsimore.Event{MemberID: "mem_bank", Kind: "card.tx", Amount: 42, Country: "FR", MCC: "5411", Channel: "pos"}
	var res Result
	// Create one profile to allocate the tenant and its shards outside the
	// measurement.
	ev.Card, ev.Time = "warm", simStart
	if err := e.Process(&ev, &res); err != nil {
		tb.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		ev.Card = fmt.Sprintf("card-%09d", i) // garbage by the time of the second reading
		ev.Time = simStart.Add(time.Duration(i) * time.Millisecond)
		if err := e.Process(&ev, &res); err != nil {
			tb.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(e)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}
