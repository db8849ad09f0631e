package source_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/occsimore/occsimore/logs/source"
)

// BenchmarkReplay measures line splitting and tagging of an sshd log.
func BenchmarkReplay(b *testing.B) {
	const lines = 10000
	line := "Nov 27 10:15:01 web1 sshd[42]: Failed password for invalid user admin from 203.0.113.9 port 52144 ssh2\n"
	data := bytes.Repeat([]byte(line), lines)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	h := func(_ context.Context, l source.Line) error { n += len(l.Text); return nil }
	for b.Loop() {
		src := &source.Reader{R: bytes.NewReader(data), Member: "bank", Host: "web1"}
		if err := src.Run(context.Background(), h); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*lines/b.Elapsed().Seconds(), "lines/s")
}
