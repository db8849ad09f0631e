package share

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is this process's user+system CPU time. On a shared machine the
// wall clock of a benchmark counts the time other processes held the cores;
// objects per CPU-second does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportPerCPU reports n units per CPU-second spent since start.
func reportPerCPU(b *testing.B, start time.Duration, n float64, unit string) {
	if d := cpuTime() - start; d > 0 {
		b.ReportMetric(n/d.Seconds(), unit+"/cpu-s")
	}
}
