package occsimore

import "context"

// Scored is the outcome of one submitted event.
type Scored struct {
	EventID  string   `json:"event_id"`
	Score    float64  `json:"score"`
	Decision Decision `json:"decision,omitempty"`
	// Reasons are given for events at or above the review threshold.
	Reasons []Reason `json:"reasons,omitempty"`
	AlertID string   `json:"alert_id,omitempty"`
	// ModelScore is the promoted model's fraud probability, which may have
	// raised Decision; ShadowScore the shadow model's, which never does.
	ModelScore    float64 `json:"model_score,omitempty"`
	ModelVersion  int     `json:"model_version,omitempty"`
	ShadowScore   float64 `json:"shadow_score,omitempty"`
	ShadowVersion int     `json:"shadow_version,omitempty"`
	// AnomalyScore is the anomaly model's percentile of the event among
	// recent ones of its member and kind, once past its warm-up; it may have
	// raised Decision to review.
	AnomalyScore float64 `json:"anomaly_score,omitempty"`
	// Err is why the event was refused: invalid, too far in the future, too
	// late, of a kind without a profile. A refused event changes nothing.
	Err error `json:"-"`
}

// EventService is the live side of detection: events in, their scores out,
// analysts' labels, entity profiles and the stream of new alerts. The API and
// the console use it; the event pipeline implements it.
type EventService interface {
	// Submit scores evs for member, durably, in order; out[i] is evs[i]'s
	// outcome and len(out) must be at least len(evs).
	Submit(ctx context.Context, memberID string, evs []Event, out []Scored) error
	// Label sets an analyst's label on an alert and feeds it to the engine.
	Label(ctx context.Context, memberID, alertID string, label Label, by string) (*Alert, error)
	// Entity returns the profile of the entity id of role for member.
	Entity(memberID, role, id string) (ProfileView, bool)
	// Subscribe returns a channel of member's new alerts; cancel ends it.
	Subscribe(memberID string) (<-chan *Alert, func())
}
