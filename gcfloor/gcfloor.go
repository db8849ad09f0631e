// Package gcfloor keeps the garbage collector from running while the heap is
// small.
//
// Go starts a collection when the heap has grown by GOGC percent over the
// live heap of the last one. A server whose live heap is a few megabytes
// (few profiles yet, a test member) therefore collects every second or so
// under load, and each cycle's marking takes turns with requests on the
// cores: at 2,000 requests/s that was half of the single-event POST's p99.
// A floor on the heap goal trades a bounded amount of memory for rarer
// cycles; once the live heap is large enough that GOGC alone reaches the
// floor, the collector behaves exactly as GOGC says. GOMEMLIMIT, if set,
// still caps the heap: the runtime applies it over any GOGC.
package gcfloor

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Percent returns the GOGC value that sets the next heap goal to at least
// floor bytes for a live heap of live bytes, and never below base.
func Percent(live, floor uint64, base int) int {
	if base < 0 || live == 0 || live >= floor {
		return base
	}
	// goal = live × (1 + GOGC/100); rounding up keeps the goal at or above
	// the floor.
	p := (floor - live) * 100 / live
	if (floor-live)*100%live != 0 {
		p++
	}
	const most = 1 << 20 // a tiny live heap must not overflow the runtime's int32
	return max(base, int(min(p, most)))
}

// Run sets GOGC after every collection so that the next heap goal is at
// least floor bytes, until ctx is done; then it restores GOGC as it found
// it. With GOGC=off it does nothing.
func Run(ctx context.Context, floor uint64) {
	base := debug.SetGCPercent(100)
	debug.SetGCPercent(base)
	if base < 0 || floor == 0 {
		return
	}
	defer debug.SetGCPercent(base)
	cycles := make(chan struct{}, 1)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	for {
		metrics.Read(sample)
		live := uint64(0)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			live = sample[0].Value.Uint64()
		}
		debug.SetGCPercent(Percent(live, floor, base))
		notifyNextCycle(cycles)
		select {
		case <-ctx.Done():
			return
		case <-cycles:
		}
	}
}

// notifyNextCycle sends on c once a collection has found an object
// allocated now unreachable, that is, after the next complete cycle.
func notifyNextCycle(c chan<- struct{}) {
	// Big enough to stay out of the tiny allocator, whose blocks are
	// freed together and would delay the cleanup.
	s := new([4]uint64)
	runtime.AddCleanup(s, func(c chan<- struct{}) {
		select {
		case c <- struct{}{}:
		default:
		}
	}, c)
}
