// Package train fits a member's fraud models: it builds training sets by
// replaying labelled events through the behaviour engine the server runs (or
// from the feature rows of labelled alerts) and fits gradient-boosted trees
// on them, measured on a holdout. It is pure: the caller reads the files and
// stores the model.
package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/model"
)

// LabelledReader reads labelled events in time order; Next returns io.EOF
// at the end. Line numbers the record last read, for errors.
type LabelledReader interface {
	Next(ev *occsimore.Event) (fraud bool, err error)
	Line() int
}

// Config configures FromEvents and Fit. Start from
// DefaultConfig.
type Config struct {
	Kind string
	// Engine is the behaviour engine the features come from: the server's,
	// so that training and live features agree.
	Engine behavior.Config
	// LabelDelay is when a file's label reaches the engine's label-driven
	// risk features: the handbook's 7 days. A label counts, as live, no
	// earlier than the spec's own RiskSpec.LabelDelay either.
	LabelDelay time.Duration
	// Since and Until bound the event times of the rows kept (Until
	// exclusive); earlier events still build the profiles. Zero does not
	// bound.
	Since, Until time.Time
	// Holdout is the fraction of rows, the last in time, held out for early
	// stopping and the reported metrics.
	Holdout float64
	GBDT    model.GBDTConfig
	// K is the k of Card Precision@k on the holdout.
	K int
	// Review and Block are the probability thresholds stored with the
	// model.
	Review, Block float64
	// Progress, if set, is called every few thousand events read.
	Progress func(events int)
}

// DefaultConfig returns eval's GBDT settings, a 20 % holdout, CP@100
// and thresholds 0.5 and 0.9.
func DefaultConfig() Config {
	g := model.FraudGBDT()
	return Config{
		Kind:       "card.tx",
		Engine:     behavior.DefaultConfig(),
		LabelDelay: 7 * 24 * time.Hour,
		Holdout:    0.2,
		GBDT:       g,
		K:          100,
		Review:     0.5,
		Block:      0.9,
	}
}

func (c *Config) validate() error {
	switch {
	case !occsimore.ValidName(c.Kind):
		return occsimore.FieldErrorf("kind", "kind %q is not a valid event kind", c.Kind)
	case !(c.Holdout > 0 && c.Holdout < 1):
		return occsimore.FieldErrorf("holdout", "holdout %g must be in (0, 1)", c.Holdout)
	case c.LabelDelay < 0:
		return occsimore.FieldErrorf("label_delay", "label delay must not be negative")
	case c.K < 1:
		return occsimore.FieldErrorf("k", "k %d must be at least 1", c.K)
	case !(c.Review > 0 && c.Review <= c.Block && c.Block <= 1):
		return occsimore.FieldErrorf("review", "thresholds need 0 < review (%g) <= block (%g) <= 1", c.Review, c.Block)
	case !c.Until.IsZero() && !c.Until.After(c.Since):
		return occsimore.FieldErrorf("until", "until must be after since")
	}
	return nil
}

// Set is labelled feature vectors in time order.
type Set struct {
	Names    []string
	X        []float32 // len(Y) rows of len(Names) values
	Y        []bool
	Times    []time.Time
	Entities []string // for Card Precision@k
}

func (ts *Set) add(feats []float32, fraud bool, at time.Time, entity string) {
	ts.X = append(ts.X, feats...)
	ts.Y = append(ts.Y, fraud)
	ts.Times = append(ts.Times, at)
	ts.Entities = append(ts.Entities, entity)
}

// trainMember is the member a file's events are profiled under, in an
// engine of their own.
const trainMember = "train"

// FromEvents replays the labelled events of r through a fresh engine,
// in time order, as the live pipeline would: each event is scored against
// the past only, and its label reaches the engine's risk features
// cfg.LabelDelay after it. Events of other kinds are profiled but not kept.
// Errors name the line.
func FromEvents(ctx context.Context, r LabelledReader, cfg Config) (*Set, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	eng, err := behavior.NewEngine(cfg.Engine)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	ts := &Set{Names: eng.FeatureNames(cfg.Kind)}
	if ts.Names == nil {
		return nil, occsimore.FieldErrorf("kind", "kind %q has no behaviour spec", cfg.Kind)
	}
	riskRoles := map[string][]string{}
	for _, k := range eng.Kinds() {
		riskRoles[k] = cfg.Engine.RiskRoles(k)
	}
	var (
		ev     occsimore.Event
		res    behavior.Result
		last   time.Time
		labels = behavior.DelayedLabels{Member: trainMember, LabelDelay: cfg.LabelDelay}
	)
	for n := 1; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if cfg.Progress != nil {
				cfg.Progress(n)
			}
		}
		ev.MemberID = trainMember
		fraud, err := r.Next(&ev)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		line := r.Line()
		if ev.Time.Before(last) {
			return nil, occsimore.FieldErrorf("time", "line %d: time %s is before the previous %s: events must be in time order",
				line, ev.Time.Format(time.RFC3339), last.Format(time.RFC3339))
		}
		last = ev.Time
		if !cfg.Until.IsZero() && !ev.Time.Before(cfg.Until) {
			break
		}
		// Release the labels known by now, before scoring.
		if err := labels.Release(eng, ev.Time); err != nil {
			return nil, err
		}
		if err := eng.Process(&ev, &res); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		var ents []occsimore.Entity
		for _, role := range riskRoles[ev.Kind] {
			if id := ev.EntityID(role); id != "" {
				ents = append(ents, occsimore.Entity{Role: role, ID: id})
			}
		}
		labels.Add(ev.Time, fraud, ents)
		if ev.Kind == cfg.Kind && (cfg.Since.IsZero() || !ev.Time.Before(cfg.Since)) {
			ts.add(res.FeatureVector(), fraud, ev.Time, Entity(&ev))
		}
	}
	return ts, nil
}

// FromAlerts turns labelled alerts' feature rows (oldest first)
// into a training set over names, the engine's features of their kind.
// Rows written under other feature names (an older spec) are skipped and
// counted.
func FromAlerts(rows []*occsimore.AlertFeatures, names []string) (ts *Set, skipped int) {
	ts = &Set{Names: names}
	set := occsimore.FeatureSetID(names)
	for _, r := range rows {
		if r.FeatureSet != set || len(r.Features) != len(names) || !r.Label.Valid() {
			skipped++
			continue
		}
		ts.add(r.Features, r.Label == occsimore.LabelFraud, r.Time, r.Entity)
	}
	return ts, skipped
}

// Fit fits gradient-boosted trees on ts, holding out its last
// cfg.Holdout rows in time for early stopping and the metrics, and returns
// a candidate model ready for ModelService.CreateModel. Both parts must
// hold both classes.
func Fit(ctx context.Context, ts *Set, cfg Config) (*occsimore.ModelVersion, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cols, n := len(ts.Names), len(ts.Y)
	if cols == 0 || len(ts.X) != n*cols || len(ts.Times) != n || len(ts.Entities) != n {
		return nil, occsimore.Errorf(occsimore.EINVALID, "training set of %d rows and %d features is malformed", n, cols)
	}
	hold := int(math.Ceil(cfg.Holdout * float64(n)))
	cut := n - hold
	count := func(y []bool) (pos int) {
		for _, f := range y {
			if f {
				pos++
			}
		}
		return pos
	}
	trainPos, holdPos := count(ts.Y[:cut]), count(ts.Y[cut:])
	for _, part := range []struct {
		name     string
		rows, fr int
	}{{"training part", cut, trainPos}, {"holdout", hold, holdPos}} {
		if part.fr == 0 || part.fr == part.rows {
			return nil, occsimore.Errorf(occsimore.EINVALID,
				"the %s has %d rows and %d frauds: it needs both frauds and genuine rows (%d labelled rows in all)",
				part.name, part.rows, part.fr, n)
		}
	}
	fit := model.Matrix{Rows: cut, Cols: cols, Data: ts.X[:cut*cols]}
	valid := &model.Dataset{X: model.Matrix{Rows: hold, Cols: cols, Data: ts.X[cut*cols:]}, Y: ts.Y[cut:]}
	gb, err := model.TrainGBDT(ctx, fit, ts.Y[:cut], valid, cfg.GBDT)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	scores := gb.PredictBatch(valid.X, nil)
	days := make([]int, hold)
	for i, t := range ts.Times[cut:] {
		days[i] = int(t.UTC().Unix() / 86400)
	}
	data, err := gb.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode model: %w", err)
	}
	return &occsimore.ModelVersion{
		Kind:         cfg.Kind,
		Algorithm:    "gbdt",
		FeatureNames: append([]string(nil), ts.Names...),
		Metrics: occsimore.ModelMetrics{
			AUC:           model.ROCAUC(scores, valid.Y),
			AP:            model.AveragePrecision(scores, valid.Y),
			CPK:           model.CardPrecisionAtK(days, ts.Entities[cut:], scores, valid.Y, cfg.K),
			K:             cfg.K,
			TrainRows:     cut,
			TrainFrauds:   trainPos,
			HoldoutRows:   hold,
			HoldoutFrauds: holdPos,
			Trees:         gb.NumTrees(),
		},
		Review: cfg.Review,
		Block:  cfg.Block,
		Data:   data,
	}, nil
}

// Entity is the entity Card Precision@k counts: the card, else the
// user.
func Entity(ev *occsimore.Event) string {
	if ev.Card != "" {
		return ev.Card
	}
	return ev.User
}
