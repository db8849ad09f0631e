package eval

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore/model"
)

// synthReport is a report with two models whose scores are drawn from
// known distributions: a sharp one and a weak one, and 25 features.
func synthReport(t testing.TB) *Report {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	const n = 3000
	labels := make([]bool, n)
	sharp, weak := make([]float64, n), make([]float64, n)
	for i := range labels {
		labels[i] = r.Float64() < 0.05
		mu := 0.0
		if labels[i] {
			mu = 2
		}
		sharp[i] = 1 / (1 + math.Exp(-(r.NormFloat64() + mu - 3)))
		weak[i] = r.NormFloat64() + mu/4 // not a probability: thresholds by rate
	}
	rep := &Report{
		Protocol:  HandbookProtocol(),
		Published: PublishedResults(),
		Metrics:   Metrics{AUC: model.ROCAUC(sharp, labels), AP: model.AveragePrecision(sharp, labels), CPK: 0.25, K: 100},
		Model:     ModelInfo{Trees: 42, Features: 25, ScalePosWeight: 1},
		Counts: Counts{Events: 9999, Train: Window{Transactions: 100, Frauds: 7, FraudsByScenario: map[int]int{1: 2, 2: 5}},
			Test: Window{Transactions: n, Frauds: 150, FraudsByScenario: map[int]int{2: 150}}},
		Timings: Timings{Train: 1500 * time.Millisecond},
	}
	g := model.DefaultGBDT()
	rep.GBDT = &g
	rep.Curves = Curves{ROC: rocCurve(sharp, labels, 200), PR: prCurve(sharp, labels, 200)}
	rep.AddModel("GBDT", sharp, labels, 150)
	rep.AddModel("behaviour <score>", weak, labels, 150)
	for i := range 25 {
		rep.Features = append(rep.Features, Importance{Name: fmt.Sprintf("feat.%02d", i), Gain: 1 / float64(i+2)})
	}
	return rep
}

// svgPath is a parsed <path> element.
type svgPath struct {
	D string `xml:"d,attr"`
}

type svgText struct {
	Text string `xml:",chardata"`
}

// svgDoc collects every path and text of an SVG, at any depth.
type svgDoc struct {
	Paths []svgPath
	Texts []svgText
}

func (s *svgDoc) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch tok.Name.Local {
			case "path":
				var p svgPath
				if err := d.DecodeElement(&p, &tok); err != nil {
					return err
				}
				s.Paths = append(s.Paths, p)
			case "text":
				var tx svgText
				if err := d.DecodeElement(&tx, &tok); err != nil {
					return err
				}
				s.Texts = append(s.Texts, tx)
			}
		case xml.EndElement:
			if tok.Name.Local == start.Name.Local {
				return nil
			}
		}
	}
}

var figureRE = regexp.MustCompile(`(?s)<figure id="([^"]+)">(<svg.*?</svg>)`)

// figures returns each figure's SVG by figure id, parsed as XML.
func figures(t *testing.T, page string) map[string]svgDoc {
	t.Helper()
	out := make(map[string]svgDoc)
	for _, m := range figureRE.FindAllStringSubmatch(page, -1) {
		var doc svgDoc
		if err := xml.Unmarshal([]byte(m[2]), &doc); err != nil {
			t.Fatalf("figure %s: svg does not parse: %v", m[1], err)
		}
		out[m[1]] = doc
	}
	return out
}

// points parses a path made only of M and L commands.
func points(d string) ([][2]float64, bool) {
	var pts [][2]float64
	for _, cmd := range regexp.MustCompile(`[ML][^ML]*`).FindAllString(d, -1) {
		xy := strings.Split(cmd[1:], ",")
		if len(xy) != 2 {
			return nil, false
		}
		x, err1 := strconv.ParseFloat(xy[0], 64)
		y, err2 := strconv.ParseFloat(xy[1], 64)
		if err1 != nil || err2 != nil {
			return nil, false
		}
		pts = append(pts, [2]float64{x, y})
	}
	return pts, len(pts) > 0 && strings.TrimSpace(d) != "" && d[0] == 'M'
}

// affine reports whether drawn is an axis-wise affine image of the data
// points (x ↦ ax+b, y ↦ cy+d with a, c nonzero), as plotting data on linear
// axes must give, to the 5 significant digits the SVG is written with.
func affine(xs, ys []float64, drawn [][2]float64) bool {
	if len(drawn) != len(xs) {
		return false
	}
	fit := func(data []float64, got func(int) float64) bool {
		lo, hi := 0, 0
		for i, v := range data {
			if v < data[lo] {
				lo = i
			}
			if v > data[hi] {
				hi = i
			}
		}
		if data[hi] == data[lo] {
			for i := range data {
				if math.Abs(got(i)-got(0)) > 0.02 {
					return false
				}
			}
			return true
		}
		a := (got(hi) - got(lo)) / (data[hi] - data[lo])
		if a == 0 {
			return false
		}
		for i, v := range data {
			if want := got(lo) + a*(v-data[lo]); math.Abs(got(i)-want) > 0.02 {
				return false
			}
		}
		return true
	}
	return fit(xs, func(i int) float64 { return drawn[i][0] }) && fit(ys, func(i int) float64 { return drawn[i][1] })
}

// hasLine reports whether some path of doc draws s.
func hasLine(doc svgDoc, s series) bool {
	for _, p := range doc.Paths {
		if pts, ok := points(p.D); ok && affine(s.X, s.Y, pts) {
			return true
		}
	}
	return false
}

func TestWriteHTML(t *testing.T) {
	t.Parallel()
	rep := synthReport(t)
	var buf bytes.Buffer
	if err := rep.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.HasSuffix(strings.TrimSpace(page), "</html>") {
		t.Fatalf("page is not one HTML document: starts %q", page[:min(40, len(page))])
	}
	// Self-contained: no script, no stylesheet link, no image or frame
	// source, no XML prolog inside the body.
	for _, bad := range []string{"<script", "<link", " src=", "<iframe", "<?xml", "<!--"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if got, want := strings.Count(page, "<svg"), 2+len(rep.Models)+1; got != want {
		t.Errorf("%d svg elements, want %d (ROC, PR, one distribution per model, importance)", got, want)
	}
	figs := figures(t, page)
	if got, want := len(figs), 2+len(rep.Models)+1; got != want {
		t.Fatalf("%d figures with an svg, want %d", got, want)
	}

	// One line per model on the ROC and PR charts, drawn from the curve
	// points.
	roc, pr := rep.curveSeries()
	for _, s := range roc {
		if !hasLine(figs["chart-roc"], s) {
			t.Errorf("ROC chart has no line matching %s's %d points", s.Name, len(s.X))
		}
	}
	for _, s := range pr {
		if !hasLine(figs["chart-pr"], s) {
			t.Errorf("PR chart has no line matching %s's %d points", s.Name, len(s.X))
		}
	}
	if !hasLine(figs["chart-roc"], series{X: []float64{0, 1}, Y: []float64{0, 1}}) {
		t.Errorf("ROC chart has no random diagonal")
	}
	for i, m := range rep.Models {
		doc := figs[fmt.Sprintf("chart-dist-%d", i)]
		for _, s := range distSeries(m.Scores) {
			if !hasLine(doc, s) {
				t.Errorf("distribution of %s has no %s line", m.Name, s.Name)
			}
		}
	}
	// A wrong curve must not match: the check can fail.
	wrong := roc[0]
	wrong.Y = append([]float64(nil), wrong.Y...)
	wrong.Y[len(wrong.Y)/2] += 0.2
	if hasLine(figs["chart-roc"], wrong) {
		t.Errorf("a perturbed ROC curve matches a drawn line")
	}

	// Feature importance shows the top 20, largest first.
	var names []string
	for _, tx := range figs["chart-importance"].Texts {
		if strings.HasPrefix(tx.Text, "feat.") {
			names = append(names, tx.Text)
		}
	}
	if got, want := len(names), topFeatures; got != want {
		t.Fatalf("importance chart names %d features, want %d: %v", got, want, names)
	}
	if !strings.Contains(strings.Join(names, " "), "feat.00") || strings.Contains(strings.Join(names, " "), "feat.20") {
		t.Errorf("importance chart names %v, want feat.00 to feat.19", names)
	}

	// Headline, published rows, thresholds and protocol.
	for _, want := range []string{
		fmt.Sprintf("%.3f", rep.Metrics.AUC), "balanced bagging", "0.879",
		"2018-07-25 to 2018-07-31", "2018-08-08 to 2018-08-14", "9999",
		"behaviour &lt;score&gt;", fmt.Sprintf("seed %d", rep.GBDT.Seed), "frauds of scenario 2",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, m := range rep.Models {
		for _, row := range m.At {
			cell := fmt.Sprintf(`<td class="n">%d</td>`, row.Flagged)
			if !strings.Contains(page, cell) {
				t.Errorf("page lacks %s's threshold row flagging %d", m.Name, row.Flagged)
			}
		}
	}
}

func TestWriteHTMLWithoutModels(t *testing.T) {
	t.Parallel()
	rep := synthReport(t)
	rep.Models, rep.GBDT = nil, nil
	var buf bytes.Buffer
	if err := rep.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	figs := figures(t, buf.String())
	if got, want := len(figs), 3; got != want {
		t.Fatalf("%d figures, want 3 (ROC, PR, importance)", got)
	}
	roc, _ := rep.curveSeries()
	if !hasLine(figs["chart-roc"], roc[0]) {
		t.Errorf("ROC chart does not draw Report.Curves")
	}
	if !strings.Contains(buf.String(), "no per-model test scores") {
		t.Errorf("page does not say it lacks score distributions")
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	t.Parallel()
	rep := synthReport(t)
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got Report
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rep, &got); diff != "" {
		t.Fatalf("report changed through JSON (-want +got):\n%s", diff)
	}
}

func TestAddModelHandComputed(t *testing.T) {
	t.Parallel()
	var rep Report
	scores := []float64{0.9, 0.8, 0.31, 0.1}
	labels := []bool{true, false, true, false}
	rep.AddModel("m", scores, labels, 10)
	m := rep.Models[0]
	want := []ThresholdRow{
		{0.1, 4, 0.5, 1}, {0.25, 3, 2.0 / 3, 1}, {0.5, 2, 0.5, 0.5}, {0.75, 2, 0.5, 0.5}, {0.9, 1, 1, 0.5},
	}
	if diff := cmp.Diff(want, m.At); diff != "" {
		t.Errorf("thresholds (-want +got):\n%s", diff)
	}
	if got, want := m.AUC, 0.75; got != want {
		t.Errorf("auc = %v, want %v", got, want)
	}
	// Scores span [0.1, 0.9] in 40 bins of 0.02: 0.9 falls in the last,
	// 0.31 in bin 10.
	d := m.Scores
	if got, want := d.Fraud[distBins-1], 0.5; got != want {
		t.Errorf("fraud share of the top bin = %v, want %v", got, want)
	}
	if got, want := d.Fraud[10], 0.5; math.Abs(got-want) > 1e-12 {
		t.Errorf("fraud share of bin 10 = %v, want %v", got, want)
	}
	if got, want := d.Legit[0], 0.5; got != want {
		t.Errorf("legit share of bin 0 = %v, want %v", got, want)
	}

	// Scores outside [0, 1] are thresholded by alert rate: with 1,000 rows,
	// 0.1% flags the top row and 5% the top 50.
	n := 1000
	s, l := make([]float64, n), make([]bool, n)
	for i := range n {
		s[i] = float64(n - i) // row i has rank i
		l[i] = i%10 == 0
	}
	rep.AddModel("rates", s, l, 10)
	at := rep.Models[1].At
	if got, want := len(at), len(flagFractions); got != want {
		t.Fatalf("%d threshold rows, want %d", got, want)
	}
	for i, f := range flagFractions {
		if got, want := at[i].Flagged, int(math.Ceil(f*float64(n))); got != want {
			t.Errorf("at %.1f%%: %d flagged, want %d", 100*f, got, want)
		}
	}
	if got, want := at[4].Precision, 5.0/50; got != want {
		t.Errorf("precision of the top 50 = %v, want %v", got, want)
	}
}

func TestThinPath(t *testing.T) {
	t.Parallel()
	// A curve with 1,000 points bunched at its end and one long first
	// segment: thinning by length keeps points along the long segment's
	// end and not only the bunch.
	xs, ys := []float64{0}, []float64{1}
	for i := range 999 {
		xs = append(xs, 0.5+float64(i)/2000)
		ys = append(ys, 0.1)
	}
	idx := thinPath(xs, ys, 20)
	if len(idx) > 20 || idx[0] != 0 || idx[len(idx)-1] != len(xs)-1 {
		t.Fatalf("thinPath = %v: want at most 20 indices from 0 to %d", idx, len(xs)-1)
	}
	for i := 1; i < len(idx); i++ {
		if idx[i] <= idx[i-1] {
			t.Fatalf("thinPath = %v: not increasing", idx)
		}
	}
	// The first segment is about 2/3 of the length: its far end is kept
	// early and the bunch gets the rest.
	if idx[1] != 1 {
		t.Errorf("second kept point = %d, want 1 (the end of the long segment)", idx[1])
	}
	if got := thinPath([]float64{0, 0, 0}, []float64{1, 1, 1}, 2); len(got) != 2 {
		t.Errorf("zero-length path thinned to %v, want both ends", got)
	}
}

func TestWriteFeaturesCSV(t *testing.T) {
	t.Parallel()
	X := model.Matrix{Rows: 3, Cols: 2, Data: []float32{1.5, float32(math.NaN()), 0.1, -3e-7, 16777217, 0}}
	y := []bool{true, false, false}
	var buf bytes.Buffer
	if err := WriteFeaturesCSV(&buf, []string{"a", "b,c"}, X, y); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"label", "a", "b,c"}, recs[0]); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	if got, want := len(recs), X.Rows+1; got != want {
		t.Fatalf("%d records, want %d", got, want)
	}
	for i, rec := range recs[1:] {
		if got, want := rec[0] == "1", y[i]; got != want {
			t.Errorf("row %d label %q, want %v", i, rec[0], want)
		}
		for j, s := range rec[1:] {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				t.Fatalf("row %d col %d: %v", i, j, err)
			}
			if got, want := math.Float32bits(float32(v)), math.Float32bits(X.Row(i)[j]); got != want && !(v != v && X.Row(i)[j] != X.Row(i)[j]) {
				t.Errorf("row %d col %d = %s, want %v", i, j, s, X.Row(i)[j])
			}
		}
	}
	if err := WriteFeaturesCSV(&buf, []string{"a"}, X, y); err == nil {
		t.Errorf("one name for two columns: no error")
	}
}

// TestWriteHTMLCeilingWindowsScenarios: both CP@k definitions are named,
// and the ceiling, the fraction of it, the weekly windows and the recall
// per scenario are on the page.
func TestWriteHTMLCeilingWindowsScenarios(t *testing.T) {
	t.Parallel()
	rep := synthReport(t)
	rep.Metrics.CPKNoRemoval = 0.375
	rep.Ceiling = &Ceiling{Metrics: Metrics{AUC: 0.892, AP: 0.791, CPK: 0.306, CPKNoRemoval: 0.399, K: 100}, Hidden: 83, Draws: 32,
		OracleCPK: 0.397, OracleCPKNoRemoval: 0.509}
	rep.Fraction = &Fraction{AUC: 0.977, AP: 0.911, CPK: 0.817, CPKNoRemoval: 0.94}
	crude := 0.9712
	rep.Scenarios = []ScenarioRecall{{Scenario: 6, Frauds: 57, Found: 51, Precision: 0.5, Recall: 51.0 / 57, AUC: 0.9876, NoveltyAUC: &crude}}
	for i := range 2 {
		w := HandbookProtocol().Windows()[0]
		w.TrainStart = w.TrainStart.AddDate(0, 0, 7*i)
		rep.Windows = append(rep.Windows, WindowReport{Protocol: w, Metrics: Metrics{AP: 0.61 + float64(i)/100}})
	}
	var b strings.Builder
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		"CP@100 (handbook)", "CP@100 (no removal)", "0.375", // both definitions, named
		"83 hidden frauds", "0.791", "0.306", "0.399", // the ceiling
		"fraction of the ceiling", "0.911", "0.817", // the fraction
		"0.397", "0.509", // the oracle
		"mean over 2 weekly windows", "2018-08-01", "0.620", // per window
		"recall at precision 0.500", "<td>6</td>", "0.895", "0.988", "0.971", // per scenario
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
