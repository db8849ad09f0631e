package model

import (
	"cmp"
	"math"
	"slices"
)

// ranked returns the indices of scores sorted by decreasing score. Ties keep
// input order; every metric below treats a tie group as one threshold, so the
// order inside a group never changes a result.
func ranked(scores []float64) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	return idx
}

func checkLen(scores []float64, labels []bool) {
	if len(scores) != len(labels) {
		panic("model: scores and labels differ in length")
	}
}

// ROCAUC returns the area under the ROC curve: the probability that a random
// positive scores above a random negative, ties counting one half
// (Mann-Whitney U with averaged ranks). It returns NaN when labels hold no
// positive or no negative, as the AUC is undefined then. It panics if the
// slices differ in length. NaN scores are not allowed.
func ROCAUC(scores []float64, labels []bool) float64 {
	checkLen(scores, labels)
	idx := ranked(scores)
	var pos, neg int
	for _, l := range labels {
		if l {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	var u float64 // (positive, negative) pairs won, ties as 1/2
	negBelow := neg
	// Walk from the highest score down; for each tie group, every positive in
	// it beats the negatives below the group and ties with those inside it.
	for i := 0; i < len(idx); {
		j := i
		var p, n int
		for ; j < len(idx) && scores[idx[j]] == scores[idx[i]]; j++ {
			if labels[idx[j]] {
				p++
			} else {
				n++
			}
		}
		negBelow -= n
		u += float64(p) * (float64(negBelow) + float64(n)/2)
		i = j
	}
	return u / (float64(pos) * float64(neg))
}

// AveragePrecision returns sum_n (R_n - R_{n-1}) P_n over the distinct score
// thresholds taken in decreasing order, with P_n and R_n the precision and
// recall of "score >= threshold n". It is scikit-learn's
// average_precision_score: tied scores form one threshold, and there is no
// interpolation. It returns NaN when there is no positive.
func AveragePrecision(scores []float64, labels []bool) float64 {
	checkLen(scores, labels)
	var pos int
	for _, l := range labels {
		if l {
			pos++
		}
	}
	if pos == 0 {
		return math.NaN()
	}
	idx := ranked(scores)
	var ap float64
	var tp, n int
	for i := 0; i < len(idx); {
		thr, before := scores[idx[i]], tp
		for ; i < len(idx) && scores[idx[i]] == thr; i++ {
			n++
			if labels[idx[i]] {
				tp++
			}
		}
		// Recall rises by (tp-before)/pos at this threshold; precision is tp/n.
		ap += float64(tp-before) / float64(pos) * float64(tp) / float64(n)
	}
	return ap
}

// ROCPoint is one point of a ROC curve: predicting positive when
// score >= Threshold gives false-positive rate FPR and true-positive rate TPR.
type ROCPoint struct {
	Threshold float64
	FPR, TPR  float64
}

// ROCCurve returns one point per distinct score, in decreasing threshold
// order, preceded by (+Inf, 0, 0). Rates are NaN for a class that is absent.
func ROCCurve(scores []float64, labels []bool) []ROCPoint {
	checkLen(scores, labels)
	var pos, neg int
	for _, l := range labels {
		if l {
			pos++
		} else {
			neg++
		}
	}
	pts := []ROCPoint{{Threshold: math.Inf(1), FPR: rate(0, neg), TPR: rate(0, pos)}}
	idx := ranked(scores)
	var tp, fp int
	for i := 0; i < len(idx); {
		thr := scores[idx[i]]
		for ; i < len(idx) && scores[idx[i]] == thr; i++ {
			if labels[idx[i]] {
				tp++
			} else {
				fp++
			}
		}
		pts = append(pts, ROCPoint{Threshold: thr, FPR: rate(fp, neg), TPR: rate(tp, pos)})
	}
	return pts
}

func rate(k, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(k) / float64(n)
}

// PRPoint is the precision and recall of predicting positive when
// score >= Threshold.
type PRPoint struct {
	Threshold         float64
	Precision, Recall float64
}

// PRCurve returns one point per distinct score, in decreasing threshold order
// (so recall never decreases along the slice). Recall is NaN when there is no
// positive.
func PRCurve(scores []float64, labels []bool) []PRPoint {
	checkLen(scores, labels)
	var pos int
	for _, l := range labels {
		if l {
			pos++
		}
	}
	idx := ranked(scores)
	pts := make([]PRPoint, 0, 64)
	var tp, n int
	for i := 0; i < len(idx); {
		thr := scores[idx[i]]
		for ; i < len(idx) && scores[idx[i]] == thr; i++ {
			n++
			if labels[idx[i]] {
				tp++
			}
		}
		pts = append(pts, PRPoint{Threshold: thr, Precision: float64(tp) / float64(n), Recall: rate(tp, pos)})
	}
	return pts
}

// PrecisionRecallAt returns, for each threshold t, the precision and recall of
// predicting positive when score >= t. Precision is NaN when nothing scores
// at or above t, recall is NaN when there is no positive.
func PrecisionRecallAt(scores []float64, labels []bool, thresholds []float64) []PRPoint {
	checkLen(scores, labels)
	var pos int
	for _, l := range labels {
		if l {
			pos++
		}
	}
	out := make([]PRPoint, len(thresholds))
	for k, t := range thresholds {
		var tp, n int
		for i, s := range scores {
			if s >= t {
				n++
				if labels[i] {
					tp++
				}
			}
		}
		out[k] = PRPoint{Threshold: t, Precision: rate(tp, n), Recall: rate(tp, pos)}
	}
	return out
}

// CardPrecisionAtK is the handbook's Card Precision@k. For each day, a card's
// score is the maximum over its transactions that day and the card counts as
// compromised if any of them is a fraud; the k best-scored cards are taken and
// the compromised ones among them divided by k (by k even when the day has
// fewer than k cards, as in the handbook). The result is the mean over the
// distinct days present.
//
// Cards tied across the k-th place are resolved by expectation: if r places
// remain for a tie group of m cards holding c compromised ones, the group adds
// r·c/m. This is the mean over all orderings of the tie, so the result does
// not depend on input order (a constant scorer gets the base rate). It
// returns NaN when there are no rows or k < 1. It panics if the slices
// differ in length.
func CardPrecisionAtK[C comparable](days []int, cards []C, scores []float64, labels []bool, k int) float64 {
	checkLen(scores, labels)
	if len(days) != len(scores) || len(cards) != len(scores) {
		panic("model: days, cards, scores and labels differ in length")
	}
	if len(scores) == 0 || k < 1 {
		return math.NaN()
	}
	type key struct {
		day  int
		card C
	}
	type agg struct {
		score float64
		fraud bool
	}
	byCard := make(map[key]agg)
	for i, d := range days {
		kk := key{d, cards[i]}
		a, ok := byCard[kk]
		if !ok || scores[i] > a.score {
			a.score = scores[i]
		}
		a.fraud = a.fraud || labels[i]
		byCard[kk] = a
	}
	perDay := make(map[int][]agg)
	for kk, a := range byCard {
		perDay[kk.day] = append(perDay[kk.day], a)
	}
	var sum float64
	for _, cs := range perDay {
		slices.SortFunc(cs, func(a, b agg) int { return cmp.Compare(b.score, a.score) })
		var hit float64
		left := k
		for i := 0; i < len(cs) && left > 0; {
			j, c := i, 0
			for ; j < len(cs) && cs[j].score == cs[i].score; j++ {
				if cs[j].fraud {
					c++
				}
			}
			m := j - i
			if m <= left {
				hit += float64(c)
				left -= m
			} else {
				hit += float64(left) * float64(c) / float64(m)
				left = 0
			}
			i = j
		}
		sum += hit / float64(k)
	}
	return sum / float64(len(perDay))
}
