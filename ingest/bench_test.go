package ingest

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// benchCard is a typical card transaction on the wire.
var benchCard = []byte(`{"id":"tx-000123456","kind":"card.tx","time":"2018-04-01T00:02:10+02:00","card":"4961","customer":"c-4961","terminal":"3412","merchant":"m-88","amount":81.51,"currency":"EUR","country":"FR","mcc":"5411","channel":"pos"}`)

// benchLogin is a typical login, with attributes.
var benchLogin = []byte(`{"id":"l-99","kind":"auth.login","time":"2024-11-05T08:12:44.123Z","user":"ana@bank.example","ip":"198.51.100.23","country":"CH","lat":46.2,"lon":6.14,"device":"d-7f3a","user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36","asn":3303,"success":true,"attrs":{"app":"ebanking","mfa":"totp"}}`)

func BenchmarkDecodeJSON(b *testing.B) {
	for _, bc := range []struct {
		name string
		in   []byte
	}{{"card", benchCard}, {"login", benchLogin}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			var ev occsimore.Event
			for b.Loop() {
				if err := DecodeJSON(bc.in, &ev); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The same with encoding/json (strict decoder plus Validate), for
		// comparison.
		b.Run(bc.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			var ev occsimore.Event
			for b.Loop() {
				if err := stdlibDecode(bc.in, &ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchBatch is n handbook-like card transactions as NDJSON.
func benchBatch(b *testing.B, n int) []byte {
	r := rand.New(rand.NewPCG(13, 14))
	start := time.Date(2018, 4, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	for i := range n {
		ev := occsimore.Event{
			ID:       fmt.Sprint(i),
			Kind:     "card.tx",
			Time:     start.Add(time.Duration(r.Int64N(183 * 24 * int64(time.Hour)))).Truncate(time.Second),
			Card:     fmt.Sprint(r.IntN(5000)),
			Terminal: fmt.Sprint(r.IntN(10000)),
			Amount:   float64(r.IntN(20000)) / 100,
			Currency: "EUR",
		}
		buf.Write(mustJSON(b, ev))
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func BenchmarkNDJSON(b *testing.B) {
	const n = 1000
	batch := benchBatch(b, n)
	b.ReportAllocs()
	b.SetBytes(int64(len(batch)))
	var ev occsimore.Event
	for b.Loop() {
		d := NewNDJSON(bytes.NewReader(batch), 0)
		for {
			err := d.Next(&ev)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkCSV(b *testing.B) {
	// The handbook sample, repeated.
	const header = "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_TIME_SECONDS,TX_TIME_DAYS,TX_FRAUD,TX_FRAUD_SCENARIO\n"
	const row = "1,2018-04-01 00:02:10,4961,3412,81.51,130,0,0,0\n"
	const n = 1000
	in := header + strings.Repeat(row, n)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	var ev occsimore.Event
	for b.Loop() {
		c, err := NewCSV(strings.NewReader(in), HandbookMapping())
		if err != nil {
			b.Fatal(err)
		}
		for {
			err := c.Next(&ev)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
