package model

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/occsimore/occsimore"
)

// xorData: y = (x0 > 0.5) XOR (x1 > 0.5), plus noise features.
func xorData(n, cols int, seed uint64) (Matrix, []bool) {
	r := rand.New(rand.NewPCG(seed, 1))
	X := NewMatrix(n, cols)
	y := make([]bool, n)
	for i := range n {
		row := X.Row(i)
		for j := range row {
			row[j] = r.Float32()
		}
		y[i] = (row[0] > 0.5) != (row[1] > 0.5)
	}
	return X, y
}

// linearData: y ~ Bernoulli(sigmoid(2·x0 − 3·x1 + x2 − 1)) over normal
// features, the rest being noise.
func linearData(n, cols int, seed uint64) (Matrix, []bool) {
	r := rand.New(rand.NewPCG(seed, 2))
	X := NewMatrix(n, cols)
	y := make([]bool, n)
	for i := range n {
		row := X.Row(i)
		for j := range row {
			row[j] = float32(r.NormFloat64())
		}
		logit := 2*float64(row[0]) - 3*float64(row[1]) + float64(row[2]) - 1
		y[i] = r.Float64() < sigmoid(logit)
	}
	return X, y
}

func train(t testing.TB, X Matrix, y []bool, valid *Dataset, cfg GBDTConfig) *GBDT {
	t.Helper()
	m, err := TrainGBDT(context.Background(), X, y, valid, cfg)
	if err != nil {
		t.Fatalf("TrainGBDT: %v", err)
	}
	return m
}

func predictAll(m *GBDT, X Matrix) []float64 { return m.PredictBatch(X, nil) }

func TestGBDTLearnsXOR(t *testing.T) {
	t.Parallel()
	X, y := xorData(4000, 5, 1)
	Xt, yt := xorData(1999, 5, 2) // not a multiple of PredictBatch's block
	cfg := DefaultGBDT()
	cfg.Trees = 50
	m := train(t, X, y, nil, cfg)
	p := predictAll(m, Xt)
	if got := ROCAUC(p, yt); !(got > 0.99) {
		t.Fatalf("test AUC on XOR = %v, want > 0.99", got)
	}
	for i := range p {
		if got := m.Predict(Xt.Row(i)); got != p[i] {
			t.Fatalf("row %d: Predict = %v, PredictBatch = %v", i, got, p[i])
		}
	}
	imp := m.FeatureImportance()
	if got := imp[0] + imp[1]; !(got > 0.9) {
		t.Fatalf("importance of x0 and x1 = %v (all %v), want > 0.9", got, imp)
	}
	var sum float64
	for _, v := range imp {
		sum += v
	}
	if !near(sum, 1) {
		t.Fatalf("importances sum to %v, want 1", sum)
	}
}

func TestGBDTBeatsConstantOnLinearLogit(t *testing.T) {
	t.Parallel()
	X, y := linearData(5000, 6, 3)
	Xt, yt := linearData(5000, 6, 4)
	m := train(t, X, y, nil, DefaultGBDT())
	p := predictAll(m, Xt)
	margin := make([]float64, len(p))
	for i, v := range p {
		margin[i] = math.Log(v / (1 - v))
	}
	var pos float64
	for _, l := range y {
		if l {
			pos++
		}
	}
	base := math.Log(pos / (float64(len(y)) - pos))
	constant := make([]float64, len(yt))
	for i := range constant {
		constant[i] = base
	}
	got, worst := logLoss(margin, yt), logLoss(constant, yt)
	// The true model's loss is far below the constant's; ask for most of it.
	if !(got < worst-0.15) {
		t.Fatalf("test log-loss = %v, constant = %v: want at least 0.15 better", got, worst)
	}
	if auc := ROCAUC(p, yt); !(auc > 0.85) {
		t.Fatalf("test AUC = %v, want > 0.85", auc)
	}
}

func TestGBDTMissingValuesArePredictive(t *testing.T) {
	t.Parallel()
	// x0 is missing for 90% of positives and 10% of negatives; otherwise it
	// is noise, like x1. Only the missing-value routing can use it.
	gen := func(n int, seed uint64) (Matrix, []bool) {
		r := rand.New(rand.NewPCG(seed, 3))
		X := NewMatrix(n, 2)
		y := make([]bool, n)
		for i := range n {
			y[i] = r.Float64() < 0.3
			row := X.Row(i)
			row[0], row[1] = r.Float32(), r.Float32()
			miss := 0.1
			if y[i] {
				miss = 0.9
			}
			if r.Float64() < miss {
				row[0] = float32(math.NaN())
			}
		}
		return X, y
	}
	X, y := gen(4000, 5)
	Xt, yt := gen(2000, 6)
	cfg := DefaultGBDT()
	cfg.Trees = 30
	m := train(t, X, y, nil, cfg)
	// P(y | x0 missing) = 0.27/(0.27+0.07) ≈ 0.79; P(y | present) = 0.03/0.66 ≈ 0.045.
	nan := float32(math.NaN())
	if got := m.Predict([]float32{nan, 0.5}); !(got > 0.6) {
		t.Fatalf("P(missing x0) = %v, want > 0.6", got)
	}
	if got := m.Predict([]float32{0.5, 0.5}); !(got < 0.15) {
		t.Fatalf("P(present x0) = %v, want < 0.15", got)
	}
	if got := ROCAUC(predictAll(m, Xt), yt); !(got > 0.85) {
		t.Fatalf("test AUC = %v, want > 0.85", got)
	}
}

func TestGBDTDeterministic(t *testing.T) {
	t.Parallel()
	X, y := linearData(3000, 8, 7)
	cfg := DefaultGBDT()
	cfg.Trees = 20
	cfg.Subsample, cfg.ColSample = 0.7, 0.5
	cfg.Seed = 42
	encode := func(c GBDTConfig) []byte {
		b, err := train(t, X, y, nil, c).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cfg.Threads = 1
	a := encode(cfg)
	cfg.Threads = 4
	if b := encode(cfg); !bytes.Equal(a, b) {
		t.Fatal("models differ between 1 and 4 threads with the same seed")
	}
	cfg.Seed = 43
	if c := encode(cfg); bytes.Equal(a, c) {
		t.Fatal("models are equal for different seeds with sampling on")
	}
}

func TestGBDTEarlyStopping(t *testing.T) {
	t.Parallel()
	// Many deep trees at a high rate overfit noisy labels quickly.
	X, y := linearData(2000, 6, 8)
	Xv, yv := linearData(2000, 6, 9)
	valid := &Dataset{X: Xv, Y: yv}
	cfg := DefaultGBDT()
	cfg.Trees, cfg.LearningRate, cfg.MaxDepth, cfg.MaxLeaves = 200, 0.5, 8, 256
	full := train(t, X, y, valid, cfg)
	if got, want := full.NumTrees(), 200; got != want {
		t.Fatalf("without early stopping NumTrees = %d, want %d", got, want)
	}
	for _, metric := range []StopMetric{StopLogLoss, StopAP} {
		cfg.EarlyStopping, cfg.StopMetric = 10, metric
		m := train(t, X, y, valid, cfg)
		if got := m.NumTrees(); got > 190 {
			t.Fatalf("metric %d: early stopping kept %d trees, want <= 190", metric, got)
		}
		// The kept prefix is the best round, so it scores at least as well
		// as the full model on the validation set.
		pm, pf := predictAll(m, Xv), predictAll(full, Xv)
		switch metric {
		case StopLogLoss:
			if a, b := probLogLoss(pm, yv), probLogLoss(pf, yv); !(a <= b) {
				t.Fatalf("early-stopped log-loss %v > full model's %v", a, b)
			}
		case StopAP:
			if a, b := AveragePrecision(pm, yv), AveragePrecision(pf, yv); !(a >= b) {
				t.Fatalf("early-stopped AP %v < full model's %v", a, b)
			}
		}
	}
}

func probLogLoss(p []float64, y []bool) float64 {
	m := make([]float64, len(p))
	for i, v := range p {
		m[i] = math.Log(v / (1 - v))
	}
	return logLoss(m, y)
}

func TestGBDTScalePosWeightRaisesScores(t *testing.T) {
	t.Parallel()
	X, y := linearData(3000, 4, 10)
	cfg := DefaultGBDT()
	cfg.Trees = 30
	// Newton leaves keep the logistic loss's first-order condition
	// sum w·(p − y) ≈ 0, so the weighted mean prediction matches the weighted
	// share of positives: weighting positives by 10 must lift predictions
	// that far.
	meanPred := func(c GBDTConfig) float64 {
		var s float64
		for _, p := range predictAll(train(t, X, y, nil, c), X) {
			s += p
		}
		return s / float64(X.Rows)
	}
	plain := meanPred(cfg)
	cfg.ScalePosWeight = 10
	weighted := meanPred(cfg)
	if !(weighted > plain+0.1) {
		t.Fatalf("mean prediction with ScalePosWeight 10 = %v, with 1 = %v: want a clear rise", weighted, plain)
	}
	m := train(t, X, y, nil, cfg)
	var wp, wy float64
	for i, p := range predictAll(m, X) {
		w := 1.0
		if y[i] {
			w = 10
			wy += w
		}
		wp += w * p
	}
	if got := math.Abs(wp-wy) / wy; got > 0.03 {
		t.Fatalf("weighted sum of predictions %v vs weighted positives %v: off by %.1f%%", wp, wy, 100*got)
	}
}

func TestGBDTRoundTrip(t *testing.T) {
	t.Parallel()
	X, y := xorData(2000, 4, 11)
	for i := 0; i < X.Rows; i += 7 {
		X.Row(i)[2] = float32(math.NaN())
	}
	m := train(t, X, y, nil, DefaultGBDT())
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var m2 GBDT
	if err := m2.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
	if got, want := m2.NumTrees(), m.NumTrees(); got != want {
		t.Fatalf("NumTrees after round trip = %d, want %d", got, want)
	}
	p1, p2 := predictAll(m, X), predictAll(&m2, X)
	for i := range p1 {
		if p1[i] != p2[i] {
			t.Fatalf("row %d: prediction %v after round trip, want %v", i, p2[i], p1[i])
		}
		if got := m2.Predict(X.Row(i)); got != p1[i] {
			t.Fatalf("row %d: Predict %v, PredictBatch %v", i, got, p1[i])
		}
	}
	i1, i2 := m.FeatureImportance(), m2.FeatureImportance()
	for i := range i1 {
		if i1[i] != i2[i] {
			t.Fatalf("importance %d: %v after round trip, want %v", i, i2[i], i1[i])
		}
	}
	b2, _ := m2.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Fatal("re-encoding a decoded model changes the bytes")
	}

	// A flipped bit fails the checksum; an unknown version is named.
	bad := bytes.Clone(b)
	bad[len(bad)/2] ^= 1
	if err := m2.UnmarshalBinary(bad); occsimore.ErrorCode(err) != occsimore.EINVALID {
		t.Fatalf("corrupt model: err = %v, want EINVALID", err)
	}
	bad = bytes.Clone(b)
	bad[4] = 9
	if err := m2.UnmarshalBinary(bad); !errors.Is(err, ErrGBDTVersion) {
		t.Fatalf("version 9: err = %v, want ErrGBDTVersion", err)
	}
	// A child pointing back to its own node would make Predict loop
	// forever; the decoder refuses it even under a valid checksum. The
	// first node's left child sits after the 22-byte header, the tree's two
	// counts, the feature and the threshold.
	bad = bytes.Clone(b)
	binary.LittleEndian.PutUint32(bad[22+8+8:], 0)
	if err := m2.UnmarshalBinary(reseal(bad)); !strings.Contains(occsimore.ErrorMessage(err), "bad child") {
		t.Fatalf("self-referencing node: err = %v, want a bad child error", err)
	}
}

func TestGBDTStumpsWhenNoSplitPays(t *testing.T) {
	t.Parallel()
	// With an unreachable MinGain no tree splits: each is one leaf pushing
	// every row toward the base rate by the same amount.
	X, y := xorData(1001, 3, 16)
	cfg := DefaultGBDT()
	cfg.Trees, cfg.MinGain = 5, 1e12
	m := train(t, X, y, nil, cfg)
	var pos float64
	for _, l := range y {
		if l {
			pos++
		}
	}
	want := pos / float64(len(y))
	p := predictAll(m, X)
	for i := range p {
		if !(math.Abs(p[i]-want) < 1e-9) || m.Predict(X.Row(i)) != p[i] {
			t.Fatalf("row %d: PredictBatch %v, Predict %v, want the base rate %v", i, p[i], m.Predict(X.Row(i)), want)
		}
	}
	if imp := m.FeatureImportance(); imp[0] != 0 || imp[1] != 0 || imp[2] != 0 {
		t.Fatalf("importance without splits = %v, want zeros", imp)
	}
	b, _ := m.MarshalBinary()
	var m2 GBDT
	if err := m2.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary of stumps: %v", err)
	}
	if got := m2.Predict(X.Row(0)); got != p[0] {
		t.Fatalf("stumps after round trip predict %v, want %v", got, p[0])
	}
}

func TestGBDTPredictDoesNotAllocate(t *testing.T) {
	X, y := xorData(1000, 4, 12)
	m := train(t, X, y, nil, DefaultGBDT())
	row := X.Row(3)
	var sink float64
	if got := testing.AllocsPerRun(100, func() { sink += m.Predict(row) }); got != 0 {
		t.Fatalf("Predict allocates %v times per call, want 0", got)
	}
	_ = sink
}

func TestGBDTContextCancels(t *testing.T) {
	t.Parallel()
	X, y := xorData(500, 3, 13)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := TrainGBDT(ctx, X, y, nil, DefaultGBDT()); !errors.Is(err, context.Canceled) {
		t.Fatalf("TrainGBDT with a cancelled context: err = %v, want context.Canceled", err)
	}
}

func TestGBDTRejectsBadInput(t *testing.T) {
	t.Parallel()
	X, y := xorData(100, 3, 14)
	ctx := context.Background()
	cfg := DefaultGBDT()
	cfg.MaxBins = 300
	if _, err := TrainGBDT(ctx, X, y, nil, cfg); occsimore.ErrorField(err) != "MaxBins" {
		t.Fatalf("MaxBins 300: err = %v, want a MaxBins field error", err)
	}
	if _, err := TrainGBDT(ctx, X, y[:50], nil, DefaultGBDT()); occsimore.ErrorCode(err) != occsimore.EINVALID {
		t.Fatalf("short labels: err = %v, want EINVALID", err)
	}
	if _, err := TrainGBDT(ctx, X, make([]bool, 100), nil, DefaultGBDT()); occsimore.ErrorCode(err) != occsimore.EINVALID {
		t.Fatalf("one class: err = %v, want EINVALID", err)
	}
}

func TestQuantileCuts(t *testing.T) {
	t.Parallel()
	// Few distinct values: one bin each, cut halfway.
	got := quantileCuts([]float32{3, 1, 2, 2, 1}, 255)
	want := []float32{1.5, 2.5, float32(math.Inf(1))}
	if len(got) != len(want) {
		t.Fatalf("cuts = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("cuts = %v, want %v", got, want)
		}
	}
	// Many distinct values: at most maxBins bins, each holding about the
	// same number of values.
	vals := make([]float32, 1000)
	for i := range vals {
		vals[i] = float32(i)
	}
	cuts := quantileCuts(vals, 10)
	if len(cuts) != 10 {
		t.Fatalf("%d cuts for 10 bins: %v", len(cuts), cuts)
	}
	b := binner{cuts: [][]float32{cuts}}
	counts := make([]int, 10)
	for _, v := range vals {
		counts[b.bin(0, v)]++
	}
	for i, c := range counts {
		if c < 90 || c > 110 {
			t.Fatalf("bin %d holds %d of 1000 values: %v", i, c, counts)
		}
	}
	if got := b.bin(0, float32(math.NaN())); got != missingBin {
		t.Fatalf("bin(NaN) = %d, want %d", got, missingBin)
	}
}

func FuzzUnmarshalGBDT(f *testing.F) {
	X, y := xorData(300, 3, 15)
	cfg := DefaultGBDT()
	cfg.Trees, cfg.MaxDepth = 3, 2
	m := train(f, X, y, nil, cfg)
	b, _ := m.MarshalBinary()
	f.Add(b)
	f.Add([]byte("OCGB"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Also try the input with a valid checksum, or the fuzzer would
		// hardly ever get past it to the structure checks.
		fuzzDecode(t, data)
		if len(data) >= 4 {
			fuzzDecode(t, reseal(data))
		}
	})
}

// reseal replaces the last 4 bytes of b (a copy) with the checksum of the
// rest.
func reseal(b []byte) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	return b
}

func fuzzDecode(t *testing.T, data []byte) {
	nan := float32(math.NaN())
	var m GBDT
	if err := m.UnmarshalBinary(data); err != nil {
		return
	}
	{
		// A decoded model predicts the same row by row and in a batch
		// (a NaN threshold once made them disagree).
		X := NewMatrix(2, m.NumFeatures())
		for i := range X.Cols {
			X.Row(1)[i] = nan
		}
		batch := m.PredictBatch(X, nil)
		for i := range X.Rows {
			if p := m.Predict(X.Row(i)); p != batch[i] {
				t.Fatalf("row %d: Predict %v, PredictBatch %v", i, p, batch[i])
			}
		}
		_ = m.FeatureImportance()
		again, err := m.MarshalBinary()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("decoded model re-encodes differently (err %v)", err)
		}
	}
}
