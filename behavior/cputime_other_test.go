//go:build !unix

package behavior

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
