package pipeline

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
)

// testNames are 54 feature names, as many as cloud.api has, two of them
// counters that only grow.
func testNames(kind string) []string {
	if kind != "cloud.api" {
		return nil
	}
	names := []string{"user.events", "user.age_days"}
	for j := len(names); j < 54; j++ {
		names = append(names, fmt.Sprintf("f%d", j))
	}
	return names
}

// fillResult puts a random habitual feature vector, with a missing value,
// in res.
func fillResult(r *rand.Rand, res *behavior.Result, n int) {
	res.Kind, res.NFeatures = "cloud.api", 54
	res.Features[0], res.Features[1] = float32(n), float32(n)/40
	for j := 2; j < res.NFeatures; j++ {
		res.Features[j] = float32(r.NormFloat64())
	}
	res.Features[7] = float32(math.NaN())
}

func warmAnomalies(t testing.TB, members, events int) *anomalies {
	t.Helper()
	a := newAnomalies(AnomalyConfig{}, testNames)
	if err := a.cfg.validate(); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var res behavior.Result
	for n := range events {
		for m := range members {
			fillResult(r, &res, n)
			a.observe(fmt.Sprintf("mem_%d", m), &res)
		}
	}
	return a
}

func TestAnomalyObserveDoesNotAllocate(t *testing.T) {
	a := warmAnomalies(t, 2, 400)
	r := rand.New(rand.NewPCG(3, 4))
	var res behavior.Result
	var s occsimore.Scored
	n := 400
	allocs := testing.AllocsPerRun(1000, func() {
		fillResult(r, &res, n)
		n++
		s.Decision = occsimore.DecisionAllow
		if v := a.score("mem_1", &res, &s); v.pct == 0 {
			t.Fatal("no score after the warm-up")
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per event, want 0", allocs)
	}
}

func TestAnomalyEncodeRoundTrip(t *testing.T) {
	for _, events := range []int{10, 64, 100, 300, 1500} {
		a := warmAnomalies(t, 3, events)
		var buf bytes.Buffer
		a.encode(&buf)
		b := newAnomalies(AnomalyConfig{}, testNames)
		dropped, err := b.decode(bytes.NewReader(buf.Bytes()))
		if err != nil || dropped != 0 {
			t.Fatalf("after %d events: decode: dropped %d, %v", events, dropped, err)
		}
		var again bytes.Buffer
		b.encode(&again)
		if !bytes.Equal(buf.Bytes(), again.Bytes()) {
			t.Fatalf("after %d events: state differs once decoded", events)
		}
		// Both score the next events alike.
		r := rand.New(rand.NewPCG(5, 6))
		var res behavior.Result
		for n := range 200 {
			fillResult(r, &res, events+n)
			p1, h1, ok1 := a.observe("mem_2", &res)
			p2, h2, ok2 := b.observe("mem_2", &res)
			if p1 != p2 || h1 != h2 || ok1 != ok2 {
				t.Fatalf("after %d+%d events: live (%g, %d, %v), decoded (%g, %d, %v)", events, n, p1, h1, ok1, p2, h2, ok2)
			}
		}
	}
}

func TestAnomalyDecodeDropsOtherShape(t *testing.T) {
	a := warmAnomalies(t, 1, 300)
	var buf bytes.Buffer
	a.encode(&buf)
	b := newAnomalies(AnomalyConfig{Window: 32}, testNames)
	dropped, err := b.decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dropped, 1; got != want {
		t.Fatalf("dropped %d models, want %d", got, want)
	}
	if got := len(b.states); got != 0 {
		t.Fatalf("%d models kept from trees of another shape", got)
	}
	if _, err := b.decode(bytes.NewReader(buf.Bytes()[:buf.Len()-3])); occsimore.ErrorCode(err) != occsimore.EINVALID {
		t.Fatalf("truncated section: err = %v, want EINVALID", err)
	}
}

func FuzzAnomalyDecode(f *testing.F) {
	for _, events := range []int{0, 70, 200} {
		var buf bytes.Buffer
		warmAnomalies(f, 1, events).encode(&buf)
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a := newAnomalies(AnomalyConfig{}, testNames)
		if _, err := a.decode(bytes.NewReader(b)); err != nil {
			return
		}
		// Whatever decoded must score without panicking.
		var res behavior.Result
		fillResult(rand.New(rand.NewPCG(1, 1)), &res, 1)
		for m := range a.states {
			a.observe(m.member, &res)
		}
	})
}

// BenchmarkAnomalyObserve scores and adds one cloud.api-sized feature
// vector to a member's model past its warm-up.
func BenchmarkAnomalyObserve(b *testing.B) {
	a := warmAnomalies(b, 1, 400)
	r := rand.New(rand.NewPCG(3, 4))
	res := make([]behavior.Result, 256)
	for i := range res {
		fillResult(r, &res[i], 400+i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		a.observe("mem_0", &res[i%len(res)])
	}
}
