package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/model"
	"github.com/occsimore/occsimore/train"
)

// This file holds the supervised side of the pipeline: trained models
// loaded from the store and applied to every event, and the feature vectors
// of alerts kept as training data (package train fits the models).
//
// How a promoted model decides: the engine turns its score into allow,
// review or block by the member's score thresholds; the model turns its
// fraud probability into a decision by the thresholds stored with the model
// (ModelVersion.Review and Block, set per member when it is trained); the
// event gets the more severe of the two. The model so adds what the
// engine's habits miss and never silences a habit break. A shadow model is
// scored the same way, but only its score and the decision it would have
// made are recorded.

// ModelStore is what the pipeline needs of the model store;
// *sqlstore.DB implements it.
type ModelStore interface {
	ActiveModels(ctx context.Context) ([]*occsimore.ModelVersion, error)
	FindModel(ctx context.Context, memberID, id string) (*occsimore.ModelVersion, error)
	SaveAlertFeatures(ctx context.Context, memberID string, fs []*occsimore.AlertFeatures) error
}

// loadedModel is a decoded model ready to score the engine's features.
type loadedModel struct {
	v   *occsimore.ModelVersion // without Data
	gb  *model.GBDT
	idx []int // for each model input, its index in the engine's features; -1: missing
	// What the model decided, or would have as a shadow, since it was
	// loaded.
	scored, review, block atomic.Int64
}

// predict returns the fraud probability of the engine's features, using
// row as scratch space.
func (lm *loadedModel) predict(feats []float32, row []float32) float64 {
	for j, i := range lm.idx {
		if i >= 0 && i < len(feats) {
			row[j] = feats[i]
		} else {
			row[j] = float32(math.NaN())
		}
	}
	return lm.gb.Predict(row)
}

// decide turns a probability into a decision by the model's thresholds.
func (lm *loadedModel) decide(p float64) occsimore.Decision {
	switch {
	case p >= lm.v.Block:
		return occsimore.DecisionBlock
	case p >= lm.v.Review:
		return occsimore.DecisionReview
	}
	return occsimore.DecisionAllow
}

func (lm *loadedModel) count(d occsimore.Decision) {
	lm.scored.Add(1)
	switch d {
	case occsimore.DecisionBlock:
		lm.block.Add(1)
	case occsimore.DecisionReview:
		lm.review.Add(1)
	}
}

type modelKey struct{ member, kind string }

type modelPair struct{ live, shadow *loadedModel }

// modelSet is an immutable view of the loaded models, swapped whole on
// reload so that scoring takes no lock.
type modelSet struct {
	byKey map[modelKey]modelPair
	byID  map[string]*loadedModel
	width int // the widest model, for scratch rows
}

func (ms *modelSet) pair(member, kind string) modelPair {
	if ms == nil {
		return modelPair{}
	}
	return ms.byKey[modelKey{member, kind}]
}

// severity orders decisions.
func severity(d occsimore.Decision) int {
	switch d {
	case occsimore.DecisionBlock:
		return 2
	case occsimore.DecisionReview:
		return 1
	}
	return 0
}

// scoreModels applies member's models of res's kind to the event scored as
// s: the shadow's probability is only recorded, the promoted model's may
// raise s.Decision. It reports whether it did. row is scratch space of at
// least ms.width values.
func scoreModels(ms *modelSet, member string, res *behavior.Result, s *occsimore.Scored, row []float32) (raised bool) {
	mp := ms.pair(member, res.Kind)
	feats := res.FeatureVector()
	if lm := mp.shadow; lm != nil {
		p := lm.predict(feats, row)
		s.ShadowScore, s.ShadowVersion = p, lm.v.Version
		lm.count(lm.decide(p))
	}
	if lm := mp.live; lm != nil {
		p := lm.predict(feats, row)
		s.ModelScore, s.ModelVersion = p, lm.v.Version
		d := lm.decide(p)
		lm.count(d)
		if severity(d) > severity(s.Decision) {
			s.Decision = d
			return true
		}
	}
	return false
}

// modelReason explains a decision the promoted model raised.
func modelReason(ms *modelSet, member, kind string, s *occsimore.Scored) occsimore.Reason {
	lm := ms.pair(member, kind).live
	return occsimore.Reason{
		Code: "model_high",
		Role: "model",
		Text: fmt.Sprintf("fraud model v%d gives probability %.2f (review at %.2f, block at %.2f)",
			lm.v.Version, s.ModelScore, lm.v.Review, lm.v.Block),
		Score: s.ModelScore,
	}
}

// alertFeatures keeps the features of an alerted event as a future training
// row. The alert ID is filled once the alert is stored.
func alertFeatures(ms *modelSet, names func(string) []string, ev *occsimore.Event, res *behavior.Result, s *occsimore.Scored) *occsimore.AlertFeatures {
	mp := ms.pair(ev.MemberID, res.Kind)
	f := &occsimore.AlertFeatures{
		Kind:       res.Kind,
		Time:       ev.Time,
		Entity:     train.Entity(ev),
		FeatureSet: occsimore.FeatureSetID(names(res.Kind)),
		Features:   append([]float32(nil), res.FeatureVector()...),
	}
	if mp.live != nil {
		f.ModelID, f.ModelScore = mp.live.v.ID, s.ModelScore
	}
	if mp.shadow != nil {
		f.ShadowID, f.ShadowScore = mp.shadow.v.ID, s.ShadowScore
	}
	return f
}

// saveAlertFeatures stores the features of alerts just stored. A failure
// loses training rows, not events or alerts: it is logged, not returned.
func (p *Pipeline) saveAlertFeatures(ctx context.Context, member string, alerts []*occsimore.Alert, fs []*occsimore.AlertFeatures) {
	if p.cfg.Models == nil || len(fs) == 0 {
		return
	}
	for i, a := range alerts {
		fs[i].AlertID = a.ID
	}
	if err := p.cfg.Models.SaveAlertFeatures(context.WithoutCancel(ctx), member, fs); err != nil {
		p.log.Error("store alert features", "member", member, "alerts", len(fs), "err", err)
	}
}

// ModelState is a loaded model and what it decided since it was loaded.
// For a shadow model the decisions are those it would have made.
type ModelState struct {
	ID       string                `json:"id"`
	MemberID string                `json:"member_id"`
	Kind     string                `json:"kind"`
	Version  int                   `json:"version"`
	Status   occsimore.ModelStatus `json:"status"`
	Scored   int64                 `json:"scored"`
	Review   int64                 `json:"review"`
	Block    int64                 `json:"block"`
}

// Models returns the models loaded for memberID.
func (p *Pipeline) Models(memberID string) []ModelState {
	ms := p.models.Load()
	var out []ModelState
	if ms == nil {
		return out
	}
	for k, mp := range ms.byKey {
		if k.member != memberID {
			continue
		}
		for _, lm := range []*loadedModel{mp.live, mp.shadow} {
			if lm != nil {
				out = append(out, ModelState{ID: lm.v.ID, MemberID: lm.v.MemberID, Kind: lm.v.Kind, Version: lm.v.Version,
					Status: lm.v.Status, Scored: lm.scored.Load(), Review: lm.review.Load(), Block: lm.block.Load()})
			}
		}
	}
	return out
}

// ReloadModels loads the promoted and shadow models of every member from
// Config.Models, reusing those already decoded, and swaps them in at once:
// events scored after it returns use them. A model that cannot be loaded
// (corrupt, or none of its features known to the engine) is skipped and
// reported in the error; the others are loaded all the same.
func (p *Pipeline) ReloadModels(ctx context.Context) error {
	if p.cfg.Models == nil {
		return nil
	}
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	active, err := p.cfg.Models.ActiveModels(ctx)
	if err != nil {
		return fmt.Errorf("reload models: %w", err)
	}
	old := p.models.Load()
	next := &modelSet{byKey: make(map[modelKey]modelPair), byID: make(map[string]*loadedModel)}
	var errs []error
	for _, v := range active {
		var lm *loadedModel
		if old != nil {
			// Models never change once stored, except their status and
			// thresholds' use: the decoded trees can be kept.
			if prev := old.byID[v.ID]; prev != nil {
				lm = &loadedModel{v: v, gb: prev.gb, idx: prev.idx}
				lm.scored.Store(prev.scored.Load())
				lm.review.Store(prev.review.Load())
				lm.block.Store(prev.block.Load())
			}
		}
		if lm == nil {
			if lm, err = p.loadModel(ctx, v); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		k := modelKey{v.MemberID, v.Kind}
		mp := next.byKey[k]
		if v.Status == occsimore.ModelPromoted {
			mp.live = lm
		} else {
			mp.shadow = lm
		}
		next.byKey[k] = mp
		next.byID[v.ID] = lm
		next.width = max(next.width, len(lm.idx))
	}
	p.models.Store(next)
	for id, lm := range next.byID {
		if old == nil || old.byID[id] == nil || old.byID[id].v.Status != lm.v.Status {
			p.log.Info("model loaded", "member", lm.v.MemberID, "kind", lm.v.Kind, "version", lm.v.Version,
				"id", id, "status", lm.v.Status)
		}
	}
	if old != nil {
		for id, lm := range old.byID {
			if next.byID[id] == nil {
				p.log.Info("model unloaded", "member", lm.v.MemberID, "kind", lm.v.Kind, "version", lm.v.Version, "id", id)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("reload models: %w", err)
	}
	return nil
}

func (p *Pipeline) loadModel(ctx context.Context, v *occsimore.ModelVersion) (*loadedModel, error) {
	full, err := p.cfg.Models.FindModel(ctx, v.MemberID, v.ID)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", v.ID, err)
	}
	gb := new(model.GBDT)
	if err := gb.UnmarshalBinary(full.Data); err != nil {
		return nil, fmt.Errorf("model %s: %w", v.ID, err)
	}
	if gb.NumFeatures() != len(v.FeatureNames) {
		return nil, fmt.Errorf("model %s: %d inputs but %d feature names", v.ID, gb.NumFeatures(), len(v.FeatureNames))
	}
	idx, known := featureIndex(v.FeatureNames, p.eng.FeatureNames(v.Kind))
	if known == 0 {
		return nil, fmt.Errorf("model %s: none of its features is one of the engine's for kind %q", v.ID, v.Kind)
	}
	if known < len(idx) {
		p.log.Warn("model features unknown to the engine are missing", "id", v.ID, "known", known, "features", len(idx))
	}
	return &loadedModel{v: v, gb: gb, idx: idx}, nil
}

// featureIndex maps each model feature to the engine's feature of the same
// name, or -1, so that a model survives specs that add or reorder features.
func featureIndex(modelNames, engineNames []string) (idx []int, known int) {
	pos := make(map[string]int, len(engineNames))
	for i, n := range engineNames {
		pos[n] = i
	}
	idx = make([]int, len(modelNames))
	for j, n := range modelNames {
		i, ok := pos[n]
		if !ok {
			i = -1
		} else {
			known++
		}
		idx[j] = i
	}
	return idx, known
}

// WatchModels reloads the models every interval until ctx is done, so that
// a promotion made elsewhere (the CLI, another node) takes effect without a
// restart. Errors are logged.
func (p *Pipeline) WatchModels(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.ReloadModels(ctx); err != nil && ctx.Err() == nil {
				p.log.Error("reload models", "err", err)
			}
		}
	}
}
