package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/occsimore/occsimore"
)

// Half-Space Trees' configuration at its edges (issue 13).

func TestHSTConfigEdges(t *testing.T) {
	base := HSTConfig{Dims: 1, Trees: 1, Height: 1, Window: 1}
	for _, tc := range []struct {
		edit  func(*HSTConfig)
		field string // "" if accepted
	}{
		{func(*HSTConfig) {}, ""},
		{func(c *HSTConfig) { c.Height = 20 }, ""},
		{func(c *HSTConfig) { c.Height = 21 }, "Height"},
		{func(c *HSTConfig) { c.Height = 0 }, "Height"},
		{func(c *HSTConfig) { c.Dims = 0 }, "Dims"},
		{func(c *HSTConfig) { c.Trees = 0 }, "Trees"},
		{func(c *HSTConfig) { c.Window = 0 }, "Window"},
		{func(c *HSTConfig) { c.SizeLimit = -0.5 }, "SizeLimit"},
		{func(c *HSTConfig) { c.Min = []float32{0} }, "Min"},
		{func(c *HSTConfig) { c.Max = []float32{1} }, "Min"},
		{func(c *HSTConfig) { c.Min, c.Max = []float32{0}, []float32{1, 2} }, "Min"},
		{func(c *HSTConfig) { c.Min, c.Max = []float32{0}, []float32{1} }, ""},
		{func(c *HSTConfig) { c.Min, c.Max = []float32{2}, []float32{1} }, "Max"},
	} {
		c := base
		tc.edit(&c)
		_, err := NewHST(c)
		if got := occsimore.ErrorField(err); got != tc.field {
			t.Errorf("NewHST(%+v): err = %v, want field %q", c, err, tc.field)
		}
	}
	m, err := NewHST(HSTConfig{Dims: 1, Trees: 1, Height: 3, Window: 250})
	if err != nil {
		t.Fatal(err)
	}
	if m.cfg.SizeLimit != 25 || m.nodes != 15 || m.Ready() {
		t.Errorf("size limit %v, %d nodes, ready %v; want 25 (a tenth of the window), 15, false", m.cfg.SizeLimit, m.nodes, m.Ready())
	}
}

// TestHSTScalesByMinMax: with Min and Max, a point is scaled to [0, 1] per
// dimension before it meets the trees: the scores are those of the scaled
// points without Min and Max.
func TestHSTScalesByMinMax(t *testing.T) {
	minV, maxV := []float32{-10, 100}, []float32{10, 300}
	scaled, err := NewHST(HSTConfig{Dims: 2, Trees: 5, Height: 4, Window: 20, Min: minV, Max: maxV, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := NewHST(HSTConfig{Dims: 2, Trees: 5, Height: 4, Window: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(2, 2))
	for i := range 200 {
		u := []float32{r.Float32(), r.Float32()}
		if i%10 == 0 {
			u[0] = 0.95 // a cluster the windows learn
		}
		x := []float32{minV[0] + u[0]*(maxV[0]-minV[0]), minV[1] + u[1]*(maxV[1]-minV[1])}
		if a, b := scaled.Score(x), plain.Score(u); a != b {
			t.Fatalf("point %d: score %v with Min/Max, %v on the scaled point", i, a, b)
		}
		scaled.Update(x)
		plain.Update(u)
	}
	if !scaled.Ready() {
		t.Error("not ready after 10 windows")
	}
}

// TestHSTWorkspace: each tree draws s in [0, 1) per dimension and splits
// the work range [s − r, s + r], r = 2·max(s, 1 − s), at its middle (Tan et
// al. 2011): the root splits its dimension at s, and a child splitting the
// same dimension again does so at s − r/2 (left, never above 0) or s + r/2
// (right, never below 1).
func TestHSTWorkspace(t *testing.T) {
	m, err := NewHST(HSTConfig{Dims: 2, Trees: 200, Height: 2, Window: 10, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for tr := range m.cfg.Trees {
		nodes := m.node[tr*m.nodes : (tr+1)*m.nodes]
		root := nodes[0]
		s := float64(root.split)
		if !(s > 0 && s < 1) {
			t.Fatalf("tree %d: root split %v outside (0, 1)", tr, s)
		}
		half := max(s, 1-s) // r/2
		for c, want := range map[int]float64{1: s - half, 2: s + half} {
			if nodes[c].dim != root.dim {
				if v := nodes[c].split; !(v >= 0 && v < 1) {
					t.Fatalf("tree %d node %d: split %v of a fresh dimension outside [0, 1)", tr, c, v)
				}
				continue
			}
			same++
			if math.Abs(float64(nodes[c].split)-want) > 1e-6 {
				t.Fatalf("tree %d node %d: split %v, want %v (root at %v)", tr, c, nodes[c].split, want, s)
			}
		}
	}
	if same < 100 {
		t.Errorf("only %d children split their root's dimension again", same)
	}
}

// TestHSTEveryTreeCounts: an HST of two trees is its first tree (the one a
// single-tree HST of the same seed grows) plus a second one that changes
// some scores.
func TestHSTEveryTreeCounts(t *testing.T) {
	one, err := NewHST(HSTConfig{Dims: 2, Trees: 1, Height: 4, Window: 16, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	two, err := NewHST(HSTConfig{Dims: 2, Trees: 2, Height: 4, Window: 16, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	if one.node[0] != two.node[0] {
		t.Fatalf("first trees differ: %+v, %+v", one.node[0], two.node[0])
	}
	r := rand.New(rand.NewPCG(3, 3))
	differ := 0
	for range 300 {
		x := []float32{r.Float32(), r.Float32() * r.Float32()}
		if one.Score(x) != two.Score(x) {
			differ++
		}
		one.Update(x)
		two.Update(x)
	}
	if differ < 30 {
		t.Errorf("the second tree changed %d scores of 300", differ)
	}
}
