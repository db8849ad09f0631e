// Package eval replays a labelled card transaction file through the behaviour
// engine and scores a gradient-boosted model on it with the Fraud Detection
// Handbook's protocol (train week, delay week, test week, known compromised
// cards removed), so that its metrics compare with the published ones.
//
// The package is pure: it reads only the io.Reader it is given.
package eval

import (
	"time"

	"github.com/occsimore/occsimore"
)

const day = 24 * time.Hour

// Protocol is the split of a transaction file into a training window, a delay
// and a test window, all whole UTC days.
type Protocol struct {
	TrainStart time.Time `json:"train_start"` // midnight UTC of the first training day
	TrainDays  int       `json:"train_days"`
	DelayDays  int       `json:"delay_days"` // also the label delay
	TestDays   int       `json:"test_days"`
	// Weeks is how many windows are evaluated and averaged, each shifted 7
	// days after the previous, as the handbook's chapters 5 to 7 average
	// four weeks; 0 means 1.
	Weeks int `json:"weeks,omitempty"`
}

// maxWeeks bounds Weeks: a year of weekly windows.
const maxWeeks = 52

// HandbookProtocol is the handbook's: train 2018-07-25 to 07-31, a 7-day
// delay, test 2018-08-08 to 08-14.
func HandbookProtocol() Protocol {
	return Protocol{
		TrainStart: time.Date(2018, 7, 25, 0, 0, 0, 0, time.UTC),
		TrainDays:  7,
		DelayDays:  7,
		TestDays:   7,
	}
}

// Validate checks the protocol; errors are EINVALID naming the field.
func (p Protocol) Validate() error {
	switch {
	case p.TrainStart.IsZero():
		return occsimore.FieldErrorf("train_start", "train_start is required")
	case !p.TrainStart.Equal(p.TrainStart.UTC().Truncate(day)):
		return occsimore.FieldErrorf("train_start", "train_start %s must be midnight UTC", p.TrainStart.Format(time.RFC3339))
	case p.TrainDays < 1 || p.TrainDays > 366:
		return occsimore.FieldErrorf("train_days", "train_days %d is not in [1, 366]", p.TrainDays)
	case p.DelayDays < 0 || p.DelayDays > 366:
		return occsimore.FieldErrorf("delay_days", "delay_days %d is not in [0, 366]", p.DelayDays)
	case p.TestDays < 1 || p.TestDays > 366:
		return occsimore.FieldErrorf("test_days", "test_days %d is not in [1, 366]", p.TestDays)
	case p.Weeks < 0 || p.Weeks > maxWeeks:
		return occsimore.FieldErrorf("weeks", "weeks %d is not in [1, %d]", p.Weeks, maxWeeks)
	}
	return nil
}

// NumWindows is the number of weekly windows, at least 1.
func (p Protocol) NumWindows() int { return max(p.Weeks, 1) }

// Windows returns the weekly windows of p, each a one-week protocol whose
// training starts 7 days after the previous one's.
func (p Protocol) Windows() []Protocol {
	ws := make([]Protocol, p.NumWindows())
	for i := range ws {
		w := p
		w.TrainStart = p.TrainStart.AddDate(0, 0, 7*i)
		w.Weeks = 1
		ws[i] = w
	}
	return ws
}

// TrainEnd is the end (exclusive) of the training window.
func (p Protocol) TrainEnd() time.Time { return p.TrainStart.Add(time.Duration(p.TrainDays) * day) }

// TestStart is the first instant of the test window.
func (p Protocol) TestStart() time.Time {
	return p.TrainEnd().Add(time.Duration(p.DelayDays) * day)
}

// TestEnd is the end (exclusive) of the test window.
func (p Protocol) TestEnd() time.Time { return p.TestStart().Add(time.Duration(p.TestDays) * day) }

// LabelDelay is how long after a transaction its label becomes known.
func (p Protocol) LabelDelay() time.Duration { return time.Duration(p.DelayDays) * day }

// dayIndex is the whole UTC days from the training start to t (negative
// before it).
func (p Protocol) dayIndex(t time.Time) int {
	d := t.Sub(p.TrainStart)
	if d < 0 {
		return -int((-d + day - 1) / day)
	}
	return int(d / day)
}

// Published is one row of the handbook's results on its test week.
type Published struct {
	Source string  `json:"source"`
	Model  string  `json:"model"`
	AUC    float64 `json:"auc_roc"`
	AP     float64 `json:"average_precision"`
	CP100  float64 `json:"card_precision_at_100"`
}

// PublishedResults returns the handbook's published results
// (REFERENCES.md §1), best to compare with first being Ch. 6's 0.879 AUC and
// 0.305 CP@100 and Ch. 5's 0.687 AP. A fresh slice each call.
func PublishedResults() []Published {
	return []Published{
		{"Ch. 3 baseline", "logistic regression", 0.871, 0.606, 0.291},
		{"Ch. 3 baseline", "decision tree depth 2", 0.763, 0.496, 0.241},
		{"Ch. 3 baseline", "random forest", 0.867, 0.658, 0.287},
		{"Ch. 3 baseline", "XGBoost", 0.862, 0.639, 0.273},
		{"Ch. 5 model selection", "random forest", 0.870, 0.678, 0.299},
		{"Ch. 5 model selection", "XGBoost", 0.869, 0.687, 0.303},
		{"Ch. 6 imbalanced", "balanced bagging", 0.879, 0.680, 0.305},
		{"Ch. 7 deep learning", "feed-forward network", 0.876, 0.675, 0.303},
		{"Ch. 7 deep learning", "autoencoder (unsupervised)", 0.836, 0.180, 0.217},
		{"—", "random", 0.5, 0.007, 0.017},
	}
}
