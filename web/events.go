package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
)

// streamHeartbeat is how often the alert stream sends a comment, so that
// proxies and browsers keep an idle stream open.
const streamHeartbeat = 15 * time.Second

// alertsPageSize is how many alerts the queue shows per page.
const alertsPageSize = 50

// SetEvents adds the Alerts and Entities areas over ev and alerts. Call it
// once, before Handler (afterwards its routes would clash with the
// placeholders); without it those areas keep their placeholders.
func (c *Console) SetEvents(ev occsimore.EventService, alerts occsimore.AlertService) {
	c.events, c.alerts = ev, alerts
	c.Handle("GET /alerts", http.HandlerFunc(c.alertsPage))
	c.Handle("GET /alerts/stream", http.HandlerFunc(c.alertStream))
	c.Handle("GET /alerts/{id}", http.HandlerFunc(c.alertPage))
	c.Handle("POST /alerts/{id}/label", http.HandlerFunc(c.labelAlert))
	c.Handle("GET /entities", http.HandlerFunc(c.entitiesPage))
	c.Handle("GET /entities/{role}/{id}", http.HandlerFunc(c.entityPage))
}

// alertRow is an alert as a queue row shows it.
type alertRow struct {
	*occsimore.Alert
	Top      []occsimore.Reason // the leading reasons
	Entities []entityLink
}

// entityLink is one entity of an alert, linked to its page.
type entityLink struct {
	Role, ID, Path string
}

func newAlertRow(a *occsimore.Alert) alertRow {
	return alertRow{Alert: a, Top: a.Reasons[:min(2, len(a.Reasons))], Entities: entityLinks(a.Entities)}
}

// entityLinks sorts an alert's entities by role, for a stable display.
func entityLinks(m map[string]string) []entityLink {
	links := make([]entityLink, 0, len(m))
	for role, id := range m {
		links = append(links, entityLink{Role: role, ID: id, Path: entityPath(role, id)})
	}
	slices.SortFunc(links, func(a, b entityLink) int { return strings.Compare(a.Role, b.Role) })
	return links
}

func entityPath(role, id string) string {
	return "/entities/" + url.PathEscape(role) + "/" + url.PathEscape(id)
}

// alertsView is the data of the alert queue.
type alertsView struct {
	Rows      []alertRow
	Decision  string
	Label     string // fraud, legit, or "none" for unlabelled
	Filtered  bool   // a filter or cursor is set, so live rows are not added
	Older     string // URL of the next page, if any
	Decisions []occsimore.Decision
}

// alertsPage is the member's alert queue, newest first.
func (c *Console) alertsPage(w http.ResponseWriter, r *http.Request) {
	p := occsimore.PrincipalFromContext(r.Context())
	q := r.URL.Query()
	v := &alertsView{
		Decision:  q.Get("decision"),
		Label:     q.Get("label"),
		Decisions: []occsimore.Decision{occsimore.DecisionBlock, occsimore.DecisionReview, occsimore.DecisionAllow},
	}
	f := occsimore.AlertFilter{Before: q.Get("before"), Limit: alertsPageSize}
	switch d := occsimore.Decision(v.Decision); d {
	case "":
	case occsimore.DecisionAllow, occsimore.DecisionReview, occsimore.DecisionBlock:
		f.Decision = d
	default:
		c.Error(w, r, occsimore.FieldErrorf("decision", "decision %q must be allow, review or block", v.Decision))
		return
	}
	switch l := occsimore.Label(v.Label); {
	case l == "":
	case l == "none":
		f.Unlabeled = true
	case l.Valid():
		f.Label = l
	default:
		c.Error(w, r, occsimore.FieldErrorf("label", "label %q must be fraud, legit or none", v.Label))
		return
	}
	v.Filtered = f.Decision != "" || f.Label != "" || f.Unlabeled || f.Before != ""
	alerts, err := c.alerts.ListAlerts(r.Context(), p.Member.ID, f)
	if err != nil {
		c.Error(w, r, err)
		return
	}
	for _, a := range alerts {
		v.Rows = append(v.Rows, newAlertRow(a))
	}
	if len(alerts) == alertsPageSize {
		next := url.Values{"before": {alerts[len(alerts)-1].ID}}
		for _, k := range []string{"decision", "label"} {
			if s := q.Get(k); s != "" {
				next.Set(k, s)
			}
		}
		v.Older = "/alerts?" + next.Encode()
	}
	c.Render(w, r, "alerts", v)
}

// alertView is the data of one alert's page.
type alertView struct {
	Alert    *occsimore.Alert
	Entities []entityLink
	CanLabel bool
	Notice   string
}

func (c *Console) alertPage(w http.ResponseWriter, r *http.Request) {
	p := occsimore.PrincipalFromContext(r.Context())
	a, err := c.alerts.FindAlert(r.Context(), p.Member.ID, r.PathValue("id"))
	if err != nil {
		c.Error(w, r, err)
		return
	}
	v := alertView{Alert: a, Entities: entityLinks(a.Entities), CanLabel: p.Can(occsimore.PermLabel)}
	if r.URL.Query().Get("done") == "labelled" {
		v.Notice = "Label saved."
	}
	c.Render(w, r, "alert", v)
}

// labelAlert records an analyst's verdict and returns to the alert.
func (c *Console) labelAlert(w http.ResponseWriter, r *http.Request) {
	p := occsimore.PrincipalFromContext(r.Context())
	if !p.Can(occsimore.PermLabel) {
		c.Error(w, r, occsimore.Errorf(occsimore.EFORBIDDEN, "only analysts and admins of %s can label alerts", p.Member.Name))
		return
	}
	if err := r.ParseForm(); err != nil {
		c.formError(w, r, err)
		return
	}
	id := r.PathValue("id")
	label := occsimore.Label(r.PostForm.Get("label"))
	if !label.Valid() {
		c.Error(w, r, occsimore.FieldErrorf("label", "label must be fraud or legit"))
		return
	}
	a, err := c.events.Label(r.Context(), p.Member.ID, id, label, p.UserID)
	if err != nil {
		c.Error(w, r, err)
		return
	}
	c.logger.InfoContext(r.Context(), "web: alert labelled", "member", p.Member.ID, "alert", a.ID, "label", label, "by", p.UserID)
	http.Redirect(w, r, "/alerts/"+url.PathEscape(a.ID)+"?done=labelled", http.StatusSeeOther)
}

// alertStream sends the member's new alerts as server-sent events, each an
// "alert" event whose data is the queue row's HTML, until the client leaves,
// the session ends (sign-out, password change, expiry, removal of the user)
// or the client reads too slowly. Streams are counted against
// Config.Streams.
func (c *Console) alertStream(w http.ResponseWriter, r *http.Request) {
	ctx, end := context.WithCancel(r.Context())
	defer end()
	sess := sessionFromContext(ctx)
	p := sess.principal
	st, err := c.streams.open(string(sess.hash), sess.user.ID, p.Member.ID, end)
	if err != nil {
		w.Header().Set("Retry-After", "30")
		c.Error(w, r, err)
		return
	}
	defer c.streams.close(st)
	alerts, cancel := c.events.Subscribe(p.Member.ID)
	defer cancel()

	rc := http.NewResponseController(w)
	// Each write gets its own deadline: the server's write timeout suits
	// pages, not a stream that lasts hours, and a reader that does not take
	// an event within Streams.WriteTimeout is dropped.
	deadline := func() bool {
		err := rc.SetWriteDeadline(time.Now().Add(c.cfg.Streams.WriteTimeout))
		return err == nil || errors.Is(err, http.ErrNotSupported)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tell reverse proxies not to buffer
	if !deadline() {
		return
	}
	w.WriteHeader(http.StatusOK)
	// A first comment sends the headers, so the client knows it is subscribed.
	if _, err := fmt.Fprint(w, ": subscribed\n\n"); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	heartbeat := time.NewTicker(c.heartbeat)
	defer heartbeat.Stop()
	// The stream ends when its session expires, to the second.
	expiry := time.NewTimer(max(0, sess.expires.Sub(c.now())))
	defer expiry.Stop()
	var buf bytes.Buffer
	for {
		buf.Reset()
		select {
		case <-ctx.Done():
			return
		case <-expiry.C:
			return
		case a, ok := <-alerts:
			if !ok { // the pipeline closed
				return
			}
			if err := c.writeAlertEvent(&buf, a); err != nil {
				c.logger.ErrorContext(ctx, "web: render alert event", "alert", a.ID, "err", err)
				continue
			}
		case <-heartbeat.C:
			// A session ended elsewhere (the CLI, the API, another node) or
			// expired is noticed here.
			if live, err := c.loadSession(ctx, sess.hash); err != nil || live == nil {
				return
			}
			buf.WriteString(": heartbeat\n\n")
		}
		if !deadline() {
			return
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// writeAlertEvent writes a as one server-sent event: the rendered row, one
// data line per line of HTML.
func (c *Console) writeAlertEvent(buf *bytes.Buffer, a *occsimore.Alert) error {
	var row bytes.Buffer
	if err := c.pages["alerts"].tmpl.ExecuteTemplate(&row, "alert-row", newAlertRow(a)); err != nil {
		return fmt.Errorf("render alert row: %w", err)
	}
	buf.WriteString("event: alert\nid: ")
	buf.WriteString(a.ID)
	buf.WriteByte('\n')
	for line := range strings.Lines(strings.TrimSpace(row.String())) {
		buf.WriteString("data: ")
		buf.WriteString(strings.TrimRight(line, "\r\n"))
		buf.WriteByte('\n')
	}
	buf.WriteByte('\n')
	return nil
}

// entitiesView is the data of the entity search form.
type entitiesView struct {
	Roles []string
	Role  string
	ID    string
	Error string
}

// entitiesPage asks for an entity and goes to its page.
func (c *Console) entitiesPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := entitiesView{Roles: occsimore.FixedRoles, Role: strings.TrimSpace(q.Get("role")), ID: strings.TrimSpace(q.Get("id"))}
	if v.Role == "" && v.ID == "" {
		c.Render(w, r, "entities", v)
		return
	}
	if v.Role == "" || v.ID == "" {
		v.Error = "Give both a role and an ID."
		c.RenderStatus(w, r, http.StatusBadRequest, "entities", v)
		return
	}
	http.Redirect(w, r, entityPath(v.Role, v.ID), http.StatusSeeOther)
}

// entityView is the data of an entity's page.
type entityView struct {
	occsimore.ProfileView
	Numeric     []numericGroup
	Categorical []categoricalGroup
	Heat        *heatMap
}

// numericGroup is an attribute's usual values at each half-life.
type numericGroup struct {
	Attr  string
	Views []occsimore.NumericView
}

// categoricalGroup is an attribute's top values, with bar widths.
type categoricalGroup struct {
	occsimore.CategoricalView
	Bars []shareBar
}

// shareBar is a value's share, with the bar width in percent.
type shareBar struct {
	Value   string
	Percent float64
}

// heatMap is the hour-of-week distribution laid out as SVG cells.
type heatMap struct {
	Width, Height int
	Cells         []heatCell
	Days          []heatLabel
	Hours         []heatLabel
}

type heatCell struct {
	X, Y    int
	Opacity string // fill-opacity, relative to the busiest hour
	Title   string
}

type heatLabel struct {
	X, Y int
	Text string
}

// Heat map geometry in SVG user units.
const (
	heatCellSize = 18
	heatGap      = 2
	heatLeft     = 36 // room for day names
	heatTop      = 16 // room for hour labels
)

var weekdays = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

func newHeatMap(h *occsimore.HoursView) *heatMap {
	if h == nil || h.Events <= 0 {
		return nil
	}
	peak := 0.0
	for d := range 7 {
		for hr := range 24 {
			peak = max(peak, h.HourOfWeek[d][hr])
		}
	}
	if peak <= 0 {
		return nil
	}
	step := heatCellSize + heatGap
	m := &heatMap{Width: heatLeft + 24*step, Height: heatTop + 7*step}
	for hr := 0; hr < 24; hr += 3 {
		m.Hours = append(m.Hours, heatLabel{X: heatLeft + hr*step, Y: heatTop - 4, Text: fmt.Sprintf("%02d", hr)})
	}
	for d := range 7 {
		y := heatTop + d*step
		m.Days = append(m.Days, heatLabel{X: 0, Y: y + heatCellSize - 5, Text: weekdays[d]})
		for hr := range 24 {
			share := h.HourOfWeek[d][hr]
			// A faint floor keeps empty hours visible as cells.
			op := 0.04 + 0.96*share/peak
			m.Cells = append(m.Cells, heatCell{
				X: heatLeft + hr*step, Y: y, Opacity: fmt.Sprintf("%.3f", op),
				Title: fmt.Sprintf("%s %02d:00 — %.1f%% of events", weekdays[d], hr, 100*share),
			})
		}
	}
	return m
}

// entityPage shows what the engine has learned of one of the member's
// entities. Entities are looked up within the session's member only.
func (c *Console) entityPage(w http.ResponseWriter, r *http.Request) {
	p := occsimore.PrincipalFromContext(r.Context())
	role, id := r.PathValue("role"), r.PathValue("id")
	pv, ok := c.events.Entity(p.Member.ID, role, id)
	if !ok {
		c.Error(w, r, occsimore.Errorf(occsimore.ENOTFOUND, "no %s %q has been seen", role, id))
		return
	}
	v := entityView{ProfileView: pv, Heat: newHeatMap(pv.Hours)}
	for _, n := range pv.Numeric {
		if len(v.Numeric) == 0 || v.Numeric[len(v.Numeric)-1].Attr != n.Attr {
			v.Numeric = append(v.Numeric, numericGroup{Attr: n.Attr})
		}
		g := &v.Numeric[len(v.Numeric)-1]
		g.Views = append(g.Views, n)
	}
	for _, cv := range pv.Categorical {
		g := categoricalGroup{CategoricalView: cv}
		for _, s := range cv.Top {
			g.Bars = append(g.Bars, shareBar{Value: s.Value, Percent: math.Round(1000*s.Share) / 10})
		}
		v.Categorical = append(v.Categorical, g)
	}
	c.Render(w, r, "entity", v)
}
