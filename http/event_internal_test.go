package http

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/occsimore/occsimore"
)

// TestPlainScoredMatchesEncodingJSON checks that the hand-written result
// lines are byte for byte what encoding/json writes, for every field.
func TestPlainScoredMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	floats := []float64{0, 1, -1, 0.5, 12.345678901234, 1e-7, 3.2e-9, 1e21, 5e22, 123456789, 1e20, -4.5e-8, math.SmallestNonzeroFloat64, math.MaxFloat64}
	pick := func() float64 {
		if r.IntN(3) == 0 {
			return floats[r.IntN(len(floats))]
		}
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(30)-15))
	}
	decisions := []occsimore.Decision{"", occsimore.DecisionAllow, occsimore.DecisionReview, occsimore.DecisionBlock}
	for i := range 20000 {
		sc := &occsimore.Scored{EventID: occsimore.NewID("evt"), Score: pick(), Decision: decisions[r.IntN(len(decisions))]}
		if r.IntN(2) == 0 {
			sc.AlertID = occsimore.NewID("alr")
		}
		if r.IntN(2) == 0 {
			sc.ModelScore, sc.ModelVersion = pick(), r.IntN(40)
		}
		if r.IntN(3) == 0 {
			sc.ShadowScore, sc.ShadowVersion = pick(), r.IntN(40)
		}
		if r.IntN(3) == 0 {
			sc.AnomalyScore = pick()
		}
		if !plainScored(sc) {
			t.Fatalf("%+v is not plain", sc)
		}
		line := r.IntN(1 << 20)
		want, err := json.Marshal(batchLine{Line: line, Scored: sc})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(appendScoredLine(nil, line, sc)); got != string(want)+"\n" {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
		want, _ = json.Marshal(sc)
		if got := string(appendPlainScored([]byte{'{'}, sc)); got != string(want)+"\n" {
			t.Fatalf("case %d, single:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestNotPlainScored: what the hand-written path cannot write goes through
// encoding/json.
func TestNotPlainScored(t *testing.T) {
	for _, sc := range []*occsimore.Scored{
		{EventID: "e", Reasons: []occsimore.Reason{{Code: "amount_high"}}},
		{EventID: `quote"d`},
		{EventID: "e", AlertID: "<script>"},
		{EventID: "e", Score: math.NaN()},
		{EventID: "e", ModelScore: math.Inf(1)},
	} {
		if plainScored(sc) {
			t.Errorf("%+v counted as plain", sc)
		}
	}
}
