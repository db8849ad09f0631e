package eval

import (
	"fmt"
	"html/template"
	"io"
	"time"
)

// topFeatures is how many features the importance chart shows.
const topFeatures = 20

// chart is one rendered chart of the HTML report.
type chart struct {
	ID, Caption string
	SVG         template.HTML // trusted: rendered by gonum/plot, text escaped
}

// htmlModel is one model's section of the HTML report.
type htmlModel struct {
	ModelReport
	Dist chart
}

// htmlPage is what the report template renders.
type htmlPage struct {
	R         *Report
	TrainEnd  time.Time // last training day
	TestStart time.Time
	TestEnd   time.Time // last test day
	Curves    []chart   // ROC and PR
	Models    []htmlModel
	Features  *chart
	Scenarios []int
}

// roc and pr are the report's curves per model: r.Models when AddModel was
// used, else the single model's Curves.
func (r *Report) curveSeries() (roc, pr []series) {
	if len(r.Models) == 0 {
		return []series{rocSeries("GBDT", r.Curves.ROC)}, []series{prSeries("GBDT", r.Curves.PR)}
	}
	for _, m := range r.Models {
		roc = append(roc, rocSeries(m.Name, m.ROC))
		pr = append(pr, prSeries(m.Name, m.PR))
	}
	return roc, pr
}

func rocSeries(name string, pts []ROCPoint) series {
	s := series{Name: name, X: make([]float64, len(pts)), Y: make([]float64, len(pts))}
	for i, p := range pts {
		s.X[i], s.Y[i] = p.FPR, p.TPR
	}
	return s
}

func prSeries(name string, pts []PRPoint) series {
	s := series{Name: name, X: make([]float64, len(pts)), Y: make([]float64, len(pts))}
	for i, p := range pts {
		s.X[i], s.Y[i] = p.Recall, p.Precision
	}
	return s
}

// distSeries turns a distribution into two lines over the bin centres.
func distSeries(d Distribution) []series {
	n := len(d.Fraud)
	x := make([]float64, n)
	for i := range n {
		x[i] = (d.Edges[i] + d.Edges[i+1]) / 2
	}
	return []series{{Name: "fraud", X: x, Y: d.Fraud}, {Name: "legitimate", X: x, Y: d.Legit}}
}

// WriteHTML writes the report as one self-contained HTML page: headline
// metrics beside the handbook's published rows, ROC and precision-recall
// curves, score distributions, precision and recall at thresholds, feature
// importance, and the protocol and counts. Charts are inline SVG; the page
// loads nothing and runs no script.
func (r *Report) WriteHTML(w io.Writer) error {
	pg := htmlPage{
		R:         r,
		TrainEnd:  r.Protocol.TrainEnd().Add(-day),
		TestStart: r.Protocol.TestStart(),
		TestEnd:   r.Protocol.TestEnd().Add(-day),
	}
	roc, pr := r.curveSeries()
	rocSVG, err := lineChart("ROC curve (test set)", "false positive rate", "true positive rate", roc, true, true)
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	prSVG, err := lineChart("Precision-recall curve (test set)", "recall", "precision", pr, true, false)
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	pg.Curves = []chart{
		{ID: "chart-roc", Caption: "ROC curve, one line per model; the dashed diagonal is a random model.", SVG: template.HTML(rocSVG)},
		{ID: "chart-pr", Caption: "Precision-recall curve, one line per model.", SVG: template.HTML(prSVG)},
	}
	for i, m := range r.Models {
		svg, err := lineChart("Score distribution: "+m.Name, "score", "fraction of the class", distSeries(m.Scores), false, false)
		if err != nil {
			return fmt.Errorf("html report: %w", err)
		}
		pg.Models = append(pg.Models, htmlModel{ModelReport: m, Dist: chart{
			ID:      fmt.Sprintf("chart-dist-%d", i),
			Caption: "Test scores of frauds and legitimate transactions, each as a fraction of its class, over " + fmt.Sprint(len(m.Scores.Fraud)) + " equal bins.",
			SVG:     template.HTML(svg),
		}})
	}
	if n := min(topFeatures, len(r.Features)); n > 0 {
		names := make([]string, n)
		gains := make([]float64, n)
		for i, f := range r.Features[:n] {
			names[i], gains[i] = f.Name, f.Gain
		}
		svg, err := barChart(fmt.Sprintf("Feature importance (top %d by gain)", n), "share of the total split gain", names, gains)
		if err != nil {
			return fmt.Errorf("html report: %w", err)
		}
		pg.Features = &chart{ID: "chart-importance", Caption: "Each feature's share of the GBDT's total split gain.", SVG: template.HTML(svg)}
	}
	for s := range 16 {
		if r.Counts.TestAll.FraudsByScenario[s] > 0 || r.Counts.Train.FraudsByScenario[s] > 0 {
			pg.Scenarios = append(pg.Scenarios, s)
		}
	}
	if err := reportTemplate.Execute(w, pg); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"f3":   func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"pct":  func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
	"date": func(t time.Time) string { return t.Format("2006-01-02") },
	"thr": func(v float64) string {
		if v >= 0 && v <= 1 {
			return fmt.Sprintf("%.2f", v)
		}
		return fmt.Sprintf("%.4g", v)
	},
	"dur": func(d time.Duration) string { return d.Round(time.Millisecond).String() },
}).Parse(reportHTML))

const reportHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>occsimore evaluation report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.8em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.ours { background: #eef6fb; font-weight: 600; }
figure { display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }
figcaption { font-size: 0.85em; color: #555; max-width: 30em; }
</style>
</head>
<body>
<h1>occsimore evaluation report</h1>
<p>Train {{date .R.Protocol.TrainStart}} to {{date .TrainEnd}} ({{.R.Protocol.TrainDays}} days), a {{.R.Protocol.DelayDays}}-day label delay,
test {{date .TestStart}} to {{date .TestEnd}} ({{.R.Protocol.TestDays}} days), cards already known to be compromised removed from the test set.</p>

<h2 id="metrics">Headline metrics</h2>
{{if gt (len .R.Windows) 1}}<p>The mean over {{len .R.Windows}} weekly windows (below); curves, distributions and importances are the first window's.</p>
{{end}}<p>CP@{{.R.Metrics.K}} (handbook) is the handbook's definition: the compromised cards found on a test day are removed from every later day, as its published column is computed. CP@{{.R.Metrics.K}} (no removal) ranks each day on its own.</p>
<table>
<thead><tr><th>source</th><th>model</th><th>AUC ROC</th><th>AP</th><th>CP@{{.R.Metrics.K}} (handbook)</th><th>CP@{{.R.Metrics.K}} (no removal)</th></tr></thead>
<tbody>
<tr class="ours"><td>occsimore</td><td>GBDT ({{.R.Model.Trees}} trees, {{.R.Model.Features}} features)</td><td class="n">{{f3 .R.Metrics.AUC}}</td><td class="n">{{f3 .R.Metrics.AP}}</td><td class="n">{{f3 .R.Metrics.CPK}}</td><td class="n">{{f3 .R.Metrics.CPKNoRemoval}}</td></tr>
<tr class="ours"><td>occsimore</td><td>behaviour score alone (no labels)</td><td class="n">{{f3 .R.EngineScore.AUC}}</td><td class="n">{{f3 .R.EngineScore.AP}}</td><td class="n">{{f3 .R.EngineScore.CPK}}</td><td class="n">{{f3 .R.EngineScore.CPKNoRemoval}}</td></tr>
{{with .R.Ceiling}}<tr id="ceiling"><td>ceiling</td><td>no look-ahead: {{.Hidden}} hidden frauds at random, every other fraud first</td><td class="n">{{f3 .AUC}}</td><td class="n">{{f3 .AP}}</td><td class="n">{{f3 .CPK}}</td><td class="n">{{f3 .CPKNoRemoval}}</td></tr>
{{end}}{{with .R.Fraction}}<tr id="fraction" class="ours"><td>occsimore</td><td>GBDT as a fraction of the ceiling</td><td class="n">{{f3 .AUC}}</td><td class="n">{{f3 .AP}}</td><td class="n">{{f3 .CPK}}</td><td class="n">{{f3 .CPKNoRemoval}}</td></tr>
{{end}}{{with .R.Ceiling}}<tr><td>oracle</td><td>every fraud first (sees the labels)</td><td class="n">1.000</td><td class="n">1.000</td><td class="n">{{f3 .OracleCPK}}</td><td class="n">{{f3 .OracleCPKNoRemoval}}</td></tr>
{{end}}{{range .R.Published}}<tr><td>{{.Source}}</td><td>{{.Model}}</td><td class="n">{{f3 .AUC}}</td><td class="n">{{f3 .AP}}</td><td class="n">{{f3 .CP100}}</td><td></td></tr>
{{end}}</tbody>
</table>
{{with .R.Ceiling}}<p>The ceiling: frauds of the compromised-terminal scenario on a terminal none of whose frauds of the 28 days before the label horizon is known yet look like any genuine transaction, so no method without look-ahead can rank them; the ceiling ranks them at random among the genuine rows (AP and CP@k: mean of {{.Draws}} random orders) and every other fraud first.</p>
{{end}}
{{if gt (len .R.Windows) 1}}<h3 id="windows">Per window</h3>
<table>
<thead><tr><th>training from</th><th>test frauds</th><th>AUC ROC</th><th>AP</th><th>CP@{{.R.Metrics.K}} (handbook)</th><th>CP@{{.R.Metrics.K}} (no removal)</th><th>AP ceiling</th><th>CP@{{.R.Metrics.K}} ceiling (handbook)</th></tr></thead>
<tbody>
{{range .R.Windows}}<tr><td>{{date .Protocol.TrainStart}}</td><td class="n">{{.Counts.Test.Frauds}}</td><td class="n">{{f3 .Metrics.AUC}}</td><td class="n">{{f3 .Metrics.AP}}</td><td class="n">{{f3 .Metrics.CPK}}</td><td class="n">{{f3 .Metrics.CPKNoRemoval}}</td><td class="n">{{with .Ceiling}}{{f3 .AP}}{{else}}—{{end}}</td><td class="n">{{with .Ceiling}}{{f3 .CPK}}{{else}}—{{end}}</td></tr>
{{end}}</tbody>
</table>
{{end}}
{{with .R.Scenarios}}<h3 id="scenarios">Recall per fraud scenario</h3>
<table>
<thead><tr><th>scenario</th><th>test frauds</th><th>found</th><th>recall at precision {{f3 (index . 0).Precision}}</th><th>AUC against genuine</th><th>crude novelty baseline AUC (same run)</th></tr></thead>
<tbody>
{{range .}}<tr><td>{{.Scenario}}</td><td class="n">{{.Frauds}}</td><td class="n">{{.Found}}</td><td class="n">{{f3 .Recall}}</td><td class="n">{{f3 .AUC}}</td><td class="n">{{with .NoveltyAUC}}{{f3 .}}{{else}}—{{end}}</td></tr>
{{end}}</tbody>
</table>
{{end}}
<h2 id="curves">Curves</h2>
{{range .Curves}}<figure id="{{.ID}}">{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>
{{end}}
<h2 id="scores">Score distributions and thresholds</h2>
{{range .Models}}<h3>{{.Name}} (AUC {{f3 .AUC}}, AP {{f3 .AP}})</h3>
<figure id="{{.Dist.ID}}">{{.Dist.SVG}}<figcaption>{{.Dist.Caption}}</figcaption></figure>
<table>
<thead><tr><th>flag when score ≥</th><th>flagged</th><th>precision</th><th>recall</th></tr></thead>
<tbody>
{{range .At}}<tr><td class="n">{{thr .Threshold}}</td><td class="n">{{.Flagged}}</td><td class="n">{{if .Flagged}}{{f3 .Precision}}{{else}}—{{end}}</td><td class="n">{{f3 .Recall}}</td></tr>
{{end}}</tbody>
</table>
{{else}}<p>This report holds no per-model test scores, so it has no score distributions or thresholds.</p>
{{end}}
<h2 id="importance">Feature importance</h2>
{{with .Features}}<figure id="{{.ID}}">{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>{{else}}<p>No feature importance.</p>{{end}}

<h2 id="protocol">Protocol and counts</h2>
<table>
<tbody>
<tr><th>training window</th><td>{{date .R.Protocol.TrainStart}} to {{date .TrainEnd}} ({{.R.Protocol.TrainDays}} days)</td></tr>
<tr><th>delay (label delay)</th><td>{{.R.Protocol.DelayDays}} days</td></tr>
<tr><th>test window</th><td>{{date .TestStart}} to {{date .TestEnd}} ({{.R.Protocol.TestDays}} days)</td></tr>
<tr><th>transactions read</th><td class="n">{{.R.Counts.Events}}</td></tr>
<tr><th>training</th><td class="n">{{.R.Counts.Train.Transactions}} transactions, {{.R.Counts.Train.Frauds}} frauds</td></tr>
<tr><th>held out for early stopping</th><td class="n">{{.R.Counts.Valid.Transactions}} transactions, {{.R.Counts.Valid.Frauds}} frauds</td></tr>
<tr><th>test before removal</th><td class="n">{{.R.Counts.TestAll.Transactions}} transactions, {{.R.Counts.TestAll.Frauds}} frauds</td></tr>
<tr><th>known compromised cards removed</th><td class="n">{{.R.Counts.KnownCards}}</td></tr>
<tr><th>test</th><td class="n">{{.R.Counts.Test.Transactions}} transactions, {{.R.Counts.Test.Frauds}} frauds</td></tr>
{{range $s := .Scenarios}}<tr><th>frauds of scenario {{$s}}</th><td class="n">train {{index $.R.Counts.Train.FraudsByScenario $s}}, test {{index $.R.Counts.Test.FraudsByScenario $s}}</td></tr>
{{end}}<tr><th>model</th><td>GBDT, {{.R.Model.Trees}} trees over {{.R.Model.Features}} features, fraud weight {{printf "%.3g" .R.Model.ScalePosWeight}}{{with .R.GBDT}}, learning rate {{.LearningRate}}, depth {{.MaxDepth}}, {{.MaxLeaves}} leaves, {{.MaxBins}} bins, seed {{.Seed}}{{end}}</td></tr>
<tr><th>timings</th><td>features {{dur .R.Timings.Features}}, training {{dur .R.Timings.Train}}, scoring {{dur .R.Timings.Score}}, total {{dur .R.Timings.Total}}</td></tr>
</tbody>
</table>
</body>
</html>
`
