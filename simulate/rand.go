package simulate

import (
	"math"
	"math/rand/v2"
)

// Stream purposes. Each independent random stream is seeded from (seed,
// purpose, index) so that streams never share state.
const (
	streamCustomers uint64 = iota + 1
	streamTerminals
	streamCustomerTx
	streamScenario2
	streamScenario3
	streamScenario3Pick
	streamScenario4
	streamScenario5
	streamBreach
	streamUsers
	streamUserLogins
	streamStuffing
	streamTravel
	streamNewDevice
	streamLive
	streamMCC
	streamAttackLogs
	streamScenario6
)

// mix64 is splitmix64's finaliser: a bijection that spreads nearby inputs
// (seed 0 and 1, customer 41 and 42) over unrelated PCG states.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// seedPCG points p at the stream (seed, purpose, index).
func seedPCG(p *rand.PCG, seed, purpose, index uint64) {
	hi := mix64(seed ^ mix64(purpose))
	p.Seed(hi, mix64(hi^mix64(index+0x9e3779b97f4a7c15)))
}

// newStream returns a generator on the stream (seed, purpose, index).
func newStream(seed, purpose, index uint64) *rand.Rand {
	p := new(rand.PCG)
	seedPCG(p, seed, purpose, index)
	return rand.New(p)
}

// stream is a reusable generator: reseeding it costs no allocation.
type stream struct {
	pcg rand.PCG
	*rand.Rand
}

func newReusableStream() *stream {
	s := &stream{}
	s.Rand = rand.New(&s.pcg)
	return s
}

func (s *stream) reseed(seed, purpose, index uint64) { seedPCG(&s.pcg, seed, purpose, index) }

// poisson draws from Poisson(mean); expNeg is exp(-mean), passed in so that
// callers drawing many times with one mean compute it once. It inverts the
// cumulative distribution with one uniform draw, which is exact and fast for
// the small means used here; above 50 it falls back to a rounded normal.
func poisson(r *rand.Rand, mean, expNeg float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 50 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*r.NormFloat64())))
	}
	u := r.Float64()
	p := expNeg
	s := p
	k := 0
	for u > s && k < 1000 {
		k++
		p *= mean / float64(k)
		s += p
	}
	return k
}

// sampleDistinct fills dst with len(dst) distinct integers from [0, n) in
// the order drawn (a partial Fisher-Yates over an implicit permutation); it
// draws min(len(dst), n) values and returns how many.
func sampleDistinct(r *rand.Rand, n int, dst []int32) int {
	k := min(len(dst), n)
	swapped := make(map[int32]int32, k)
	at := func(i int32) int32 {
		if v, ok := swapped[i]; ok {
			return v
		}
		return i
	}
	for i := range k {
		j := int32(i + r.IntN(n-i))
		vi, vj := at(int32(i)), at(j)
		swapped[j] = vi
		dst[i] = vj
	}
	return k
}
