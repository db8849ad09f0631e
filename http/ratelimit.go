package http

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxTrackedIPs bounds the failure limiter's memory under a spray of
// addresses.
const maxTrackedIPs = 10_000

// failureLimiter limits failed authentications per client IP.
type failureLimiter struct {
	every time.Duration
	burst int

	mu   sync.Mutex
	byIP map[string]*rate.Limiter
}

func newFailureLimiter(every time.Duration, burst int) *failureLimiter {
	return &failureLimiter{every: every, burst: burst, byIP: make(map[string]*rate.Limiter)}
}

// blocked reports whether ip has used up its failures, and how long until it
// may try again.
func (l *failureLimiter) blocked(ip string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.byIP[ip]
	if lim == nil || lim.TokensAt(now) >= 1 {
		return 0, false
	}
	res := lim.ReserveN(now, 1)
	wait := res.DelayFrom(now)
	res.CancelAt(now)
	return wait, true
}

// fail records a failed authentication from ip.
func (l *failureLimiter) fail(ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.byIP[ip]
	if lim == nil {
		if len(l.byIP) >= maxTrackedIPs {
			l.prune(now)
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.byIP[ip] = lim
	}
	lim.AllowN(now, 1)
}

// prune forgets addresses whose allowance has refilled, which is the same as
// never having seen them; if that is not enough, it forgets everyone rather
// than grow without bound.
func (l *failureLimiter) prune(now time.Time) {
	for ip, lim := range l.byIP {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.byIP, ip)
		}
	}
	if len(l.byIP) >= maxTrackedIPs {
		clear(l.byIP)
	}
}
