package parse

import (
	"testing"
	"time"
)

// BenchmarkParseSSHD parses a mix of real sshd lines (CrowdSec hub tests)
// through the full dispatcher, syslog framing included.
func BenchmarkParseSSHD(b *testing.B) {
	var lines [][]byte
	for _, name := range []string{"sshd-logs.log", "sshd-invalid-bf.log", "sshd-success-logs.log", "ssh-bf.log"} {
		for _, l := range readLines(b, "testdata/crowdsec/"+name) {
			if _, err := Parse([]byte(l), Hint{Year: 2026}); err == nil {
				lines = append(lines, []byte(l))
			}
		}
	}
	benchLines(b, lines)
}

func BenchmarkParseAccess(b *testing.B) {
	var lines [][]byte
	for _, name := range []string{"nginx_http-logs.log", "apache-http-probing.log", "nginx-bad-user-agent.log"} {
		for _, l := range readLines(b, "testdata/crowdsec/"+name) {
			if e, err := Parse([]byte(l), Hint{}); err == nil && e.Kind == KindHTTPAccess {
				lines = append(lines, []byte(l))
			}
		}
	}
	benchLines(b, lines)
}

func benchLines(b *testing.B, lines [][]byte) {
	if len(lines) == 0 {
		b.Fatal("no lines")
	}
	// As `logs replay` dates year-less lines: not after the file's mtime.
	hint := Hint{Years: &Years{NotAfter: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}}
	var size int64
	for _, l := range lines {
		size += int64(len(l))
	}
	b.SetBytes(size / int64(len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := Parse(lines[i], hint); err != nil {
			b.Fatal(err)
		}
		i++
		if i == len(lines) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkParseStringSSHD is BenchmarkParseSSHD without the []byte copy:
// the zero-allocation path for callers that already hold strings.
func BenchmarkParseStringSSHD(b *testing.B) {
	var lines []string
	for _, l := range readLines(b, "testdata/crowdsec/sshd-logs.log") {
		if _, err := ParseString(l, Hint{Year: 2026}); err == nil {
			lines = append(lines, l)
		}
	}
	hint := Hint{Year: 2026}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := ParseString(lines[i], hint); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(lines) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
