package web

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"html/template"
	"image/color"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/occsimore/occsimore"
)

// The Attacks page shows this many complete days, forecasts this many ahead
// and lists this many recent attacks.
const (
	attackHistoryDays = 56
	attackHorizonDays = 14
	attacksPageSize   = 50
)

const oneDay = 24 * time.Hour

// SetAttacks adds the Attacks area over attacks and their reports. Call it
// once, before Handler; without it the area keeps its placeholder.
func (c *Console) SetAttacks(attacks occsimore.AttackService, reports occsimore.AttackReportService) {
	c.attacks, c.reports = attacks, reports
	c.Handle("GET /attacks", http.HandlerFunc(c.attacksPage))
}

// attacksView is the data of the Attacks page.
type attacksView struct {
	Member        *attackChart
	Sector        string
	SectorMembers int
	SectorChart   *attackChart // nil when the sector is too small to show
	MinSector     int
	Attacks       []*occsimore.Attack
	Days          int
	Horizon       int
}

// attackChart is one series of daily counts with its analysis.
type attackChart struct {
	ID       string // prefix of element IDs
	Title    string
	Percent  float64 // coverage of the forecast band
	SVG      template.HTML
	Total    int     // over the complete days shown
	Today    int     // so far today
	Slope    float64 // trend, attacks per day
	Model    string
	Forecast []occsimore.DayForecast
	Rise     *occsimore.Rise // the latest day that rose beyond its forecast
}

// TrendText says the trend in words, for the summary.
func (a *attackChart) TrendText() string {
	switch s := math.Round(a.Slope*10) / 10; {
	case s > 0:
		return fmt.Sprintf("rising by %.1f a day", s)
	case s < 0:
		return fmt.Sprintf("falling by %.1f a day", -s)
	}
	return "flat"
}

// attacksPage shows the member's attacks per day with their trend and
// forecast, its sector's total, and its latest attacks. Today is partial, so
// the models see only complete days; today's count so far is compared with
// its forecast.
func (c *Console) attacksPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := occsimore.PrincipalFromContext(ctx)
	today := c.now().UTC().Truncate(oneDay)
	since, until := today.AddDate(0, 0, -attackHistoryDays), today.Add(oneDay)

	q := occsimore.ReportQuery{Since: since, Until: until, Horizon: attackHorizonDays}
	v := &attacksView{Sector: p.Member.Sector, Days: attackHistoryDays, Horizon: attackHorizonDays}
	rep, err := c.reports.MemberReport(ctx, p.Member.ID, q)
	if err != nil {
		c.Error(w, r, err)
		return
	}
	if v.Member, err = newAttackChart("member", p.Member.Name+" — attacks per day", rep); err != nil {
		c.Error(w, r, fmt.Errorf("member attack chart: %w", err))
		return
	}
	sector, err := c.reports.SectorReport(ctx, p.Member.Sector, q)
	if err != nil {
		c.Error(w, r, err)
		return
	}
	v.SectorMembers, v.MinSector = sector.Members, sector.MinMembers
	if !sector.Withheld {
		title := fmt.Sprintf("Sector %s — all %d members", p.Member.Sector, sector.Members)
		if v.SectorChart, err = newAttackChart("sector", title, sector); err != nil {
			c.Error(w, r, fmt.Errorf("sector attack chart: %w", err))
			return
		}
	}
	if v.Attacks, err = c.attacks.ListAttacks(ctx, p.Member.ID, occsimore.AttackFilter{Limit: attacksPageSize}); err != nil {
		c.Error(w, r, err)
		return
	}
	c.Render(w, r, "attacks", v)
}

// newAttackChart draws the report's days, whose last entry is today so far,
// with their forecast.
func newAttackChart(id, title string, rep *occsimore.AttackReport) (*attackChart, error) {
	days, a := rep.Days, rep.Forecast
	if len(days) < 2 || a == nil {
		return nil, fmt.Errorf("%d days to chart, want at least 2 with a forecast", len(days))
	}
	complete, today := days[:len(days)-1], days[len(days)-1]
	ch := &attackChart{ID: id, Title: title, Percent: 100 * a.Coverage, Today: today.Count, Slope: a.TrendPerDay, Model: a.Model, Forecast: a.Days, Rise: a.Rise}
	for _, d := range complete {
		ch.Total += d.Count
	}
	svg, err := drawAttackChart(complete, today, a, ch.Rise)
	if err != nil {
		return nil, err
	}
	if ch.SVG, err = inlineSVG(svg, id+"-chart-title"); err != nil {
		return nil, err
	}
	return ch, nil
}

// Chart colours, from the console's palette.
var (
	colorHistory  = color.RGBA{R: 0x1f, G: 0x4e, B: 0x79, A: 0xff} // --brand
	colorToday    = color.RGBA{R: 0x2f, G: 0x7e, B: 0xd8, A: 0xff} // --accent
	colorTrend    = color.RGBA{R: 0x5b, G: 0x67, B: 0x78, A: 0xff} // --muted
	colorForecast = color.RGBA{R: 0xc0, G: 0x6a, B: 0x00, A: 0xff}
	colorBand     = color.RGBA{R: 0xf6, G: 0xd9, B: 0xb0, A: 0xff}
	colorRise     = color.RGBA{R: 0xa1, G: 0x20, B: 0x20, A: 0xff} // --err
)

// dayX is a day's position on the chart's x axis: days since the epoch.
func dayX(t time.Time) float64 { return float64(t.Unix()) / float64(oneDay/time.Second) }

// weekTicks marks each day and labels each Monday.
func weekTicks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for x := math.Ceil(lo); x <= hi; x++ {
		t := time.Unix(int64(x)*int64(oneDay/time.Second), 0).UTC()
		label := ""
		if t.Weekday() == time.Monday {
			label = t.Format("Jan 2")
		}
		ticks = append(ticks, plot.Tick{Value: x, Label: label})
	}
	return ticks
}

// drawAttackChart plots the complete days, today so far, the trend line, the
// forecast with its band and the rise, if any, as an SVG document.
func drawAttackChart(complete []occsimore.DayCount, today occsimore.DayCount, a *occsimore.AttackForecast, rise *occsimore.Rise) ([]byte, error) {
	p := plot.New()
	legend := plot.NewLegend()
	for _, ts := range []*draw.TextStyle{&p.X.Tick.Label, &p.Y.Tick.Label, &p.Y.Label.TextStyle, &legend.TextStyle} {
		ts.Font.Variant = "Sans"
	}
	p.X.Tick.Marker = plot.TickerFunc(weekTicks)
	p.Y.Label.Text = "attacks per day"
	p.Y.Tick.Marker = plot.DefaultTicks{}
	legend.Top = true
	legend.TextStyle.Font.Size = vg.Points(10)

	hist := make(plotter.XYs, len(complete))
	for i, d := range complete {
		hist[i] = plotter.XY{X: dayX(d.Day), Y: float64(d.Count)}
	}
	fc := a.Days
	band := make(plotter.XYs, 0, 2*len(fc))
	mean := make(plotter.XYs, 0, len(fc)+1)
	mean = append(mean, hist[len(hist)-1]) // joins the forecast to the last day
	for _, f := range fc {
		band = append(band, plotter.XY{X: dayX(f.Day), Y: f.Upper})
		mean = append(mean, plotter.XY{X: dayX(f.Day), Y: f.Mean})
	}
	for i := len(fc) - 1; i >= 0; i-- {
		band = append(band, plotter.XY{X: dayX(fc[i].Day), Y: fc[i].Lower})
	}
	x0, x1 := hist[0].X, dayX(fc[len(fc)-1].Day)
	trend := plotter.XYs{{X: x0, Y: a.TrendAt(0)}, {X: x1, Y: a.TrendAt(x1 - x0)}}

	bandPoly, err := plotter.NewPolygon(band)
	if err != nil {
		return nil, fmt.Errorf("forecast band: %w", err)
	}
	bandPoly.Color = colorBand
	bandPoly.LineStyle.Width = 0
	histLine, histPoints, err := plotter.NewLinePoints(hist)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	histLine.Color, histLine.Width = colorHistory, vg.Points(1.5)
	histPoints.Color, histPoints.Shape, histPoints.Radius = colorHistory, draw.CircleGlyph{}, vg.Points(1.8)
	meanLine, err := plotter.NewLine(mean)
	if err != nil {
		return nil, fmt.Errorf("forecast: %w", err)
	}
	meanLine.Color, meanLine.Width, meanLine.Dashes = colorForecast, vg.Points(1.5), []vg.Length{vg.Points(4), vg.Points(3)}
	trendLine, err := plotter.NewLine(trend)
	if err != nil {
		return nil, fmt.Errorf("trend: %w", err)
	}
	trendLine.Color, trendLine.Width, trendLine.Dashes = colorTrend, vg.Points(1), []vg.Length{vg.Points(2), vg.Points(2)}
	todayPoint, err := plotter.NewScatter(plotter.XYs{{X: dayX(today.Day), Y: float64(today.Count)}})
	if err != nil {
		return nil, fmt.Errorf("today: %w", err)
	}
	todayPoint.Color, todayPoint.Shape, todayPoint.Radius = colorToday, draw.RingGlyph{}, vg.Points(3)

	p.Add(bandPoly, plotter.NewGrid(), trendLine, histLine, histPoints, meanLine, todayPoint)
	legend.Add("attacks", histLine, histPoints)
	legend.Add("today so far", todayPoint)
	legend.Add("trend", trendLine)
	legend.Add("forecast", meanLine)
	legend.Add(fmt.Sprintf("%.0f %% band", 100*a.Coverage), bandPoly)
	if rise != nil {
		rp, err := plotter.NewScatter(plotter.XYs{{X: dayX(rise.Day), Y: float64(rise.Count)}})
		if err != nil {
			return nil, fmt.Errorf("rise: %w", err)
		}
		rp.Color, rp.Shape, rp.Radius = colorRise, draw.CircleGlyph{}, vg.Points(4)
		p.Add(rp)
		legend.Add("rise", rp)
	}
	p.X.Min, p.X.Max = x0-0.5, x1+0.5
	p.Y.Min = 0
	p.Y.Max = math.Max(p.Y.Max*1.05, 5) // a flat zero series still has an axis

	// The legend goes right of the plot, where it hides no data.
	canvas := vgsvg.New(vg.Points(760), vg.Points(260))
	dc := draw.New(canvas)
	box := legend.Rectangle(dc)
	p.Draw(draw.Crop(dc, 0, -(box.Max.X-box.Min.X)-vg.Points(12), 0, 0))
	legend.Draw(dc)
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("write chart: %w", err)
	}
	return buf.Bytes(), nil
}

// chartFonts replaces the font gonum/plot measured text with (Liberation
// Sans) by a stack with the same metrics where it is installed.
const chartFonts = `"Liberation Sans", Arial, Helvetica, sans-serif`

// inlineSVG makes an SVG document fit to embed in a page under the console's
// content security policy, which refuses inline styles: it drops the XML
// prolog and comments, turns each style attribute into presentation
// attributes (which CSP does not govern), and makes the root scale to its
// container and name itself by the element labelledBy. It refuses elements
// outside svgElements, drops event handlers and links, and re-escapes all
// text, so what it returns is safe to embed.
func inlineSVG(doc []byte, labelledBy string) (template.HTML, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var out strings.Builder
	depth := 0
	root := false
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("inline svg: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := qualified(t.Name)
			if !svgElements[name] {
				return "", fmt.Errorf("inline svg: element %q is not allowed", name)
			}
			if depth == 0 {
				if root || name != "svg" {
					return "", fmt.Errorf("inline svg: root element %q, want one svg", name)
				}
				root = true
			}
			depth++
			out.WriteString("<" + name)
			for _, a := range svgAttrs(t.Attr, depth == 1, labelledBy) {
				out.WriteString(" " + qualified(a.Name) + `="` + html.EscapeString(a.Value) + `"`)
			}
			out.WriteString(">")
		case xml.EndElement:
			if depth == 0 {
				return "", errors.New("inline svg: unbalanced end element")
			}
			depth--
			out.WriteString("</" + qualified(t.Name) + ">")
		case xml.CharData:
			if depth > 0 {
				out.WriteString(html.EscapeString(string(t)))
			}
		}
		// Comments, processing instructions and directives are dropped.
	}
	if !root || depth != 0 {
		return "", errors.New("inline svg: incomplete document")
	}
	// Safe: every name comes from the parser and every text is re-escaped.
	return template.HTML(out.String()), nil
}

// svgElements are the elements gonum/plot draws with. Anything else, such
// as script or foreignObject, is refused rather than embedded.
var svgElements = map[string]bool{
	"svg": true, "g": true, "path": true, "text": true, "tspan": true, "rect": true, "circle": true,
	"ellipse": true, "line": true, "polyline": true, "polygon": true, "title": true, "desc": true,
	"defs": true, "clipPath": true,
}

func qualified(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// svgAttrs rewrites one element's attributes for inlineSVG.
func svgAttrs(attrs []xml.Attr, root bool, labelledBy string) []xml.Attr {
	out := make([]xml.Attr, 0, len(attrs)+4)
	for _, a := range attrs {
		name := qualified(a.Name)
		switch {
		case name == "style":
			out = append(out, styleAttrs(a.Value)...)
		case strings.HasPrefix(strings.ToLower(name), "on"), strings.EqualFold(name, "href"), strings.EqualFold(name, "xlink:href"):
			// No handlers or links: a chart needs neither.
		case root && (name == "width" || name == "height"):
			// The viewBox keeps the aspect ratio; the container sets the size.
		default:
			out = append(out, xml.Attr{Name: xml.Name{Local: name}, Value: a.Value})
		}
	}
	if root {
		out = append(out,
			xml.Attr{Name: xml.Name{Local: "width"}, Value: "100%"},
			xml.Attr{Name: xml.Name{Local: "role"}, Value: "img"},
			xml.Attr{Name: xml.Name{Local: "aria-labelledby"}, Value: labelledBy},
			xml.Attr{Name: xml.Name{Local: "class"}, Value: "chart"})
	}
	return out
}

// svgPresentation are the style properties that are also SVG presentation
// attributes; others are dropped.
var svgPresentation = map[string]bool{
	"fill": true, "fill-opacity": true, "fill-rule": true, "stroke": true, "stroke-width": true,
	"stroke-opacity": true, "stroke-dasharray": true, "stroke-dashoffset": true, "stroke-linecap": true,
	"stroke-linejoin": true, "stroke-miterlimit": true, "font-family": true, "font-size": true,
	"font-weight": true, "font-style": true, "text-anchor": true, "opacity": true,
}

// styleAttrs turns "fill:#fff;stroke-width:2" into presentation attributes.
func styleAttrs(style string) []xml.Attr {
	var out []xml.Attr
	for decl := range strings.SplitSeq(style, ";") {
		k, v, ok := strings.Cut(decl, ":")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || v == "" || !svgPresentation[k] {
			continue
		}
		if k == "font-family" {
			v = chartFonts
		}
		out = append(out, xml.Attr{Name: xml.Name{Local: k}, Value: v})
	}
	return out
}
