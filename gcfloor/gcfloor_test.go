package gcfloor

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live, floor uint64
		base, want  int
	}{
		{live: 8 * mib, floor: 128 * mib, base: 100, want: 1500},  // 8 MiB × 16 = 128 MiB
		{live: 100 * mib, floor: 128 * mib, base: 100, want: 100}, // GOGC already goes past the floor
		{live: 200 * mib, floor: 128 * mib, base: 100, want: 100}, // above the floor: GOGC alone
		{live: 3 * mib, floor: 128 * mib, base: 100, want: 4167},  // rounded up
		{live: 8 * mib, floor: 128 * mib, base: 5000, want: 5000}, // never below GOGC
		{live: 8 * mib, floor: 128 * mib, base: -1, want: -1},     // GOGC=off stays off
		{live: 0, floor: 128 * mib, base: 100, want: 100},         // nothing measured yet
		{live: 1, floor: 1 << 62, base: 100, want: 1 << 20},       // bounded
	} {
		got := Percent(tc.live, tc.floor, tc.base)
		if got != tc.want {
			t.Errorf("Percent(%d, %d, %d) = %d, want %d", tc.live, tc.floor, tc.base, got, tc.want)
		}
		if got >= 0 && tc.live > 0 && got < 1<<20 {
			if goal := tc.live * uint64(100+got) / 100; goal < tc.floor {
				t.Errorf("Percent(%d, %d, %d) = %d: goal %d below the floor", tc.live, tc.floor, tc.base, got, goal)
			}
		}
	}
}

// TestRun checks that Run raises GOGC for a small heap after a real
// collection, and restores it when stopped.
func TestRun(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, 1<<40) // far above this test's heap
	}()
	raised := false
	for range 200 {
		runtime.GC()
		runtime.Gosched()
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		if p > 100 {
			raised = true
			break
		}
	}
	cancel()
	<-done
	if !raised {
		t.Error("GOGC was never raised above 100 for a heap far below the floor")
	}
	p := debug.SetGCPercent(100)
	if p != 100 {
		t.Errorf("GOGC after Run = %d, want it restored to 100", p)
	}
}
