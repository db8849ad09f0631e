package eval

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/model"
)

// Report is the outcome of Run. It encodes to JSON: no field is NaN or
// infinite (Run refuses windows without both classes, and the +Inf threshold
// of a ROC curve's first point is written as math.MaxFloat64).
type Report struct {
	Protocol Protocol `json:"protocol"`
	// Counts are the first window's.
	Counts Counts `json:"counts"`
	// Metrics are the model's on the test set, the mean over the windows.
	Metrics Metrics `json:"metrics"`
	// EngineScore are the metrics of the engine's unsupervised score alone
	// (the "score" feature) on the same test sets, for comparison.
	EngineScore Metrics `json:"engine_score"`
	// Ceiling is the mean of the windows' no-look-ahead ceilings, and
	// Fraction the mean metrics as a fraction of it; both nil when the data
	// has no fraud scenarios to find the hidden frauds by.
	Ceiling  *Ceiling  `json:"ceiling,omitempty"`
	Fraction *Fraction `json:"fraction_of_ceiling,omitempty"`
	// Scenarios is the model's recall per fraud scenario at precision
	// RecallPrecision, frauds and found summed over the windows, AUC their
	// mean; nil without scenarios.
	Scenarios []ScenarioRecall `json:"scenarios,omitempty"`
	// Windows holds each weekly window's figures, in time order.
	Windows []WindowReport `json:"windows"`
	// Model, Curves, Features and Models are the first window's.
	Model     ModelInfo    `json:"model"`
	Curves    Curves       `json:"curves"`
	Features  []Importance `json:"feature_importance"` // largest first
	Published []Published  `json:"published"`
	Timings   Timings      `json:"timings"`
	// Models holds, per scored model, its test curves, score distributions
	// and precision and recall at a few thresholds (see AddModel), for the
	// HTML report's charts. Empty when Run did not add them; the HTML then
	// falls back to Curves.
	Models []ModelReport `json:"models,omitempty"`
	// GBDT is the configuration the model was trained with, when Run
	// records it (the report shows its seed and shape).
	GBDT *model.GBDTConfig `json:"gbdt,omitempty"`
}

// WindowReport is one weekly window's test figures.
type WindowReport struct {
	Protocol    Protocol         `json:"protocol"`
	Counts      Counts           `json:"counts"`
	Trees       int              `json:"trees"`
	Metrics     Metrics          `json:"metrics"`
	EngineScore *Metrics         `json:"engine_score,omitempty"`
	Ceiling     *Ceiling         `json:"ceiling,omitempty"`
	Fraction    *Fraction        `json:"fraction_of_ceiling,omitempty"`
	Scenarios   []ScenarioRecall `json:"scenarios,omitempty"`
}

// summarise sets the report's mean figures from its windows.
func (r *Report) summarise() {
	n := float64(len(r.Windows))
	if n == 0 {
		return
	}
	add := func(dst *Metrics, m Metrics) {
		dst.AUC += m.AUC / n
		dst.AP += m.AP / n
		dst.CPK += m.CPK / n
		dst.CPKNoRemoval += m.CPKNoRemoval / n
		dst.K = m.K
		dst.Cards += m.Cards
	}
	r.Metrics, r.EngineScore = Metrics{}, Metrics{}
	var ceil Ceiling
	ceilings := 0
	type pooled struct {
		s    ScenarioRecall
		aucs int
	}
	var by []pooled
	for _, w := range r.Windows {
		add(&r.Metrics, w.Metrics)
		if w.EngineScore != nil {
			add(&r.EngineScore, *w.EngineScore)
		}
		if w.Ceiling != nil {
			ceilings++
			add(&ceil.Metrics, w.Ceiling.Metrics)
			ceil.Hidden += w.Ceiling.Hidden
			ceil.Draws = w.Ceiling.Draws
			ceil.OracleCPK += w.Ceiling.OracleCPK / n
			ceil.OracleCPKNoRemoval += w.Ceiling.OracleCPKNoRemoval / n
		}
		for _, s := range w.Scenarios {
			i := slices.IndexFunc(by, func(p pooled) bool { return p.s.Scenario == s.Scenario })
			if i < 0 {
				by = append(by, pooled{s: ScenarioRecall{Scenario: s.Scenario, Precision: s.Precision}})
				i = len(by) - 1
			}
			by[i].s.Frauds += s.Frauds
			by[i].s.Found += s.Found
			by[i].s.AUC += s.AUC
			if s.NoveltyAUC != nil {
				if by[i].s.NoveltyAUC == nil {
					by[i].s.NoveltyAUC = new(float64)
				}
				*by[i].s.NoveltyAUC += *s.NoveltyAUC
			}
			by[i].aucs++
		}
	}
	if ceilings == len(r.Windows) {
		f := fractionOf(r.Metrics, ceil)
		r.Ceiling, r.Fraction = &ceil, &f
	}
	r.Scenarios = nil
	for _, p := range by {
		p.s.AUC /= float64(p.aucs)
		if p.s.NoveltyAUC != nil {
			*p.s.NoveltyAUC /= float64(p.aucs)
		}
		p.s.Recall = float64(p.s.Found) / float64(p.s.Frauds)
		r.Scenarios = append(r.Scenarios, p.s)
	}
	slices.SortFunc(r.Scenarios, func(a, b ScenarioRecall) int { return cmp.Compare(a.Scenario, b.Scenario) })
}

// ModelReport is what the HTML report draws for one model on the test set.
type ModelReport struct {
	Name   string         `json:"name"`
	AUC    float64        `json:"auc_roc"`
	AP     float64        `json:"average_precision"`
	ROC    []ROCPoint     `json:"roc"`
	PR     []PRPoint      `json:"pr"`
	Scores Distribution   `json:"score_distribution"`
	At     []ThresholdRow `json:"at_thresholds"`
}

// Distribution is a histogram of the test scores of each class over the same
// bins, as fractions of the class (each of Fraud and Legit sums to 1).
type Distribution struct {
	Edges []float64 `json:"edges"` // len(Fraud)+1 increasing bin edges
	Fraud []float64 `json:"fraud"`
	Legit []float64 `json:"legit"`
}

// ThresholdRow is the precision and recall of flagging the rows that score at
// or above Threshold. Precision is 0 when Flagged is 0.
type ThresholdRow struct {
	Threshold float64 `json:"threshold"`
	Flagged   int     `json:"flagged"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// Thresholds used by AddModel: probabilities for scores in [0, 1], else the
// scores that flag these fractions of the rows.
var (
	probThresholds = []float64{0.1, 0.25, 0.5, 0.75, 0.9}
	flagFractions  = []float64{0.001, 0.005, 0.01, 0.02, 0.05}
)

// distBins is the number of bins of a score distribution.
const distBins = 40

// AddModel appends to r.Models the charts of one model's test scores: ROC
// and precision-recall curves of at most points points, score distributions
// of frauds and legitimate rows, and precision and recall at a few
// thresholds. Scores must not be NaN; -Inf (no score) is allowed and counts
// below every finite score. It panics if the slices differ in length.
func (r *Report) AddModel(name string, scores []float64, labels []bool, points int) {
	points = max(points, 2)
	mr := ModelReport{
		Name: name,
		AUC:  finiteOr0(model.ROCAUC(scores, labels)),
		AP:   finiteOr0(model.AveragePrecision(scores, labels)),
		ROC:  rocCurve(scores, labels, points),
		PR:   prCurve(scores, labels, points),
	}
	mr.Scores = distribution(scores, labels, distBins)
	mr.At = atThresholds(scores, labels)
	r.Models = append(r.Models, mr)
}

func finiteOr0(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// distribution bins the finite scores over [min, max]; -Inf scores go to the
// first bin.
func distribution(scores []float64, labels []bool, bins int) Distribution {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range scores {
		if !math.IsInf(s, 0) {
			lo, hi = min(lo, s), max(hi, s)
		}
	}
	if lo > hi { // no finite score
		lo, hi = 0, 1
	}
	if lo == hi {
		hi = lo + 1
	}
	d := Distribution{Edges: make([]float64, bins+1), Fraud: make([]float64, bins), Legit: make([]float64, bins)}
	width := (hi - lo) / float64(bins)
	for i := range d.Edges {
		d.Edges[i] = lo + float64(i)*width
	}
	d.Edges[bins] = hi
	var nf, nl int
	for i, s := range scores {
		b := 0
		if !math.IsInf(s, -1) {
			b = min(int((s-lo)/width), bins-1)
		}
		if labels[i] {
			d.Fraud[b]++
			nf++
		} else {
			d.Legit[b]++
			nl++
		}
	}
	for b := range bins {
		if nf > 0 {
			d.Fraud[b] /= float64(nf)
		}
		if nl > 0 {
			d.Legit[b] /= float64(nl)
		}
	}
	return d
}

func atThresholds(scores []float64, labels []bool) []ThresholdRow {
	thr := probThresholds
	if slices.ContainsFunc(scores, func(s float64) bool { return !(s >= 0 && s <= 1) }) {
		desc := slices.Clone(scores)
		slices.SortFunc(desc, func(a, b float64) int { return cmp.Compare(b, a) })
		thr = nil
		for _, f := range flagFractions {
			if len(desc) == 0 {
				break
			}
			t := desc[min(len(desc)-1, max(0, int(math.Ceil(f*float64(len(desc))))-1))]
			if !math.IsInf(t, 0) && (len(thr) == 0 || t < thr[len(thr)-1]) {
				thr = append(thr, t)
			}
		}
	}
	pos := 0
	for _, l := range labels {
		if l {
			pos++
		}
	}
	rows := make([]ThresholdRow, 0, len(thr))
	for _, t := range thr {
		row := ThresholdRow{Threshold: t}
		tp := 0
		for i, s := range scores {
			if s >= t {
				row.Flagged++
				if labels[i] {
					tp++
				}
			}
		}
		if row.Flagged > 0 {
			row.Precision = float64(tp) / float64(row.Flagged)
		}
		if pos > 0 {
			row.Recall = float64(tp) / float64(pos)
		}
		rows = append(rows, row)
	}
	return rows
}

// Counts are the transactions read and kept.
type Counts struct {
	// Events is the number of transactions read, from the start of the file
	// to the end of the last test window.
	Events int    `json:"events"`
	Train  Window `json:"train"`
	// Valid is the part of Train held out for early stopping.
	Valid Window `json:"valid"`
	// TestAll is the test window before the known compromised cards are
	// removed; Test is after, and is what the metrics are computed on.
	TestAll Window `json:"test_all"`
	Test    Window `json:"test"`
	// KnownCards is the number of cards known to be compromised on the last
	// test day.
	KnownCards int `json:"known_cards"`
}

// Window counts the transactions of a window.
type Window struct {
	Transactions     int         `json:"transactions"`
	Frauds           int         `json:"frauds"`
	FraudsByScenario map[int]int `json:"frauds_by_scenario,omitempty"`
}

func (w *Window) add(fraud bool, scenario int) {
	w.Transactions++
	if !fraud {
		return
	}
	w.Frauds++
	if scenario >= 0 {
		if w.FraudsByScenario == nil {
			w.FraudsByScenario = make(map[int]int)
		}
		w.FraudsByScenario[scenario]++
	}
}

// Metrics are the handbook's three test metrics, Card Precision@k both ways.
type Metrics struct {
	AUC float64 `json:"auc_roc"`
	AP  float64 `json:"average_precision"`
	// CPK is Card Precision@k by the handbook's definition: the compromised
	// cards found on a test day are removed from every later day. Its
	// published CP@100 column is this one.
	CPK float64 `json:"card_precision_at_k_handbook"`
	// CPKNoRemoval is Card Precision@k without that removal, each day on
	// its own.
	CPKNoRemoval float64 `json:"card_precision_at_k_no_removal"`
	K            int     `json:"k"`
	Cards        int     `json:"cards"` // distinct (day, card) pairs scored
}

// Ceiling is the best a method without look-ahead can score on a test set:
// its frauds ranked first except the Hidden ones, frauds of the handbook's
// compromised-terminal scenario on terminals none of whose frauds is known
// yet under the label delay, which look like any genuine row and are ranked
// at random among them. The oracle ranks every fraud first.
type Ceiling struct {
	Metrics
	Hidden             int     `json:"hidden_frauds"`
	Draws              int     `json:"random_draws"`
	OracleCPK          float64 `json:"oracle_card_precision_at_k_handbook"`
	OracleCPKNoRemoval float64 `json:"oracle_card_precision_at_k_no_removal"`
}

// Fraction is each metric as a fraction of its no-look-ahead ceiling.
type Fraction struct {
	AUC          float64 `json:"auc_roc"`
	AP           float64 `json:"average_precision"`
	CPK          float64 `json:"card_precision_at_k_handbook"`
	CPKNoRemoval float64 `json:"card_precision_at_k_no_removal"`
}

// ScenarioRecall is how well one fraud scenario is found: its share of
// frauds flagged at the deepest cut of the ranking whose precision is still
// Precision, and the AUC of its frauds against the genuine rows.
type ScenarioRecall struct {
	Scenario  int     `json:"scenario"`
	Frauds    int     `json:"frauds"`
	Found     int     `json:"found"`
	Precision float64 `json:"at_precision"`
	Recall    float64 `json:"recall"`
	AUC       float64 `json:"auc_roc_vs_genuine"`
	// NoveltyAUC is the AUC against genuine rows of a crude label-free
	// baseline scored in the same run, when the extended features are on:
	// the card's terminals never used before, this one and those of its
	// last 7 days (x.card.terminal_new + x.card.new_terminals_7d).
	NoveltyAUC *float64 `json:"crude_novelty_auc_vs_genuine,omitempty"`
}

// ModelInfo describes the trained model.
type ModelInfo struct {
	Trees          int     `json:"trees"`
	Features       int     `json:"features"`
	ScalePosWeight float64 `json:"scale_pos_weight"`
}

// Curves are the model's test ROC and precision-recall curves, thinned to at
// most Config.CurvePoints points each, in decreasing threshold order.
type Curves struct {
	ROC []ROCPoint `json:"roc"`
	PR  []PRPoint  `json:"pr"`
}

// ROCPoint is a point of a ROC curve.
type ROCPoint struct {
	Threshold float64 `json:"threshold"`
	FPR       float64 `json:"fpr"`
	TPR       float64 `json:"tpr"`
}

// PRPoint is a point of a precision-recall curve.
type PRPoint struct {
	Threshold float64 `json:"threshold"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// Importance is a feature's share of the model's total split gain.
type Importance struct {
	Name string  `json:"name"`
	Gain float64 `json:"gain"`
}

// Timings are the wall-clock durations of Run's phases.
type Timings struct {
	Features time.Duration `json:"features_ns"` // reading and the engine pass
	Train    time.Duration `json:"train_ns"`
	Score    time.Duration `json:"score_ns"` // prediction, metrics and curves
	Total    time.Duration `json:"total_ns"`
}

// finite replaces an infinite threshold so that the report encodes to JSON.
func finite(v float64) float64 {
	switch {
	case math.IsInf(v, 1):
		return math.MaxFloat64
	case math.IsInf(v, -1):
		return -math.MaxFloat64
	}
	return v
}

// thin returns the indices of at most n points of a curve of m, evenly spaced
// and keeping both ends.
func thin(m, n int) []int {
	if m <= n || n < 2 {
		idx := make([]int, m)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, 0, n)
	for i := range n {
		j := int(math.Round(float64(i) * float64(m-1) / float64(n-1)))
		if len(idx) == 0 || idx[len(idx)-1] != j {
			idx = append(idx, j)
		}
	}
	return idx
}

// thinPath returns the indices of at most n points of the polyline (xs, ys),
// spread evenly along its length and keeping both ends: a PR curve bunches
// most of its points in its long low-precision tail, and thinning by index
// would cut the corners where it bends. It thins by index when the length
// is zero or undefined.
func thinPath(xs, ys []float64, n int) []int {
	m := len(xs)
	if m <= n || n < 2 {
		return thin(m, n)
	}
	cum := make([]float64, m)
	for i := 1; i < m; i++ {
		cum[i] = cum[i-1] + math.Hypot(xs[i]-xs[i-1], ys[i]-ys[i-1])
	}
	total := cum[m-1]
	if !(total > 0) || math.IsInf(total, 1) {
		return thin(m, n)
	}
	idx := make([]int, 0, n)
	j := 0
	for k := range n {
		target := total * float64(k) / float64(n-1)
		for j < m-1 && cum[j] < target {
			j++
		}
		if len(idx) == 0 || idx[len(idx)-1] != j {
			idx = append(idx, j)
		}
	}
	if last := len(idx) - 1; idx[last] != m-1 {
		if last > 0 {
			idx[last] = m - 1
		} else {
			idx = append(idx, m-1)
		}
	}
	return idx
}

func rocCurve(scores []float64, labels []bool, n int) []ROCPoint {
	c := model.ROCCurve(scores, labels)
	xs, ys := make([]float64, len(c)), make([]float64, len(c))
	for i, p := range c {
		xs[i], ys[i] = p.FPR, p.TPR
	}
	out := make([]ROCPoint, 0, min(len(c), n))
	for _, i := range thinPath(xs, ys, n) {
		out = append(out, ROCPoint{finite(c[i].Threshold), c[i].FPR, c[i].TPR})
	}
	return out
}

func prCurve(scores []float64, labels []bool, n int) []PRPoint {
	c := model.PRCurve(scores, labels)
	xs, ys := make([]float64, len(c)), make([]float64, len(c))
	for i, p := range c {
		xs[i], ys[i] = p.Recall, p.Precision
	}
	out := make([]PRPoint, 0, min(len(c), n))
	for _, i := range thinPath(xs, ys, n) {
		out = append(out, PRPoint{finite(c[i].Threshold), c[i].Precision, c[i].Recall})
	}
	return out
}

// FeatureSet is the training and test feature matrices that Run fits and
// scores, rows in time order, the test set after removal of the known
// compromised cards.
type FeatureSet struct {
	Names  []string
	Train  model.Matrix
	TrainY []bool
	Test   model.Matrix
	TestY  []bool
}

// CollectFeatures runs the engine pass of Run on r and returns the feature
// matrices of its one window without training, for peer comparisons on the
// same inputs. A protocol of several weeks is refused (EINVALID, field
// weeks).
func CollectFeatures(ctx context.Context, r io.Reader, p Protocol, cfg Config) (*FeatureSet, error) {
	if err := checkRun(p, cfg); err != nil {
		return nil, err
	}
	if p.NumWindows() > 1 {
		return nil, fmt.Errorf("eval: %w", occsimore.FieldErrorf("weeks", "features are exported for one window, not %d", p.Weeks))
	}
	all, err := collect(ctx, r, p, cfg)
	if err != nil {
		return nil, err
	}
	ds := all.window(p, 0, cfg.ValidDays)
	fs := &FeatureSet{
		Names:  ds.names,
		Train:  model.Matrix{Rows: len(ds.train), Cols: len(ds.names), Data: ds.trainX},
		TrainY: testLabels(ds.train),
		Test:   ds.testX,
		TestY:  testLabels(ds.test),
	}
	if fs.Train.Rows == 0 {
		fs.Train.Cols = len(ds.names)
	}
	return fs, nil
}

// WriteFeaturesCSV writes a header "label" then names, and one line per row
// of X: its label as 0 or 1, then its values in the shortest form that reads
// back to the same float32, NaN as "nan".
func WriteFeaturesCSV(w io.Writer, names []string, X model.Matrix, y []bool) error {
	if len(names) != X.Cols || len(y) != X.Rows || len(X.Data) != X.Rows*X.Cols {
		return fmt.Errorf("write features: %d names, %d labels for a %d×%d matrix of %d values",
			len(names), len(y), X.Rows, X.Cols, len(X.Data))
	}
	cw := csv.NewWriter(w)
	rec := make([]string, 0, X.Cols+1)
	if err := cw.Write(append(append(rec, "label"), names...)); err != nil {
		return fmt.Errorf("write features: %w", err)
	}
	for i := range X.Rows {
		rec = rec[:0]
		label := "0"
		if y[i] {
			label = "1"
		}
		rec = append(rec, label)
		for _, v := range X.Row(i) {
			if v != v {
				rec = append(rec, "nan")
			} else {
				rec = append(rec, strconv.FormatFloat(float64(v), 'g', -1, 32))
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write features: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write features: %w", err)
	}
	return nil
}
