package sqlstore

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/occsimore/occsimore"
)

func TestFloatsRoundTrip(t *testing.T) {
	in := []float32{0, -0.5, float32(math.NaN()), float32(math.Inf(1)), math.MaxFloat32, 1e-45}
	out, err := decodeFloats(encodeFloats(in))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out, cmpopts.EquateNaNs()); diff != "" {
		t.Fatalf("round trip (-in +out):\n%s", diff)
	}
	if _, err := decodeFloats([]byte{1, 2, 3}); err == nil {
		t.Fatal("3 bytes decoded as float32s")
	}
}

func TestMetricsRoundTrip(t *testing.T) {
	in := occsimore.ModelMetrics{AUC: math.NaN(), AP: 0, CPK: 0.1 + 0.2, K: 100, TrainRows: 7, TrainFrauds: 1,
		HoldoutRows: 2, HoldoutFrauds: 0, Trees: 3}
	s, err := metricsJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := parseMetrics(s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out, cmpopts.EquateNaNs()); diff != "" {
		t.Fatalf("round trip of %s (-in +out):\n%s", s, diff)
	}
}

func FuzzDecodeFloats(f *testing.F) {
	f.Add([]byte{})
	f.Add(encodeFloats([]float32{1, float32(math.NaN())}))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := decodeFloats(b)
		if err != nil {
			if len(b)%4 == 0 {
				t.Fatalf("%d bytes refused: %v", len(b), err)
			}
			return
		}
		if got := encodeFloats(fs); string(got) != string(b) {
			t.Fatalf("re-encoding changed the bytes")
		}
	})
}

func FuzzParseMetrics(f *testing.F) {
	f.Add(`{"auc_roc":0.9,"average_precision":null,"k":100}`)
	f.Add(`{}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMetrics(s)
		if err != nil {
			return
		}
		// What parses re-encodes and parses to the same.
		again, err := metricsJSON(m)
		if err != nil {
			if math.IsInf(m.AUC, 0) || math.IsInf(m.AP, 0) || math.IsInf(m.CPK, 0) {
				return
			}
			t.Fatalf("metricsJSON(%+v): %v", m, err)
		}
		back, err := parseMetrics(again)
		if err != nil {
			t.Fatalf("parse %s: %v", again, err)
		}
		if diff := cmp.Diff(m, back, cmpopts.EquateNaNs()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
