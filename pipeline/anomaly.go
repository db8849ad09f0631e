package pipeline

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/model"
)

// This file holds the unsupervised side of the pipeline: an online anomaly
// model, Half-Space Trees (model.HST), for kinds of events that have no
// labels to train a GBDT on, such as cloud.api.
//
// Each member has its own model per kind, fed the engine's feature vector of
// every event of that kind (the vector a GBDT would see). Its raw score is
// turned into a percentile of the member's own recent scores, and an event
// more isolated than AnomalyConfig.Review of them is raised to review with a
// reason saying so. Like a promoted model it never lowers a decision.
//
// Lifecycle of one member's model of a kind:
//
//	events 1..W        the range of every feature is measured (W = Window)
//	events W+1..2W     the first window of the trees fills; no score yet
//	events 2W+1..      each event is scored, then added; scores are kept
//	events Warmup+1..  the percentile may raise the decision
//
// The state is a pure function of the events applied, in journal order: a
// checkpoint writes it after the engine's snapshot, and Recover reads it
// back and replays the journal tail through it as through the engine, so
// a restarted pipeline scores exactly as one that never stopped.

// AnomalyConfig configures the online anomaly model.
type AnomalyConfig struct {
	// Disabled turns the model off for every kind.
	Disabled bool
	// Kinds are the event kinds it scores; nil means DefaultAnomalyKinds().
	Kinds []string
	// Warmup is how many events of a member and kind are seen before the
	// model may raise a decision. Default 256; it is never less than
	// 2·Window + 32, the events the model needs to measure ranges, fill its
	// first window and collect scores to compare with.
	Warmup int
	// Review is the percentile of the member's recent scores, in (0, 1],
	// at or above which an event is raised to review. Default 0.999.
	Review float64
	// History is how many recent scores the percentile is taken over.
	// Default 1024.
	History int
	// Trees, Height and Window shape the trees (model.HSTConfig). Defaults
	// 25, 8 and 64: a member's model of a kind then takes about 300 kB.
	Trees, Height, Window int
}

// DefaultAnomalyKinds returns the kinds the anomaly model scores unless
// AnomalyConfig.Kinds says otherwise: those without labels.
func DefaultAnomalyKinds() []string { return []string{"cloud.api"} }

// minHistory is the fewest recent scores a percentile is taken over.
const minHistory = 32

func (c *AnomalyConfig) setDefaults() {
	if c.Kinds == nil {
		c.Kinds = DefaultAnomalyKinds()
	}
	if c.Warmup == 0 {
		c.Warmup = 256
	}
	if c.Review == 0 {
		c.Review = 0.999
	}
	if c.History == 0 {
		c.History = 1024
	}
	if c.Trees == 0 {
		c.Trees = 25
	}
	if c.Height == 0 {
		c.Height = 8
	}
	if c.Window == 0 {
		c.Window = 64
	}
}

func (c *AnomalyConfig) validate() error {
	for _, k := range c.Kinds {
		if !occsimore.ValidName(k) {
			return occsimore.FieldErrorf("anomaly.kinds", "kind %q is not a valid event kind", k)
		}
	}
	switch {
	case c.Warmup < 0:
		return occsimore.FieldErrorf("anomaly.warmup", "warm-up %d must not be negative", c.Warmup)
	case !(c.Review > 0 && c.Review <= 1):
		return occsimore.FieldErrorf("anomaly.review", "review percentile %g must be in (0, 1]", c.Review)
	case c.History < minHistory || c.History > 1<<16:
		return occsimore.FieldErrorf("anomaly.history", "history %d must be in [%d, 65536]", c.History, minHistory)
	case c.Window < 8 || c.Window > 1<<16:
		return occsimore.FieldErrorf("anomaly.window", "window %d must be in [8, 65536]", c.Window)
	}
	// The trees check the rest.
	_, err := model.NewHST(model.HSTConfig{Dims: 1, Trees: c.Trees, Height: c.Height, Window: c.Window})
	return err
}

// warnUnknownKinds logs the configured kinds the engine has no spec for:
// no event of theirs ever reaches the model.
func (a *anomalies) warnUnknownKinds(log *slog.Logger) {
	for k := range a.kinds {
		if len(a.names(k)) == 0 {
			log.Warn("anomaly model configured for a kind without a behaviour spec", "kind", k)
		}
	}
}

// warmup is the effective warm-up: at least the events the model needs.
func (c *AnomalyConfig) warmup() uint64 {
	return uint64(max(c.Warmup, 2*c.Window+minHistory))
}

// anomalies holds every member's anomaly models. It is used under the
// pipeline's seqMu only: in journal order, like the engine.
type anomalies struct {
	cfg    AnomalyConfig
	names  func(kind string) []string // the engine's feature names
	kinds  map[string]*anomalyKind    // configured kinds; nil layout until first seen
	states map[modelKey]*anomalyState
}

// anomalyKind is what the models of one kind share.
type anomalyKind struct {
	kind string
	dims int
	// satur[j] > 0 saturates feature j as x/(x+satur[j]): counters that
	// only grow (an entity's events, its age) would otherwise leave the
	// range measured at warm-up and make every later event look new.
	satur []float32
	seed  uint64
}

// anomalyState is one member's model of one kind.
type anomalyState struct {
	k      *anomalyKind
	n      uint64    // events seen
	lo, hi []float32 // range of each feature over the first Window events
	scale  []float32 // 1/(hi-lo), set when the range is complete
	x      []float32 // scratch: the scaled point
	hst    *model.HST
	// pts keeps the last 2·Window points given to the trees, by update
	// number modulo its length: enough to rebuild their masses on restore.
	pts []float32
	// hist keeps the last History scores, by score number modulo History,
	// and sorted the same scores in order, for percentiles.
	hist   []float64
	sorted []float64
	nh     uint64 // scores kept since the start
}

func newAnomalies(cfg AnomalyConfig, names func(string) []string) *anomalies {
	cfg.setDefaults()
	a := &anomalies{cfg: cfg, names: names, kinds: map[string]*anomalyKind{}, states: map[modelKey]*anomalyState{}}
	if !cfg.Disabled {
		for _, k := range cfg.Kinds {
			a.kinds[k] = nil
		}
	}
	return a
}

// cumulativeSaturation is, for the name of a feature that only grows, the
// value at which it is half way to saturation, or 0 for other features.
func cumulativeSaturation(name string) float32 {
	for _, suffix := range []string{".events", ".age_days", ".risk_labels"} {
		if strings.HasSuffix(name, suffix) {
			return 10
		}
	}
	return 0
}

func (a *anomalies) kind(kind string) *anomalyKind {
	ak, ok := a.kinds[kind]
	if !ok || ak != nil {
		return ak
	}
	names := a.names(kind)
	if len(names) == 0 {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte(kind))
	ak = &anomalyKind{kind: kind, dims: len(names), satur: make([]float32, len(names)), seed: h.Sum64()}
	for j, n := range names {
		ak.satur[j] = cumulativeSaturation(n)
	}
	a.kinds[kind] = ak
	return ak
}

func (a *anomalies) newState(ak *anomalyKind) *anomalyState {
	d := ak.dims
	st := &anomalyState{
		k:     ak,
		lo:    make([]float32, d),
		hi:    make([]float32, d),
		scale: make([]float32, d),
		x:     make([]float32, d),
		pts:   make([]float32, 2*a.cfg.Window*d),
		hist:  make([]float64, a.cfg.History),
	}
	st.sorted = make([]float64, 0, a.cfg.History)
	for j := range d {
		st.lo[j], st.hi[j] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	hst, err := model.NewHST(model.HSTConfig{Dims: d, Trees: a.cfg.Trees, Height: a.cfg.Height, Window: a.cfg.Window, Seed: ak.seed})
	if err != nil {
		panic(fmt.Sprintf("anomaly model of %s: %v", ak.kind, err)) // validate checked the config
	}
	st.hst = hst
	return st
}

// anomalyVerdict is what the anomaly model said of one event.
type anomalyVerdict struct {
	kind    string
	pct     float64 // percentile of the event's score among recent ones
	history int     // number of recent scores
	flagged bool    // pct reached the review percentile after warm-up
	raised  bool    // and that raised the decision
}

// observe scores the event res describes for member, if its kind has an
// anomaly model, and adds it to the model. scored reports whether the model
// is past its warm-up, and so pct means something.
func (a *anomalies) observe(member string, res *behavior.Result) (pct float64, history int, scored bool) {
	ak := a.kind(res.Kind)
	if ak == nil {
		return 0, 0, false
	}
	feats := res.FeatureVector()
	if len(feats) != ak.dims {
		return 0, 0, false
	}
	key := modelKey{member, res.Kind}
	st := a.states[key]
	if st == nil {
		st = a.newState(ak)
		a.states[key] = st
	}
	return st.observe(&a.cfg, feats)
}

func (st *anomalyState) observe(cfg *AnomalyConfig, feats []float32) (pct float64, history int, scored bool) {
	st.n++
	w := uint64(cfg.Window)
	if st.n <= w {
		st.measure(feats)
		if st.n == w {
			st.fixRange()
		}
		return 0, 0, false
	}
	st.scalePoint(feats)
	if st.hst.Ready() {
		raw := st.hst.Score(st.x)
		history = len(st.sorted)
		pct = percentile(st.sorted, raw)
		st.keep(raw)
	}
	st.update()
	scored = st.n > cfg.warmup() && history >= minHistory
	return pct, history, scored
}

// update adds the scaled point to the trees and to the replay buffer.
func (st *anomalyState) update() {
	d := len(st.x)
	u := st.n - uint64(len(st.pts)/d/2) - 1 // this point's number, from 0: pts holds two windows
	slot := int(u % uint64(len(st.pts)/d))
	copy(st.pts[slot*d:(slot+1)*d], st.x)
	st.hst.Update(st.x)
}

func (st *anomalyState) measure(feats []float32) {
	for j, v := range feats {
		v = st.saturate(j, v)
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			continue
		}
		st.lo[j] = min(st.lo[j], v)
		st.hi[j] = max(st.hi[j], v)
	}
}

// fixRange turns the measured ranges into scales. A feature that never
// varied gets a unit span, so that any change still moves it.
func (st *anomalyState) fixRange() {
	for j := range st.lo {
		if math.IsInf(float64(st.lo[j]), 0) {
			st.lo[j], st.hi[j] = 0, 1 // never a finite value
		}
		span := st.hi[j] - st.lo[j]
		if !(span > 1e-6) {
			span = 1
		}
		st.scale[j] = 1 / span
	}
}

func (st *anomalyState) saturate(j int, v float32) float32 {
	if s := st.k.satur[j]; s > 0 && v >= 0 {
		return v / (v + s)
	}
	return v
}

// Values outside the measured range keep their distance, within bounds; a
// missing value (NaN) has a place of its own, below the range.
const (
	scaledMissing = -0.5
	scaledMin     = -4
	scaledMax     = 5
)

func (st *anomalyState) scalePoint(feats []float32) {
	for j, v := range feats {
		v = st.saturate(j, v)
		if math.IsNaN(float64(v)) {
			st.x[j] = scaledMissing
			continue
		}
		st.x[j] = min(max((v-st.lo[j])*st.scale[j], scaledMin), scaledMax)
	}
}

// keep adds a score to the history, in place of the oldest once it is
// full.
func (st *anomalyState) keep(raw float64) {
	slot := st.nh % uint64(len(st.hist))
	if len(st.sorted) == len(st.hist) {
		i := lowerBound(st.sorted, st.hist[slot])
		st.sorted = slices.Delete(st.sorted, i, i+1)
	}
	st.hist[slot] = raw
	st.sorted = slices.Insert(st.sorted, lowerBound(st.sorted, raw), raw)
	st.nh++
}

// percentile returns the percentile rank of x among sorted and itself: the
// share of those scores it is at least as high as, ties with others counting
// half. It is in (0, 1], 1 for a score above every one of sorted.
func percentile(sorted []float64, x float64) float64 {
	below := lowerBound(sorted, x)
	equal := upperBound(sorted, x) - below
	return (float64(below) + 0.5*float64(equal) + 1) / float64(len(sorted)+1)
}

// lowerBound returns the index of the first value of sorted not below x.
func lowerBound(sorted []float64, x float64) int {
	lo, hi := 0, len(sorted)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if sorted[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// upperBound returns the index of the first value of sorted above x.
func upperBound(sorted []float64, x float64) int {
	lo, hi := 0, len(sorted)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if sorted[m] <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// score runs the anomaly model of member over the event res describes,
// which s holds the outcome of: it sets s.AnomalyScore and raises an allowed
// event to review when the event is more isolated than the review
// percentile of recent ones.
func (a *anomalies) score(member string, res *behavior.Result, s *occsimore.Scored) anomalyVerdict {
	pct, hist, ok := a.observe(member, res)
	if !ok {
		return anomalyVerdict{}
	}
	v := anomalyVerdict{kind: res.Kind, pct: pct, history: hist}
	s.AnomalyScore = pct
	if pct >= a.cfg.Review {
		v.flagged = true
		if s.Decision == occsimore.DecisionAllow {
			s.Decision, v.raised = occsimore.DecisionReview, true
		}
	}
	return v
}

// addReason adds the anomaly reason to rs: first if the model raised the
// decision, after the others if it only agreed.
func (v anomalyVerdict) addReason(rs []occsimore.Reason) []occsimore.Reason {
	if !v.flagged {
		return rs
	}
	than := fmt.Sprintf("%.1f %% of", math.Floor(1000*v.pct)/10)
	if v.pct >= 1 {
		than = "every one of"
	}
	r := occsimore.Reason{
		Code:  "anomaly_high",
		Role:  "model",
		Text:  fmt.Sprintf("anomaly: this event is more isolated than %s the last %d %s events of this member (HST)", than, v.history, v.kind),
		Score: v.pct,
	}
	if v.raised {
		return append([]occsimore.Reason{r}, rs...)
	}
	return append(rs, r)
}

// The pipeline's snapshot is the engine's snapshot followed by the anomaly
// models:
//
//	[pipeSnapMagic][engine length u64][engine snapshot][anomaly section]
//
// A snapshot that does not start with pipeSnapMagic is an engine snapshot
// alone, as written before the anomaly models existed.
const (
	pipeSnapMagic = "occpipe1"
	anomalyMagic  = "occanom1"
)

// writeSnapshot writes the engine's and the anomaly models' state to buf.
func (p *Pipeline) writeSnapshot(buf *bytes.Buffer) error {
	buf.WriteString(pipeSnapMagic)
	at := buf.Len()
	buf.Write(make([]byte, 8))
	if err := p.eng.WriteSnapshot(buf); err != nil {
		return err
	}
	binary.LittleEndian.PutUint64(buf.Bytes()[at:], uint64(buf.Len()-at-8))
	p.anomalies.encode(buf)
	return nil
}

// readSnapshot loads what writeSnapshot wrote into the engine and the
// anomaly models.
func (p *Pipeline) readSnapshot(r io.Reader) error {
	var magic [len(pipeSnapMagic)]byte
	n, err := io.ReadFull(r, magic[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	if string(magic[:n]) != pipeSnapMagic {
		return p.eng.ReadSnapshot(io.MultiReader(bytes.NewReader(magic[:n]), r))
	}
	var size [8]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return occsimore.Errorf(occsimore.EINVALID, "snapshot is truncated")
	}
	lr := io.LimitReader(r, int64(binary.LittleEndian.Uint64(size[:])))
	if err := p.eng.ReadSnapshot(lr); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, lr); err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	dropped, err := p.anomalies.decode(bufio.NewReader(r))
	if err != nil {
		return fmt.Errorf("anomaly models: %w", err)
	}
	if dropped > 0 {
		p.log.Warn("anomaly models of another shape or feature set start their warm-up again", "models", dropped)
	}
	return nil
}

// encode appends every model's state to buf, in member and kind order so
// that equal states give equal bytes. The trees are not written: their
// masses are rebuilt from the points kept for that.
func (a *anomalies) encode(buf *bytes.Buffer) {
	b := buf.AvailableBuffer()
	b = append(b, anomalyMagic...)
	c := &a.cfg
	for _, v := range []int{c.Trees, c.Height, c.Window, c.History} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	keys := make([]modelKey, 0, len(a.states))
	for k := range a.states {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y modelKey) int {
		return cmp.Or(strings.Compare(x.member, y.member), strings.Compare(x.kind, y.kind))
	})
	b = binary.LittleEndian.AppendUint32(b, uint32(len(keys)))
	for _, k := range keys {
		st := a.states[k]
		d := len(st.x)
		b = appendString(b, k.member)
		b = appendString(b, k.kind)
		b = binary.LittleEndian.AppendUint32(b, uint32(d))
		b = binary.LittleEndian.AppendUint64(b, st.n)
		b = appendFloats(b, st.lo)
		b = appendFloats(b, st.hi)
		// The points of the trees' previous full window and current one.
		last := st.n - min(st.n, uint64(c.Window))
		first := last - replayPoints(st.n, uint64(c.Window))
		b = binary.LittleEndian.AppendUint32(b, uint32(last-first))
		slots := uint64(len(st.pts) / d)
		for u := first; u < last; u++ {
			s := int(u % slots)
			b = appendFloats(b, st.pts[s*d:(s+1)*d])
		}
		b = binary.LittleEndian.AppendUint64(b, st.nh)
		kept := min(st.nh, uint64(len(st.hist)))
		for i := st.nh - kept; i < st.nh; i++ {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(st.hist[i%uint64(len(st.hist))]))
		}
		buf.Write(b)
		b = buf.AvailableBuffer()
	}
	buf.Write(b)
}

// replayPoints returns how many of the last points given to the trees
// after seen events make up their previous full window and current one.
func replayPoints(seen, window uint64) uint64 {
	updates := seen - min(seen, window) // the first window of events only measures
	return min(updates, window+updates%window)
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendFloats(b []byte, fs []float32) []byte {
	for _, f := range fs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return b
}

// decode replaces the models with those of r, as encode wrote them. Models
// of a kind not configured now, or whose feature count or tree shape
// differs, are dropped and counted: they start their warm-up again.
func (a *anomalies) decode(r io.Reader) (dropped int, err error) {
	d := &anomalyDecoder{r: r}
	magic := d.bytes(len(anomalyMagic))
	if d.err == nil && string(magic) != anomalyMagic {
		return 0, occsimore.Errorf(occsimore.EINVALID, "not an anomaly section")
	}
	var shape [4]int
	for i := range shape {
		shape[i] = int(d.u32())
	}
	if d.err == nil && (shape[2] < 1 || shape[2] > 1<<16 || shape[3] > 1<<16) {
		return 0, occsimore.Errorf(occsimore.EINVALID, "anomaly section: windows of %d, history of %d", shape[2], shape[3])
	}
	c := &a.cfg
	sameShape := shape == [4]int{c.Trees, c.Height, c.Window, c.History}
	states := map[modelKey]*anomalyState{}
	n := d.u32()
	for i := uint32(0); i < n && d.err == nil; i++ {
		k := modelKey{member: d.str(), kind: d.str()}
		dims := int(d.u32())
		if d.err == nil && (dims < 1 || dims > behavior.MaxFeatures) {
			return 0, occsimore.Errorf(occsimore.EINVALID, "anomaly model %s/%s has %d features", k.member, k.kind, dims)
		}
		seen := d.u64()
		lo, hi := d.floats(dims), d.floats(dims)
		npts := int(d.u32())
		if d.err == nil && uint64(npts) != replayPoints(seen, uint64(shape[2])) {
			return 0, occsimore.Errorf(occsimore.EINVALID, "anomaly model %s/%s keeps %d points after %d events", k.member, k.kind, npts, seen)
		}
		pts := d.floats(npts * dims)
		nh := d.u64()
		kept := int(min(nh, uint64(shape[3])))
		hist := make([]float64, kept)
		for j := range hist {
			hist[j] = math.Float64frombits(d.u64())
		}
		if d.err != nil {
			break
		}
		ak := a.kind(k.kind)
		if !sameShape || ak == nil || ak.dims != dims {
			dropped++
			continue
		}
		st := a.newState(ak)
		st.n = seen
		copy(st.lo, lo)
		copy(st.hi, hi)
		if seen >= uint64(c.Window) {
			st.fixRange()
		}
		first := seen - min(seen, uint64(c.Window)) - uint64(npts)
		slots := uint64(len(st.pts) / dims)
		for j := range npts {
			p := pts[j*dims : (j+1)*dims]
			s := int((first + uint64(j)) % slots)
			copy(st.pts[s*dims:(s+1)*dims], p)
			st.hst.Update(p)
		}
		st.nh = nh - uint64(kept)
		for _, h := range hist {
			if math.IsNaN(h) {
				return 0, occsimore.Errorf(occsimore.EINVALID, "anomaly model %s/%s keeps a score that is not a number", k.member, k.kind)
			}
			st.keep(h)
		}
		states[k] = st
	}
	if d.err != nil {
		return 0, occsimore.Errorf(occsimore.EINVALID, "anomaly section is truncated")
	}
	a.states = states
	return dropped, nil
}

// anomalyDecoder reads little-endian values and keeps the first error.
type anomalyDecoder struct {
	r   io.Reader
	err error
	b   [8]byte
}

func (d *anomalyDecoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	b := make([]byte, n)
	_, d.err = io.ReadFull(d.r, b)
	return b
}

func (d *anomalyDecoder) u32() uint32 {
	if d.err != nil {
		return 0
	}
	_, d.err = io.ReadFull(d.r, d.b[:4])
	return binary.LittleEndian.Uint32(d.b[:4])
}

func (d *anomalyDecoder) u64() uint64 {
	if d.err != nil {
		return 0
	}
	_, d.err = io.ReadFull(d.r, d.b[:8])
	return binary.LittleEndian.Uint64(d.b[:8])
}

func (d *anomalyDecoder) str() string {
	n := d.u32()
	if d.err == nil && n > 1024 {
		d.err = occsimore.Errorf(occsimore.EINVALID, "anomaly section: a name of %d bytes", n)
	}
	return string(d.bytes(int(n)))
}

func (d *anomalyDecoder) floats(n int) []float32 {
	fs := make([]float32, 0, min(n, 4096)) // n is untrusted: grow as data comes
	for range n {
		if d.err != nil {
			return nil
		}
		fs = append(fs, math.Float32frombits(d.u32()))
	}
	return fs
}
