//go:build !amd64 && !arm64

package behavior

import "unsafe"

// prefetch does nothing where no assembly is written for the CPU.
func prefetch(p unsafe.Pointer, n uintptr) {}
