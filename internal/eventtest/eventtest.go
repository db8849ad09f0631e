// Package eventtest holds test helpers for the event codecs (ingest's
// decoders and the journal's binary form): random valid events that
// exercise every field, and a comparison of times as the codecs keep them.
package eventtest

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore"
)

// SameTime compares instants and zone offsets, which is what the codecs keep
// (the local hour), rather than *time.Location pointers.
var SameTime = cmp.Comparer(func(a, b time.Time) bool {
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(b) && oa == ob
})

// RandomEvent returns a valid event that exercises every field, escapes
// and multi-byte text included.
func RandomEvent(r *rand.Rand) occsimore.Event {
	pick := func(p float64) bool { return r.Float64() < p }
	text := func(maxLen int) string {
		const alphabet = "abcXYZ019 -_.:/\"\\\t\n<>&é€😀\u2028\x00\x1f"
		runes := []rune(alphabet)
		var sb strings.Builder
		for n := r.IntN(maxLen + 1); sb.Len() < n; {
			sb.WriteRune(runes[r.IntN(len(runes))])
		}
		s := sb.String()
		for len(s) > maxLen { // a multi-byte rune went past maxLen
			_, size := lastRune(s)
			s = s[:len(s)-size]
		}
		return s
	}
	key := func() string {
		const first, rest = "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123456789._-"
		b := []byte{first[r.IntN(len(first))]}
		for n := r.IntN(12); len(b) <= n; {
			b = append(b, rest[r.IntN(len(rest))])
		}
		return string(b)
	}
	upper := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('A' + r.IntN(26))
		}
		return string(b)
	}
	maybe := func(p float64, f func() string) string {
		if pick(p) {
			return f()
		}
		return ""
	}
	offsets := []int{0, 0, 3600, 7200, -5 * 3600, 5*3600 + 1800, 5*3600 + 45*60, -(9*3600 + 30*60)}
	t := time.Unix(r.Int64N(4102444800), r.Int64N(1e9)).UTC()
	if off := offsets[r.IntN(len(offsets))]; off != 0 {
		t = t.In(time.FixedZone("", off))
	}
	ev := occsimore.Event{
		MemberID:  maybe(0.9, func() string { return "mem_" + key() }),
		ID:        maybe(0.8, func() string { return text(occsimore.MaxEventIDLen) }),
		Kind:      []string{"card.tx", "auth.login", key()}[r.IntN(3)],
		Time:      t,
		Card:      maybe(0.5, func() string { return text(40) }),
		Customer:  maybe(0.5, func() string { return text(40) }),
		Terminal:  maybe(0.5, func() string { return text(40) }),
		Merchant:  maybe(0.3, func() string { return text(40) }),
		User:      maybe(0.3, func() string { return text(40) }),
		IP:        maybe(0.3, func() string { return "2001:db8::" + key() }),
		Currency:  maybe(0.5, func() string { return upper(3) }),
		Country:   maybe(0.5, func() string { return upper(2) }),
		MCC:       maybe(0.3, func() string { return []string{"5411", "0742", "6011"}[r.IntN(3)] }),
		Channel:   maybe(0.5, func() string { return []string{"pos", "ecom", "atm", "web", "mobile", "x"}[r.IntN(6)] }),
		Device:    maybe(0.3, func() string { return text(64) }),
		UserAgent: maybe(0.3, func() string { return text(200) }),
	}
	if pick(0.1) {
		ev.MemberID, ev.ID = "", "" // the minimal event
	}
	if pick(0.8) {
		ev.Amount = []float64{0, 0.01, 57.16, 1e6, r.Float64() * 1000, float64(r.IntN(100000)) / 100}[r.IntN(6)]
	}
	if pick(0.3) {
		ev.Lat, ev.Lon, ev.HasLocation = r.Float64()*180-90, r.Float64()*360-180, true
	}
	if pick(0.3) {
		ev.ASN = r.Uint32()
	}
	if pick(0.3) {
		ev.HasSuccess, ev.Success = true, pick(0.5)
	}
	seen := map[string]bool{}
	for range r.IntN(4) {
		role := key()
		if seen[role] || slices.Contains(occsimore.FixedRoles, role) {
			continue
		}
		seen[role] = true
		ev.Entities = append(ev.Entities, occsimore.Entity{Role: role, ID: "e" + text(30)})
	}
	if n := r.IntN(5); n > 0 {
		ev.Attrs = map[string]string{}
		for range n {
			ev.Attrs[key()] = text(60)
		}
	}
	return ev
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}
