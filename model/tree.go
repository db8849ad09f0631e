package model

import "sync"

// treeNode is an internal node of a regression tree. A child reference c >= 0
// is the index of another node, always greater than this node's own index (so
// every walk ends); c < 0 is the leaf ^c.
type treeNode struct {
	feature     int32
	threshold   float32  // values <= threshold go left
	child       [2]int32 // left (values <= threshold), right
	defaultLeft bool     // where NaN goes
	bin         uint8    // threshold as a training bin; unused after training
}

// tree is one regression tree. A tree with no node is a single leaf. Split
// gains sit apart so that the nodes prediction walks read stay small.
type tree struct {
	nodes  []treeNode
	gains  []float64 // loss reduction of each node's split, for importance
	leaves []float64
}

// leafOf returns the leaf a row of raw values lands in.
func (t *tree) leafOf(row []float32) int {
	if len(t.nodes) == 0 {
		return 0
	}
	i := int32(0)
	for {
		n := &t.nodes[i]
		v := row[n.feature]
		var next int32
		switch {
		case v != v:
			next = n.child[b2i(!n.defaultLeft)]
		case v <= n.threshold:
			next = n.child[0]
		default:
			next = n.child[1]
		}
		if next < 0 {
			return int(^next)
		}
		i = next
	}
}

// step moves a walk from node i one level down for row; it has no
// data-dependent branch except the rare NaN one, so walks of several rows can
// be interleaved without mispredictions serialising them.
func (t *tree) step(i int32, row []float32) int32 {
	n := &t.nodes[i]
	v := row[n.feature]
	next := n.child[b2i(v > n.threshold)]
	if v != v {
		next = n.child[b2i(!n.defaultLeft)]
	}
	return next
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// leafOfBinned is leafOf over training bins: row r of d.
func (t *tree) leafOfBinned(d *binned, r int32) int {
	if len(t.nodes) == 0 {
		return 0
	}
	i := int32(0)
	for {
		n := &t.nodes[i]
		bn := d.bin(r, int(n.feature))
		var next int32
		switch {
		case bn == missingBin:
			next = n.child[1]
			if n.defaultLeft {
				next = n.child[0]
			}
		case bn <= n.bin:
			next = n.child[0]
		default:
			next = n.child[1]
		}
		if next < 0 {
			return int(^next)
		}
		i = next
	}
}

// split is the best way found to split a leaf.
type split struct {
	ok          bool
	gain        float64
	feature     int
	bin         uint8
	defaultLeft bool
	lg, lh      float64 // sums over the left child
	ln          int
}

// growLeaf is a leaf of the tree being grown: rows idx[start:end] of the
// grower, their sums, and their histogram while the leaf may still split.
type growLeaf struct {
	start, end int
	depth      int
	g, h       float64
	n          int
	hist       []histBin
	best       split
	parent     int32 // node whose child this leaf is; -1 for the root
	isLeft     bool
}

// grower grows one tree at a time best-first, reusing its buffers.
type grower struct {
	d          *binned
	cfg        *GBDTConfig
	threads    int
	idx        []int32 // row indices, partitioned in place as leaves split
	scratch    []int32 // right rows during a partition
	gbuf       []float64
	hbuf       []float64
	pool       [][]histBin
	leaves     []growLeaf
	feats      []int
	g, h       []float64
	nodes      []treeNode
	gains      []float64
	leafRanges [][2]int // row ranges of the finished tree's leaves, in leaf order
}

func newGrower(d *binned, cfg *GBDTConfig, threads int) *grower {
	return &grower{d: d, cfg: cfg, threads: threads, idx: make([]int32, 0, d.rows), scratch: make([]int32, 0, d.rows),
		gbuf: make([]float64, d.rows), hbuf: make([]float64, d.rows)}
}

func (gr *grower) getHist() []histBin {
	if n := len(gr.pool); n > 0 {
		h := gr.pool[n-1]
		gr.pool = gr.pool[:n-1]
		return h
	}
	return make([]histBin, gr.d.histLen())
}

func (gr *grower) putHist(h []histBin) {
	if h != nil {
		gr.pool = append(gr.pool, h)
	}
}

// fillHist builds the histogram of leaf l from its rows.
func (gr *grower) fillHist(l *growLeaf) {
	rows := gr.idx[l.start:l.end]
	gs, hs := gr.gbuf[:len(rows)], gr.hbuf[:len(rows)]
	// Gathering gradients in row order makes the per-feature passes read
	// them sequentially.
	for i, r := range rows {
		gs[i], hs[i] = gr.g[r], gr.h[r]
	}
	l.hist = gr.getHist()
	gr.d.buildHist(l.hist, rows, gs, hs, gr.feats, gr.threads)
}

// canSplit reports whether leaf l is allowed to split at all.
func (gr *grower) canSplit(l *growLeaf) bool {
	return (gr.cfg.MaxDepth == 0 || l.depth < gr.cfg.MaxDepth) && l.n >= 2*gr.cfg.MinSamplesLeaf
}

// findSplit sets l.best from l.hist.
func (gr *grower) findSplit(l *growLeaf) {
	l.best = split{}
	cfg := gr.cfg
	lambda := cfg.Lambda
	parentScore := l.g * l.g / (l.h + lambda)
	bestGain := cfg.MinGain
	try := func(f, b int, defaultLeft bool, lg, lh float64, ln int) {
		rg, rh, rn := l.g-lg, l.h-lh, l.n-ln
		if ln < cfg.MinSamplesLeaf || rn < cfg.MinSamplesLeaf || lh < cfg.MinHessian || rh < cfg.MinHessian {
			return
		}
		gain := lg*lg/(lh+lambda) + rg*rg/(rh+lambda) - parentScore
		if gain > bestGain {
			bestGain = gain
			l.best = split{ok: true, gain: gain, feature: f, bin: uint8(b), defaultLeft: defaultLeft, lg: lg, lh: lh, ln: ln}
		}
	}
	d := gr.d
	for _, f := range gr.feats {
		nb := d.nbins[f]
		h := l.hist[f*histWidth : (f+1)*histWidth]
		miss := h[missingBin]
		var lg, lh float64
		var ln int
		for b := range nb {
			lg += h[b].g
			lh += h[b].h
			ln += h[b].n
			if miss.n == 0 {
				// No missing value seen: NaN at prediction time follows the
				// bigger side.
				if b < nb-1 {
					try(f, b, 2*ln >= l.n, lg, lh, ln)
				}
				continue
			}
			// Missing values right; at the last bin this separates missing
			// from present.
			try(f, b, false, lg, lh, ln)
			if b < nb-1 {
				try(f, b, true, lg+miss.g, lh+miss.h, ln+miss.n)
			}
		}
	}
}

// grow builds a tree over the rows idx with gradients g and hessians h, using
// the features feats. It leaves gr.idx partitioned by leaf, with
// gr.leafRanges giving each leaf's range.
func (gr *grower) grow(idx []int32, g, h []float64, feats []int) tree {
	gr.idx, gr.g, gr.h, gr.feats = idx, g, h, feats
	gr.nodes, gr.gains = nil, nil
	gr.leaves = gr.leaves[:0]
	cfg := gr.cfg

	root := growLeaf{start: 0, end: len(idx), parent: -1}
	for _, r := range idx {
		root.g += g[r]
		root.h += h[r]
	}
	root.n = len(idx)
	if gr.canSplit(&root) {
		gr.fillHist(&root)
		gr.findSplit(&root)
	}
	gr.leaves = append(gr.leaves, root)

	for len(gr.leaves) < cfg.MaxLeaves {
		bi := -1
		for i := range gr.leaves {
			if gr.leaves[i].best.ok && (bi < 0 || gr.leaves[i].best.gain > gr.leaves[bi].best.gain) {
				bi = i
			}
		}
		if bi < 0 {
			break
		}
		gr.splitLeaf(bi)
	}

	t := tree{nodes: gr.nodes, gains: gr.gains, leaves: make([]float64, len(gr.leaves))}
	gr.leafRanges = gr.leafRanges[:0]
	for i := range gr.leaves {
		l := &gr.leaves[i]
		gr.putHist(l.hist)
		l.hist = nil
		t.leaves[i] = -l.g / (l.h + cfg.Lambda) * cfg.LearningRate
		gr.leafRanges = append(gr.leafRanges, [2]int{l.start, l.end})
		if l.parent >= 0 {
			if l.isLeft {
				t.nodes[l.parent].child[0] = ^int32(i)
			} else {
				t.nodes[l.parent].child[1] = ^int32(i)
			}
		}
	}
	return t
}

// goesLeft reports whether bin bn of the split's feature sends its row left.
func goesLeft(bn uint8, s *split) bool {
	return bn <= s.bin && bn != missingBin || bn == missingBin && s.defaultLeft
}

// partition reorders rows, left rows first, each side in its original
// order, and returns the number of left rows. A large leaf is split into
// chunks partitioned in parallel: each writes its left rows to the front of
// its part of the scratch buffer and its right rows to the back, in reverse;
// the parts are then put together in order, so the result is the serial one.
func (gr *grower) partition(rows []int32, f int, s *split) int {
	d := gr.d
	threads := gr.threads
	if threads <= 1 || len(rows) < 1<<15 {
		nl := 0
		rest := gr.scratch[:0]
		for _, r := range rows {
			if goesLeft(d.bin(r, f), s) {
				rows[nl] = r
				nl++
			} else {
				rest = append(rest, r)
			}
		}
		copy(rows[nl:], rest)
		return nl
	}
	scratch := gr.scratch[:len(rows)]
	lefts := make([]int, threads)
	var wg sync.WaitGroup
	for t := range threads {
		lo, hi := t*len(rows)/threads, (t+1)*len(rows)/threads
		wg.Go(func() {
			front, back := lo, hi
			for _, r := range rows[lo:hi] {
				if goesLeft(d.bin(r, f), s) {
					scratch[front] = r
					front++
				} else {
					back--
					scratch[back] = r
				}
			}
			lefts[t] = front - lo
		})
	}
	wg.Wait()
	nl := 0
	for t := range threads {
		lo := t * len(rows) / threads
		nl += copy(rows[nl:], scratch[lo:lo+lefts[t]])
	}
	at := nl
	for t := range threads {
		lo, hi := t*len(rows)/threads, (t+1)*len(rows)/threads
		for i := hi - 1; i >= lo+lefts[t]; i-- {
			rows[at] = scratch[i]
			at++
		}
	}
	return nl
}

// splitLeaf replaces leaf bi by an internal node and two child leaves.
func (gr *grower) splitLeaf(bi int) {
	d := gr.d
	l := gr.leaves[bi]
	s := l.best
	f := s.feature

	// Stable partition, left rows first: rows stay in increasing order
	// within each leaf, so histogram passes read the bin columns forward.
	rows := gr.idx[l.start:l.end]
	nl := gr.partition(rows, f, &s)
	mid := l.start + nl

	ni := int32(len(gr.nodes))
	gr.nodes = append(gr.nodes, treeNode{feature: int32(f), threshold: binCut(d, f, s.bin), bin: s.bin,
		defaultLeft: s.defaultLeft})
	gr.gains = append(gr.gains, s.gain)
	if l.parent >= 0 {
		if l.isLeft {
			gr.nodes[l.parent].child[0] = ni
		} else {
			gr.nodes[l.parent].child[1] = ni
		}
	}

	left := growLeaf{start: l.start, end: mid, depth: l.depth + 1, parent: ni, isLeft: true,
		g: s.lg, h: s.lh, n: s.ln}
	right := growLeaf{start: mid, end: l.end, depth: l.depth + 1, parent: ni,
		g: l.g - s.lg, h: l.h - s.lh, n: l.n - s.ln}

	if gr.canSplit(&left) || gr.canSplit(&right) {
		// Build the smaller child's histogram and get the larger one's by
		// subtraction from the parent's, reusing the parent's buffer.
		small, large := &left, &right
		if right.n < left.n {
			small, large = &right, &left
		}
		gr.fillHist(small)
		d.subtractHist(l.hist, l.hist, small.hist, gr.feats)
		large.hist = l.hist
		for _, c := range []*growLeaf{&left, &right} {
			if gr.canSplit(c) {
				gr.findSplit(c)
			}
		}
	} else {
		gr.putHist(l.hist)
	}
	gr.leaves[bi] = left
	gr.leaves = append(gr.leaves, right)
}
