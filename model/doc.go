// Package model holds the learning side of occsimore: histogram-based
// gradient-boosted trees for labelled fraud, Half-Space Trees for streams with
// no labels, and the metrics the handbook evaluates with (ROC AUC, average
// precision, Card Precision@k).
//
// The package is pure: it does no I/O beyond encoding models to and from byte
// slices handed over by the caller.
//
// The metric functions expect scores without NaN, and panic when their
// slices differ in length, as that is a bug in the caller.
package model
