package model

import "math"

// maxFlatDepth is the deepest tree flatForest lays out: a tree of depth d
// takes 2^d-1 nodes and 2^d leaves, padded or not.
const maxFlatDepth = 8

// flatNode is an internal node of a flatForest: 8 bytes, so a depth-6 tree's
// 63 nodes fill 8 cache lines.
type flatNode struct {
	threshold float32 // values <= threshold go left
	// fx is the feature, with bit 31 set when NaN goes right.
	fx uint32
}

const nanRightBit = 1 << 31

// flatForest is a GBDT's trees laid out for batch prediction: every tree is
// padded to the same depth as a complete binary tree, node i having children
// 2i+1 and 2i+2, so that a walk is exactly depth steps with no child to load
// and no test for having reached a leaf. A leaf above the full depth becomes
// a subtree of nodes that send every row left (threshold +Inf, NaN left),
// all of whose leaves hold its value.
type flatForest struct {
	depth  int
	nodes  []flatNode // 2^depth per tree, the last one unused, then 256 spare
	leaves []float64  // 2^depth per tree
}

// newFlatForest lays out trees, or returns nil if one is deeper than
// maxFlatDepth.
func newFlatForest(trees []tree) *flatForest {
	depth := 0
	for i := range trees {
		depth = max(depth, trees[i].depth())
		if depth > maxFlatDepth {
			return nil
		}
	}
	inner := 1<<depth - 1
	ff := &flatForest{depth: depth, nodes: make([]flatNode, (inner+1)*len(trees)+256), leaves: make([]float64, (inner+1)*len(trees))}
	for ti := range trees {
		t := &trees[ti]
		nodes := ff.nodes[ti*(inner+1) : (ti+1)*(inner+1)]
		leaves := ff.leaves[ti*(inner+1) : (ti+1)*(inner+1)]
		var place func(ref int32, pos, level int)
		place = func(ref int32, pos, level int) {
			if ref >= 0 {
				n := &t.nodes[ref]
				fx := uint32(n.feature)
				if !n.defaultLeft {
					fx |= nanRightBit
				}
				nodes[pos] = flatNode{threshold: n.threshold, fx: fx}
				place(n.child[0], 2*pos+1, level+1)
				place(n.child[1], 2*pos+2, level+1)
				return
			}
			v := t.leaves[^ref]
			// The subtree under pos: its nodes send every row left, its
			// leaves all hold v.
			first, count := pos, 1
			for range depth - level {
				for i := first; i < first+count; i++ {
					nodes[i] = flatNode{threshold: float32(math.Inf(1))}
				}
				first, count = 2*first+1, 2*count
			}
			for i := first; i < first+count; i++ {
				leaves[i-inner] = v
			}
		}
		root := int32(0)
		if len(t.nodes) == 0 {
			root = ^int32(0)
		}
		place(root, 0, 0)
	}
	return ff
}

// depth returns the number of nodes on the tree's longest walk.
func (t *tree) depth() int {
	if len(t.nodes) == 0 {
		return 0
	}
	// Children come after their parent, so one backward pass sees every
	// child's depth before its parent's.
	d := make([]int, len(t.nodes))
	for i := len(t.nodes) - 1; i >= 0; i-- {
		for _, c := range t.nodes[i].child {
			if c >= 0 {
				d[i] = max(d[i], d[c])
			}
		}
		d[i]++
	}
	return d[0]
}

// predictTile adds the margins of rows lo to lo+len(out) of X to out, tree
// by tree. The rows of the tile walk each tree level by level: their walks
// are independent, so the CPU overlaps them, and a walk's step has no
// data-dependent branch, NaN included, so that missing values, frequent in
// fraud features, cost no misprediction.
func (ff *flatForest) predictTile(X Matrix, lo int, out []float64, cur []uint32) {
	cols := X.Cols
	data := X.Data[lo*cols : (lo+len(out))*cols]
	cur = cur[:len(out)]
	inner := 1<<ff.depth - 1
	ntrees := len(ff.leaves) / (inner + 1)
	for ti := range ntrees {
		// Seen as an array of 256 indexed by a byte, the nodes need no
		// bounds check; inner is at most 255 and ff.nodes has 256 spare
		// nodes at its end.
		nodes := (*[256]flatNode)(ff.nodes[ti*(inner+1):])
		leaves := ff.leaves[ti*(inner+1) : (ti+1)*(inner+1)]
		clear(cur)
		for range ff.depth {
			off := 0
			for k, i := range cur {
				n := nodes[uint8(i)]
				v := data[off+int(n.fx&^nanRightBit)]
				right := b2u(v > n.threshold) | b2u(v != v)&(n.fx>>31)
				cur[k] = 2*i + 1 + right
				off += cols
			}
		}
		for k, i := range cur {
			out[k] += leaves[int(i)-inner]
		}
	}
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
