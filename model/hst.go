package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/occsimore/occsimore"
)

// HSTConfig configures Half-Space Trees.
type HSTConfig struct {
	Dims   int // values per point
	Trees  int // number of trees
	Height int // depth of every tree (2^Height leaves)
	Window int // points per window; mass profiles swap every Window updates
	// SizeLimit stops a scoring walk at the first node whose reference mass
	// is below it (the paper's 0.1·Window when zero).
	SizeLimit float64
	// Min and Max give each dimension's expected range; points are scaled to
	// [0, 1] with them. Nil means every dimension already lies in [0, 1].
	Min, Max []float32
	Seed     uint64
}

// DefaultHST returns the paper's 25 trees and windows of 250 for dims
// dimensions in [0, 1], but height 10 instead of 15: 1 MB instead of 33 MB,
// and with the size limit of 25 points walks rarely go deeper anyway.
func DefaultHST(dims int) HSTConfig {
	return HSTConfig{Dims: dims, Trees: 25, Height: 10, Window: 250}
}

// HST is Half-Space Trees (Tan, Ting and Liu, "Fast anomaly detection for
// streaming data", IJCAI 2011): an ensemble of random complete binary trees
// over the unit cube, each split halving one dimension of its node's work
// space. Every node counts the points of the latest window (l) and keeps the
// counts of the previous full window (r); a point is anomalous when few
// reference points share its region. Not safe for concurrent use.
type HST struct {
	cfg      HSTConfig
	nodes    int       // nodes per tree: 2^(Height+1) - 1
	node     []hstNode // all trees back to back, node i's children at 2i+1, 2i+2
	scale    []float32 // 1/(Max-Min) per dimension
	count    int       // updates in the current window
	window   uint32    // number of the current window, from 1
	maxScore float64
}

// hstNode keeps a node's split and masses together, so a walk touches one
// cache line per level. Masses are swapped lazily: lat counts window win; a
// node first touched in a later window moves lat to ref (or zeroes both if
// it missed a whole window). That avoids clearing every node at each window
// boundary.
type hstNode struct {
	split         float32
	dim           int32
	ref, lat, win uint32
}

// refMass returns the node's mass over the previous full window.
func (m *HST) refMass(n *hstNode) uint32 {
	switch n.win {
	case m.window:
		return n.ref
	case m.window - 1:
		return n.lat
	}
	return 0
}

// NewHST builds the trees. The random work spaces depend only on cfg.Seed.
func NewHST(cfg HSTConfig) (*HST, error) {
	switch {
	case cfg.Dims < 1:
		return nil, fmt.Errorf("new hst: %w", occsimore.FieldErrorf("Dims", "must be at least 1"))
	case cfg.Trees < 1:
		return nil, fmt.Errorf("new hst: %w", occsimore.FieldErrorf("Trees", "must be at least 1"))
	case cfg.Height < 1 || cfg.Height > 20:
		return nil, fmt.Errorf("new hst: %w", occsimore.FieldErrorf("Height", "must be in [1, 20]"))
	case cfg.Window < 1:
		return nil, fmt.Errorf("new hst: %w", occsimore.FieldErrorf("Window", "must be at least 1"))
	case cfg.SizeLimit < 0:
		return nil, fmt.Errorf("new hst: %w", occsimore.FieldErrorf("SizeLimit", "must not be negative"))
	case (cfg.Min == nil) != (cfg.Max == nil) || cfg.Min != nil && (len(cfg.Min) != cfg.Dims || len(cfg.Max) != cfg.Dims):
		return nil, fmt.Errorf("new hst: %w", occsimore.FieldErrorf("Min", "Min and Max need one value per dimension"))
	}
	if cfg.SizeLimit == 0 {
		cfg.SizeLimit = 0.1 * float64(cfg.Window)
	}
	m := &HST{cfg: cfg, nodes: 1<<(cfg.Height+1) - 1, scale: make([]float32, cfg.Dims)}
	for j := range m.scale {
		m.scale[j] = 1
		if cfg.Min != nil {
			if !(cfg.Max[j] > cfg.Min[j]) {
				return nil, fmt.Errorf("new hst: %w", occsimore.FieldErrorf("Max", "dimension %d: Max must exceed Min", j))
			}
			m.scale[j] = 1 / (cfg.Max[j] - cfg.Min[j])
		}
	}
	m.node = make([]hstNode, cfg.Trees*m.nodes)
	m.window = 1
	m.maxScore = float64(cfg.Trees) * float64(cfg.Window) * math.Exp2(float64(cfg.Height))

	rng := rand.New(rand.NewPCG(cfg.Seed, 0x48535420))
	lo := make([]float64, cfg.Dims)
	hi := make([]float64, cfg.Dims)
	for t := range cfg.Trees {
		// The paper's work space: around a random point s, each dimension
		// spans s ± 2·max(s, 1-s), so it covers [0, 1] wherever s falls.
		for j := range lo {
			s := rng.Float64()
			r := 2 * max(s, 1-s)
			lo[j], hi[j] = s-r, s+r
		}
		m.buildNode(rng, t*m.nodes, 0, lo, hi)
	}
	return m, nil
}

// buildNode fills node i of the tree starting at base (children of i are
// 2i+1 and 2i+2) and its subtree, halving work space [lo, hi] along a random
// dimension.
func (m *HST) buildNode(rng *rand.Rand, base, i int, lo, hi []float64) {
	if 2*i+1 >= m.nodes {
		return // leaf
	}
	q := rng.IntN(m.cfg.Dims)
	p := (lo[q] + hi[q]) / 2
	m.node[base+i].dim, m.node[base+i].split = int32(q), float32(p)
	oldLo, oldHi := lo[q], hi[q]
	hi[q] = p
	m.buildNode(rng, base, 2*i+1, lo, hi)
	lo[q], hi[q] = p, oldHi
	m.buildNode(rng, base, 2*i+2, lo, hi)
	lo[q] = oldLo
}

func (m *HST) value(x []float32, q int32) float32 {
	v := x[q]
	if m.cfg.Min != nil {
		v = (v - m.cfg.Min[q]) * m.scale[q]
	}
	return v
}

// child returns the child of node i that x falls in; NaN goes right.
func (m *HST) child(x []float32, base, i int) int {
	n := &m.node[base+i]
	if m.value(x, n.dim) < n.split {
		return 2*i + 1
	}
	return 2*i + 2
}

// Ready reports whether one full window has been seen, so Score means
// something.
func (m *HST) Ready() bool { return m.window > 1 }

// Score returns the anomaly score of x in [0, 1], higher meaning more
// anomalous: 1 − s/(Trees·Window·2^Height), where s sums over trees the
// paper's mass·2^depth at the node where x's walk ends (a leaf, or the first
// node with reference mass below SizeLimit). Before the first window ends
// every point scores 1. x must hold Dims values. Score does not allocate.
func (m *HST) Score(x []float32) float64 {
	_ = x[m.cfg.Dims-1]
	var s float64
	for t := range m.cfg.Trees {
		base := t * m.nodes
		i, depth := 0, 0
		mass := m.refMass(&m.node[base])
		for 2*i+1 < m.nodes && float64(mass) >= m.cfg.SizeLimit {
			i = m.child(x, base, i)
			mass = m.refMass(&m.node[base+i])
			depth++
		}
		s += float64(mass) * float64(uint64(1)<<depth)
	}
	return 1 - s/m.maxScore
}

// Update adds x to the latest window's masses; at the end of a window the
// latest masses become the reference and start again from zero. Update does
// not allocate.
func (m *HST) Update(x []float32) {
	_ = x[m.cfg.Dims-1]
	for t := range m.cfg.Trees {
		base := t * m.nodes
		i := 0
		for {
			n := &m.node[base+i]
			if n.win != m.window {
				n.ref = m.refMass(n)
				n.lat, n.win = 0, m.window
			}
			n.lat++
			if 2*i+1 >= m.nodes {
				break
			}
			i = m.child(x, base, i)
		}
	}
	m.count++
	if m.count == m.cfg.Window {
		m.count = 0
		m.window++
	}
}
