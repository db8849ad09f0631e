package eval

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// series is one line of a chart; X and Y have the same length.
type series struct {
	Name string
	X, Y []float64
}

// palette colours the lines of a chart in turn (Okabe-Ito, readable by
// colour-blind readers).
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255},
	color.RGBA{213, 94, 0, 255},
	color.RGBA{0, 158, 115, 255},
	color.RGBA{204, 121, 167, 255},
	color.RGBA{230, 159, 0, 255},
	color.RGBA{86, 180, 233, 255},
}

const chartWidth, chartHeight = 5 * vg.Inch, 3.6 * vg.Inch

// lineChart draws one line per series, with a legend, as an SVG document
// without its XML prolog, ready to inline in HTML. With diagonal, a grey
// dashed line from (0, 0) to (1, 1) marks a random model; unit fixes both
// axes to [0, 1].
func lineChart(title, xLabel, yLabel string, lines []series, unit, diagonal bool) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	if unit {
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	}
	if diagonal {
		d, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", title, err)
		}
		d.Color = color.Gray{Y: 160}
		d.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(d)
	}
	for i, s := range lines {
		xys := make(plotter.XYs, len(s.X))
		for j := range xys {
			xys[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("chart %s: series %s: %w", title, s.Name, err)
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.Name, l)
	}
	// The ROC curve hugs the top left, so its legend goes bottom right;
	// precision-recall curves and distributions fall to the right.
	p.Legend.Top = !diagonal
	return renderSVG(p)
}

// barChart draws horizontal bars, the first value at the top.
func barChart(title, xLabel string, names []string, values []float64) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	n := len(values)
	vs := make(plotter.Values, n)
	labels := make([]string, n)
	for i := range n {
		// Bars go bottom-up: reverse so that the largest is on top.
		vs[i], labels[i] = values[n-1-i], names[n-1-i]
	}
	bars, err := plotter.NewBarChart(vs, vg.Points(9))
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", title, err)
	}
	bars.Horizontal = true
	bars.Color = palette[0]
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.NominalY(labels...)
	p.X.Min = 0
	h := max(chartHeight, vg.Points(float64(14*n+70)))
	return renderSVGSize(p, chartWidth+vg.Inch, h)
}

func renderSVG(p *plot.Plot) ([]byte, error) { return renderSVGSize(p, chartWidth, chartHeight) }

// renderSVGSize draws p on a w × h SVG canvas and returns the document from
// its <svg> element on: the XML declaration and comment are not valid inside
// HTML.
func renderSVGSize(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render svg: %w", err)
	}
	b := buf.Bytes()
	i := bytes.Index(b, []byte("<svg"))
	if i < 0 {
		return nil, fmt.Errorf("render svg: no <svg> element")
	}
	return b[i:], nil
}
