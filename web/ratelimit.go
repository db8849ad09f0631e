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

// LoginRate bounds sign-in attempts, as the OWASP Authentication Cheat
// Sheet describes: per client address; per pair of email and address, which
// stops guessing one account from one place; and per email, a higher bound
// across all addresses that stops a distributed guess. The per-email bound
// counts only emails that have an account, so a flood of made-up emails
// cannot fill it, and an attacker must spend PerEmail.Burst attempts to lock
// a user out, while the user's own address keeps its pair bucket.
//
// A sign-in with a valid device cookie for its email (DeviceCookie) is
// exempt from PerPair and PerEmail: it is charged to PerDevice instead, and
// each failure to DeviceFailures, whose exhaustion locks the cookie out.
type LoginRate struct {
	PerIP          Rate
	PerPair        Rate
	PerEmail       Rate
	PerDevice      Rate
	DeviceFailures Rate
}

// SignInBudget is the console-wide bound on password verifications per
// second. Per-address bounds cannot stop an attacker with many addresses,
// and each verification holds a core for a fifth of a second, so without it
// a flood of sign-ins takes the CPU from every other request. Sign-ins over
// the budget are refused at once (429), the same for known and unknown
// emails, before any hashing. DeviceRate and DeviceBurst are reserved for
// sign-ins with a valid device cookie, which a flood without one cannot
// spend; they use the shared budget too when their own is empty.
type SignInBudget struct {
	Rate        float64 // verifications per second
	Burst       int
	DeviceRate  float64
	DeviceBurst int
}

// maxLimiterKeys bounds the memory a flood of distinct IPs or emails can take.
const maxLimiterKeys = 10000

// keyedLimiter holds one token bucket per key. Times come from the caller so
// that tests drive the clock.
type keyedLimiter struct {
	rate Rate
	max  int // keys kept at most

	mu   sync.Mutex
	keys map[string]*rate.Limiter
}

func newKeyedLimiter(r Rate) *keyedLimiter {
	return &keyedLimiter{rate: r, max: maxLimiterKeys, keys: make(map[string]*rate.Limiter)}
}

// allow consumes one event for key at now and reports whether it was allowed.
func (k *keyedLimiter) allow(key string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	lim, ok := k.keys[key]
	if !ok {
		if len(k.keys) >= k.max {
			k.sweep(now)
		}
		for key := range k.keys {
			if len(k.keys) < k.max {
				break
			}
			// Still full: a flood of keys is under way. Refusing every new
			// key would lock everyone out (a flood of made-up emails did), so
			// forget an arbitrary one: map order is random, so a flooder
			// mostly evicts its own keys, and the per-email bound of real
			// accounts is never full.
			delete(k.keys, key)
		}
		lim = rate.NewLimiter(rate.Every(k.rate.Every), k.rate.Burst)
		k.keys[key] = lim
	}
	return lim.AllowN(now, 1)
}

// exhausted reports whether key's bucket is empty at now, without charging
// it.
func (k *keyedLimiter) exhausted(key string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	lim, ok := k.keys[key]
	return ok && lim.TokensAt(now) < 1
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
