package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/simulate"
)

// simWorld is a small handbook world: 500 cards, 1,000 terminals, 100 days.
func simWorld(t testing.TB) *simulate.CardWorld {
	t.Helper()
	c := simulate.DefaultCards()
	c.Customers, c.Terminals, c.Days = 500, 1000, 100
	c.Scenarios = simulate.HandbookScenarios
	c.Seed = 7
	w, err := simulate.NewCardWorld(c)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func simCSV(t testing.TB, w *simulate.CardWorld) []byte {
	t.Helper()
	var buf bytes.Buffer
	cw := simulate.NewCardsCSVWriter(&buf)
	for tx := range w.Transactions() {
		if err := cw.Write(tx); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// simProtocol trains on days 60-66, waits 67-73 and tests on 74-80.
func simProtocol(w *simulate.CardWorld) Protocol {
	return Protocol{TrainStart: w.Start().AddDate(0, 0, 60), TrainDays: 7, DelayDays: 7, TestDays: 7}
}

type simRow struct {
	card  string
	day   int
	fraud bool
}

// bruteForce recounts the windows from the simulator's transactions. A test
// transaction of test day t is dropped when its card had a fraud on any day
// from the training start to day TrainDays+t-1, which is what the handbook's
// cumulative known set amounts to.
func bruteForce(w *simulate.CardWorld, p Protocol) (train, testAll, test Window, testRows []simRow) {
	start := w.Start()
	first := int(p.TrainStart.Sub(start) / (24 * time.Hour))
	fraudDays := make(map[int][]int) // card → days (from the training start) of its frauds
	var txs []simulate.Tx
	for tx := range w.Transactions() {
		d := tx.Day - first
		if tx.Fraud {
			fraudDays[tx.Customer] = append(fraudDays[tx.Customer], d)
		}
		txs = append(txs, *tx)
	}
	for _, tx := range txs {
		d := tx.Day - first
		sc := int(tx.Scenario)
		switch {
		case d >= 0 && d < p.TrainDays:
			train.add(tx.Fraud, sc)
		case d >= p.TrainDays+p.DelayDays && d < p.TrainDays+p.DelayDays+p.TestDays:
			testAll.add(tx.Fraud, sc)
			td := d - p.TrainDays - p.DelayDays
			known := false
			for _, fd := range fraudDays[tx.Customer] {
				if fd >= 0 && fd <= p.TrainDays+td-1 {
					known = true
				}
			}
			if !known {
				test.add(tx.Fraud, sc)
				testRows = append(testRows, simRow{strconv.Itoa(tx.Customer), d, tx.Fraud})
			}
		}
	}
	return train, testAll, test, testRows
}

func sameWindow(t *testing.T, name string, got, want Window) {
	t.Helper()
	if got.Transactions != want.Transactions || got.Frauds != want.Frauds {
		t.Errorf("%s = %d transactions, %d frauds; want %d, %d", name, got.Transactions, got.Frauds, want.Transactions, want.Frauds)
	}
	for s := range 6 {
		if got.FraudsByScenario[s] != want.FraudsByScenario[s] {
			t.Errorf("%s frauds of scenario %d = %d, want %d", name, s, got.FraudsByScenario[s], want.FraudsByScenario[s])
		}
	}
}

func TestRunSimulated(t *testing.T) {
	t.Parallel()
	w := simWorld(t)
	data := simCSV(t, w)
	p := simProtocol(w)
	cfg := DefaultConfig()
	cfg.GBDT.Trees = 100
	rep, err := Run(context.Background(), bytes.NewReader(data), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	train, testAll, test, _ := bruteForce(w, p)
	sameWindow(t, "train", rep.Counts.Train, train)
	sameWindow(t, "test before removal", rep.Counts.TestAll, testAll)
	sameWindow(t, "test", rep.Counts.Test, test)
	if test.Transactions == testAll.Transactions {
		t.Fatalf("no known compromised card removed: the test does not exercise removal")
	}
	for name, v := range map[string]float64{"auc": rep.Metrics.AUC, "ap": rep.Metrics.AP, "cp@k": rep.Metrics.CPK} {
		if !(v >= 0 && v <= 1) {
			t.Errorf("%s = %v, want in [0, 1]", name, v)
		}
	}
	if got := rep.Metrics.AUC; got < 0.7 {
		t.Errorf("auc = %.3f, want >= 0.7", got)
	}
	if got, want := rep.Metrics.K, 100; got != want {
		t.Errorf("k = %d, want %d", got, want)
	}
	if got, want := len(rep.Features), rep.Model.Features; got != want || got == 0 {
		t.Errorf("%d importances for %d features", got, want)
	}
	sum := 0.0
	for i, f := range rep.Features {
		sum += f.Gain
		if i > 0 && f.Gain > rep.Features[i-1].Gain {
			t.Fatalf("importances not sorted at %d: %v > %v", i, f.Gain, rep.Features[i-1].Gain)
		}
	}
	if math.Abs(sum-1) > 1e-6 {
		t.Errorf("importances sum to %v, want 1", sum)
	}
	if n := len(rep.Curves.ROC); n < 2 || n > cfg.CurvePoints {
		t.Errorf("roc curve has %d points, want 2..%d", n, cfg.CurvePoints)
	}
	if last := rep.Curves.ROC[len(rep.Curves.ROC)-1]; last.FPR != 1 || last.TPR != 1 {
		t.Errorf("roc curve ends at (%v, %v), want (1, 1)", last.FPR, last.TPR)
	}
	if got, want := len(rep.Published), 10; got != want {
		t.Errorf("%d published rows, want %d", got, want)
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Errorf("report does not encode: %v", err)
	}
}

// collectWindow is the engine pass of p's first window.
func collectWindow(r io.Reader, p Protocol, cfg Config) (*dataset, error) {
	all, err := collect(context.Background(), r, p, cfg)
	if err != nil {
		return nil, err
	}
	return all.window(p, 0, cfg.ValidDays), nil
}

// TestKnownCardRemoval checks the kept test rows one by one against the
// direct computation.
func TestKnownCardRemoval(t *testing.T) {
	t.Parallel()
	w := simWorld(t)
	p := simProtocol(w)
	cfg := DefaultConfig()
	cfg.Baseline = true
	ds, err := collectWindow(bytes.NewReader(simCSV(t, w)), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ds.testX.Cols, len(ds.names); got != want || !slices.Contains(ds.names, baselineNames[len(baselineNames)-1]) ||
		ds.names[got-1] != extendedNames[len(extendedNames)-1] {
		t.Fatalf("%d columns for names %v", got, ds.names)
	}
	_, _, _, want := bruteForce(w, p)
	if got, want := len(ds.test), len(want); got != want {
		t.Fatalf("%d test rows, want %d", got, want)
	}
	for i, r := range ds.test {
		if got := (simRow{r.card, r.day, r.fraud}); got != want[i] {
			t.Fatalf("test row %d = %+v, want %+v", i, got, want[i])
		}
	}
	if got, want := ds.testX.Rows*ds.testX.Cols, len(ds.testX.Data); got != want {
		t.Fatalf("test matrix %d×%d holds %d values", ds.testX.Rows, ds.testX.Cols, want)
	}
}

// TestLabelDelay checks that no label reaches the engine before the delay:
// flipping the labels of every transaction from 5 days before the training
// start to its end must leave the features of training days 0 and 1 unchanged (those
// labels are not known before day 2) and change some later ones.
func TestLabelDelay(t *testing.T) {
	t.Parallel()
	w := simWorld(t)
	data := simCSV(t, w)
	p := simProtocol(w)
	first := int(p.TrainStart.Sub(w.Start())/(24*time.Hour)) - 5
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, l := range lines[1:] {
		f := strings.Split(l, ",")
		d, err := strconv.Atoi(f[6])
		if err != nil {
			t.Fatal(err)
		}
		if d >= first && d < first+5+p.TrainDays {
			if f[7] == "1" {
				f[7], f[8] = "0", "0"
			} else {
				f[7], f[8] = "1", "1"
			}
		}
		lines[i+1] = strings.Join(f, ",")
	}
	flipped := []byte(strings.Join(lines, "\n") + "\n")

	cfg := DefaultConfig()
	orig, err := collectWindow(bytes.NewReader(data), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	flip, err := collectWindow(bytes.NewReader(flipped), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(flip.train), len(orig.train); got != want {
		t.Fatalf("%d training rows, want %d", got, want)
	}
	cols, changed := len(orig.names), 0
	for i, r := range orig.train {
		a, b := orig.trainX[i*cols:(i+1)*cols], flip.trainX[i*cols:(i+1)*cols]
		same := true
		for j := range a {
			if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
				same = false
			}
		}
		if r.day < 2 && !same {
			t.Fatalf("training row %d of day %d uses a label younger than the delay", i, r.day)
		}
		if !same {
			changed++
		}
	}
	if changed == 0 {
		t.Fatal("no feature changed: labels never reach the engine")
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	w := simWorld(t)
	data := string(simCSV(t, w))
	lines := strings.SplitN(data, "\n", 12)
	header := lines[0]
	p := simProtocol(w)
	cfg := DefaultConfig()
	tests := []struct {
		name  string
		input string
		want  []string // in the error text
	}{
		{"bad amount", strings.Join(append([]string{header}, lines[1:4]...), "\n") + "\n" +
			badField(lines[4], 4, "x1") + "\n", []string{"line 5", "TX_AMOUNT"}},
		{"missing amount column", strings.Replace(header, "TX_AMOUNT", "AMOUNT", 1) + "\n" + lines[1] + "\n", []string{"TX_AMOUNT"}},
		{"missing scenario column", strings.Replace(header, ",TX_FRAUD_SCENARIO", "", 1) + "\n" +
			lines[1][:strings.LastIndex(lines[1], ",")] + "\n", []string{"line 2", "TX_FRAUD_SCENARIO"}},
		{"bad label", header + "\n" + lines[1][:strings.LastIndex(lines[1], ",")-1] + "x,0\n", []string{"line 2", "TX_FRAUD"}},
		{"bad scenario", header + "\n" + lines[1] + "9x\n", []string{"line 2", "TX_FRAUD_SCENARIO"}},
		{"time order", header + "\n" + lines[2] + "\n" + lines[1] + "\n", []string{"line 3", "time order"}},
		{"no fraud", header + "\n" + lines[1] + "\n", []string{"training window"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), strings.NewReader(tt.input), p, cfg)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
		})
	}
}

// badField replaces field i of a CSV line.
func badField(line string, i int, v string) string {
	f := strings.Split(line, ",")
	f[i] = v
	return strings.Join(f, ",")
}

func TestRunConfigErrors(t *testing.T) {
	t.Parallel()
	bad := HandbookProtocol()
	bad.TrainStart = bad.TrainStart.Add(time.Hour)
	if _, err := Run(context.Background(), strings.NewReader(""), bad, DefaultConfig()); occsimore.ErrorField(err) != "train_start" {
		t.Errorf("protocol off midnight: err = %v, want field train_start", err)
	}
	cfg := DefaultConfig()
	cfg.ValidDays = 7
	if _, err := Run(context.Background(), strings.NewReader(""), HandbookProtocol(), cfg); occsimore.ErrorField(err) != "valid_days" {
		t.Errorf("valid_days 7: err = %v, want field valid_days", err)
	}
}

func TestRunCancelled(t *testing.T) {
	t.Parallel()
	w := simWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, bytes.NewReader(simCSV(t, w)), simProtocol(w), DefaultConfig())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestProtocolWindows(t *testing.T) {
	t.Parallel()
	p := HandbookProtocol()
	for _, tt := range []struct {
		got  time.Time
		want string
	}{
		{p.TrainEnd(), "2018-08-01"},
		{p.TestStart(), "2018-08-08"},
		{p.TestEnd(), "2018-08-15"},
	} {
		if got := tt.got.Format(time.DateOnly); got != tt.want {
			t.Errorf("got %s, want %s", got, tt.want)
		}
	}
	if got, want := p.dayIndex(p.TrainStart.Add(-time.Second)), -1; got != want {
		t.Errorf("day before start = %d, want %d", got, want)
	}
	if got, want := p.dayIndex(p.TestStart()), 14; got != want {
		t.Errorf("test start day = %d, want %d", got, want)
	}
}

func TestThin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ m, n, want int }{{0, 5, 0}, {3, 5, 3}, {1000, 200, 200}, {201, 200, 200}} {
		idx := thin(tt.m, tt.n)
		if got := len(idx); got != tt.want {
			t.Errorf("thin(%d, %d) has %d points, want %d", tt.m, tt.n, got, tt.want)
		}
		if tt.m > 0 && (idx[0] != 0 || idx[len(idx)-1] != tt.m-1) {
			t.Errorf("thin(%d, %d) = %v..., does not keep both ends", tt.m, tt.n, idx[:1])
		}
	}
}

// FuzzRun feeds arbitrary CSV to Run: it must return a report or an error,
// never panic.
func FuzzRun(f *testing.F) {
	w := simWorld(f)
	data := simCSV(f, w)
	f.Add(data[:min(len(data), 2000)])
	f.Add([]byte(simulate.CardsCSVHeader + "\n0,2018-07-25 00:00:01,1,2,3.50,1,0,1,1\n"))
	p := HandbookProtocol()
	cfg := DefaultConfig()
	cfg.GBDT.Trees = 5
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Run(context.Background(), io.LimitReader(bytes.NewReader(b), 1<<16), p, cfg)
	})
}
