package occsimore

import (
	"context"
	"hash/fnv"
	"strconv"
	"time"
)

// ModelStatus is where a model version is in its life. A member has at most
// one promoted and one shadow model per kind.
type ModelStatus string

const (
	// ModelCandidate is a trained model that does nothing yet.
	ModelCandidate ModelStatus = "candidate"
	// ModelShadow scores every event beside the promoted model; its score is
	// recorded but never changes a decision.
	ModelShadow ModelStatus = "shadow"
	// ModelPromoted is the model whose probability the pipeline uses live.
	ModelPromoted ModelStatus = "promoted"
	// ModelRetired was promoted or shadowed before and no longer scores.
	ModelRetired ModelStatus = "retired"
)

// Valid reports whether s is one of the four statuses.
func (s ModelStatus) Valid() bool {
	return s == ModelCandidate || s == ModelShadow || s == ModelPromoted || s == ModelRetired
}

// ModelMetrics are a model's results on the held-out end of its training
// data (the last rows in time).
type ModelMetrics struct {
	AUC           float64 `json:"auc_roc"`
	AP            float64 `json:"average_precision"`
	CPK           float64 `json:"card_precision_at_k"`
	K             int     `json:"k"`
	TrainRows     int     `json:"train_rows"`
	TrainFrauds   int     `json:"train_frauds"`
	HoldoutRows   int     `json:"holdout_rows"`
	HoldoutFrauds int     `json:"holdout_frauds"`
	Trees         int     `json:"trees"`
}

// ModelVersion is one trained model of a member for one event kind.
// Versions count from 1 per (member, kind).
type ModelVersion struct {
	ID        string      `json:"id"`
	MemberID  string      `json:"member_id"`
	Kind      string      `json:"kind"`
	Version   int         `json:"version"`
	Status    ModelStatus `json:"status"`
	Algorithm string      `json:"algorithm"` // "gbdt"
	// FeatureNames name the model's inputs, matched by name to the
	// behaviour engine's features of Kind when the model is loaded.
	FeatureNames []string     `json:"feature_names"`
	Metrics      ModelMetrics `json:"metrics"`
	// Review and Block are the fraud probabilities at or above which a
	// promoted model makes an event review or block: the member's model
	// thresholds, next to the engine's score thresholds.
	Review float64 `json:"review"`
	Block  float64 `json:"block"`
	// Source says what the model was trained on: "alerts" or a file name.
	Source string `json:"source"`
	// Data is the model in its binary form (model.GBDT.MarshalBinary). Only
	// the Find methods fill it.
	Data       []byte    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	PromotedAt time.Time `json:"promoted_at,omitzero"`
}

// ModelFilter selects models. Zero fields do not filter.
type ModelFilter struct {
	Kind   string
	Status ModelStatus
}

// AlertFeatures is the feature vector the engine computed live for an
// alerted event, with the model scores it got. Once the alert is labelled it
// is a training row: computed online, it holds nothing the engine could not
// have known at the time.
type AlertFeatures struct {
	AlertID string    `json:"alert_id"`
	Kind    string    `json:"kind"`
	Time    time.Time `json:"time"`   // the event's time
	Entity  string    `json:"entity"` // the card, else the user, else "": for Card Precision@k
	// FeatureSet is FeatureSetID of the names of Features.
	FeatureSet  string    `json:"feature_set"`
	Features    []float32 `json:"features"`
	ModelID     string    `json:"model_id,omitzero"` // the promoted model, if any
	ModelScore  float64   `json:"model_score,omitzero"`
	ShadowID    string    `json:"shadow_id,omitzero"` // the shadow model, if any
	ShadowScore float64   `json:"shadow_score,omitzero"`
	// Label is the alert's label, filled by ListTrainingRows.
	Label Label `json:"label,omitzero"`
}

// FeatureSetID returns a short fingerprint of a list of feature names, so
// that stored feature vectors are only ever read against the names they
// were written with.
func FeatureSetID(names []string) string {
	h := fnv.New64a()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// ModelService stores model versions and the feature vectors of alerts,
// always within one member except for ActiveModels.
type ModelService interface {
	// CreateModel stores m as the next version of its kind with status
	// candidate, assigning ID, Version, CreatedAt and UpdatedAt.
	CreateModel(ctx context.Context, memberID string, m *ModelVersion) error
	// FindModel returns a model with its Data.
	FindModel(ctx context.Context, memberID, id string) (*ModelVersion, error)
	// FindModelVersion returns version of kind with its Data; an unknown
	// version is ENOTFOUND naming it.
	FindModelVersion(ctx context.Context, memberID, kind string, version int) (*ModelVersion, error)
	// ListModels returns models without Data, newest first.
	ListModels(ctx context.Context, memberID string, f ModelFilter) ([]*ModelVersion, error)
	// SetModelStatus moves a model to status. Promoting retires the model
	// promoted before it; shadowing returns the previous shadow to
	// candidate.
	SetModelStatus(ctx context.Context, memberID, id string, status ModelStatus, at time.Time) (*ModelVersion, error)
	// ActiveModels returns the shadow and promoted models of every member,
	// without Data: what a running pipeline should have loaded.
	ActiveModels(ctx context.Context) ([]*ModelVersion, error)
	// SaveAlertFeatures stores the feature vectors of alerts of memberID.
	SaveAlertFeatures(ctx context.Context, memberID string, fs []*AlertFeatures) error
	// ListTrainingRows returns the feature vectors of memberID's labelled
	// alerts of kind whose event time is in [since, until) (zero bounds do
	// not bound), oldest first, with their labels.
	ListTrainingRows(ctx context.Context, memberID, kind string, since, until time.Time) ([]*AlertFeatures, error)
}

// ParseModelRef reads a model reference as the CLI and API take it: a
// version number ("3" or "v3") or a model ID ("mdl_...").
func ParseModelRef(ref string) (version int, id string, err error) {
	if len(ref) > 4 && ref[:4] == "mdl_" {
		return 0, ref, nil
	}
	s := ref
	if len(s) > 1 && (s[0] == 'v' || s[0] == 'V') {
		s = s[1:]
	}
	v, perr := strconv.Atoi(s)
	if perr != nil || v < 1 {
		return 0, "", FieldErrorf("version", "model %q is neither a version number (3, v3) nor a model ID (mdl_...)", ref)
	}
	return v, "", nil
}
