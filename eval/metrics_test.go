package eval

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/ingest"
)

// TestCardPrecisionBothWays works the handbook's card_precision_top_k by
// hand with k = 2 over three days.
//
//	day 0: A 0.9 fraud, B 0.8 fraud, C 0.1           → 2/2; A and B found
//	day 1: A 0.95 fraud, B 0.9 fraud, C 0.5, D 0.4 fraud
//	       no removal: A, B → 2/2; removal: C, D → 1/2 (D found)
//	day 2: A 0.99 fraud, D 0.98 fraud, E 0.2, F 0.1
//	       no removal: A, D → 2/2; removal: E, F → 0/2
//
// CP@2 is 1 without removal and (1 + 0.5 + 0) / 3 = 0.5 with it.
func TestCardPrecisionBothWays(t *testing.T) {
	t.Parallel()
	type r struct {
		day   int
		card  string
		score float64
		fraud bool
	}
	in := []r{
		{0, "A", 0.9, true}, {0, "B", 0.8, true}, {0, "C", 0.1, false},
		{1, "A", 0.95, true}, {1, "B", 0.9, true}, {1, "C", 0.5, false}, {1, "D", 0.4, true},
		{1, "D", 0.01, false}, // a card's score is its best row's, its label any row's
		{2, "A", 0.99, true}, {2, "D", 0.98, true}, {2, "E", 0.2, false}, {2, "F", 0.1, false},
	}
	var days []int
	var cards []string
	var scores []float64
	var labels []bool
	for _, x := range in {
		days, cards, scores, labels = append(days, x.day), append(cards, x.card), append(scores, x.score), append(labels, x.fraud)
	}
	if got := cardPrecisionAtK(days, cards, scores, labels, 2, false); got != 1 {
		t.Errorf("CP@2 without removal = %v, want 1", got)
	}
	if got, want := cardPrecisionAtK(days, cards, scores, labels, 2, true), 0.5; math.Abs(got-want) > 1e-12 {
		t.Errorf("CP@2 with removal = %v, want %v", got, want)
	}
	// k larger than the cards of a day still divides by k.
	if got, want := cardPrecisionAtK(days[:3], cards[:3], scores[:3], labels[:3], 4, true), 0.5; got != want {
		t.Errorf("CP@4 of day 0 = %v, want %v", got, want)
	}
	if got := cardPrecisionAtK(nil, nil, nil, nil, 2, true); !math.IsNaN(got) {
		t.Errorf("CP of nothing = %v, want NaN", got)
	}
}

// TestCeilingAndFraction: two hidden frauds among genuine rows, two other
// frauds. By ties the AUC is (2 + 2·0.5) / 4; each metric's fraction is the
// metric over its ceiling.
func TestCeilingAndFraction(t *testing.T) {
	t.Parallel()
	var rows []row
	for i := range 200 {
		rows = append(rows, row{card: strconv.Itoa(i), day: i % 2, scenario: 0})
	}
	rows = append(rows,
		row{card: "f1", day: 0, fraud: true, scenario: 3},
		row{card: "f2", day: 1, fraud: true, scenario: 2},
		row{card: "h1", day: 0, fraud: true, scenario: 2, hidden: true},
		row{card: "h2", day: 1, fraud: true, scenario: 2, hidden: true})
	c := ceiling(rows, 10)
	if c.Hidden != 2 {
		t.Errorf("hidden = %d, want 2", c.Hidden)
	}
	if got, want := c.AUC, 0.75; math.Abs(got-want) > 1e-12 {
		t.Errorf("ceiling AUC = %v, want %v", got, want)
	}
	// AP: the two visible frauds at precision 1 (recall 0.5), then the
	// hidden ones somewhere among 200 genuine rows: just above 0.5.
	if c.AP <= 0.5 || c.AP > 0.6 {
		t.Errorf("ceiling AP = %v, want just above 0.5", c.AP)
	}
	// CP@10: each day one visible fraud card of 10, the hidden one in the
	// top 10 of 101 random cards about 9 times in 100.
	if c.CPK < 0.1 || c.CPK > 0.12 || c.CPKNoRemoval != c.CPK {
		t.Errorf("ceiling CP@10 = %v (no removal %v), want about 0.105 both", c.CPK, c.CPKNoRemoval)
	}
	if c.OracleCPK != 0.2 || c.OracleCPKNoRemoval != 0.2 {
		t.Errorf("oracle CP@10 = %v, %v; want 0.2", c.OracleCPK, c.OracleCPKNoRemoval)
	}
	again := ceiling(rows, 10)
	if again != c {
		t.Errorf("ceiling not reproducible: %+v then %+v", c, again)
	}
	m := Metrics{AUC: 0.6, AP: 0.3, CPK: 0.05, CPKNoRemoval: 0.1}
	f := fractionOf(m, c)
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	if !near(f.AUC, 0.8) || !near(f.AP, 0.3/c.AP) || !near(f.CPK, 0.05/c.CPK) || !near(f.CPKNoRemoval, 0.1/c.CPKNoRemoval) {
		t.Errorf("fraction %+v of %+v over %+v", f, m, c.Metrics)
	}
	if got := fractionOf(m, Ceiling{}); got != (Fraction{}) {
		t.Errorf("fraction of a zero ceiling = %+v, want zeros (JSON has no NaN)", got)
	}
}

// TestScenarioRecall: ranked scores with their labels; the deepest cut at
// precision ≥ 0.5 is after the sixth row (3 frauds of 6), not after the
// eighth (3 of 8) or later.
func TestScenarioRecall(t *testing.T) {
	t.Parallel()
	rows := []row{
		{fraud: true, scenario: 1},  // 0.9
		{fraud: false},              // 0.8
		{fraud: true, scenario: 2},  // 0.7
		{fraud: false},              // 0.6
		{fraud: false},              // 0.5
		{fraud: true, scenario: 2},  // 0.4
		{fraud: false},              // 0.3
		{fraud: false},              // 0.2
		{fraud: true, scenario: 1},  // 0.1
		{fraud: false},              // 0.05
		{fraud: true, scenario: -1}, // 0.04: no scenario, left out
		{fraud: false},              // 0.03
	}
	scores := []float64{0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.04, 0.03}
	got := scenarioRecall(rows, scores, 0.5)
	if len(got) != 2 || got[0].Scenario != 1 || got[1].Scenario != 2 {
		t.Fatalf("scenarios %+v, want 1 and 2", got)
	}
	// Scenario 1: found 1 of 2; its frauds outrank 7 and 2 of the 7
	// genuine rows.
	if s := got[0]; s.Frauds != 2 || s.Found != 1 || s.Recall != 0.5 || math.Abs(s.AUC-9.0/14) > 1e-12 || s.Precision != 0.5 {
		t.Errorf("scenario 1: %+v", s)
	}
	// Scenario 2: found 2 of 2; its frauds outrank 6 and 4 of 7.
	if s := got[1]; s.Frauds != 2 || s.Found != 2 || s.Recall != 1 || math.Abs(s.AUC-10.0/14) > 1e-12 {
		t.Errorf("scenario 2: %+v", s)
	}
	// A tie straddling the cut is flagged whole or not at all.
	tied := slices.Repeat([]float64{0.5}, len(rows))
	tied[0] = 0.9
	if got := scenarioRecall(rows, tied, 0.5); got[1].Found != 0 || got[0].Found != 1 {
		t.Errorf("with ties: %+v", got)
	}
}

func TestProtocolWeeks(t *testing.T) {
	t.Parallel()
	p := HandbookProtocol()
	p.Weeks = 4
	var starts, tests []string
	for _, w := range p.Windows() {
		starts = append(starts, w.TrainStart.Format(time.DateOnly))
		tests = append(tests, w.TestStart().Format(time.DateOnly)+".."+w.TestEnd().Add(-day).Format(time.DateOnly))
		if w.NumWindows() != 1 || w.TrainDays != 7 || w.DelayDays != 7 || w.TestDays != 7 {
			t.Errorf("window %+v", w)
		}
	}
	// REFERENCES.md §1: chapters 5 to 7 train from 07-25, 08-01, 08-08, 08-15.
	if want := []string{"2018-07-25", "2018-08-01", "2018-08-08", "2018-08-15"}; !slices.Equal(starts, want) {
		t.Errorf("training starts %v, want %v", starts, want)
	}
	if want := []string{"2018-08-08..2018-08-14", "2018-08-15..2018-08-21", "2018-08-22..2018-08-28", "2018-08-29..2018-09-04"}; !slices.Equal(tests, want) {
		t.Errorf("test windows %v, want %v", tests, want)
	}
	if n := HandbookProtocol().NumWindows(); n != 1 {
		t.Errorf("default windows = %d, want 1", n)
	}
	for _, weeks := range []int{-1, maxWeeks + 1} {
		p.Weeks = weeks
		if err := p.Validate(); err == nil {
			t.Errorf("weeks %d accepted", weeks)
		}
	}
}

// TestRunWeeks: two weekly windows give, window by window, what two runs
// of one window at the shifted starts give, and the report's metrics are
// their mean.
func TestRunWeeks(t *testing.T) {
	t.Parallel()
	w := simWorld(t)
	data := simCSV(t, w)
	p := simProtocol(w)
	p.TrainStart = p.TrainStart.AddDate(0, 0, -7)
	p.Weeks = 2
	cfg := DefaultConfig()
	cfg.GBDT.Trees = 30
	rep, err := Run(context.Background(), bytes.NewReader(data), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Windows) != 2 {
		t.Fatalf("%d windows, want 2", len(rep.Windows))
	}
	var mean float64
	for i, wr := range rep.Windows {
		one := p
		one.Weeks, one.TrainStart = 1, p.TrainStart.AddDate(0, 0, 7*i)
		alone, err := Run(context.Background(), bytes.NewReader(data), one, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !wr.Protocol.TrainStart.Equal(one.TrainStart) {
			t.Errorf("window %d starts %s, want %s", i, wr.Protocol.TrainStart, one.TrainStart)
		}
		if wr.Counts.Test.Transactions != alone.Counts.Test.Transactions || wr.Counts.Train.Frauds != alone.Counts.Train.Frauds ||
			wr.Counts.KnownCards != alone.Counts.KnownCards {
			t.Errorf("window %d counts %+v, alone %+v", i, wr.Counts, alone.Counts)
		}
		if wr.Metrics != alone.Metrics {
			t.Errorf("window %d metrics %+v, alone %+v", i, wr.Metrics, alone.Metrics)
		}
		mean += wr.Metrics.AP / 2
	}
	if math.Abs(rep.Metrics.AP-mean) > 1e-12 {
		t.Errorf("mean AP %v, want %v", rep.Metrics.AP, mean)
	}
	if rep.Counts.Test.Transactions != rep.Windows[0].Counts.Test.Transactions || rep.Counts.KnownCards != rep.Windows[0].Counts.KnownCards {
		t.Errorf("report counts are not the first window's")
	}
	if rep.Ceiling == nil || rep.Fraction == nil || len(rep.Scenarios) == 0 {
		t.Fatalf("no ceiling, fraction or scenarios with scenario labels: %+v %+v %+v", rep.Ceiling, rep.Fraction, rep.Scenarios)
	}
	for _, s := range rep.Scenarios {
		if s.NoveltyAUC == nil || !(*s.NoveltyAUC >= 0 && *s.NoveltyAUC <= 1) {
			t.Errorf("scenario %d: no crude novelty baseline AUC", s.Scenario)
		}
	}
	if got, want := rep.Fraction.AP, rep.Metrics.AP/rep.Ceiling.AP; math.Abs(got-want) > 1e-12 {
		t.Errorf("AP fraction %v, want %v", got, want)
	}
	// Without scenarios there is nothing to find hidden frauds by.
	if hasScenarios([]row{{fraud: true, scenario: -1}, {scenario: 2}}) {
		t.Error("rows without fraud scenarios have scenarios")
	}
}

// TestEngineFeaturesPassThrough: the GBDT's first columns are every feature
// the engine has, by the engine's names and values, so that a feature the
// engine gains reaches the model with no change here. Training on the
// file's first week, whose labels the 7-day delay keeps from the engine,
// lets a plain replay reproduce them.
func TestEngineFeaturesPassThrough(t *testing.T) {
	t.Parallel()
	w := simWorld(t)
	data := simCSV(t, w)
	p := Protocol{TrainStart: w.Start(), TrainDays: 7, DelayDays: 7, TestDays: 7}
	cfg := DefaultConfig()
	ds, err := collectWindow(bytes.NewReader(data), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := behavior.NewEngine(cfg.Engine)
	if err != nil {
		t.Fatal(err)
	}
	names := eng.FeatureNames("card.tx")
	if len(names) == 0 || !slices.Equal(ds.names[:len(names)], names) {
		t.Fatalf("columns %v do not start with the engine's features %v", ds.names, names)
	}
	if len(ds.names) != len(names)+len(extendedNames) {
		t.Fatalf("%d columns, want %d engine + %d extended", len(ds.names), len(names), len(extendedNames))
	}
	cr, err := ingest.NewCSV(bytes.NewReader(data), cfg.Mapping)
	if err != nil {
		t.Fatal(err)
	}
	cols := len(ds.names)
	var res behavior.Result
	for i := range ds.train {
		ev := &occsimore.Event{MemberID: cfg.Member}
		if err := cr.Next(ev); err != nil {
			t.Fatal(err)
		}
		if err := eng.Process(ev, &res); err != nil {
			t.Fatal(err)
		}
		if got, want := ds.trainX[i*cols:i*cols+len(names)], res.FeatureVector(); !sameBits(got, want) {
			t.Fatalf("row %d: engine columns %v, engine gives %v", i, got, want)
		}
	}
	if len(ds.train) < 1000 {
		t.Fatalf("only %d rows compared", len(ds.train))
	}
}

// TestHiddenFrauds: a compromised-terminal fraud is hidden when no fraud of
// its terminal from the 28 days before its label horizon (7 days back) is
// known; other scenarios are never hidden.
func TestHiddenFrauds(t *testing.T) {
	t.Parallel()
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	b.WriteString("TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_TIME_SECONDS,TX_TIME_DAYS,TX_FRAUD,TX_FRAUD_SCENARIO\n")
	type tx struct {
		day, hour      int
		card, terminal string
		scenario       int
		hidden         bool
	}
	txs := []tx{
		{0, 10, "1", "T", 2, true},   // the terminal's first fraud
		{3, 10, "2", "T", 2, true},   // day 0's label not known before day 7
		{7, 9, "3", "T", 2, true},    // an hour short of the delay
		{7, 11, "4", "T", 2, false},  // day 0's label now known
		{8, 10, "5", "U", 3, false},  // another scenario: never hidden
		{9, 10, "6", "U", 2, true},   // U's earlier fraud is 1 day old
		{20, 10, "7", "V", 0, false}, // genuine
		{40, 10, "8", "T", 2, false}, // day 7's fraud is 33 days back, within 7 + 28
		{75, 10, "9", "T", 2, true},  // day 40's is exactly 35 days back: too old
	}
	for i, x := range txs {
		at := start.Add(time.Duration(x.day)*day + time.Duration(x.hour)*time.Hour)
		fraud := 0
		if x.scenario > 0 {
			fraud = 1
		}
		secs := int(at.Sub(start) / time.Second)
		b.WriteString(strconv.Itoa(i) + "," + at.Format(time.DateTime) + "," + x.card + "," + x.terminal + ",10.00," +
			strconv.Itoa(secs) + "," + strconv.Itoa(x.day) + "," + strconv.Itoa(fraud) + "," + strconv.Itoa(x.scenario) + "\n")
	}
	p := Protocol{TrainStart: start, TrainDays: 76, DelayDays: 7, TestDays: 1}
	c, err := collect(context.Background(), &b, p, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.rows) != len(txs) {
		t.Fatalf("%d rows, want %d", len(c.rows), len(txs))
	}
	for i, x := range txs {
		if got := c.rows[i].hidden; got != x.hidden {
			t.Errorf("row %d (day %d, terminal %s, scenario %d): hidden %v, want %v", i, x.day, x.terminal, x.scenario, got, x.hidden)
		}
	}
}
