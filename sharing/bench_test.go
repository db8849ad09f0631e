package sharing_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/share"
)

// BenchmarkMatch is one event's lookup: a payment at one of 10,000
// terminals (1,000 of them shared by a peer) and merchants of 2,000, with
// an address, against 3,000 indicators; the identifiers come back as in
// card traffic, so the outcome cache is warm after the first pass; none of
// the events matches (a match writes its reason, which allocates).
func BenchmarkMatch(b *testing.B) {
	f := newFixture(b, nil)
	var cands []share.Candidate
	for i := range 1000 {
		cands = append(cands, share.Candidate{Origin: share.OriginLabel, Kind: share.KindTerminal, Value: fmt.Sprintf("T%05d", i*10), Confidence: 90, At: f.now, Count: 1},
			share.Candidate{Origin: share.OriginLabel, Kind: share.KindMerchant, Value: fmt.Sprintf("X%05d", i), Confidence: 90, At: f.now, Count: 1},
			share.Candidate{Origin: share.OriginAttack, Kind: share.KindIP, Value: fmt.Sprintf("45.1.%d.%d", i/256, i%256), Confidence: 80, At: f.now, Count: 1})
	}
	if _, err := f.prod.Publish(b.Context(), f.alpha.ID, cands); err != nil {
		b.Fatal(err)
	}
	if err := f.ant.Refresh(b.Context()); err != nil {
		b.Fatal(err)
	}
	evs := make([]occsimore.Event, 4096)
	for i := range evs {
		evs[i] = occsimore.Event{MemberID: f.beta.ID, Kind: "card.tx", IP: fmt.Sprintf("198.51.%d.%d", i%7, i%200),
			Terminal: fmt.Sprintf("U%05d", (i*7919)%10000), Merchant: fmt.Sprintf("M%05d", (i*31)%2000)}
	}
	hits := 0
	b.ReportAllocs()
	start := cpuTime()
	for i := 0; b.Loop(); i++ {
		if _, ok := f.ant.Match(&evs[i%len(evs)]); ok {
			hits++
		}
	}
	b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/event")
	b.ReportMetric(float64(hits)/float64(b.N), "hits/event")
}

// cpuTime is this process's user+system CPU time: on a shared machine the
// wall clock counts the time other processes held the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
