package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/internal/eventtest"
)

// sameTime and randomEvent are the shared test helpers of the codecs.
var sameTime = eventtest.SameTime

func randomEvent(r *rand.Rand) occsimore.Event { return eventtest.RandomEvent(r) }

// diffEvents is the difference between events, treating nil and empty
// slices and maps alike (decoders reuse storage).
func diffEvents(want, got *occsimore.Event) string {
	return cmp.Diff(want, got, sameTime, cmpopts.EquateEmpty())
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
