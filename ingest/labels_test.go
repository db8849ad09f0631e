package ingest_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/ingest"
)

// TestLabelledNDJSON reads labels and keeps them out of the events.
func TestLabelledNDJSON(t *testing.T) {
	t.Parallel()
	in := `{"kind":"card.tx","time":"2026-01-01T00:00:00Z","card":"c1","amount":3,"attrs":{"fraud":"1","fraud_scenario":"2"}}
{"kind":"card.tx","time":"2026-01-01T00:01:00Z","card":"c1","amount":4,"attrs":{"fraud":"0","mcc":"5411"}}
{"kind":"card.tx","time":"2026-01-01T00:02:00Z","card":"c1","amount":5}
`
	r := ingest.NewLabelledNDJSON(strings.NewReader(in))
	var ev occsimore.Event
	for i, want := range []bool{true, false} {
		fraud, err := r.Next(&ev)
		if err != nil || fraud != want {
			t.Fatalf("line %d: fraud %v, %v; want %v", i+1, fraud, err, want)
		}
		if _, ok := ev.Attrs["fraud"]; ok {
			t.Fatalf("line %d: the label reached the event", i+1)
		}
		if _, ok := ev.Attrs["fraud_scenario"]; ok {
			t.Fatalf("line %d: the scenario reached the event", i+1)
		}
	}
	if ev.Attrs["mcc"] != "5411" {
		t.Errorf("other attributes lost: %v", ev.Attrs)
	}
	if _, err := r.Next(&ev); occsimore.ErrorField(err) != "attrs.fraud" || r.Line() != 3 {
		t.Errorf("unlabelled line: %v at line %d, want an attrs.fraud error at line 3", err, r.Line())
	}
}

// TestLabelledCSV reads the handbook's TX_FRAUD column.
func TestLabelledCSV(t *testing.T) {
	t.Parallel()
	in := "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_TIME_SECONDS,TX_TIME_DAYS,TX_FRAUD,TX_FRAUD_SCENARIO\n" +
		"0,2018-04-01 00:00:31,596,3156,57.16,31,0,0,0\n" +
		"1,2018-04-01 00:02:10,4961,3412,81.51,130,0,1,1\n"
	r, err := ingest.NewLabelledCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var ev occsimore.Event
	for i, want := range []bool{false, true} {
		fraud, err := r.Next(&ev)
		if err != nil || fraud != want {
			t.Fatalf("row %d: fraud %v, %v; want %v", i+1, fraud, err, want)
		}
	}
	if _, err := r.Next(&ev); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last row: %v, want io.EOF", err)
	}
}

func FuzzLabelledNDJSON(f *testing.F) {
	f.Add(`{"kind":"card.tx","time":"2026-01-01T00:00:00Z","card":"c1","amount":3,"attrs":{"fraud":"1","fraud_scenario":"2"}}`)
	f.Add(`{"kind":"card.tx","time":"2026-01-01T00:00:00Z","card":"c1","attrs":{"fraud":"maybe"}}`)
	f.Add(`{"kind":"card.tx"`)
	f.Fuzz(func(t *testing.T, line string) {
		r := ingest.NewLabelledNDJSON(strings.NewReader(line))
		var ev occsimore.Event
		for range 4 {
			_, err := r.Next(&ev)
			if err != nil {
				if errors.Is(err, io.EOF) {
					return
				}
				if occsimore.ErrorCode(err) != occsimore.EINVALID {
					t.Fatalf("error %v is not EINVALID", err)
				}
				continue
			}
			if _, ok := ev.Attrs["fraud"]; ok {
				t.Fatal("the label reached the event")
			}
		}
	})
}
