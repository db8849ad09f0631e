package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/occsimore/occsimore"
)

// CSVMapping says how the columns of a CSV file become events. It is
// declarative, to be written in a configuration file.
type CSVMapping struct {
	// Columns maps an event field to the header of the column holding it.
	// Fields are the event's JSON names ("time", "card", "amount",
	// "user_agent"...), "entities.ROLE" for an extra entity, "attrs.NAME"
	// for an attribute, and "label" for a fraud label (1/0, true/false),
	// which CSVReader.Label returns and which never enters the event.
	// An empty cell leaves its field absent.
	Columns map[string]string `json:"columns" toml:"columns"`
	// Defaults are constant values, as text, for fields no column maps,
	// such as {"currency": "EUR"}. Kind is "card.tx" unless mapped or given.
	Defaults map[string]string `json:"defaults,omitempty" toml:"defaults,omitempty"`
	// TimeLayout is how times are written: "rfc3339" (the default), "unix"
	// (integer seconds since 1970), or a Go layout such as
	// "2006-01-02 15:04:05".
	TimeLayout string `json:"time_layout,omitempty" toml:"time_layout,omitempty"`
	// TimeZone is the zone of times written without an offset: "UTC" (the
	// default), a fixed offset such as "+02:00", or an IANA name such as
	// "Europe/Paris", which time.LoadLocation resolves from the system's
	// zone database (or time/tzdata if the binary embeds it).
	TimeZone string `json:"time_zone,omitempty" toml:"time_zone,omitempty"`
	// Comma is the field separator, one character; "," by default.
	Comma string `json:"comma,omitempty" toml:"comma,omitempty"`
}

// HandbookMapping reads the raw transactions of the Fraud Detection Handbook
// (TRANSACTION_ID, TX_DATETIME, CUSTOMER_ID, TERMINAL_ID, TX_AMOUNT, ...,
// TX_FRAUD, TX_FRAUD_SCENARIO). The handbook's customer is the card; its
// times have no zone and are read as UTC. TX_FRAUD is the label; other
// columns, such as TX_FRAUD_SCENARIO, are available from CSVReader.Column.
func HandbookMapping() CSVMapping {
	return CSVMapping{
		Columns: map[string]string{
			"id":       "TRANSACTION_ID",
			"time":     "TX_DATETIME",
			"card":     "CUSTOMER_ID",
			"terminal": "TERMINAL_ID",
			"amount":   "TX_AMOUNT",
			"label":    "TX_FRAUD",
		},
		Defaults:   map[string]string{"kind": "card.tx"},
		TimeLayout: "2006-01-02 15:04:05",
		TimeZone:   "UTC",
	}
}

// Validate checks the mapping: known fields only, a time column, lat and lon
// together, defaults that parse. Errors are EINVALID naming the mapping key,
// such as "columns.amout".
func (m CSVMapping) Validate() error {
	_, err := m.compile()
	return err
}

// fieldID is an event field a CSV column or default can set.
type fieldID uint8

const (
	fNone fieldID = iota
	fID
	fKind
	fTime
	fCard
	fCustomer
	fTerminal
	fMerchant
	fUser
	fIP
	fAmount
	fCurrency
	fCountry
	fLat
	fLon
	fMCC
	fChannel
	fDevice
	fUserAgent
	fASN
	fSuccess
	fEntity // entities.ROLE
	fAttr   // attrs.NAME
	fLabel
)

// lookupField resolves a mapping key; sub is the role or attribute name.
func lookupField(name string) (id fieldID, sub string) {
	switch name {
	case "id":
		return fID, ""
	case "kind":
		return fKind, ""
	case "time":
		return fTime, ""
	case "card":
		return fCard, ""
	case "customer":
		return fCustomer, ""
	case "terminal":
		return fTerminal, ""
	case "merchant":
		return fMerchant, ""
	case "user":
		return fUser, ""
	case "ip":
		return fIP, ""
	case "amount":
		return fAmount, ""
	case "currency":
		return fCurrency, ""
	case "country":
		return fCountry, ""
	case "lat":
		return fLat, ""
	case "lon":
		return fLon, ""
	case "mcc":
		return fMCC, ""
	case "channel":
		return fChannel, ""
	case "device":
		return fDevice, ""
	case "user_agent":
		return fUserAgent, ""
	case "asn":
		return fASN, ""
	case "success":
		return fSuccess, ""
	case "label":
		return fLabel, ""
	}
	if role, ok := strings.CutPrefix(name, "entities."); ok {
		return fEntity, role
	}
	if attr, ok := strings.CutPrefix(name, "attrs."); ok {
		return fAttr, attr
	}
	return fNone, ""
}

// csvPlan is a validated mapping, ready to read records.
type csvPlan struct {
	columns []csvBinding    // by field name, then by header order once bound
	tmpl    occsimore.Event // defaults
	times   timeParser
	comma   rune

	latDefault, lonDefault bool
}

type csvBinding struct {
	field  string // mapping key, e.g. "amount" or "attrs.region"
	column string
	id     fieldID
	sub    string
	index  int // in the header
}

func (m CSVMapping) compile() (*csvPlan, error) {
	p := &csvPlan{comma: ','}
	if m.Comma != "" {
		r, size := utf8.DecodeRuneInString(m.Comma)
		if size != len(m.Comma) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' {
			return nil, occsimore.FieldErrorf("comma", "comma %q must be one character other than a quote or a line break", m.Comma)
		}
		p.comma = r
	}
	var err error
	if p.times, err = newTimeParser(m.TimeLayout, m.TimeZone); err != nil {
		return nil, err
	}
	for _, field := range slices.Sorted(maps.Keys(m.Columns)) {
		key := "columns." + field
		id, sub, err := checkField(key, field)
		if err != nil {
			return nil, err
		}
		col := m.Columns[field]
		if col == "" {
			return nil, occsimore.FieldErrorf(key, "column name is empty")
		}
		p.columns = append(p.columns, csvBinding{field: field, column: col, id: id, sub: sub})
	}
	if _, ok := m.Columns["time"]; !ok {
		return nil, occsimore.FieldErrorf("columns.time", "a time column is required")
	}
	p.tmpl.Kind = "card.tx"
	for _, field := range slices.Sorted(maps.Keys(m.Defaults)) {
		key := "defaults." + field
		id, sub, err := checkField(key, field)
		if err != nil {
			return nil, err
		}
		if id == fTime || id == fLabel {
			return nil, occsimore.FieldErrorf(key, "%s cannot have a default", field)
		}
		if _, ok := m.Columns[field]; ok {
			return nil, occsimore.FieldErrorf(key, "%s has both a column and a default", field)
		}
		if err := p.set(&p.tmpl, id, field, sub, m.Defaults[field]); err != nil {
			return nil, occsimore.FieldErrorf(key, "%s", occsimore.ErrorMessage(err))
		}
	}
	_, latCol := m.Columns["lat"]
	_, lonCol := m.Columns["lon"]
	_, p.latDefault = m.Defaults["lat"]
	_, p.lonDefault = m.Defaults["lon"]
	if hasLat, hasLon := latCol || p.latDefault, lonCol || p.lonDefault; hasLat != hasLon {
		missing := "columns.lon"
		if hasLon {
			missing = "columns.lat"
		}
		return nil, occsimore.FieldErrorf(missing, "lat and lon must be mapped together")
	}
	p.tmpl.HasLocation = p.latDefault && p.lonDefault
	if len(p.tmpl.Entities)+count(p.columns, fEntity) > occsimore.MaxEventEntities {
		return nil, occsimore.FieldErrorf("columns", "at most %d extra entities", occsimore.MaxEventEntities)
	}
	if len(p.tmpl.Attrs)+count(p.columns, fAttr) > occsimore.MaxEventAttrs {
		return nil, occsimore.FieldErrorf("columns", "at most %d attributes", occsimore.MaxEventAttrs)
	}
	// The defaults must be valid on their own (time and location aside).
	probe := p.tmpl
	probe.Time = time.Unix(1, 0)
	probe.HasLocation = p.latDefault || p.lonDefault
	if err := probe.Validate(); err != nil {
		return nil, occsimore.FieldErrorf("defaults."+occsimore.ErrorField(err), "%s", occsimore.ErrorMessage(err))
	}
	return p, nil
}

// checkField resolves a mapping key, checking roles and attribute names.
func checkField(key, field string) (fieldID, string, error) {
	id, sub := lookupField(field)
	switch id {
	case fNone:
		return 0, "", occsimore.FieldErrorf(key, "unknown event field %q", field)
	case fEntity:
		if !occsimore.ValidName(sub) || slices.Contains(occsimore.FixedRoles, sub) {
			return 0, "", occsimore.FieldErrorf(key, "entity role %q must be a lowercase name other than %s", sub, strings.Join(occsimore.FixedRoles, ", "))
		}
	case fAttr:
		if !occsimore.ValidName(sub) {
			return 0, "", occsimore.FieldErrorf(key, "attribute name %q must be 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter", sub)
		}
	}
	return id, sub, nil
}

func count(bs []csvBinding, id fieldID) int {
	n := 0
	for _, b := range bs {
		if b.id == id {
			n++
		}
	}
	return n
}

// set parses v, a non-empty cell or default, into field id of ev; field is
// its name for errors.
func (p *csvPlan) set(ev *occsimore.Event, id fieldID, field, sub, v string) error {
	switch id {
	case fID:
		ev.ID = v
	case fKind:
		ev.Kind = v
	case fTime:
		t, err := p.times.parse(v)
		if err != nil {
			return err
		}
		ev.Time = t
	case fCard:
		ev.Card = v
	case fCustomer:
		ev.Customer = v
	case fTerminal:
		ev.Terminal = v
	case fMerchant:
		ev.Merchant = v
	case fUser:
		ev.User = v
	case fIP:
		ev.IP = v
	case fAmount, fLat, fLon:
		f, err := strconv.ParseFloat(v, 64)
		if errors.Is(err, strconv.ErrRange) {
			return occsimore.FieldErrorf(field, "%s %q is out of range", field, clip(v))
		}
		if err != nil {
			return occsimore.FieldErrorf(field, "%s %q is not a number", field, clip(v))
		}
		switch id {
		case fAmount:
			ev.Amount = f
		case fLat:
			ev.Lat = f
		default:
			ev.Lon = f
		}
	case fCurrency:
		ev.Currency = v
	case fCountry:
		ev.Country = v
	case fMCC:
		ev.MCC = v
	case fChannel:
		ev.Channel = v
	case fDevice:
		ev.Device = v
	case fUserAgent:
		ev.UserAgent = v
	case fASN:
		u, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return occsimore.FieldErrorf("asn", "asn %q is not an integer in [0, 4294967295]", clip(v))
		}
		ev.ASN = uint32(u)
	case fSuccess:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return occsimore.FieldErrorf("success", "success %q is not a boolean", clip(v))
		}
		ev.Success, ev.HasSuccess = b, true
	case fEntity:
		ev.Entities = append(ev.Entities, occsimore.Entity{Role: sub, ID: v})
	case fAttr:
		if ev.Attrs == nil {
			ev.Attrs = make(map[string]string)
		}
		ev.Attrs[sub] = v
	}
	return nil
}

// timeParser reads times in one layout.
type timeParser struct {
	layout string // "" for unix seconds
	loc    *time.Location
}

func newTimeParser(layout, zone string) (timeParser, error) {
	tp := timeParser{layout: layout, loc: time.UTC}
	switch layout {
	case "", "rfc3339":
		tp.layout = time.RFC3339
	case "unix":
		tp.layout = ""
	default:
		// The layout must read back a time it writes, with its date.
		ref := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
		t, err := time.Parse(layout, ref.Format(layout))
		if err != nil || t.Year() != 2006 || t.Month() != 1 || t.Day() != 2 {
			return tp, occsimore.FieldErrorf("time_layout", "time layout %q must be \"rfc3339\", \"unix\" or a Go layout with a date, such as \"2006-01-02 15:04:05\"", clip(layout))
		}
	}
	switch {
	case zone == "" || zone == "UTC":
	case zone[0] == '+' || zone[0] == '-':
		t, err := time.Parse("-07:00", zone)
		if err != nil {
			return tp, occsimore.FieldErrorf("time_zone", "time zone offset %q must look like +02:00", clip(zone))
		}
		_, off := t.Zone()
		tp.loc = time.FixedZone("", off)
	default:
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return tp, occsimore.FieldErrorf("time_zone", "unknown time zone %q", clip(zone))
		}
		tp.loc = loc
	}
	return tp, nil
}

func (tp timeParser) parse(v string) (time.Time, error) {
	if tp.layout == "" {
		s, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, occsimore.FieldErrorf("time", "time %q is not integer unix seconds", clip(v))
		}
		return time.Unix(s, 0).In(tp.loc), nil
	}
	t, err := time.ParseInLocation(tp.layout, v, tp.loc)
	if err != nil {
		return time.Time{}, occsimore.FieldErrorf("time", "time %q does not match layout %q", clip(v), tp.layout)
	}
	return t, nil
}

// CSVReader reads events from CSV records with a header line.
type CSVReader struct {
	r       *csv.Reader
	plan    *csvPlan
	header  []string
	index   map[string]int // header name to column index
	columns map[string]string
	record  []string
	line    int
	label   int // column index of the label, or -1
}

// NewCSV reads the header of r and returns a reader of the events after it.
// Every column m maps must be in the header.
func NewCSV(r io.Reader, m CSVMapping) (*CSVReader, error) {
	p, err := m.compile()
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(r)
	cr.Comma = p.comma
	cr.ReuseRecord = true
	header, err := cr.Read()
	switch {
	case err == io.EOF:
		return nil, occsimore.Errorf(occsimore.EINVALID, "csv has no header line")
	case err != nil:
		if pe, ok := errors.AsType[*csv.ParseError](err); ok {
			return nil, occsimore.Errorf(occsimore.EINVALID, "csv header, line %d: %s", pe.StartLine, pe.Err)
		}
		return nil, fmt.Errorf("read csv header: %w", err)
	}
	c := &CSVReader{
		r:       cr,
		plan:    p,
		header:  slices.Clone(header),
		index:   make(map[string]int, len(header)),
		columns: maps.Clone(m.Columns),
		label:   -1,
	}
	c.header[0] = strings.TrimPrefix(c.header[0], "\uFEFF") // spreadsheets write a BOM
	for i, h := range c.header {
		if _, dup := c.index[h]; dup {
			c.index[h] = -1 // ambiguous: an error only if mapped
			continue
		}
		c.index[h] = i
	}
	for i := range p.columns {
		b := &p.columns[i]
		idx, ok := c.index[b.column]
		switch {
		case !ok:
			return nil, occsimore.FieldErrorf("columns."+b.field, "column %q (for %s) is not in the CSV header", b.column, b.field)
		case idx < 0:
			return nil, occsimore.FieldErrorf("columns."+b.field, "column %q (for %s) appears twice in the CSV header", b.column, b.field)
		}
		b.index = idx
		if b.id == fLabel {
			c.label = idx
		}
	}
	// Header order, so that a record's first bad cell is reported first.
	slices.SortStableFunc(p.columns, func(a, b csvBinding) int { return a.index - b.index })
	return c, nil
}

// Line returns the line number, from 1, where the record last read by Next
// starts.
func (c *CSVReader) Line() int { return c.line }

// Label returns the label of the record last read by Next; ok is false if
// the mapping has no label column, its cell is empty, or no record was read.
func (c *CSVReader) Label() (fraud, ok bool) {
	if c.label < 0 || c.record == nil || c.record[c.label] == "" {
		return false, false
	}
	fraud, err := strconv.ParseBool(c.record[c.label])
	return fraud, err == nil
}

// Column returns the cell of the named header column in the record last
// read by Next, mapped or not (such as the handbook's TX_FRAUD_SCENARIO).
func (c *CSVReader) Column(name string) (string, bool) {
	i, ok := c.index[name]
	if !ok || i < 0 || c.record == nil || i >= len(c.record) {
		return "", false
	}
	return c.record[i], true
}

// Next decodes the next record into ev. Like NDJSONReader.Next, it reuses
// ev's slices and maps, returns io.EOF at the end, and a *LineError for a
// bad record (naming the event field and its column) after which the
// following call reads the next record. Any other error comes from the
// underlying reader and ends the stream.
func (c *CSVReader) Next(ev *occsimore.Event) error {
	c.record = nil
	rec, err := c.r.Read()
	if err != nil {
		if err == io.EOF {
			return io.EOF
		}
		if pe, ok := errors.AsType[*csv.ParseError](err); ok {
			c.line = pe.StartLine
			return &LineError{Line: pe.StartLine, Err: occsimore.Errorf(occsimore.EINVALID, "%s", pe.Err)}
		}
		return fmt.Errorf("read csv line %d: %w", c.line+1, err)
	}
	c.line, _ = c.r.FieldPos(0)
	c.reset(ev)
	hasLat, hasLon := c.plan.latDefault, c.plan.lonDefault
	for i := range c.plan.columns {
		b := &c.plan.columns[i]
		v := rec[b.index]
		if v == "" {
			continue
		}
		switch b.id {
		case fLabel:
			if _, err := strconv.ParseBool(v); err != nil {
				return c.lineErr(b.index, "label", b.column, occsimore.FieldErrorf("label", "label %q is not a boolean", clip(v)))
			}
			continue
		case fLat:
			hasLat = true
		case fLon:
			hasLon = true
		}
		// Copies, so that a retained id does not pin the whole record.
		if err := c.plan.set(ev, b.id, b.field, b.sub, strings.Clone(v)); err != nil {
			return c.lineErr(b.index, b.field, b.column, err)
		}
	}
	if hasLat != hasLon {
		f := "lon"
		if hasLon {
			f = "lat"
		}
		return c.fieldErr(f, occsimore.FieldErrorf(f, "lat and lon must be given together"))
	}
	ev.HasLocation = hasLat
	if err := ev.Validate(); err != nil {
		return c.fieldErr(occsimore.ErrorField(err), err)
	}
	c.record = rec
	return nil
}

// reset makes ev the mapping's defaults, keeping MemberID and the storage of
// Entities and Attrs.
func (c *CSVReader) reset(ev *occsimore.Event) {
	member, ents, attrs := ev.MemberID, ev.Entities[:0], ev.Attrs
	clear(attrs)
	*ev = c.plan.tmpl
	ev.MemberID = member
	ev.Entities = append(ents, c.plan.tmpl.Entities...)
	if len(c.plan.tmpl.Attrs) > 0 {
		if attrs == nil {
			attrs = make(map[string]string, len(c.plan.tmpl.Attrs))
		}
		maps.Copy(attrs, c.plan.tmpl.Attrs)
	}
	ev.Attrs = attrs
}

// fieldErr is a LineError about an event field, with the column mapped to
// it if any.
func (c *CSVReader) fieldErr(field string, err error) error {
	col := c.columns[field]
	idx := -1
	if col != "" {
		idx = c.index[col]
	}
	return c.lineErr(idx, field, col, err)
}

func (c *CSVReader) lineErr(idx int, field, column string, err error) error {
	line := c.line
	if idx >= 0 {
		line, _ = c.r.FieldPos(idx)
	}
	c.record = nil
	return &LineError{Line: line, Field: field, Column: column, Err: err}
}
