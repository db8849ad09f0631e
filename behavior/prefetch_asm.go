//go:build amd64 || arm64

package behavior

import "unsafe"

// prefetch asks the CPU to bring the n bytes at p (n > 0) into its caches,
// one cache line at a time, and returns at once: unlike a load, it neither
// waits for memory nor faults on a stale address, and it is no memory
// access for the race detector. Go has no prefetch of its own.
//
//go:noescape
func prefetch(p unsafe.Pointer, n uintptr)
