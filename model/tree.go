package model

import (
	"slices"
	"sync"
	"sync/atomic"
)

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
		bn := d.bin(r, d.column[n.feature])
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
	feature     int // a column of the binned matrix
	bin         uint8
	defaultLeft bool
	lg, lh      float64 // sums over the left child
	ln          int
}

// better reports whether candidate c, found over later features than s,
// replaces s: what one pass over all the features in order would have kept.
func (s *split) better(c *split) bool { return c.ok && (!s.ok || c.gain > s.gain) }

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

// grower grows one tree at a time, reusing its buffers. With a depth limit
// and room for every leaf that limit allows, it grows level by level, every
// level's histograms in one parallel pass; otherwise best-first (leaf-wise).
// Both give the same tree, node for node.
type grower struct {
	d          *binned
	cfg        *GBDTConfig
	threads    int
	bestFirst  bool    // grow best-first even when level by level would do
	minTask    int     // least histogram work (rows × features) worth a task
	idx        []int32 // row indices, partitioned in place as leaves split
	scratch    []int32 // partition buffer, at the same positions as idx
	gbuf       []float64
	hbuf       []float64
	pool       [][]histBin
	leaves     []growLeaf
	feats      []int // columns of the binned matrix the tree may split on
	run        bool  // feats is a run of consecutive columns
	g, h       []float64
	nodes      []treeNode
	gains      []float64
	leafRanges [][2]int // row ranges of the finished tree's leaves, in leaf order
	pairs      []histPair
	tasks      []histTask
	verts      []vertex
}

func newGrower(d *binned, cfg *GBDTConfig, threads int) *grower {
	return &grower{d: d, cfg: cfg, threads: threads, minTask: 1 << 14,
		idx: make([]int32, 0, d.rows), scratch: make([]int32, d.rows),
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

// canSplit reports whether leaf l is allowed to split at all.
func (gr *grower) canSplit(l *growLeaf) bool {
	return (gr.cfg.MaxDepth == 0 || l.depth < gr.cfg.MaxDepth) && l.n >= 2*gr.cfg.MinSamplesLeaf
}

// findSplit returns the best split of leaf l over the features fs, from
// l.hist.
func (gr *grower) findSplit(l *growLeaf, fs []int) split {
	var best split
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
			best = split{ok: true, gain: gain, feature: f, bin: uint8(b), defaultLeft: defaultLeft, lg: lg, lh: lh, ln: ln}
		}
	}
	d := gr.d
	for _, f := range fs {
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
	return best
}

// histPair is the histogram work of one split: build the histogram of the
// smaller child from its rows, turn the parent's histogram (already in
// large.hist) into the larger child's by subtraction, and find both
// children's best splits. The root is a pair with no larger child.
type histPair struct {
	small, large *growLeaf
	best         [][2]split // per feature chunk: small's, large's
}

// histTask is one feature chunk of a pair: the features gr.feats[lo:hi].
type histTask struct {
	pair, chunk, lo, hi int
	work                int
}

// runPairs does the work of pairs, whose small children hold a histogram
// buffer. The features of a pair are cut into chunks, more for pairs with
// more rows, and the chunks of all the pairs shared out among the threads,
// biggest first; each bin is still summed by one goroutine in row order, and
// the chunks' best splits are merged in feature order, so the result does not
// depend on the threads or the chunks.
func (gr *grower) runPairs(pairs []histPair) {
	// Gradients gathered in row order, at the rows' positions in idx, so
	// that every chunk reads them sequentially.
	work := 0
	for i := range pairs {
		work += pairs[i].small.n
	}
	gr.forEach(len(pairs), work >= 1<<15, func(i int) {
		s := pairs[i].small
		gs, hs := gr.gbuf[s.start:s.end], gr.hbuf[s.start:s.end]
		for k, r := range gr.idx[s.start:s.end] {
			gs[k], hs[k] = gr.g[r], gr.h[r]
		}
	})

	nf := len(gr.feats)
	// Four tasks per thread, at least minTask each, balance the threads
	// without cutting the rows' bins into too many passes.
	target := max(work*nf/(4*gr.threads), gr.minTask)
	tasks := gr.tasks[:0]
	for pi := range pairs {
		p := &pairs[pi]
		w := p.small.n * nf
		chunks := min(max((w+target-1)/target, 1), nf)
		if gr.threads <= 1 {
			chunks = 1
		}
		p.best = slices.Grow(p.best[:0], chunks)[:chunks]
		for c := range chunks {
			lo, hi := c*nf/chunks, (c+1)*nf/chunks
			tasks = append(tasks, histTask{pair: pi, chunk: c, lo: lo, hi: hi, work: p.small.n * (hi - lo)})
		}
	}
	slices.SortStableFunc(tasks, func(a, b histTask) int { return b.work - a.work })
	gr.tasks = tasks
	gr.forEach(len(tasks), len(tasks) > 1, func(i int) {
		t := &tasks[i]
		p := &pairs[t.pair]
		fs := gr.feats[t.lo:t.hi]
		s, l := p.small, p.large
		gr.d.histFeats(s.hist, gr.idx[s.start:s.end], gr.gbuf[s.start:s.end], gr.hbuf[s.start:s.end], fs, gr.run)
		var bs, bl split
		if gr.canSplit(s) {
			bs = gr.findSplit(s, fs)
		}
		if l != nil {
			subtractHist(l.hist, s.hist, fs)
			if gr.canSplit(l) {
				bl = gr.findSplit(l, fs)
			}
		}
		p.best[t.chunk] = [2]split{bs, bl}
	})
	for i := range pairs {
		p := &pairs[i]
		p.small.best = split{}
		if p.large != nil {
			p.large.best = split{}
		}
		for _, b := range p.best {
			if p.small.best.better(&b[0]) {
				p.small.best = b[0]
			}
			if p.large != nil && p.large.best.better(&b[1]) {
				p.large.best = b[1]
			}
		}
	}
}

// forEach calls fn(0) to fn(n-1), on up to gr.threads goroutines if
// parallel, each taking the next index as it goes.
func (gr *grower) forEach(n int, parallel bool, fn func(i int)) {
	workers := min(gr.threads, n)
	if !parallel || workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// grow builds a tree over the rows idx with gradients g and hessians h, using
// the columns feats (increasing). It leaves gr.idx partitioned by leaf, with
// gr.leafRanges giving each leaf's range.
func (gr *grower) grow(idx []int32, g, h []float64, feats []int) tree {
	gr.idx, gr.g, gr.h, gr.feats = idx, g, h, feats
	gr.run = len(feats) > 0 && feats[len(feats)-1]-feats[0] == len(feats)-1
	gr.nodes, gr.gains = nil, nil
	cfg := gr.cfg

	root := growLeaf{start: 0, end: len(idx), parent: -1}
	for _, r := range idx {
		root.g += g[r]
		root.h += h[r]
	}
	root.n = len(idx)
	if gr.canSplit(&root) && len(feats) > 0 {
		root.hist = gr.getHist()
		gr.runPairs(append(gr.pairs[:0], histPair{small: &root}))
	}
	if !gr.bestFirst && cfg.MaxDepth > 0 && cfg.MaxDepth < 31 && cfg.MaxLeaves >= 1<<cfg.MaxDepth {
		gr.growLevels(root)
	} else {
		gr.leaves = append(gr.leaves[:0], root)
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

// addNode appends the internal node of leaf l's best split, linked from its
// parent, and returns its index.
func (gr *grower) addNode(l *growLeaf) int32 {
	s := &l.best
	ni := int32(len(gr.nodes))
	gr.nodes = append(gr.nodes, treeNode{feature: int32(gr.d.feature[s.feature]), threshold: binCut(gr.d, s.feature, s.bin), bin: s.bin,
		defaultLeft: s.defaultLeft})
	gr.gains = append(gr.gains, s.gain)
	if l.parent >= 0 {
		if l.isLeft {
			gr.nodes[l.parent].child[0] = ni
		} else {
			gr.nodes[l.parent].child[1] = ni
		}
	}
	return ni
}

// children partitions leaf l's rows by its best split, stable, left rows
// first (so rows stay in increasing order within each leaf and histogram
// passes read the bins forward), and returns its two children.
func (gr *grower) children(l *growLeaf, threads int) (left, right growLeaf) {
	s := &l.best
	nl := gr.d.partition(gr.idx[l.start:l.end], gr.scratch[l.start:l.end], s.feature, s, threads)
	mid := l.start + nl
	left = growLeaf{start: l.start, end: mid, depth: l.depth + 1, parent: -1, isLeft: true, g: s.lg, h: s.lh, n: s.ln}
	right = growLeaf{start: mid, end: l.end, depth: l.depth + 1, parent: -1, g: l.g - s.lg, h: l.h - s.lh, n: l.n - s.ln}
	return left, right
}

// pair returns the histogram work of splitting parent into left and right,
// handing the parent's histogram to the larger child, or false (and the
// parent's histogram back to the pool) if neither child may split.
func (gr *grower) pair(parent, left, right *growLeaf) (histPair, bool) {
	hist := parent.hist
	parent.hist = nil
	if !gr.canSplit(left) && !gr.canSplit(right) {
		gr.putHist(hist)
		return histPair{}, false
	}
	small, large := left, right
	if right.n < left.n {
		small, large = right, left
	}
	small.hist, large.hist = gr.getHist(), hist
	return histPair{small: small, large: large}, true
}

// splitLeaf replaces leaf bi by an internal node and two child leaves.
func (gr *grower) splitLeaf(bi int) {
	l := &gr.leaves[bi]
	left, right := gr.children(l, gr.threads)
	ni := gr.addNode(l)
	left.parent, right.parent = ni, ni
	if p, ok := gr.pair(l, &left, &right); ok {
		gr.runPairs(append(gr.pairs[:0], p))
	}
	gr.leaves[bi] = left
	gr.leaves = append(gr.leaves, right)
}

// vertex is a leaf of the level-by-level growth, split or not.
type vertex struct {
	leaf  growLeaf
	split bool
	kids  [2]int // vertices of the children when split
}

// growLevels grows the tree from root level by level: it partitions the
// rows of every leaf of a level that has a split, then does all the
// children's histogram work in one runPairs. With a depth limit and room for
// every leaf, best-first growth splits the same leaves the same way, only in
// another order; growLevels then replays that order, so that nodes and
// leaves come out numbered as best-first numbers them.
func (gr *grower) growLevels(root growLeaf) {
	verts := append(gr.verts[:0], vertex{leaf: root})
	var level, splitting []int
	level = append(level, 0)
	for len(level) > 0 {
		splitting = splitting[:0]
		for _, v := range level {
			if verts[v].leaf.best.ok {
				splitting = append(splitting, v)
			} else {
				gr.putHist(verts[v].leaf.hist)
				verts[v].leaf.hist = nil
			}
		}
		// Big leaves are partitioned one after the other by all the
		// threads, the others each by one thread, all at once.
		kids := make([][2]growLeaf, len(splitting))
		for i, v := range splitting {
			if l := &verts[v].leaf; l.n >= 1<<15 {
				kids[i][0], kids[i][1] = gr.children(l, gr.threads)
			}
		}
		gr.forEach(len(splitting), true, func(i int) {
			if l := &verts[splitting[i]].leaf; l.n < 1<<15 {
				kids[i][0], kids[i][1] = gr.children(l, 1)
			}
		})
		level = level[:0]
		for i, v := range splitting {
			verts[v].split = true
			verts[v].kids = [2]int{len(verts), len(verts) + 1}
			level = append(level, len(verts), len(verts)+1)
			verts = append(verts, vertex{leaf: kids[i][0]}, vertex{leaf: kids[i][1]})
		}
		pairs := gr.pairs[:0]
		for _, v := range splitting {
			k := verts[v].kids
			if p, ok := gr.pair(&verts[v].leaf, &verts[k[0]].leaf, &verts[k[1]].leaf); ok {
				pairs = append(pairs, p)
			}
		}
		if len(pairs) > 0 {
			gr.runPairs(pairs)
		}
		gr.pairs = pairs
	}
	gr.verts = verts

	// Replay best-first: split the leaf with the biggest gain, the first
	// such in leaf order, until none is left to split.
	front := []int{0}
	for {
		bi := -1
		for i, v := range front {
			if verts[v].split && (bi < 0 || verts[v].leaf.best.gain > verts[front[bi]].leaf.best.gain) {
				bi = i
			}
		}
		if bi < 0 {
			break
		}
		v := &verts[front[bi]]
		ni := gr.addNode(&v.leaf)
		for i, k := range v.kids {
			verts[k].leaf.parent, verts[k].leaf.isLeft = ni, i == 0
		}
		front[bi] = v.kids[0]
		front = append(front, v.kids[1])
	}
	gr.leaves = gr.leaves[:0]
	for _, v := range front {
		gr.leaves = append(gr.leaves, verts[v].leaf)
	}
}
