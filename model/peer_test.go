//go:build unix

package model

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPeerXGBoost is our side of scripts/bench-xgboost.sh: it trains on
// $OCCSIMORE_PEER_DIR/train.csv and scores $OCCSIMORE_PEER_DIR/test.csv, the
// files `occsimore eval --export-features` writes, with the shape the script
// gives XGBoost (PEER_TREES, PEER_DEPTH, PEER_LR, PEER_THREADS). It reports
// test AP and AUC, training seconds and batch prediction rows/s (best of
// PEER_REPS passes) as benchmark metrics. Without the directory it skips.
func BenchmarkPeerXGBoost(b *testing.B) {
	dir := os.Getenv("OCCSIMORE_PEER_DIR")
	if dir == "" {
		b.Skip("OCCSIMORE_PEER_DIR is not set: run scripts/bench-xgboost.sh")
	}
	Xtr, ytr, err := readFeaturesCSV(filepath.Join(dir, "train.csv"))
	if err != nil {
		b.Fatal(err)
	}
	Xte, yte, err := readFeaturesCSV(filepath.Join(dir, "test.csv"))
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultGBDT()
	cfg.Trees = envInt(b, "PEER_TREES", 300)
	cfg.MaxDepth = envInt(b, "PEER_DEPTH", 6)
	cfg.MaxLeaves = 1 << cfg.MaxDepth
	cfg.LearningRate = envFloat(b, "PEER_LR", 0.05)
	cfg.Threads = envInt(b, "PEER_THREADS", runtime.GOMAXPROCS(0))
	reps := envInt(b, "PEER_REPS", 5)

	var m *GBDT
	var trainSec, trainCPU float64
	for b.Loop() {
		t0, c0 := time.Now(), cpuSeconds()
		m, err = TrainGBDT(context.Background(), Xtr, ytr, nil, cfg)
		if err != nil {
			b.Fatal(err)
		}
		trainSec, trainCPU = time.Since(t0).Seconds(), cpuSeconds()-c0
	}
	b.StopTimer()
	best, bestCPU := math.Inf(1), math.Inf(1)
	var p []float64
	for range reps {
		t0, c0 := time.Now(), cpuSeconds()
		p = m.PredictBatch(Xte, p)
		best, bestCPU = min(best, time.Since(t0).Seconds()), min(bestCPU, cpuSeconds()-c0)
	}
	b.ReportMetric(AveragePrecision(p, yte), "AP")
	b.ReportMetric(ROCAUC(p, yte), "AUC")
	b.ReportMetric(trainSec, "train-s")
	b.ReportMetric(trainCPU, "train-cpu-s")
	b.ReportMetric(float64(Xte.Rows)/best, "predict-rows/s")
	b.ReportMetric(float64(Xte.Rows)/bestCPU, "predict-rows/cpu-s")
	b.ReportMetric(float64(cfg.Threads), "threads")
}

// cpuSeconds is the user and system CPU time of the process so far, all
// threads together: on a shared machine it moves less than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return v
}

func envFloat(b *testing.B, name string, def float64) float64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return v
}

// readFeaturesCSV reads a header, then rows of a 0/1 label followed by
// float32 values ("nan" for missing).
func readFeaturesCSV(path string) (Matrix, []bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return Matrix{}, nil, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 1<<16))
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return Matrix{}, nil, fmt.Errorf("%s: header: %w", path, err)
	}
	X := Matrix{Cols: len(head) - 1}
	var y []bool
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Matrix{}, nil, fmt.Errorf("%s: %w", path, err)
		}
		y = append(y, rec[0] == "1")
		for j, s := range rec[1:] {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				return Matrix{}, nil, fmt.Errorf("%s: line %d: column %s: %w", path, line, head[j+1], err)
			}
			X.Data = append(X.Data, float32(v))
		}
		X.Rows++
	}
	return X, y, nil
}
