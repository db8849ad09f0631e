package occsimore

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// Event is one observation that the behaviour engine scores: a card
// transaction (kind "card.tx"), a login ("auth.login") or a member-defined
// kind.
//
// The entities an event touches are named by role. The six common roles are
// fixed fields so that the hot path reads them without a map lookup or an
// allocation; any other role goes in Entities. Attributes likewise: the
// common ones are typed fields and Attrs is open for member-defined kinds.
//
// Optional values that have a meaningful zero (a location at 0,0, a failed
// login) carry a flag: HasLocation and HasSuccess. The JSON form has no flags:
// "lat"/"lon" and "success" are simply present or absent.
type Event struct {
	// MemberID is the tenant. The server sets it from the authenticated
	// principal and never reads it from the wire, so a client cannot write
	// into another member's profiles.
	MemberID string
	ID       string    // client or server assigned, for deduplication and alerts
	Kind     string    // "card.tx", "auth.login", ...
	Time     time.Time // when it happened; its zone gives the local hour

	// Entities by role.
	Card     string
	Customer string
	Terminal string
	Merchant string
	User     string
	IP       string
	Entities []Entity // other roles; each role at most once

	Amount      float64 // in Currency units; never negative
	Currency    string  // ISO 4217, three uppercase letters
	Country     string  // ISO 3166-1 alpha-2, two uppercase letters
	Lat, Lon    float64 // degrees, meaningful only if HasLocation
	HasLocation bool
	MCC         string // ISO 18245 merchant category code, four digits
	Channel     string // "pos", "ecom", "atm", "web", "mobile"...
	Device      string // device fingerprint or type
	UserAgent   string
	ASN         uint32 // autonomous system number of IP, 0 if unknown
	Success     bool   // outcome of a login or authorisation, meaningful only if HasSuccess
	HasSuccess  bool

	Attrs map[string]string // member-defined attributes
}

// Entity is an entity of a role that has no field of its own in Event.
type Entity struct {
	Role string `json:"role"`
	ID   string `json:"id"`
}

// Limits on event fields; they keep hostile input from bloating profiles and
// dictionaries.
const (
	MaxEventIDLen    = 128
	MaxEntityIDLen   = 256
	MaxEventEntities = 16 // extra entities
	MaxEventAttrs    = 32
	maxEventTextLen  = 512 // device, user agent, channel, attribute values
	maxEventKeyLen   = 64  // kind, roles, attribute names
	minEventUnixTime = 0
	maxEventUnixTime = 4102444800 // 2100-01-01: profiles store seconds as uint32

	// MaxAmount bounds Amount. It is beyond any real transaction in any
	// currency (1e15 rupiah is about 60 billion dollars), keeps whole amounts
	// exact in a float64 (below 2^53), and keeps the squares and sums a
	// profile accumulates far from overflow: 1e160 was accepted once and
	// turned a profile's variance into NaN.
	MaxAmount = 1e15
	// MaxAttrNumber bounds an attribute value that reads as a number
	// (strconv.ParseFloat syntax, such as "12.5" or "-3e4"), since a profile
	// spec may declare the attribute numeric. Its square stays finite; digit
	// strings used as text, such as account numbers, pass up to 100 digits.
	// The words "nan" and "inf" are text: the engine reads them as absent.
	MaxAttrNumber = 1e100
)

// FixedRoles are the roles that have their own field in Event. Read only.
var FixedRoles = []string{"card", "customer", "terminal", "merchant", "user", "ip"}

// EntityID returns the id of the entity of role in ev, or "" if it has none.
func (ev *Event) EntityID(role string) string {
	switch role {
	case "card":
		return ev.Card
	case "customer":
		return ev.Customer
	case "terminal":
		return ev.Terminal
	case "merchant":
		return ev.Merchant
	case "user":
		return ev.User
	case "ip":
		return ev.IP
	}
	for i := range ev.Entities {
		if ev.Entities[i].Role == role {
			return ev.Entities[i].ID
		}
	}
	return ""
}

// Validate checks every field a caller supplies. It does not check MemberID,
// which the server sets. It does not allocate unless it fails.
func (ev *Event) Validate() error {
	if !ValidName(ev.Kind) {
		return FieldErrorf("kind", "kind %q must be 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter", ev.Kind)
	}
	if ev.Time.IsZero() {
		return FieldErrorf("time", "time is required")
	}
	if s := ev.Time.Unix(); s < minEventUnixTime || s >= maxEventUnixTime {
		return FieldErrorf("time", "time %s must be between 1970 and 2100", ev.Time.Format(time.RFC3339))
	}
	if len(ev.ID) > MaxEventIDLen {
		return FieldErrorf("id", "id is longer than %d bytes", MaxEventIDLen)
	}
	if max(len(ev.Card), len(ev.Customer), len(ev.Terminal), len(ev.Merchant), len(ev.User), len(ev.IP)) > MaxEntityIDLen {
		for _, f := range [...]struct{ name, v string }{
			{"card", ev.Card}, {"customer", ev.Customer}, {"terminal", ev.Terminal},
			{"merchant", ev.Merchant}, {"user", ev.User}, {"ip", ev.IP},
		} {
			if len(f.v) > MaxEntityIDLen {
				return FieldErrorf(f.name, "%s id is longer than %d bytes", f.name, MaxEntityIDLen)
			}
		}
	}
	if err := validateEntities(ev.Entities); err != nil {
		return err
	}
	if math.IsNaN(ev.Amount) || math.IsInf(ev.Amount, 0) {
		return FieldErrorf("amount", "amount must be a finite number")
	}
	if ev.Amount < 0 {
		return FieldErrorf("amount", "amount %g is negative", ev.Amount)
	}
	if ev.Amount > MaxAmount {
		return FieldErrorf("amount", "amount %g is above the bound %g", ev.Amount, MaxAmount)
	}
	if ev.Currency != "" && !upperLetters(ev.Currency, 3) {
		return FieldErrorf("currency", "currency %q must be three uppercase letters (ISO 4217)", ev.Currency)
	}
	if ev.Country != "" && !upperLetters(ev.Country, 2) {
		return FieldErrorf("country", "country %q must be two uppercase letters (ISO 3166-1 alpha-2)", ev.Country)
	}
	if ev.HasLocation {
		if !(ev.Lat >= -90 && ev.Lat <= 90) { // also rejects NaN
			return FieldErrorf("lat", "lat %g is outside [-90, 90]", ev.Lat)
		}
		if !(ev.Lon >= -180 && ev.Lon <= 180) {
			return FieldErrorf("lon", "lon %g is outside [-180, 180]", ev.Lon)
		}
	} else if ev.Lat != 0 || ev.Lon != 0 {
		return FieldErrorf("lat", "lat/lon set without HasLocation")
	}
	if ev.MCC != "" && !digits(ev.MCC, 4) {
		return FieldErrorf("mcc", "mcc %q must be four digits (ISO 18245)", ev.MCC)
	}
	if max(len(ev.Channel), len(ev.Device), len(ev.UserAgent)) > maxEventTextLen {
		for _, f := range [...]struct{ name, v string }{
			{"channel", ev.Channel}, {"device", ev.Device}, {"user_agent", ev.UserAgent},
		} {
			if len(f.v) > maxEventTextLen {
				return FieldErrorf(f.name, "%s is longer than %d bytes", f.name, maxEventTextLen)
			}
		}
	}
	if ev.Success && !ev.HasSuccess {
		return FieldErrorf("success", "success set without HasSuccess")
	}
	if len(ev.Attrs) > MaxEventAttrs {
		return FieldErrorf("attrs", "at most %d attributes", MaxEventAttrs)
	}
	for k, v := range ev.Attrs {
		if !ValidName(k) {
			return FieldErrorf("attrs", "attribute name %q must be 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter", k)
		}
		if len(v) > maxEventTextLen {
			return FieldErrorf("attrs."+k, "value is longer than %d bytes", maxEventTextLen)
		}
		if looksNumeric(v) {
			// A syntax error (hexadecimal text such as "0xbeef") leaves f 0;
			// an overflow makes it infinite.
			if f, _ := strconv.ParseFloat(v, 64); !(f >= -MaxAttrNumber && f <= MaxAttrNumber) {
				return FieldErrorf("attrs."+k, "number %s is outside [-%g, %g]", v, MaxAttrNumber, MaxAttrNumber)
			}
		}
	}
	return nil
}

// looksNumeric reports whether strconv.ParseFloat would read s as a finite
// number or overflow: a decimal or hexadecimal number, without the words
// "inf" and "nan". It lets Validate call ParseFloat only on numbers, so that
// text values cost no allocation for ParseFloat's error.
func looksNumeric(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return true // hexadecimal: rare, ParseFloat decides
	}
	i, mant := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, mant = i+1, mant+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, mant = i+1, mant+1
		}
	}
	if mant == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

func validateEntities(es []Entity) error {
	if len(es) > MaxEventEntities {
		return FieldErrorf("entities", "at most %d extra entities", MaxEventEntities)
	}
	for i, e := range es {
		if !ValidName(e.Role) {
			return FieldErrorf("entities", "entity %d: role %q must be 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter", i, e.Role)
		}
		for _, r := range FixedRoles {
			if e.Role == r {
				return FieldErrorf("entities", "entity %d: role %q has its own field", i, e.Role)
			}
		}
		if e.ID == "" || len(e.ID) > MaxEntityIDLen {
			return FieldErrorf("entities", "entity %d: id must be 1-%d bytes", i, MaxEntityIDLen)
		}
		for _, o := range es[:i] {
			if o.Role == e.Role {
				return FieldErrorf("entities", "entity %d: role %q given twice", i, e.Role)
			}
		}
	}
	return nil
}

// ValidName reports whether s is a valid kind, role or attribute name: 1 to
// 64 lowercase letters, digits, '.', '_' or '-', starting with a letter.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > maxEventKeyLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func upperLetters(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// eventJSON is the wire form: optional values are pointers instead of flags,
// and the member is absent (see Event.MemberID).
type eventJSON struct {
	ID        string            `json:"id,omitempty"`
	Kind      string            `json:"kind"`
	Time      time.Time         `json:"time"`
	Card      string            `json:"card,omitempty"`
	Customer  string            `json:"customer,omitempty"`
	Terminal  string            `json:"terminal,omitempty"`
	Merchant  string            `json:"merchant,omitempty"`
	User      string            `json:"user,omitempty"`
	IP        string            `json:"ip,omitempty"`
	Entities  []Entity          `json:"entities,omitempty"`
	Amount    float64           `json:"amount,omitempty"`
	Currency  string            `json:"currency,omitempty"`
	Country   string            `json:"country,omitempty"`
	Lat       *float64          `json:"lat,omitempty"`
	Lon       *float64          `json:"lon,omitempty"`
	MCC       string            `json:"mcc,omitempty"`
	Channel   string            `json:"channel,omitempty"`
	Device    string            `json:"device,omitempty"`
	UserAgent string            `json:"user_agent,omitempty"`
	ASN       uint32            `json:"asn,omitempty"`
	Success   *bool             `json:"success,omitempty"`
	Attrs     map[string]string `json:"attrs,omitempty"`
}

// MarshalJSON writes the wire form, without MemberID.
func (ev Event) MarshalJSON() ([]byte, error) {
	j := eventJSON{
		ID: ev.ID, Kind: ev.Kind, Time: ev.Time,
		Card: ev.Card, Customer: ev.Customer, Terminal: ev.Terminal, Merchant: ev.Merchant, User: ev.User, IP: ev.IP,
		Entities: ev.Entities, Amount: ev.Amount, Currency: ev.Currency, Country: ev.Country,
		MCC: ev.MCC, Channel: ev.Channel, Device: ev.Device, UserAgent: ev.UserAgent, ASN: ev.ASN, Attrs: ev.Attrs,
	}
	if ev.HasLocation {
		j.Lat, j.Lon = &ev.Lat, &ev.Lon
	}
	if ev.HasSuccess {
		j.Success = &ev.Success
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the wire form. It leaves MemberID untouched and does not
// validate: call Validate.
func (ev *Event) UnmarshalJSON(b []byte) error {
	var j eventJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if (j.Lat == nil) != (j.Lon == nil) {
		return FieldErrorf("lat", "lat and lon must be given together")
	}
	member := ev.MemberID
	*ev = Event{
		MemberID: member, ID: j.ID, Kind: j.Kind, Time: j.Time,
		Card: j.Card, Customer: j.Customer, Terminal: j.Terminal, Merchant: j.Merchant, User: j.User, IP: j.IP,
		Entities: j.Entities, Amount: j.Amount, Currency: j.Currency, Country: j.Country,
		MCC: j.MCC, Channel: j.Channel, Device: j.Device, UserAgent: j.UserAgent, ASN: j.ASN, Attrs: j.Attrs,
	}
	if j.Lat != nil {
		ev.Lat, ev.Lon, ev.HasLocation = *j.Lat, *j.Lon, true
	}
	if j.Success != nil {
		ev.Success, ev.HasSuccess = *j.Success, true
	}
	return nil
}
