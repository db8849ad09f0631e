package occsimore

import (
	"context"
	"time"
)

// Decision is what occsimore advises for a scored event.
type Decision string

const (
	DecisionAllow  Decision = "allow"
	DecisionReview Decision = "review"
	DecisionBlock  Decision = "block"
)

// Label is an analyst's verdict on an alert. Labels become training data and
// feed the label-driven risk features at once.
type Label string

const (
	LabelNone  Label = ""
	LabelFraud Label = "fraud"
	LabelLegit Label = "legit"
)

// Valid reports whether l is a label an analyst may set.
func (l Label) Valid() bool { return l == LabelFraud || l == LabelLegit }

// Reason is one ranked, readable cause of a score, e.g. code "amount_high",
// role "card", text "amount 412.50 is 7.9σ above this card's usual 48.20".
type Reason struct {
	Code  string  `json:"code"`
	Role  string  `json:"role"`
	Text  string  `json:"text"`
	Score float64 `json:"score"` // this reason's share of the event's score
}

// Alert is a scored event above its member's review threshold, kept with its
// reasons for analysts.
type Alert struct {
	ID        string            `json:"id"`
	MemberID  string            `json:"member_id"`
	EventID   string            `json:"event_id"`
	Kind      string            `json:"kind"`
	Time      time.Time         `json:"time"` // the event's time
	Score     float64           `json:"score"`
	Decision  Decision          `json:"decision"`
	Reasons   []Reason          `json:"reasons"`
	Entities  map[string]string `json:"entities"` // role → entity ID
	Amount    float64           `json:"amount,omitzero"`
	Country   string            `json:"country,omitzero"`
	CreatedAt time.Time         `json:"created_at"`
	Label     Label             `json:"label,omitzero"`
	LabeledBy string            `json:"labeled_by,omitzero"`
	LabeledAt time.Time         `json:"labeled_at,omitzero"`

	// The models that scored the event, if any: the promoted model's fraud
	// probability and version, the shadow model's (recorded, never
	// deciding), and the online anomaly model's percentile of the event
	// among its member's recent events of the kind. A zero version means
	// no such model; a zero AnomalyScore, no anomaly model past warm-up.
	ModelScore    float64 `json:"model_score,omitzero"`
	ModelVersion  int     `json:"model_version,omitzero"`
	ShadowScore   float64 `json:"shadow_score,omitzero"`
	ShadowVersion int     `json:"shadow_version,omitzero"`
	AnomalyScore  float64 `json:"anomaly_score,omitzero"`
}

// AlertFilter selects alerts. Zero fields do not filter.
type AlertFilter struct {
	Kind       string
	Decision   Decision
	Label      Label // with Unlabeled false: only alerts with this label
	Unlabeled  bool  // only alerts without a label
	EntityRole string
	EntityID   string // with EntityRole: alerts touching that entity
	Since      time.Time
	Until      time.Time
	MinScore   float64
	// Before is a cursor: the ID of the last alert of the previous page.
	Before string
	Limit  int // default 50, at most 500
}

// AlertService stores alerts, always within one member.
type AlertService interface {
	// CreateAlerts assigns IDs and CreatedAt to alerts that lack them.
	CreateAlerts(ctx context.Context, memberID string, alerts []*Alert) error
	FindAlert(ctx context.Context, memberID, id string) (*Alert, error)
	// ListAlerts returns the newest alerts first.
	ListAlerts(ctx context.Context, memberID string, f AlertFilter) ([]*Alert, error)
	// LabelAlert sets the label and returns the updated alert.
	LabelAlert(ctx context.Context, memberID, id string, label Label, by string, at time.Time) (*Alert, error)
}
