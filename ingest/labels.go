package ingest

import (
	"io"
	"strconv"

	"github.com/occsimore/occsimore"
)

// LabelledCSV reads the handbook's raw CSV with its TX_FRAUD labels, for
// training.
type LabelledCSV struct {
	r      *CSVReader
	column string
}

// NewLabelledCSV reads r in the handbook's raw format.
func NewLabelledCSV(r io.Reader) (*LabelledCSV, error) {
	mp := HandbookMapping()
	cr, err := NewCSV(r, mp)
	if err != nil {
		return nil, err
	}
	return &LabelledCSV{r: cr, column: mp.Columns["label"]}, nil
}

// Line is the line of the last event read.
func (c *LabelledCSV) Line() int { return c.r.Line() }

// Next reads the next event and its label; io.EOF ends the stream.
func (c *LabelledCSV) Next(ev *occsimore.Event) (fraud bool, err error) {
	if err := c.r.Next(ev); err != nil {
		return false, err
	}
	fraud, ok := c.r.Label()
	if !ok {
		return false, occsimore.FieldErrorf("label", "line %d: column %s: missing label", c.r.Line(), c.column)
	}
	return fraud, nil
}

// LabelledNDJSON reads events whose attrs.fraud is "0" or "1", as
// `occsimore simulate cards --labels` writes them, and removes the label
// attributes before the engine sees them.
type LabelledNDJSON struct{ d *NDJSONReader }

// NewLabelledNDJSON reads r line by line.
func NewLabelledNDJSON(r io.Reader) *LabelledNDJSON { return &LabelledNDJSON{d: NewNDJSON(r, 0)} }

// Line is the line of the last event read.
func (n *LabelledNDJSON) Line() int { return n.d.Line() }

// Next reads the next event and its label; io.EOF ends the stream.
func (n *LabelledNDJSON) Next(ev *occsimore.Event) (fraud bool, err error) {
	if err := n.d.Next(ev); err != nil {
		return false, err
	}
	v, ok := ev.Attrs["fraud"]
	if !ok {
		return false, occsimore.FieldErrorf("attrs.fraud", "line %d: attrs.fraud is missing: every training event needs a label", n.d.Line())
	}
	fraud, err = strconv.ParseBool(v)
	if err != nil {
		return false, occsimore.FieldErrorf("attrs.fraud", "line %d: attrs.fraud %q is not 0 or 1", n.d.Line(), v)
	}
	delete(ev.Attrs, "fraud")
	delete(ev.Attrs, "fraud_scenario")
	return fraud, nil
}
