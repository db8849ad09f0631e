// Package pipeline is the event path of occsimore: journal, score, alert,
// notify. It does no I/O of its own; the journal, the behaviour engine and
// the alert store come in as values.
//
// Every batch of events and every label is journaled before the engine sees
// it: written to the operating system, so that a killed process loses
// nothing, and synced to disk before the answer or within the journal's
// sync interval. The engine applies records strictly in journal
// order, one at a time, so that replaying the journal over the latest
// snapshot rebuilds exactly the state the live path built: the same events
// are folded in, and the same events are refused as too late.
package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/journal"
)

// Journal is what the pipeline needs of a durable log; *journal.Journal
// implements it.
type Journal interface {
	// Append returns once rec is durable (written, and synced or due to be
	// within the journal's sync interval), with its sequence number.
	Append(ctx context.Context, rec journal.Record) (seq uint64, err error)
	Replay(ctx context.Context, fromSeq uint64, fn func(seq uint64, rec journal.Record) error) error
	WriteSnapshot(ctx context.Context, seq uint64, write func(w io.Writer) error) error
	LatestSnapshot() (seq uint64, r io.ReadCloser, ok bool, err error)
}

var _ Journal = (*journal.Journal)(nil)

// Config tunes a Pipeline. Lateness and label delay belong to the engine:
// behavior.Config.MaxLateness and the specs' RiskSpec.LabelDelay.
type Config struct {
	// CheckpointEvery is how many events may be journaled after the last
	// snapshot before the pipeline writes a new one, bounding replay time.
	// Default 1,000,000; negative disables automatic checkpoints.
	CheckpointEvery int
	// MaxFuture refuses, before they are journaled, events further ahead of
	// Now than this. The check needs the wall clock, which replay cannot
	// reproduce, so it lives here and not in the engine (leave
	// behavior.Config.Now nil). Default 5 minutes; negative disables.
	MaxFuture time.Duration
	// Thresholds override the review and block thresholds of every kind for
	// a member. They are configuration, not state: Recover applies them
	// after loading a snapshot.
	Thresholds map[string]behavior.Thresholds
	// SubscriberBuffer is the number of alerts a live subscriber may lag
	// behind before alerts are dropped for it. Default 256.
	SubscriberBuffer int
	// Now is the clock; default time.Now.
	Now occsimore.Now
	// Models, if set, is where promoted and shadow models are loaded from
	// (ReloadModels, WatchModels) and where the feature vectors of alerted
	// events are kept as training data. See model.go.
	Models ModelStore
	// Anomaly configures the online anomaly model of kinds without labels.
	// See anomaly.go.
	Anomaly AnomalyConfig
}

type matcherBox struct{ m Matcher }

// SetMatcher makes every live event be matched against the indicators
// other members shared (sharing.Anticipator); nil stops it. A match raises
// the decision to review at least, never lowers it, raises the score to the
// match's and puts its reason first. Replay does not consult it: it makes
// no alerts.
func (p *Pipeline) SetMatcher(m Matcher) {
	if m == nil {
		p.matcher.Store(nil)
		return
	}
	p.matcher.Store(&matcherBox{m})
}

// Matcher matches events against shared indicators. It is called once per
// submitted batch, before the batch is applied (matching does not depend on
// the engine's state, so it does not hold up other batches); it must not
// allocate unless an event matches.
type Matcher interface {
	// MatchBatch sets dst[k] to the reason of each evs[k] of member that
	// matches, zero (an empty Code) for the others, and returns how many
	// matched. len(dst) == len(evs).
	MatchBatch(member string, evs []occsimore.Event, dst []occsimore.Reason) int
}

func (c *Config) setDefaults() {
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = 1_000_000
	}
	if c.MaxFuture == 0 {
		c.MaxFuture = 5 * time.Minute
	}
	if c.SubscriberBuffer <= 0 {
		c.SubscriberBuffer = 256
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

var _ occsimore.EventService = (*Pipeline)(nil)

// Pipeline runs events through the journal, the engine and the alert store.
// Its methods are safe for concurrent use.
//
// Concurrency: Submit and Label append to the journal concurrently, so that
// their fsyncs are shared, and then apply their record to the engine in
// sequence-number order under seqMu, one record at a time. Checkpoint takes
// seqMu too, and only for as long as it takes to serialise the engine into
// memory: the snapshot then covers exactly the records up to the sequence
// number it is filed under, and is written to disk while ingestion goes on.
type Pipeline struct {
	cfg    Config
	eng    *behavior.Engine
	j      Journal
	alerts occsimore.AlertService
	log    *slog.Logger

	// closeMu is read-held by Submit and Label and write-held by Close,
	// which so waits for them.
	closeMu sync.RWMutex
	closed  bool
	closing atomic.Bool // set as Close begins, for readiness

	seqMu   sync.Mutex // guards the fields below
	seqCond *sync.Cond // signalled when applied changes
	applied uint64     // sequence number of the last record applied
	since   int        // events applied since the last checkpoint
	ckSeq   uint64     // sequence number of the last snapshot
	thr     map[string]behavior.Thresholds

	// recovered and failed are atomic so that Submit and Label fail fast
	// while Recover holds seqMu.
	recovered   atomic.Bool
	recoveredCh chan struct{}                   // closed once recovered
	failed      atomic.Pointer[occsimore.Error] // the live state no longer matches the journal

	ckMu sync.Mutex // serialises checkpoints

	subsMu sync.Mutex
	subs   map[string]map[*subscriber]struct{} // nil once closed

	models   atomic.Pointer[modelSet] // nil until ReloadModels
	reloadMu sync.Mutex               // serialises ReloadModels

	anomalies *anomalies // guarded by seqMu

	matcher atomic.Pointer[matcherBox] // nil: no matching (SetMatcher)

	results       sync.Pool // *behavior.Result, for Submit
	sharedReasons sync.Pool // *[]occsimore.Reason, for Submit's matching
	chunks        sync.Pool // *chunk, for Submit and Recover

	metrics *metrics
}

type subscriber struct {
	ch      chan *occsimore.Alert
	dropped int
}

// New returns a pipeline over eng, j and alerts. Call Recover before
// anything else: it loads the engine from the journal. A nil logger
// discards.
func New(cfg Config, eng *behavior.Engine, j Journal, alerts occsimore.AlertService, logger *slog.Logger) *Pipeline {
	cfg.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Pipeline{
		cfg:    cfg,
		eng:    eng,
		j:      j,
		alerts: alerts,
		log:    logger,
		thr:    make(map[string]behavior.Thresholds, len(cfg.Thresholds)),
		subs:   make(map[string]map[*subscriber]struct{}),

		recoveredCh: make(chan struct{}),
		metrics:     newMetrics(eng.Kinds()),
	}
	p.anomalies = newAnomalies(cfg.Anomaly, eng.FeatureNames)
	p.results.New = func() any { return new(behavior.Result) }
	p.sharedReasons.New = func() any { return new([]occsimore.Reason) }
	p.chunks.New = func() any { return new(chunk) }
	for m, t := range cfg.Thresholds {
		p.thr[m] = t
	}
	p.seqCond = sync.NewCond(&p.seqMu)
	return p
}

var (
	errNotRecovered = occsimore.Errorf(occsimore.EUNAVAILABLE, "pipeline is starting")
	errClosed       = occsimore.Errorf(occsimore.EUNAVAILABLE, "pipeline is shut down")
)

// Recover loads the latest snapshot into the engine, which must be fresh,
// and the anomaly models, and replays every later record: events through
// both, labels through the engine's Label. No alert is created again and
// nobody is notified.
func (p *Pipeline) Recover(ctx context.Context) error {
	p.seqMu.Lock()
	defer p.seqMu.Unlock()
	if p.recovered.Load() {
		return fmt.Errorf("pipeline already recovered")
	}
	if err := p.anomalies.cfg.validate(); err != nil {
		return fmt.Errorf("anomaly model: %w", err)
	}
	p.anomalies.warnUnknownKinds(p.log)
	start := time.Now()
	snapSeq, r, ok, err := p.j.LatestSnapshot()
	if err != nil {
		return fmt.Errorf("open snapshot: %w", err)
	}
	checkpointAt := time.Time{}
	if ok {
		checkpointAt = snapshotTime(r)
		err := p.readSnapshot(r)
		r.Close()
		if err != nil {
			return fmt.Errorf("load snapshot %d: %w", snapSeq, err)
		}
	}
	// The snapshot restored the engine's configured thresholds.
	for m, t := range p.thr {
		if err := p.setThresholds(m, t); err != nil {
			return fmt.Errorf("thresholds of member %s: %w", m, err)
		}
	}
	applied := snapSeq
	var res behavior.Result
	var records, events, refused, invalid int
	err = p.j.Replay(ctx, snapSeq+1, func(seq uint64, rec journal.Record) error {
		if seq != applied+1 {
			return fmt.Errorf("journal jumps from record %d to %d", applied, seq)
		}
		switch rec.Kind {
		case journal.KindEvents:
			evs := p.dropInvalid(seq, rec.MemberID, rec.Events, &invalid)
			p.eachResult(evs, &res, func(_ int, res *behavior.Result, err error) {
				if err != nil {
					refused++
					return
				}
				p.anomalies.observe(rec.MemberID, res)
			})
			events += len(rec.Events)
		case journal.KindLabel:
			p.applyLabel(rec.MemberID, &rec.Label)
		}
		applied = seq
		records++
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay journal: %w", err)
	}
	p.applied, p.ckSeq, p.since = applied, snapSeq, events
	if checkpointAt.IsZero() {
		// No snapshot (or not a file): the age counts from now, when the
		// state is known to be rebuilt.
		checkpointAt = p.cfg.Now()
	}
	p.metrics.checkpointAt.Store(checkpointAt.UnixNano())
	p.recovered.Store(true)
	close(p.recoveredCh)
	p.log.Info("pipeline recovered", "snapshot_seq", snapSeq, "records", records, "events", events,
		"refused", refused, "invalid", invalid, "seq", applied, "seconds", time.Since(start).Seconds())
	if invalid > 0 {
		p.log.Warn("journal replay skipped events that no longer validate", "skipped", invalid)
	}
	return nil
}

// maxInvalidLogged bounds the events dropInvalid logs one by one in a replay.
const maxInvalidLogged = 20

// dropInvalid returns the events of the journal record seq that pass
// Validate, counting the others in *invalid. A journal written before a bound
// was added (a finite but huge amount, say) may hold events the live path
// now refuses; replaying them would poison the profiles they touch for good,
// so they are skipped, and logged. evs itself is returned when all pass.
func (p *Pipeline) dropInvalid(seq uint64, member string, evs []occsimore.Event, invalid *int) []occsimore.Event {
	var kept []occsimore.Event
	for i := range evs {
		err := evs[i].Validate()
		if err == nil {
			if kept != nil {
				kept = append(kept, evs[i])
			}
			continue
		}
		if kept == nil {
			kept = append(make([]occsimore.Event, 0, len(evs)), evs[:i]...)
		}
		if *invalid < maxInvalidLogged {
			p.log.Warn("journal replay skips an invalid event", "seq", seq, "member", member,
				"event_id", evs[i].ID, "field", occsimore.ErrorField(err), "err", err)
		}
		*invalid++
	}
	if kept == nil {
		return evs
	}
	return kept
}

// SetThresholds sets the review and block thresholds of every kind for a
// member, now and after every later Recover.
func (p *Pipeline) SetThresholds(memberID string, t behavior.Thresholds) error {
	p.seqMu.Lock()
	defer p.seqMu.Unlock()
	if err := p.setThresholds(memberID, t); err != nil {
		return err
	}
	p.thr[memberID] = t
	return nil
}

func (p *Pipeline) setThresholds(member string, t behavior.Thresholds) error {
	for _, k := range p.eng.Kinds() {
		if err := p.eng.SetThresholds(member, k, t); err != nil {
			return err
		}
	}
	return nil
}

// Seq returns the sequence number of the last journal record the engine
// has applied.
func (p *Pipeline) Seq() uint64 {
	p.seqMu.Lock()
	defer p.seqMu.Unlock()
	return p.applied
}

// Submit journals evs as one record of memberID and then scores them in
// order, filling out[i] for evs[i]; out must be at least as long as evs.
// Submit sets every event's MemberID, and an ID where it has none, in evs.
//
// An event that is invalid or too far in the future is refused before the
// journal; one the engine refuses (too late, unknown kind) is refused on
// replay too. Either way out[i].Err says why and nothing else is set.
// Events at or above their review threshold become alerts, stored with one
// CreateAlerts call and sent to subscribers.
//
// Nothing is acknowledged before the record is journaled: an error means the
// batch was not applied, except that alerts may fail to be stored after it
// was, which is reported as an error too.
func (p *Pipeline) Submit(ctx context.Context, memberID string, evs []occsimore.Event, out []occsimore.Scored) error {
	if len(out) < len(evs) {
		return fmt.Errorf("submit: %d results for %d events", len(out), len(evs))
	}
	if memberID == "" {
		return occsimore.FieldErrorf("member_id", "member is required")
	}
	p.closeMu.RLock()
	defer p.closeMu.RUnlock()
	if p.closed {
		return errClosed
	}
	if err := p.ready(); err != nil {
		return err
	}

	batch, idx := p.admit(memberID, evs, out)
	if len(batch) == 0 {
		return nil
	}

	seq, err := p.j.Append(ctx, journal.Record{Kind: journal.KindEvents, MemberID: memberID, Events: batch})
	if err != nil {
		return fmt.Errorf("journal events: %w", err)
	}

	var alerts []*occsimore.Alert
	var alerted []int // index in evs of each alert
	var feats []*occsimore.AlertFeatures
	// A Result holds a whole feature vector: at one event per request,
	// allocating it each time was the pipeline's largest garbage.
	res := p.results.Get().(*behavior.Result)
	defer p.results.Put(res)
	ms := p.models.Load()
	var row []float32
	if ms != nil {
		row = make([]float32, ms.width)
	}
	var shared []occsimore.Reason // by index in batch; Code "" when not matched
	nShared := 0
	if b := p.matcher.Load(); b != nil {
		sp := p.sharedReasons.Get().(*[]occsimore.Reason)
		defer p.sharedReasons.Put(sp)
		if cap(*sp) < len(batch) {
			*sp = make([]occsimore.Reason, len(batch))
		}
		shared = (*sp)[:len(batch)]
		nShared = b.m.MatchBatch(memberID, batch, shared)
	}
	p.apply(seq, len(batch), func() {
		p.eachResult(batch, res, func(k int, res *behavior.Result, err error) {
			i := k
			if idx != nil {
				i = idx[k]
			}
			if err != nil {
				out[i].Err = err
				p.metrics.countEvent(batch[k].Kind, "", err)
				return
			}
			s := &out[i]
			s.Score, s.Decision = res.Score, decision(res.Decision)
			raised := scoreModels(ms, memberID, res, s, row)
			anomaly := p.anomalies.score(memberID, res, s)
			matched := nShared > 0 && shared[k].Code != ""
			if matched {
				s.Score = max(s.Score, shared[k].Score)
				if severity(s.Decision) < severity(occsimore.DecisionReview) {
					s.Decision = occsimore.DecisionReview
				}
			}
			p.metrics.countEvent(batch[k].Kind, s.Decision, nil)
			if s.Decision == occsimore.DecisionAllow {
				return
			}
			s.Reasons = reasons(res)
			if raised {
				s.Reasons = append([]occsimore.Reason{modelReason(ms, memberID, res.Kind, s)}, s.Reasons...)
			}
			s.Reasons = anomaly.addReason(s.Reasons)
			if matched {
				s.Reasons = append([]occsimore.Reason{shared[k]}, s.Reasons...)
			}
			alerts = append(alerts, newAlert(&batch[k], s))
			alerted = append(alerted, i)
			if p.cfg.Models != nil {
				feats = append(feats, alertFeatures(ms, p.eng.FeatureNames, &batch[k], res, s))
			}
		})
	})

	alertErr := p.storeAlerts(ctx, memberID, alerts, alerted, feats, out)
	p.maybeCheckpoint(ctx)
	return alertErr
}

// admit sets the member and an ID on every event and refuses, in out,
// those the journal must not hold: invalid, or too far ahead of the clock.
// batch is what is left; idx, set only when some event was refused, gives
// the index in evs of each event of batch.
func (p *Pipeline) admit(memberID string, evs []occsimore.Event, out []occsimore.Scored) (batch []occsimore.Event, idx []int) {
	now := p.cfg.Now()
	for i := range evs {
		ev := &evs[i]
		ev.MemberID = memberID
		if ev.ID == "" {
			ev.ID = occsimore.NewID("evt")
		}
		out[i] = occsimore.Scored{EventID: ev.ID}
		err := ev.Validate()
		if err == nil && p.cfg.MaxFuture >= 0 && ev.Time.Sub(now) > p.cfg.MaxFuture {
			err = occsimore.FieldErrorf("time", "time %s is more than %s ahead of the server clock",
				ev.Time.Format(time.RFC3339), p.cfg.MaxFuture)
		}
		if err != nil {
			out[i].Err = err
			p.metrics.countEvent(ev.Kind, "", err)
			if idx == nil {
				idx = make([]int, i, len(evs))
				for k := range idx {
					idx[k] = k
				}
			}
			continue
		}
		if idx != nil {
			idx = append(idx, i)
		}
	}
	batch = evs
	if idx != nil {
		batch = make([]occsimore.Event, len(idx))
		for k, i := range idx {
			batch[k] = evs[i]
		}
	}
	return batch, idx
}

// storeAlerts stores the alerts of applied events, sets their IDs in out
// (alerted gives the index in out of each) and sends them to subscribers.
// The events are applied whatever the caller does now: the alerts are
// stored even if it has gone.
func (p *Pipeline) storeAlerts(ctx context.Context, memberID string, alerts []*occsimore.Alert, alerted []int, feats []*occsimore.AlertFeatures, out []occsimore.Scored) error {
	if len(alerts) == 0 {
		return nil
	}
	if err := p.alerts.CreateAlerts(context.WithoutCancel(ctx), memberID, alerts); err != nil {
		p.log.ErrorContext(ctx, "store alerts", "member", memberID, "alerts", len(alerts), "err", err)
		return fmt.Errorf("store alerts: %w", err)
	}
	for k, a := range alerts {
		out[alerted[k]].AlertID = a.ID
		p.metrics.kind(a.Kind).alerts.Inc()
	}
	p.saveAlertFeatures(ctx, memberID, alerts, feats)
	p.publish(memberID, alerts)
	return nil
}

// chunk holds the results of ProcessBatch: 64 events at a time, since a
// Result holds a whole feature vector and more of them would push the
// profiles out of the CPU's cache.
type chunk struct {
	res  [64]behavior.Result
	errs [64]error
}

// eachResult processes evs through the engine in order and calls fn with
// each event's index, result and error. One event goes through Process
// with res; more go through ProcessBatch, which overlaps the memory
// accesses of successive events, a chunk at a time.
func (p *Pipeline) eachResult(evs []occsimore.Event, res *behavior.Result, fn func(k int, res *behavior.Result, err error)) {
	if len(evs) == 1 {
		fn(0, res, p.eng.Process(&evs[0], res))
		return
	}
	c := p.chunks.Get().(*chunk)
	defer p.chunks.Put(c)
	for lo := 0; lo < len(evs); lo += len(c.res) {
		hi := min(lo+len(c.res), len(evs))
		p.eng.ProcessBatch(evs[lo:hi], c.res[:hi-lo], c.errs[:hi-lo])
		for k := lo; k < hi; k++ {
			fn(k, &c.res[k-lo], c.errs[k-lo])
		}
	}
	clear(c.errs[:]) // no error kept alive in the pool
}

// Ready reports whether the pipeline takes events: nil once Recover has
// replayed the journal, until Close begins or the live state fails to
// match the journal. A server's readiness probe asks it.
func (p *Pipeline) Ready() error {
	if p.closing.Load() {
		return errClosed
	}
	return p.ready()
}

// Recovered returns a channel closed once Recover has succeeded, for
// sources that would rather wait than have events refused while the
// journal is replayed.
func (p *Pipeline) Recovered() <-chan struct{} { return p.recoveredCh }

func (p *Pipeline) ready() error {
	if err := p.failed.Load(); err != nil {
		return err
	}
	if !p.recovered.Load() {
		return errNotRecovered
	}
	return nil
}

// apply runs fn, which applies the journal record seq holding n events to
// the engine, after every earlier record and before any later one.
func (p *Pipeline) apply(seq uint64, n int, fn func()) {
	p.seqMu.Lock()
	defer p.seqMu.Unlock()
	for p.applied+1 < seq {
		p.seqCond.Wait()
	}
	if p.applied+1 != seq && p.failed.Load() == nil {
		// Someone else appended to the journal: the live state no longer
		// matches what a replay would build.
		p.failed.Store(occsimore.Errorf(occsimore.EINTERNAL, "journal record %d applied after %d", seq, p.applied))
		p.log.Error("pipeline out of sequence; restart to recover", "seq", seq, "applied", p.applied)
	}
	fn()
	p.applied = max(p.applied, seq)
	p.since += n
	p.seqCond.Broadcast()
}

func decision(d behavior.Decision) occsimore.Decision {
	switch d {
	case behavior.Block:
		return occsimore.DecisionBlock
	case behavior.Review:
		return occsimore.DecisionReview
	}
	return occsimore.DecisionAllow
}

func reasons(res *behavior.Result) []occsimore.Reason {
	top := res.TopReasons()
	rs := make([]occsimore.Reason, len(top))
	for i, r := range top {
		rs[i] = occsimore.Reason{Code: r.Code, Role: r.Role, Text: r.String(), Score: r.Contribution}
	}
	return rs
}

func newAlert(ev *occsimore.Event, s *occsimore.Scored) *occsimore.Alert {
	ents := make(map[string]string, 4)
	for _, role := range occsimore.FixedRoles {
		if id := ev.EntityID(role); id != "" {
			ents[role] = id
		}
	}
	for _, e := range ev.Entities {
		ents[e.Role] = e.ID
	}
	return &occsimore.Alert{
		MemberID: ev.MemberID,
		EventID:  ev.ID,
		Kind:     ev.Kind,
		Time:     ev.Time,
		Score:    s.Score,
		Decision: s.Decision,
		Reasons:  s.Reasons,
		Entities: ents,
		Amount:   ev.Amount,
		Country:  ev.Country,

		ModelScore:    s.ModelScore,
		ModelVersion:  s.ModelVersion,
		ShadowScore:   s.ShadowScore,
		ShadowVersion: s.ShadowVersion,
		AnomalyScore:  s.AnomalyScore,
	}
}

// Label sets an analyst's label on an alert, journals it and feeds it to the
// engine for every entity of the alert, so that label-driven risk moves at
// once (subject to the engine's label delay). Setting the label an alert
// already has changes nothing; changing it adds the new label to the engine,
// which cannot retract the old one.
func (p *Pipeline) Label(ctx context.Context, memberID, alertID string, label occsimore.Label, by string) (*occsimore.Alert, error) {
	if !label.Valid() {
		return nil, occsimore.FieldErrorf("label", "label %q must be fraud or legit", label)
	}
	p.closeMu.RLock()
	defer p.closeMu.RUnlock()
	if p.closed {
		return nil, errClosed
	}
	if err := p.ready(); err != nil {
		return nil, err
	}
	prev, err := p.alerts.FindAlert(ctx, memberID, alertID)
	if err != nil {
		return nil, err
	}
	at := p.cfg.Now().UTC()
	a, err := p.alerts.LabelAlert(ctx, memberID, alertID, label, by, at)
	if err != nil {
		return nil, err
	}
	if prev.Label == label {
		return a, nil
	}
	l := journal.Label{AlertID: a.ID, Fraud: label == occsimore.LabelFraud, EventTime: a.Time.UTC(), LabelTime: at}
	for role, id := range a.Entities {
		l.Entities = append(l.Entities, occsimore.Entity{Role: role, ID: id})
	}
	slices.SortFunc(l.Entities, func(x, y occsimore.Entity) int { return strings.Compare(x.Role, y.Role) })
	// The store has the label now: journal it even if the caller has gone,
	// or the engine would never learn it.
	seq, err := p.j.Append(context.WithoutCancel(ctx), journal.Record{Kind: journal.KindLabel, MemberID: memberID, Label: l})
	if err != nil {
		return nil, fmt.Errorf("journal label: %w", err)
	}
	p.apply(seq, 0, func() { p.applyLabel(memberID, &l) })
	return a, nil
}

// applyLabel feeds a label to the engine. Roles without a fraud rate refuse
// it, identically on replay.
func (p *Pipeline) applyLabel(member string, l *journal.Label) {
	for _, e := range l.Entities {
		if err := p.eng.Label(member, e.Role, e.ID, l.Fraud, l.EventTime, l.LabelTime); err != nil {
			p.log.Debug("label not applied", "member", member, "alert", l.AlertID, "role", e.Role, "err", err)
		}
	}
}

// EndSubscriptions closes every live subscription, and makes later ones
// closed from the start, so that streaming responses end. A server calls it
// when its graceful shutdown begins; ingestion carries on until Close.
func (p *Pipeline) EndSubscriptions() {
	p.subsMu.Lock()
	defer p.subsMu.Unlock()
	for _, m := range p.subs {
		for s := range m {
			close(s.ch)
		}
	}
	p.subs = nil
}

// Subscribe returns a channel of member's new alerts, for live views. The
// channel is buffered; a subscriber that falls behind loses alerts rather
// than slow ingestion. cancel ends the subscription and closes the channel.
// Alerts received are shared: treat them as read-only.
func (p *Pipeline) Subscribe(memberID string) (ch <-chan *occsimore.Alert, cancel func()) {
	s := &subscriber{ch: make(chan *occsimore.Alert, p.cfg.SubscriberBuffer)}
	p.subsMu.Lock()
	defer p.subsMu.Unlock()
	if p.subs == nil { // closed
		close(s.ch)
		return s.ch, func() {}
	}
	m := p.subs[memberID]
	if m == nil {
		m = make(map[*subscriber]struct{})
		p.subs[memberID] = m
	}
	m[s] = struct{}{}
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			p.subsMu.Lock()
			defer p.subsMu.Unlock()
			if _, ok := p.subs[memberID][s]; !ok {
				return // already closed by Close
			}
			delete(p.subs[memberID], s)
			if len(p.subs[memberID]) == 0 {
				delete(p.subs, memberID)
			}
			close(s.ch)
			if s.dropped > 0 {
				p.log.Info("subscriber dropped alerts", "member", memberID, "dropped", s.dropped)
			}
		})
	}
}

func (p *Pipeline) publish(member string, alerts []*occsimore.Alert) {
	p.subsMu.Lock()
	defer p.subsMu.Unlock()
	for s := range p.subs[member] {
		for _, a := range alerts {
			select {
			case s.ch <- a:
			default:
				s.dropped++
			}
		}
	}
}

// Entity returns the profile of the entity id of role for member. A
// non-finite value, which JSON cannot carry, is shown as 0 and logged: the
// bounds on events keep new ones out, but a snapshot written before they
// existed may still hold one, and the rest of the profile stays readable.
func (p *Pipeline) Entity(memberID, role, id string) (behavior.ProfileView, bool) {
	v, ok := p.eng.Profile(memberID, role, id)
	if ok {
		if n := zeroNonFinite(reflect.ValueOf(&v).Elem()); n > 0 {
			p.log.Warn("profile holds non-finite values, shown as 0", "member", memberID, "role", role, "id", id, "values", n)
		}
	}
	return v, ok
}

// zeroNonFinite sets every NaN or infinite float reachable from v, which
// must be settable, to 0 and returns how many it set.
func zeroNonFinite(v reflect.Value) int {
	n := 0
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); (math.IsNaN(f) || math.IsInf(f, 0)) && v.CanSet() {
			v.SetFloat(0)
			n++
		}
	case reflect.Pointer:
		if !v.IsNil() {
			n += zeroNonFinite(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				n += zeroNonFinite(v.Field(i))
			}
		}
	case reflect.Array, reflect.Slice:
		for i := range v.Len() {
			n += zeroNonFinite(v.Index(i))
		}
	}
	return n
}

func (p *Pipeline) maybeCheckpoint(ctx context.Context) {
	if p.cfg.CheckpointEvery < 0 {
		return
	}
	p.seqMu.Lock()
	due := p.since >= p.cfg.CheckpointEvery
	p.seqMu.Unlock()
	// One submitter writes it; the others do not wait.
	if !due || !p.ckMu.TryLock() {
		return
	}
	defer p.ckMu.Unlock()
	if err := p.checkpoint(context.WithoutCancel(ctx)); err != nil {
		p.log.Error("automatic checkpoint", "err", err)
	}
}

// Checkpoint writes a snapshot of the engine at the last applied record, so
// that Recover replays only what follows.
func (p *Pipeline) Checkpoint(ctx context.Context) error {
	p.ckMu.Lock()
	defer p.ckMu.Unlock()
	return p.checkpoint(ctx)
}

func (p *Pipeline) checkpoint(ctx context.Context) error {
	p.seqMu.Lock()
	seq := p.applied
	if !p.recovered.Load() || p.failed.Load() != nil || seq == p.ckSeq {
		p.seqMu.Unlock()
		return nil
	}
	var buf bytes.Buffer
	err := p.writeSnapshot(&buf)
	if err == nil {
		p.since = 0
	}
	p.seqMu.Unlock()
	if err != nil {
		return fmt.Errorf("snapshot engine: %w", err)
	}
	start, size := time.Now(), buf.Len()
	if err := p.j.WriteSnapshot(ctx, seq, func(w io.Writer) error {
		_, err := buf.WriteTo(w)
		return err
	}); err != nil {
		return fmt.Errorf("write snapshot at %d: %w", seq, err)
	}
	p.seqMu.Lock()
	p.ckSeq = seq
	p.seqMu.Unlock()
	p.metrics.checkpointAt.Store(p.cfg.Now().UnixNano())
	p.log.Info("checkpoint written", "seq", seq, "bytes", size, "seconds", time.Since(start).Seconds())
	return nil
}

// Close waits for running Submits and Labels, refuses new ones, writes a
// final checkpoint and ends every subscription. It does not close the
// journal.
func (p *Pipeline) Close(ctx context.Context) error {
	p.closing.Store(true)
	p.closeMu.Lock()
	p.closed = true
	p.closeMu.Unlock()

	p.EndSubscriptions()

	if err := p.Checkpoint(ctx); err != nil {
		return fmt.Errorf("final checkpoint: %w", err)
	}
	return nil
}
