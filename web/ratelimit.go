package web

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate allows Burst events at once, refilled at one event per Every.
type Rate struct {
	Every time.Duration
	Burst int
}

// LoginRate bounds sign-in attempts, per client IP and per email address, so
// that neither one address nor one account can be brute-forced quickly.
type LoginRate struct {
	PerIP    Rate
	PerEmail Rate
}

// maxLimiterKeys bounds the memory a flood of distinct IPs or emails can take.
const maxLimiterKeys = 10000

// keyedLimiter holds one token bucket per key. Times come from the caller so
// that tests drive the clock.
type keyedLimiter struct {
	rate Rate

	mu   sync.Mutex
	keys map[string]*rate.Limiter
}

func newKeyedLimiter(r Rate) *keyedLimiter {
	return &keyedLimiter{rate: r, keys: make(map[string]*rate.Limiter)}
}

// allow consumes one event for key at now and reports whether it was allowed.
func (k *keyedLimiter) allow(key string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	lim, ok := k.keys[key]
	if !ok {
		if len(k.keys) >= maxLimiterKeys {
			k.sweep(now)
		}
		if len(k.keys) >= maxLimiterKeys {
			// Still full: an attack with many keys is under way. Refusing new
			// keys fails closed rather than forgetting the limits of old ones.
			return false
		}
		lim = rate.NewLimiter(rate.Every(k.rate.Every), k.rate.Burst)
		k.keys[key] = lim
	}
	return lim.AllowN(now, 1)
}

// sweep forgets buckets that have refilled, since a new bucket would be the
// same. k.mu must be held.
func (k *keyedLimiter) sweep(now time.Time) {
	for key, lim := range k.keys {
		if lim.TokensAt(now) >= float64(k.rate.Burst) {
			delete(k.keys, key)
		}
	}
}
