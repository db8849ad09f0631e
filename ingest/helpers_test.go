package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/occsimore/occsimore"
)

// sameTime compares instants and zone offsets, which is what the codecs keep
// (the local hour), rather than *time.Location pointers.
var sameTime = cmp.Comparer(func(a, b time.Time) bool {
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(b) && oa == ob
})

// diffEvents is the difference between events, treating nil and empty
// slices and maps alike (decoders reuse storage).
func diffEvents(want, got *occsimore.Event) string {
	return cmp.Diff(want, got, sameTime, cmpopts.EquateEmpty())
}

// randomEvent returns a valid event that exercises every field, escapes
// and multi-byte text included.
func randomEvent(r *rand.Rand) occsimore.Event {
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

// stdlibDecode is a reference decoder built on encoding/json with the same
// wire schema, used to check DecodeJSON differentially.
func stdlibDecode(b []byte, ev *occsimore.Event) error {
	var j struct {
		ID        string             `json:"id"`
		Kind      string             `json:"kind"`
		Time      *string            `json:"time"`
		Card      string             `json:"card"`
		Customer  string             `json:"customer"`
		Terminal  string             `json:"terminal"`
		Merchant  string             `json:"merchant"`
		User      string             `json:"user"`
		IP        string             `json:"ip"`
		Entities  []occsimore.Entity `json:"entities"`
		Amount    float64            `json:"amount"`
		Currency  string             `json:"currency"`
		Country   string             `json:"country"`
		Lat       *float64           `json:"lat"`
		Lon       *float64           `json:"lon"`
		MCC       string             `json:"mcc"`
		Channel   string             `json:"channel"`
		Device    string             `json:"device"`
		UserAgent string             `json:"user_agent"`
		ASN       uint32             `json:"asn"`
		Success   *bool              `json:"success"`
		Attrs     map[string]string  `json:"attrs"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the object")
	}
	*ev = occsimore.Event{
		MemberID: ev.MemberID, ID: j.ID, Kind: j.Kind,
		Card: j.Card, Customer: j.Customer, Terminal: j.Terminal, Merchant: j.Merchant, User: j.User, IP: j.IP,
		Entities: j.Entities, Amount: j.Amount, Currency: j.Currency, Country: j.Country,
		MCC: j.MCC, Channel: j.Channel, Device: j.Device, UserAgent: j.UserAgent, ASN: j.ASN, Attrs: j.Attrs,
	}
	if j.Time != nil {
		if err := ev.Time.UnmarshalText([]byte(*j.Time)); err != nil {
			return err
		}
	}
	if (j.Lat == nil) != (j.Lon == nil) {
		return errors.New("lat without lon")
	}
	if j.Lat != nil {
		ev.Lat, ev.Lon, ev.HasLocation = *j.Lat, *j.Lon, true
	}
	if j.Success != nil {
		ev.Success, ev.HasSuccess = *j.Success, true
	}
	return ev.Validate()
}

// mustJSON is the wire form of ev.
func mustJSON(t testing.TB, ev occsimore.Event) []byte {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantInvalid checks that err is an EINVALID *occsimore.Error about field.
func wantInvalid(t testing.TB, err error, field, msg string) {
	t.Helper()
	oe, ok := errors.AsType[*occsimore.Error](err)
	if !ok {
		t.Fatalf("error %v (%T) is not an *occsimore.Error", err, err)
	}
	if got, want := oe.Code, occsimore.EINVALID; got != want {
		t.Errorf("code = %q, want %q (%v)", got, want, err)
	}
	if got, want := oe.Field, field; got != want {
		t.Errorf("field = %q, want %q (%v)", got, want, err)
	}
	if !strings.Contains(oe.Message, msg) {
		t.Errorf("message = %q, want it to contain %q", oe.Message, msg)
	}
}
