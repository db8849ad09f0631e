package model

import (
	"context"
	"math/rand/v2"
	"testing"
)

// benchData is 30 features, 5 of them informative through a nonlinear logit,
// with 5% of values missing in one feature.
func benchData(n int, seed uint64) (Matrix, []bool) {
	r := rand.New(rand.NewPCG(seed, 9))
	const cols = 30
	X := NewMatrix(n, cols)
	y := make([]bool, n)
	for i := range n {
		row := X.Row(i)
		for j := range row {
			row[j] = float32(r.NormFloat64())
		}
		logit := 1.5*float64(row[0]) - float64(row[1]*row[2]) + 0.5*float64(row[3]*row[3]) - 2
		if float64(row[4]) > 1 {
			logit += 1
		}
		if r.Float64() < 0.05 {
			row[5] = nan32
		}
		y[i] = r.Float64() < sigmoid(logit)
	}
	return X, y
}

var nan32 = func() float32 { var z float32; return z / z }()

func benchConfig() GBDTConfig {
	cfg := DefaultGBDT()
	cfg.Trees, cfg.MaxDepth, cfg.MaxLeaves = 100, 6, 64
	return cfg
}

// BenchmarkTrainGBDT: 100k rows × 30 features, 100 trees of depth 6.
func BenchmarkTrainGBDT(b *testing.B) {
	X, y := benchData(100_000, 1)
	cfg := benchConfig()
	for _, threads := range []int{1, 2} {
		cfg.Threads = threads
		b.Run(map[int]string{1: "threads=1", 2: "threads=2"}[threads], func(b *testing.B) {
			for b.Loop() {
				if _, err := TrainGBDT(context.Background(), X, y, nil, cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPredict(b *testing.B) {
	X, y := benchData(20_000, 2)
	m, err := TrainGBDT(context.Background(), X, y, nil, benchConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("row", func(b *testing.B) {
		var sink float64
		i := 0
		for b.Loop() {
			sink += m.Predict(X.Row(i))
			if i++; i == X.Rows {
				i = 0
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		_ = sink
	})
	b.Run("batch", func(b *testing.B) {
		var out []float64
		for b.Loop() {
			out = m.PredictBatch(X, out)
		}
		b.ReportMetric(float64(b.N)*float64(X.Rows)/b.Elapsed().Seconds(), "rows/s")
	})
}

func BenchmarkHST(b *testing.B) {
	for _, c := range []struct {
		name          string
		trees, height int
	}{{"default-25x10", 25, 10}, {"small-10x8", 10, 8}} {
		b.Run(c.name, func(b *testing.B) {
			cfg := DefaultHST(4)
			cfg.Trees, cfg.Height = c.trees, c.height
			m, err := NewHST(cfg)
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 1))
			pts := make([][]float32, 1024)
			for i := range pts {
				pts[i] = make([]float32, 4)
				gaussPoint(r, pts[i], i%100 == 0)
			}
			var sink float64
			i := 0
			for b.Loop() {
				x := pts[i&1023]
				sink += m.Score(x)
				m.Update(x)
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			_ = sink
		})
	}
}

// BenchmarkHistFeats: one histogram pass over a leaf of a third of 100k
// rows × 90 features, every feature, as training's hot loop runs it.
func BenchmarkHistFeats(b *testing.B) {
	const rows, cols = 100_000, 90
	r := rand.New(rand.NewPCG(3, 3))
	X := NewMatrix(rows, cols)
	for i := range X.Data {
		if r.IntN(3) == 0 {
			X.Data[i] = nan32
		} else {
			X.Data[i] = float32(r.ExpFloat64())
		}
	}
	bn := newBinner(X, 255, rows, 1)
	d := newBinned(X, &bn, 1)
	var idx []int32
	for i := range rows {
		if r.IntN(3) == 0 {
			idx = append(idx, int32(i))
		}
	}
	gs, hs := make([]float64, len(idx)), make([]float64, len(idx))
	for i := range gs {
		gs[i], hs[i] = r.Float64()-0.5, r.Float64()/4
	}
	feats := make([]int, cols)
	for i := range feats {
		feats[i] = i
	}
	hist := make([]histBin, d.histLen())
	for b.Loop() {
		d.histFeats(hist, idx, gs, hs, feats, true)
	}
	b.ReportMetric(float64(b.N)*float64(len(idx)*cols)/b.Elapsed().Seconds()/1e6, "Mbins/s")
}
