package behavior

import (
	"fmt"
	"slices"
	"time"

	"github.com/occsimore/occsimore"
)

// Spec declares, for one event kind, which entities keep a profile and which
// habits each profile learns. It is plain data with json and toml tags so an
// adapter can load it from a file; DefaultSpecs gives the built-in kinds.
//
// A spec change alters the profile layout: a snapshot taken under another
// layout is refused by ReadSnapshot.
type Spec struct {
	Kind       string     `json:"kind" toml:"kind"`
	Thresholds Thresholds `json:"thresholds" toml:"thresholds"`
	Roles      []RoleSpec `json:"roles" toml:"roles"`
}

// Thresholds turn a score (in nats: the natural log of a likelihood ratio)
// into a decision. A score at or above Block blocks, at or above Review asks
// an analyst.
type Thresholds struct {
	Review float64 `json:"review" toml:"review"`
	Block  float64 `json:"block" toml:"block"`
}

// Validate checks 0 < Review <= Block.
func (t Thresholds) Validate() error {
	if !(t.Review > 0) || !(t.Block >= t.Review) || t.Block > 1e6 {
		return occsimore.FieldErrorf("thresholds", "thresholds need 0 < review (%g) <= block (%g)", t.Review, t.Block)
	}
	return nil
}

// RoleSpec lists the features one entity role keeps. Every feature block has
// a Weight (0 means 1) that scales its contribution to the score, and Mute,
// which keeps the block in the feature vector but out of the score.
type RoleSpec struct {
	Role string `json:"role" toml:"role"`
	// Noun names the entity in reason sentences ("new for this identity");
	// "" means the role. It changes no score and no profile layout.
	Noun string `json:"noun,omitempty" toml:"noun,omitempty"`
	// Weight scales every contribution of this role (0 means 1), so that two
	// roles carrying the same evidence (a card and its only customer) do not
	// count it twice in full.
	Weight float64 `json:"weight,omitempty" toml:"weight,omitempty"`
	// PeerBy names a categorical attribute (such as "mcc") whose value picks
	// the peer group used for cold start; the population is used until a
	// group has enough events.
	PeerBy      string            `json:"peer_by,omitempty" toml:"peer_by,omitempty"`
	Numeric     []NumericSpec     `json:"numeric,omitempty" toml:"numeric,omitempty"`
	Categorical []CategoricalSpec `json:"categorical,omitempty" toml:"categorical,omitempty"`
	Hours       *HoursSpec        `json:"hours,omitempty" toml:"hours,omitempty"`
	Velocity    []VelocitySpec    `json:"velocity,omitempty" toml:"velocity,omitempty"`
	Gap         *GapSpec          `json:"gap,omitempty" toml:"gap,omitempty"`
	Travel      *TravelSpec       `json:"travel,omitempty" toml:"travel,omitempty"`
	Risk        *RiskSpec         `json:"risk,omitempty" toml:"risk,omitempty"`
}

// NumericSpec keeps a decayed mean and variance of a numeric attribute at
// several half-lives. The score uses the longest half-life; every half-life
// gives features.
type NumericSpec struct {
	Attr      string     `json:"attr" toml:"attr"` // "amount" or "attrs.NAME"
	HalfLives []Duration `json:"half_lives" toml:"half_lives"`
	// Log models log(1+x) instead of x, for heavy-tailed values.
	Log    bool    `json:"log,omitempty" toml:"log,omitempty"`
	Weight float64 `json:"weight,omitempty" toml:"weight,omitempty"`
	Mute   bool    `json:"mute,omitempty" toml:"mute,omitempty"`
}

// CategoricalSpec keeps the TopK most frequent values of an attribute with
// decayed frequencies, plus the entity's rate of new values.
type CategoricalSpec struct {
	Attr     string   `json:"attr" toml:"attr"`
	TopK     int      `json:"top_k" toml:"top_k"`
	HalfLife Duration `json:"half_life" toml:"half_life"`
	// Population keeps a population table of the most common values, so that
	// familiar values lower the score when they are rarer in the population
	// than for the entity. Meant for low-cardinality attributes (country,
	// ASN, MCC), useless for identifiers.
	Population bool `json:"population,omitempty" toml:"population,omitempty"`
	// Seen keeps a Bloom filter of that many bits (a multiple of 32, at
	// most MaxSeen) of every value the entity ever had, so that a value
	// out of its top K is still known as an old one: a card's terminals
	// outnumber any top K, but a terminal it never used is what a stolen
	// card shows. About 2 bits a value keep false positives near 10%.
	Seen int `json:"seen,omitempty" toml:"seen,omitempty"`
	// Group names a set of correlated attributes of the role (a new
	// network brings a new address and often a new country): the group's
	// largest contribution counts in full, the others at a quarter. At
	// most MaxGroups groups a role.
	Group  string  `json:"group,omitempty" toml:"group,omitempty"`
	Weight float64 `json:"weight,omitempty" toml:"weight,omitempty"`
	Mute   bool    `json:"mute,omitempty" toml:"mute,omitempty"`
}

// HoursSpec keeps the hour-of-day and day-of-week habits, in the event's own
// time zone.
type HoursSpec struct {
	Weight float64 `json:"weight,omitempty" toml:"weight,omitempty"`
	Mute   bool    `json:"mute,omitempty" toml:"mute,omitempty"`
}

// VelocitySpec keeps decayed event counts over short windows and compares
// them with the entity's usual rate, estimated over Long.
type VelocitySpec struct {
	Windows []Duration `json:"windows" toml:"windows"`
	Long    Duration   `json:"long,omitempty" toml:"long,omitempty"` // default 30d
	// Only counts only successes ("success") or failures ("failure").
	Only string `json:"only,omitempty" toml:"only,omitempty"`
	// NewOf counts only events whose value of this categorical attribute
	// of the role is new to the entity: the rate of never-used terminals.
	NewOf string `json:"new_of,omitempty" toml:"new_of,omitempty"`
	// MinExpected floors the expected count so that two legitimate events a
	// minute apart are not a burst (default 0.5).
	MinExpected float64 `json:"min_expected,omitempty" toml:"min_expected,omitempty"`
	Weight      float64 `json:"weight,omitempty" toml:"weight,omitempty"`
	Mute        bool    `json:"mute,omitempty" toml:"mute,omitempty"`
}

// GapSpec keeps the decayed mean and variance of log(seconds since the
// entity's previous event).
type GapSpec struct {
	HalfLife Duration `json:"half_life" toml:"half_life"`
	Weight   float64  `json:"weight,omitempty" toml:"weight,omitempty"`
	Mute     bool     `json:"mute,omitempty" toml:"mute,omitempty"`
}

// TravelSpec keeps the last location and flags a move faster than MaxKmh
// over more than MinKm.
type TravelSpec struct {
	MaxKmh float64 `json:"max_kmh" toml:"max_kmh"`
	MinKm  float64 `json:"min_km" toml:"min_km"`
	Weight float64 `json:"weight,omitempty" toml:"weight,omitempty"`
	Mute   bool    `json:"mute,omitempty" toml:"mute,omitempty"`
}

// RiskSpec keeps the entity's fraud rate from labels (Engine.Label). A label
// counts only from max(label time, event time + LabelDelay) on, so a score
// never sees a label it could not have known.
type RiskSpec struct {
	LabelDelay Duration `json:"label_delay" toml:"label_delay"`
	HalfLife   Duration `json:"half_life" toml:"half_life"`
	// Prior is the weight, in labels, of the population rate in the entity's
	// smoothed rate (default 5).
	Prior  float64 `json:"prior,omitempty" toml:"prior,omitempty"`
	Weight float64 `json:"weight,omitempty" toml:"weight,omitempty"`
	Mute   bool    `json:"mute,omitempty" toml:"mute,omitempty"`
}

// Limits of a spec.
const (
	MaxTopK       = 16
	MaxSeen       = 1024
	MaxGroups     = 4
	MaxHalfLives  = 4
	MaxWindows    = 4
	MaxRoles      = 8
	maxBlocks     = 12 // numeric, categorical or velocity blocks per role
	maxDuration   = 10 * 365 * 24 * time.Hour
	populationTop = 32 // values in a population table
)

// Duration reads and writes text such as "90s", "1h30m" or "7d"; it is the
// root package's, since profile views carry it.
type Duration = occsimore.Duration

// ParseDuration reads a duration with an optional day unit: "7d", "1.5d",
// "36h", "90s".
func ParseDuration(s string) (Duration, error) { return occsimore.ParseDuration(s) }

// days is a shorthand for the built-in specs.
func days(n float64) Duration { return Duration(n * float64(24*time.Hour)) }

// DefaultSpecs returns the built-in specs: "card.tx" (roles card, customer,
// terminal, merchant), "auth.login" (roles user, ip) and "cloud.api" (roles
// user, ip; see cloudSpec).
func DefaultSpecs() []Spec {
	hl30 := days(30)
	return []Spec{
		{
			Kind:       "card.tx",
			Thresholds: Thresholds{Review: 8, Block: 16},
			Roles: []RoleSpec{
				{
					Role:   "card",
					PeerBy: "mcc",
					// Amounts are log-normal rather than normal: model the
					// log, so that 5x the usual reads the same at 20 and
					// at 2,000 EUR.
					Numeric: []NumericSpec{
						{Attr: "amount", HalfLives: []Duration{days(1), days(7), days(30)}, Log: true},
					},
					Categorical: []CategoricalSpec{
						// A new place brings a new country, category and shop
						// together: one group, counted once and a bit.
						{Attr: "country", TopK: 4, HalfLife: hl30, Population: true, Group: "place", Seen: 64},
						{Attr: "mcc", TopK: 4, HalfLife: hl30, Population: true, Group: "place"},
						{Attr: "channel", TopK: 3, HalfLife: hl30, Population: true},
						{Attr: "merchant", TopK: 6, HalfLife: hl30, Seen: 256, Group: "place"},
						// A new terminal mostly means a new merchant, already
						// counted: keep it as a feature only, and count the
						// never-used ones below.
						{Attr: "terminal", TopK: 4, HalfLife: hl30, Mute: true, Seen: 512},
						// A device never seen on a card-not-present payment is
						// the mark of most takeovers: more than its rate.
						{Attr: "device", TopK: 4, HalfLife: hl30, Seen: 128, Weight: 2},
					},
					Hours: &HoursSpec{},
					Velocity: []VelocitySpec{
						// A burst escalates from its third payment in a minute.
						{Windows: []Duration{Duration(time.Minute), Duration(time.Hour), days(1)}, MinExpected: 0.25},
						// A stolen card is used where it never was.
						{Windows: []Duration{Duration(time.Hour), days(1), days(7)}, NewOf: "terminal"},
					},
					Gap:    &GapSpec{HalfLife: hl30, Mute: true},
					Travel: &TravelSpec{MaxKmh: 900, MinKm: 100},
				},
				{
					Role:   "customer",
					Weight: 0.5,
					Numeric: []NumericSpec{
						{Attr: "amount", HalfLives: []Duration{days(7), days(30)}, Log: true},
					},
					Categorical: []CategoricalSpec{
						{Attr: "country", TopK: 3, HalfLife: hl30, Population: true},
					},
					// No hours: a customer's cards share one clock, which the
					// card profiles already keep.
					Velocity: []VelocitySpec{
						{Windows: []Duration{Duration(time.Hour), days(1)}},
					},
				},
				{
					Role: "terminal",
					Velocity: []VelocitySpec{
						{Windows: []Duration{Duration(time.Hour), days(1), days(7)}, Weight: 0.5},
					},
					Risk: &RiskSpec{LabelDelay: days(7), HalfLife: days(14)},
				},
				{
					Role: "merchant",
					Velocity: []VelocitySpec{
						{Windows: []Duration{Duration(time.Hour), days(1)}, Weight: 0.5},
					},
					Risk: &RiskSpec{LabelDelay: days(7), HalfLife: days(14)},
				},
			},
		},
		{
			Kind:       "auth.login",
			Thresholds: Thresholds{Review: 8, Block: 16},
			Roles: []RoleSpec{
				{
					Role: "user",
					Categorical: []CategoricalSpec{
						// A new network brings a new address, often a new
						// country: one group. So do a device and its browser.
						{Attr: "country", TopK: 4, HalfLife: hl30, Population: true, Group: "network", Seen: 64},
						{Attr: "asn", TopK: 4, HalfLife: hl30, Population: true, Group: "network", Seen: 128},
						{Attr: "device", TopK: 4, HalfLife: hl30, Seen: 256, Group: "client"},
						{Attr: "user_agent", TopK: 4, HalfLife: hl30, Population: true, Group: "client"},
						// hosting, isp, mobile...: a VPN or a cloud host
						// where the user always came from home.
						{Attr: "attrs.asn_type", TopK: 3, HalfLife: hl30, Population: true, Group: "network", Seen: 32},
						{Attr: "ip", TopK: 6, HalfLife: hl30, Group: "network", Seen: 256},
					},
					Hours: &HoursSpec{},
					Velocity: []VelocitySpec{
						{Windows: []Duration{Duration(time.Minute), Duration(time.Hour), days(1)}, Only: "success"},
						{Windows: []Duration{Duration(10 * time.Minute), Duration(time.Hour), days(1)}, Only: "failure"},
					},
					Gap:    &GapSpec{HalfLife: hl30, Mute: true},
					Travel: &TravelSpec{MaxKmh: 900, MinKm: 200},
				},
				{
					// An IP mostly repeats what its users' profiles say.
					Role:   "ip",
					Weight: 0.5,
					Categorical: []CategoricalSpec{
						{Attr: "user", TopK: 4, HalfLife: days(7), Seen: 256},
					},
					// What an address does across accounts no account's
					// profile sees: full weight.
					Velocity: []VelocitySpec{
						{Windows: []Duration{Duration(time.Minute), Duration(time.Hour), days(1)}, Only: "success", Weight: 2},
						{Windows: []Duration{Duration(time.Minute), Duration(time.Hour)}, Only: "failure", Weight: 2},
						// Credential stuffing and spraying: one address, many
						// accounts it never tried.
						{Windows: []Duration{Duration(10 * time.Minute), Duration(time.Hour), days(1)}, NewOf: "user", Weight: 2},
					},
					Risk: &RiskSpec{LabelDelay: Duration(time.Hour), HalfLife: days(7)},
				},
			},
		},
		cloudSpec(),
	}
}

// Validate checks a spec on its own. NewEngine also checks the compiled
// layout against the profile and feature limits.
func (s *Spec) Validate() error {
	if !occsimore.ValidName(s.Kind) {
		return occsimore.FieldErrorf("kind", "kind %q must be 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter", s.Kind)
	}
	if err := s.Thresholds.Validate(); err != nil {
		return err
	}
	if len(s.Roles) == 0 || len(s.Roles) > MaxRoles {
		return occsimore.FieldErrorf("roles", "a spec needs 1 to %d roles", MaxRoles)
	}
	for i := range s.Roles {
		r := &s.Roles[i]
		if err := r.validate(fmt.Sprintf("roles[%d]", i)); err != nil {
			return err
		}
		for _, o := range s.Roles[:i] {
			if o.Role == r.Role {
				return occsimore.FieldErrorf(fmt.Sprintf("roles[%d].role", i), "role %q given twice", r.Role)
			}
		}
	}
	return nil
}

func (r *RoleSpec) validate(at string) error {
	if !occsimore.ValidName(r.Role) {
		return occsimore.FieldErrorf(at+".role", "role %q must be 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter", r.Role)
	}
	if !validNoun(r.Noun) {
		return occsimore.FieldErrorf(at+".noun", "noun %q must be at most %d lowercase letters, spaces or '-'", r.Noun, maxNounLen)
	}
	if err := checkWeight(at, r.Weight); err != nil {
		return err
	}
	if r.PeerBy != "" {
		if a, ok := parseAttr(r.PeerBy); !ok || !a.categorical() {
			return occsimore.FieldErrorf(at+".peer_by", "peer_by %q is not a categorical attribute", r.PeerBy)
		}
	}
	if len(r.Numeric) > maxBlocks || len(r.Categorical) > maxBlocks || len(r.Velocity) > maxBlocks {
		return occsimore.FieldErrorf(at, "at most %d numeric, categorical or velocity blocks each", maxBlocks)
	}
	blocks := len(r.Numeric) + len(r.Categorical) + len(r.Velocity)
	if blocks == 0 && r.Hours == nil && r.Gap == nil && r.Travel == nil && r.Risk == nil {
		return occsimore.FieldErrorf(at, "role %q keeps no feature", r.Role)
	}
	for i, n := range r.Numeric {
		f := fmt.Sprintf("%s.numeric[%d]", at, i)
		if a, ok := parseAttr(n.Attr); !ok || !a.numeric() {
			return occsimore.FieldErrorf(f+".attr", "attr %q is not numeric (amount or attrs.NAME)", n.Attr)
		}
		if len(n.HalfLives) == 0 || len(n.HalfLives) > MaxHalfLives {
			return occsimore.FieldErrorf(f+".half_lives", "1 to %d half-lives", MaxHalfLives)
		}
		for j, h := range n.HalfLives {
			if err := checkDuration(fmt.Sprintf("%s.half_lives[%d]", f, j), h, time.Second); err != nil {
				return err
			}
		}
		if err := checkWeight(f, n.Weight); err != nil {
			return err
		}
		for _, o := range r.Numeric[:i] {
			if o.Attr == n.Attr {
				return occsimore.FieldErrorf(f+".attr", "attr %q given twice", n.Attr)
			}
		}
	}
	for i, c := range r.Categorical {
		f := fmt.Sprintf("%s.categorical[%d]", at, i)
		if a, ok := parseAttr(c.Attr); !ok || !a.categorical() {
			return occsimore.FieldErrorf(f+".attr", "attr %q is not categorical", c.Attr)
		}
		if c.Attr == r.Role {
			return occsimore.FieldErrorf(f+".attr", "a role cannot profile its own id")
		}
		if c.TopK < 1 || c.TopK > MaxTopK {
			return occsimore.FieldErrorf(f+".top_k", "top_k %d is not in 1..%d", c.TopK, MaxTopK)
		}
		if err := checkDuration(f+".half_life", c.HalfLife, time.Second); err != nil {
			return err
		}
		if c.Group != "" && !occsimore.ValidName(c.Group) {
			return occsimore.FieldErrorf(f+".group", "group %q must be 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter", c.Group)
		}
		if c.Seen < 0 || c.Seen > MaxSeen || c.Seen%32 != 0 {
			return occsimore.FieldErrorf(f+".seen", "seen %d is not a multiple of 32 in 0..%d", c.Seen, MaxSeen)
		}
		if err := checkWeight(f, c.Weight); err != nil {
			return err
		}
		for _, o := range r.Categorical[:i] {
			if o.Attr == c.Attr {
				return occsimore.FieldErrorf(f+".attr", "attr %q given twice", c.Attr)
			}
		}
	}
	if r.Hours != nil {
		if err := checkWeight(at+".hours", r.Hours.Weight); err != nil {
			return err
		}
	}
	var groups []string
	for _, c := range r.Categorical {
		if c.Group != "" && !slices.Contains(groups, c.Group) {
			groups = append(groups, c.Group)
		}
	}
	if len(groups) > MaxGroups {
		return occsimore.FieldErrorf(at, "at most %d groups of categorical attributes", MaxGroups)
	}
	for i, v := range r.Velocity {
		f := fmt.Sprintf("%s.velocity[%d]", at, i)
		if len(v.Windows) == 0 || len(v.Windows) > MaxWindows {
			return occsimore.FieldErrorf(f+".windows", "1 to %d windows", MaxWindows)
		}
		for j, w := range v.Windows {
			if err := checkDuration(fmt.Sprintf("%s.windows[%d]", f, j), w, time.Second); err != nil {
				return err
			}
			if v.Long != 0 && w >= v.Long {
				return occsimore.FieldErrorf(fmt.Sprintf("%s.windows[%d]", f, j), "window %s is not shorter than long %s", w, v.Long)
			}
		}
		if v.Long != 0 {
			if err := checkDuration(f+".long", v.Long, time.Hour); err != nil {
				return err
			}
		}
		switch v.Only {
		case "", "success", "failure":
		default:
			return occsimore.FieldErrorf(f+".only", "only %q is not \"\", \"success\" or \"failure\"", v.Only)
		}
		if v.NewOf != "" && !slices.ContainsFunc(r.Categorical, func(c CategoricalSpec) bool { return c.Attr == v.NewOf }) {
			return occsimore.FieldErrorf(f+".new_of", "new_of %q is not a categorical attribute of role %q", v.NewOf, r.Role)
		}
		if !(v.MinExpected >= 0 && v.MinExpected <= 1e6) {
			return occsimore.FieldErrorf(f+".min_expected", "min_expected %g is not in [0, 1e6]", v.MinExpected)
		}
		if err := checkWeight(f, v.Weight); err != nil {
			return err
		}
	}
	if g := r.Gap; g != nil {
		if err := checkDuration(at+".gap.half_life", g.HalfLife, time.Second); err != nil {
			return err
		}
		if err := checkWeight(at+".gap", g.Weight); err != nil {
			return err
		}
	}
	if t := r.Travel; t != nil {
		if !(t.MaxKmh > 0 && t.MaxKmh < 1e6) {
			return occsimore.FieldErrorf(at+".travel.max_kmh", "max_kmh %g is not in (0, 1e6)", t.MaxKmh)
		}
		if !(t.MinKm >= 0 && t.MinKm < 20040) {
			return occsimore.FieldErrorf(at+".travel.min_km", "min_km %g is not in [0, 20040)", t.MinKm)
		}
		if err := checkWeight(at+".travel", t.Weight); err != nil {
			return err
		}
	}
	if k := r.Risk; k != nil {
		if k.LabelDelay < 0 || k.LabelDelay.D() > maxDuration {
			return occsimore.FieldErrorf(at+".risk.label_delay", "label_delay %s is not in [0, 10 years]", k.LabelDelay)
		}
		if err := checkDuration(at+".risk.half_life", k.HalfLife, time.Hour); err != nil {
			return err
		}
		if !(k.Prior >= 0 && k.Prior <= 1e6) {
			return occsimore.FieldErrorf(at+".risk.prior", "prior %g is not in [0, 1e6]", k.Prior)
		}
		if err := checkWeight(at+".risk", k.Weight); err != nil {
			return err
		}
	}
	return nil
}

// maxNounLen bounds RoleSpec.Noun.
const maxNounLen = 32

// validNoun accepts "" and short lowercase words: the noun is written into
// every reason sentence of its role.
func validNoun(s string) bool {
	if len(s) > maxNounLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && c != ' ' && c != '-' {
			return false
		}
	}
	return true
}

func checkDuration(field string, d Duration, least time.Duration) error {
	if d.D() < least || d.D() > maxDuration {
		return occsimore.FieldErrorf(field, "duration %s is not between %s and 10 years", d, Duration(least))
	}
	return nil
}

func checkWeight(at string, w float64) error {
	if !(w >= 0 && w <= 100) {
		return occsimore.FieldErrorf(at+".weight", "weight %g is not in [0, 100]", w)
	}
	return nil
}

func weightOr1(w float64) float64 {
	if w == 0 {
		return 1
	}
	return w
}
