package occsimore

import (
	"context"
	"time"
)

// Action is what a remediation asks a bouncer (firewall, reverse proxy, login
// service) to do about a source.
type Action string

const (
	ActionBan     Action = "ban"
	ActionCaptcha Action = "captcha"
	ActionAlert   Action = "alert" // record and notify only; bouncers ignore it
)

// Valid reports whether a is a known action.
func (a Action) Valid() bool { return a == ActionBan || a == ActionCaptcha || a == ActionAlert }

// Scope says what a remediation's Value names.
type Scope string

const (
	ScopeIP    Scope = "ip"    // one address, e.g. 192.0.2.7
	ScopeRange Scope = "range" // a CIDR prefix, e.g. 192.0.2.0/24
	ScopeUser  Scope = "user"  // an account name
)

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return s == ScopeIP || s == ScopeRange || s == ScopeUser }

// Attack is one detected attack: a scenario that overflowed for one source in
// one member's logs.
type Attack struct {
	ID       string    `json:"id"`
	MemberID string    `json:"member_id"`
	Scenario string    `json:"scenario"` // e.g. "ssh-bf", "http-probing"
	Scope    Scope     `json:"scope"`    // what Source names
	Source   string    `json:"source"`   // attacking IP, range or user
	Host     string    `json:"host,omitzero"`
	Country  string    `json:"country,omitzero"` // ISO 3166 alpha-2 from GeoIP
	ASN      uint32    `json:"asn,omitzero"`
	Start    time.Time `json:"start"` // first event in the overflowing bucket
	End      time.Time `json:"end"`   // the event that overflowed it
	Events   int       `json:"events"`
	Message  string    `json:"message"` // readable, e.g. "ssh-bf: 6 failed logins for 4 users in 12s"
	// Labels are the scenario's tags (service, attack class, MITRE technique).
	Labels    map[string]string `json:"labels,omitzero"`
	CreatedAt time.Time         `json:"created_at"`
}

// Remediation is a decision about a source that bouncers apply until it
// expires or is deleted.
type Remediation struct {
	ID        int64     `json:"id"` // assigned by the store, increasing
	MemberID  string    `json:"member_id"`
	Action    Action    `json:"action"`
	Scope     Scope     `json:"scope"`
	Value     string    `json:"value"`
	Scenario  string    `json:"scenario"`
	Origin    string    `json:"origin"` // "logs", "consortium", "manual" or "forced"
	AttackID  string    `json:"attack_id,omitzero"`
	Attacks   int       `json:"attacks,omitzero"` // attacks it stands for, more once extended; 0: not counted (manual, shared)
	Until     time.Time `json:"until"`
	CreatedAt time.Time `json:"created_at"`
	DeletedAt time.Time `json:"deleted_at,omitzero"` // set when deleted before Until
}

// Active reports whether r is in force at now.
func (r *Remediation) Active(now time.Time) bool {
	return r.DeletedAt.IsZero() && now.Before(r.Until)
}

// AttackFilter selects attacks. Zero fields do not filter.
type AttackFilter struct {
	Scenario string
	Source   string
	Since    time.Time
	Until    time.Time
	Before   string // cursor: the ID of the last attack of the previous page
	Limit    int    // default 50, at most 500
}

// DayCount is the number of attacks in one UTC day.
type DayCount struct {
	Day   time.Time `json:"day"` // midnight UTC
	Count int       `json:"count"`
}

// AttackService stores attacks and remediations, always within one member,
// except SectorAttacksPerDay, which only ever returns counts.
type AttackService interface {
	CreateAttacks(ctx context.Context, memberID string, attacks []*Attack) error
	ListAttacks(ctx context.Context, memberID string, f AttackFilter) ([]*Attack, error)
	// AttacksPerDay counts the member's attacks per UTC day in [since, until),
	// with a zero entry for days without any.
	AttacksPerDay(ctx context.Context, memberID string, since, until time.Time) ([]DayCount, error)
	// SectorAttacksPerDay is the same count summed over all members of a
	// sector, with the number of members in the sector. It reveals no
	// member's raw data; with too few members a caller could subtract its own
	// counts, so callers refuse small sectors.
	SectorAttacksPerDay(ctx context.Context, sector string, since, until time.Time) (days []DayCount, members int, err error)

	// CreateRemediations assigns IDs and CreatedAt.
	CreateRemediations(ctx context.Context, memberID string, rs []*Remediation) error
	// ExtendRemediations stores decisions from logs so that a scope and
	// value has at most one of origin logs in force: a remediation whose
	// scope and value already have one in force at now extends it (the later
	// Until, the stronger action, Attacks added) and takes its ID; bouncers
	// receive the extended one again. Others are created as by
	// CreateRemediations.
	ExtendRemediations(ctx context.Context, memberID string, rs []*Remediation, now time.Time) error
	// DeleteRemediation ends a remediation early.
	DeleteRemediation(ctx context.Context, memberID string, id int64, at time.Time) error
	// ActiveRemediations lists those in force at now.
	ActiveRemediations(ctx context.Context, memberID string, now time.Time) ([]*Remediation, error)
	// PullRemediations is the bouncer stream. It returns what changed since
	// the bouncer's previous pull and records this pull, in one step: added
	// are the remediations in force at now that the bouncer was not sent,
	// ended those it was sent that are no longer in force (deleted or
	// expired). Those created and ended between two pulls are in neither.
	// With startup, or on a bouncer's first pull, every remediation in force
	// is added and none ended. The store keeps each bouncer's position, so a
	// restart loses nothing.
	PullRemediations(ctx context.Context, memberID, bouncer string, startup bool, now time.Time) (added, ended []*Remediation, err error)
}
