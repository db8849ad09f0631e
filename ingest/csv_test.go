package ingest

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore"
)

// TestCSVHandbookSample reads real lines of the handbook's raw data.
func TestCSVHandbookSample(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("testdata", "handbook_sample.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := NewCSV(f, HandbookMapping())
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		line     int
		id, card string
		fraud    bool
		scenario string
	}
	var rows []row
	var ev occsimore.Event
	for {
		err := c.Next(&ev)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fraud, ok := c.Label()
		if !ok {
			t.Fatalf("line %d has no label", c.Line())
		}
		scenario, _ := c.Column("TX_FRAUD_SCENARIO")
		rows = append(rows, row{c.Line(), ev.ID, ev.Card, fraud, scenario})
		if ev.ID == "3500" {
			want := occsimore.Event{
				ID: "3500", Kind: "card.tx", Time: time.Date(2018, 4, 1, 10, 20, 0, 0, time.UTC),
				Card: "606", Terminal: "3006", Amount: 231.90,
			}
			if d := diffEvents(&want, &ev); d != "" {
				t.Errorf("event 3500 (-want +got):\n%s", d)
			}
		}
	}
	want := []row{
		{2, "0", "101", false, "0"}, {3, "1", "202", false, "0"}, {4, "2", "3", false, "0"},
		{5, "3", "404", false, "0"}, {6, "4", "505", false, "0"}, {7, "3500", "606", true, "1"},
		{8, "9600", "707", true, "3"}, {9, "19300", "808", true, "2"}, {10, "130000", "909", false, "0"},
	}
	if d := cmp.Diff(want, rows, cmp.AllowUnexported(row{})); d != "" {
		t.Fatalf("rows (-want +got):\n%s", d)
	}
	if _, ok := c.Label(); ok {
		t.Error("Label after the end has a value")
	}
}

// testMapping covers every kind of column.
func testMapping() CSVMapping {
	return CSVMapping{
		Columns: map[string]string{
			"id": "id", "time": "when", "card": "card", "amount": "amt", "lat": "lat", "lon": "lon",
			"success": "ok", "asn": "asn", "attrs.region": "region", "entities.device": "dev", "label": "fraud",
		},
		Defaults: map[string]string{"currency": "EUR", "attrs.source": "file"},
	}
}

const testHeader = "id,when,card,amt,lat,lon,ok,asn,region,dev,fraud\n"

func TestCSVRecords(t *testing.T) {
	t.Parallel()
	in := testHeader +
		"a,2018-04-01T10:00:00+02:00,c1,10.5,45.1,6.2,true,3215,alps,d1,0\n" +
		"b,2018-04-01T10:00:00+02:00,c1,,,,,,,,\n" +
		"\n" + // skipped by encoding/csv
		"c,2018-04-01T10:00:00+02:00,c1,1,,,,,\"two\nlines\",,1\n"
	c, err := NewCSV(strings.NewReader(in), testMapping())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2018, 4, 1, 10, 0, 0, 0, time.FixedZone("", 7200))
	want := []occsimore.Event{
		{
			MemberID: "mem_1", ID: "a", Kind: "card.tx", Time: at, Card: "c1", Amount: 10.5, Currency: "EUR",
			Lat: 45.1, Lon: 6.2, HasLocation: true, Success: true, HasSuccess: true, ASN: 3215,
			Entities: []occsimore.Entity{{Role: "device", ID: "d1"}},
			Attrs:    map[string]string{"region": "alps", "source": "file"},
		},
		{MemberID: "mem_1", ID: "b", Kind: "card.tx", Time: at, Card: "c1", Currency: "EUR", Attrs: map[string]string{"source": "file"}},
		{MemberID: "mem_1", ID: "c", Kind: "card.tx", Time: at, Card: "c1", Amount: 1, Currency: "EUR", Attrs: map[string]string{"region": "two\nlines", "source": "file"}},
	}
	wantLines := []int{2, 3, 5}
	wantLabels := []string{"false true", "false false", "true true"}
	ev := occsimore.Event{MemberID: "mem_1"} // reused, as a pipeline does
	for i := range want {
		if err := c.Next(&ev); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if d := diffEvents(&want[i], &ev); d != "" {
			t.Errorf("record %d (-want +got):\n%s", i, d)
		}
		if got := c.Line(); got != wantLines[i] {
			t.Errorf("record %d: Line() = %d, want %d", i, got, wantLines[i])
		}
		fraud, ok := c.Label()
		if got := fmt.Sprint(fraud, ok); got != wantLabels[i] {
			t.Errorf("record %d: Label() = %s, want %s", i, got, wantLabels[i])
		}
	}
	if err := c.Next(&ev); err != io.EOF {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
}

func TestCSVLineErrors(t *testing.T) {
	t.Parallel()
	const good = "z,2018-04-01T10:00:00Z,c1,1,,,,,,,\n"
	tests := []struct {
		name, record string
		line         int
		field, col   string
		text         string
	}{
		{"amount not a number", "b,2018-04-01T10:00:00Z,c1,ten,,,,,,,\n", 2, "amount", "amt",
			`line 2: field amount (column amt): amount "ten" is not a number`},
		{"time layout", "c,yesterday,c1,1,,,,,,,\n", 2, "time", "when",
			`line 2: field time (column when): time "yesterday" does not match layout "2006-01-02T15:04:05Z07:00"`},
		{"negative amount", "d,2018-04-01T10:00:00Z,c1,-3,,,,,,,\n", 2, "amount", "amt",
			"line 2: field amount (column amt): amount -3 is negative"},
		{"huge amount", "d,2018-04-01T10:00:00Z,c1,1e160,,,,,,,\n", 2, "amount", "amt",
			"line 2: field amount (column amt): amount 1e+160 is above the bound 1e+15"},
		{"amount overflowing float64", "d,2018-04-01T10:00:00Z,c1,1e400,,,,,,,\n", 2, "amount", "amt",
			`line 2: field amount (column amt): amount "1e400" is out of range`},
		{"lat without lon", "e,2018-04-01T10:00:00Z,c1,1,45,,,,,,\n", 2, "lon", "lon",
			"line 2: field lon (column lon): lat and lon must be given together"},
		{"lat out of range", "e,2018-04-01T10:00:00Z,c1,1,95,5,,,,,\n", 2, "lat", "lat",
			"line 2: field lat (column lat): lat 95 is outside [-90, 90]"},
		{"success", "f,2018-04-01T10:00:00Z,c1,1,,,maybe,,,,\n", 2, "success", "ok",
			`line 2: field success (column ok): success "maybe" is not a boolean`},
		{"asn", "f,2018-04-01T10:00:00Z,c1,1,,,,AS3215,,,\n", 2, "asn", "asn",
			`line 2: field asn (column asn): asn "AS3215" is not an integer in [0, 4294967295]`},
		{"label", "g,2018-04-01T10:00:00Z,c1,1,,,,,,,x\n", 2, "label", "fraud",
			`line 2: field label (column fraud): label "x" is not a boolean`},
		{"attribute too long", "h,2018-04-01T10:00:00Z,c1,1,,,,," + strings.Repeat("r", 600) + ",,\n", 2, "attrs.region", "region",
			"line 2: field attrs.region (column region): value is longer than 512 bytes"},
		{"no time", "i,,c1,1,,,,,,,\n", 2, "time", "when",
			"line 2: field time (column when): time is required"},
		{"field count", "j,too,few\n", 2, "", "",
			"line 2: wrong number of fields"},
		{"bare quote", "k,2018-04-01T10:00:00Z,c\"1,1,,,,,,,\n", 2, "", "",
			`line 2: bare " in non-quoted-field`},
		{"line of a quoted multi-line cell", "l,2018-04-01T10:00:00Z,c1,1,,,,,\"a\nb\",,x\n", 3, "label", "fraud",
			`line 3: field label (column fraud): label "x" is not a boolean`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCSV(strings.NewReader(testHeader+tt.record+good), testMapping())
			if err != nil {
				t.Fatal(err)
			}
			var ev occsimore.Event
			err = c.Next(&ev)
			le, ok := errors.AsType[*LineError](err)
			if !ok {
				t.Fatalf("Next = %v, want a *LineError", err)
			}
			if le.Line != tt.line || le.Field != tt.field || le.Column != tt.col || le.Error() != tt.text {
				t.Errorf("error = {%d %q %q %q}, want {%d %q %q %q}", le.Line, le.Field, le.Column, le.Error(), tt.line, tt.field, tt.col, tt.text)
			}
			if got, want := occsimore.ErrorField(err), tt.field; got != want {
				t.Errorf("ErrorField = %q, want %q", got, want)
			}
			if got, want := occsimore.ErrorCode(err), occsimore.EINVALID; got != want {
				t.Errorf("ErrorCode = %q, want %q", got, want)
			}
			if _, ok := c.Label(); ok {
				t.Error("a bad record has a label")
			}
			if err := c.Next(&ev); err != nil { // the stream goes on
				t.Fatalf("Next after the bad record: %v", err)
			}
			if got, want := ev.ID, "z"; got != want {
				t.Fatalf("next id = %q, want %q", got, want)
			}
		})
	}
}

func TestCSVMappingValidate(t *testing.T) {
	t.Parallel()
	with := func(f func(m *CSVMapping)) CSVMapping {
		m := testMapping()
		f(&m)
		return m
	}
	tests := []struct {
		name  string
		m     CSVMapping
		field string
		msg   string
	}{
		{"unknown field", with(func(m *CSVMapping) { m.Columns["amout"] = "x" }), "columns.amout", `unknown event field "amout"`},
		{"member is not mappable", with(func(m *CSVMapping) { m.Columns["member_id"] = "x" }), "columns.member_id", "unknown event field"},
		{"no time", with(func(m *CSVMapping) { delete(m.Columns, "time") }), "columns.time", "a time column is required"},
		{"empty column", with(func(m *CSVMapping) { m.Columns["card"] = "" }), "columns.card", "column name is empty"},
		{"fixed role as entity", with(func(m *CSVMapping) { m.Columns["entities.card"] = "x" }), "columns.entities.card", `entity role "card"`},
		{"bad attribute name", with(func(m *CSVMapping) { m.Columns["attrs.Region"] = "x" }), "columns.attrs.Region", `attribute name "Region"`},
		{"time default", with(func(m *CSVMapping) { m.Defaults["time"] = "2018-04-01T00:00:00Z" }), "defaults.time", "time cannot have a default"},
		{"label default", with(func(m *CSVMapping) { m.Defaults["label"] = "1" }), "defaults.label", "label cannot have a default"},
		{"column and default", with(func(m *CSVMapping) { m.Defaults["card"] = "c" }), "defaults.card", "card has both a column and a default"},
		{"default amount", with(func(m *CSVMapping) { delete(m.Columns, "amount"); m.Defaults["amount"] = "x" }), "defaults.amount", `amount "x" is not a number`},
		{"default invalid", with(func(m *CSVMapping) { m.Defaults["currency"] = "eur" }), "defaults.currency", "three uppercase letters"},
		{"default kind", with(func(m *CSVMapping) { m.Defaults["kind"] = "Card" }), "defaults.kind", `kind "Card" must be`},
		{"lat without lon", with(func(m *CSVMapping) { delete(m.Columns, "lon") }), "columns.lon", "lat and lon must be mapped together"},
		{"lon without lat", with(func(m *CSVMapping) { delete(m.Columns, "lat"); m.Defaults["lon"] = "1"; delete(m.Columns, "lon") }), "columns.lat", "lat and lon must be mapped together"},
		{"default lat out of range", with(func(m *CSVMapping) { delete(m.Columns, "lat"); m.Defaults["lat"] = "91" }), "defaults.lat", "lat 91 is outside"},
		{"layout", with(func(m *CSVMapping) { m.TimeLayout = "yyyy-mm-dd" }), "time_layout", "time layout"},
		{"layout without date", with(func(m *CSVMapping) { m.TimeLayout = "15:04:05" }), "time_layout", "time layout"},
		{"zone", with(func(m *CSVMapping) { m.TimeZone = "Mars/Olympus" }), "time_zone", `unknown time zone "Mars/Olympus"`},
		{"zone offset", with(func(m *CSVMapping) { m.TimeZone = "+2" }), "time_zone", "must look like +02:00"},
		{"comma", with(func(m *CSVMapping) { m.Comma = ";;" }), "comma", "one character"},
		{"quote comma", with(func(m *CSVMapping) { m.Comma = `"` }), "comma", "one character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			if err == nil {
				t.Fatal("Validate = nil, want an error")
			}
			wantInvalid(t, err, tt.field, tt.msg)
			if _, err := NewCSV(strings.NewReader(testHeader), tt.m); err == nil {
				t.Fatal("NewCSV accepts an invalid mapping")
			}
		})
	}
	for _, m := range []CSVMapping{HandbookMapping(), testMapping(), with(func(m *CSVMapping) {
		m.TimeLayout, m.TimeZone, m.Comma = "unix", "Europe/Paris", ";"
	})} {
		if err := m.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", m, err)
		}
	}
}

func TestNewCSVHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, field, msg string
	}{
		{"missing column", strings.Replace(testHeader, "amt", "amount", 1), "columns.amount", `column "amt" (for amount) is not in the CSV header`},
		{"mapped column twice", strings.Replace(testHeader, "asn", "amt", 1), "columns.amount", `column "amt" (for amount) appears twice in the CSV header`},
		{"empty", "", "", "csv has no header line"},
		{"bad quote", "id,\"when\n", "", "csv header, line 1: extraneous or missing \" in quoted-field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCSV(strings.NewReader(tt.in), testMapping())
			wantInvalid(t, err, tt.field, tt.msg)
		})
	}
	t.Run("unmapped duplicate and BOM", func(t *testing.T) {
		in := "\uFEFF" + strings.TrimSuffix(testHeader, "\n") + ",x,x\nz,2018-04-01T10:00:00Z,c1,1,,,,,,,,1,2\n"
		c, err := NewCSV(strings.NewReader(in), testMapping())
		if err != nil {
			t.Fatal(err)
		}
		var ev occsimore.Event
		if err := c.Next(&ev); err != nil {
			t.Fatal(err)
		}
		if got, want := ev.ID, "z"; got != want {
			t.Fatalf("id = %q, want %q", got, want)
		}
		if v, ok := c.Column("x"); ok {
			t.Fatalf("Column(x) = %q, want none: the name is ambiguous", v)
		}
	})
}

func TestCSVTimeLayouts(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no zone database: %v", err)
	}
	tests := []struct {
		layout, zone, cell string
		want               time.Time
	}{
		{"", "", "2018-04-01T00:00:31.25-05:00", time.Date(2018, 4, 1, 0, 0, 31, 25e7, time.FixedZone("", -5*3600))},
		{"rfc3339", "Europe/Paris", "2018-04-01T00:00:31Z", time.Date(2018, 4, 1, 0, 0, 31, 0, time.UTC)},
		{"unix", "", "1522540831", time.Date(2018, 4, 1, 0, 0, 31, 0, time.UTC)},
		{"unix", "+05:30", "1522540831", time.Date(2018, 4, 1, 5, 30, 31, 0, time.FixedZone("", 5*3600+1800))},
		{"2006-01-02 15:04:05", "UTC", "2018-04-01 00:00:31", time.Date(2018, 4, 1, 0, 0, 31, 0, time.UTC)},
		{"2006-01-02 15:04:05", "Europe/Paris", "2018-04-01 00:00:31", time.Date(2018, 4, 1, 0, 0, 31, 0, paris)},
		{"02/01/2006 15:04", "-03:00", "01/04/2018 09:15", time.Date(2018, 4, 1, 9, 15, 0, 0, time.FixedZone("", -3*3600))},
	}
	for _, tt := range tests {
		t.Run(tt.layout+" "+tt.zone, func(t *testing.T) {
			m := CSVMapping{Columns: map[string]string{"time": "t"}, TimeLayout: tt.layout, TimeZone: tt.zone, Comma: ";"}
			c, err := NewCSV(strings.NewReader("t\n"+tt.cell+"\n"), m)
			if err != nil {
				t.Fatal(err)
			}
			var ev occsimore.Event
			if err := c.Next(&ev); err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal(tt.want, ev.Time, sameTime) || ev.Time.Hour() != tt.want.Hour() {
				t.Fatalf("time = %v, want %v", ev.Time, tt.want)
			}
		})
	}
}

// TestCSVMappingConfig reads a mapping from the configuration formats.
func TestCSVMappingConfig(t *testing.T) {
	t.Parallel()
	const tomlText = `
time_layout = "2006-01-02 15:04:05"
time_zone = "UTC"

[columns]
id = "TRANSACTION_ID"
time = "TX_DATETIME"
card = "CUSTOMER_ID"
terminal = "TERMINAL_ID"
amount = "TX_AMOUNT"
label = "TX_FRAUD"

[defaults]
kind = "card.tx"
`
	var fromTOML CSVMapping
	if _, err := toml.Decode(tomlText, &fromTOML); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(HandbookMapping(), fromTOML); d != "" {
		t.Fatalf("TOML mapping (-want +got):\n%s", d)
	}
	b, err := json.Marshal(HandbookMapping())
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON CSVMapping
	if err := json.Unmarshal(b, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(HandbookMapping(), fromJSON); d != "" {
		t.Fatalf("JSON mapping %s (-want +got):\n%s", b, d)
	}
	if !strings.Contains(string(b), `"time_layout":"2006-01-02 15:04:05"`) {
		t.Fatalf("JSON form %s lacks time_layout", b)
	}
}

// TestCSVHandbookConformance reads the whole raw handbook data set and
// checks the published counts (REFERENCES.md, section 1).
func TestCSVHandbookConformance(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("reads 1.75 million transactions")
	}
	path := filepath.Join("..", "..", "shared", "data", "handbook", "transactions_raw.csv.gz")
	f, err := os.Open(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the handbook data set is required in CI: %v", err)
		}
		t.Skipf("handbook data set not available (%v); see ../shared/data/handbook/PROVENANCE.md", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCSV(zr, HandbookMapping())
	if err != nil {
		t.Fatal(err)
	}
	var (
		ev                occsimore.Event
		n, frauds         int
		scenarios         = map[string]int{}
		first, last, prev time.Time
	)
	for {
		err := c.Next(&ev)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fraud, ok := c.Label()
		if !ok {
			t.Fatalf("line %d: no label", c.Line())
		}
		if fraud {
			frauds++
			s, _ := c.Column("TX_FRAUD_SCENARIO")
			scenarios[s]++
		}
		if n == 0 {
			first = ev.Time
		}
		if ev.Time.Before(prev) {
			t.Fatalf("line %d: time %v before %v", c.Line(), ev.Time, prev)
		}
		prev, last = ev.Time, ev.Time
		n++
	}
	if got, want := n, 1754155; got != want {
		t.Errorf("transactions = %d, want %d", got, want)
	}
	if got, want := frauds, 14681; got != want {
		t.Errorf("frauds = %d, want %d", got, want)
	}
	if got, want := fmt.Sprint(scenarios), "map[1:973 2:9077 3:4631]"; got != want {
		t.Errorf("frauds by scenario = %s, want %s", got, want)
	}
	if got, want := first, time.Date(2018, 4, 1, 0, 0, 31, 0, time.UTC); !got.Equal(want) {
		t.Errorf("first time = %v, want %v", got, want)
	}
	if got, want := last, time.Date(2018, 9, 30, 23, 59, 57, 0, time.UTC); !got.Equal(want) {
		t.Errorf("last time = %v, want %v", got, want)
	}
}
