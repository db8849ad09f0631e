package journal

import (
	"testing"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/ingest"
)

// benchEvent is a typical login, with attributes, as the journal stores it.
func benchEvent(b *testing.B) occsimore.Event {
	var ev occsimore.Event
	in := []byte(`{"id":"l-99","kind":"auth.login","time":"2024-11-05T08:12:44.123Z","user":"ana@bank.example","ip":"198.51.100.23","country":"CH","lat":46.2,"lon":6.14,"device":"d-7f3a","user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36","asn":3303,"success":true,"attrs":{"app":"ebanking","mfa":"totp"}}`)
	if err := ingest.DecodeJSON(in, &ev); err != nil {
		b.Fatal(err)
	}
	ev.MemberID = "mem_01HF8Z"
	return ev
}

func BenchmarkAppendBinary(b *testing.B) {
	ev := benchEvent(b)
	buf := AppendEvent(nil, &ev)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = AppendEvent(buf[:0], &ev)
	}
}

func BenchmarkDecodeBinary(b *testing.B) {
	ev := benchEvent(b)
	buf := AppendEvent(nil, &ev)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	var got occsimore.Event
	for b.Loop() {
		if _, err := DecodeEvent(buf, &got); err != nil {
			b.Fatal(err)
		}
	}
}
