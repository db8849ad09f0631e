package scenario

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/occsimore/occsimore/logs/parse"
)

// syntheticSSHD writes n sshd syslog lines, 10 ms apart: failures from a
// thousand attacking addresses, pre-auth disconnects, and ordinary logins.
func syntheticSSHD(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	lines := make([][]byte, n)
	for i := range lines {
		lines[i] = syntheticSSHDLine(r, i, nil)
	}
	return lines
}

var syntheticUsers = []string{"root", "admin", "ubuntu", "oracle", "test", "postgres", "git", "pi", "deploy", "user"}

// syntheticSSHDLine appends line i of syntheticSSHD's stream to buf.
func syntheticSSHDLine(r *rand.Rand, i int, buf []byte) []byte {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ts := start.Add(time.Duration(i) * 10 * time.Millisecond).Format(time.Stamp)
	attacker := fmt.Sprintf("203.0.%d.%d", r.IntN(4), r.IntN(250)+1)
	user := syntheticUsers[r.IntN(len(syntheticUsers))]
	port := 1024 + r.IntN(60000)
	var msg string
	switch k := r.IntN(10); {
	case k < 5:
		msg = fmt.Sprintf("Failed password for %s from %s port %d ssh2", user, attacker, port)
	case k < 7:
		msg = fmt.Sprintf("Invalid user %s from %s port %d", user, attacker, port)
	case k < 8:
		msg = fmt.Sprintf("Connection closed by authenticating user %s %s port %d [preauth]", user, attacker, port)
	case k < 9:
		msg = fmt.Sprintf("Accepted publickey for deploy from 192.0.2.%d port %d ssh2: ED25519 SHA256:abc", r.IntN(20)+1, port)
	default:
		msg = fmt.Sprintf("Disconnected from user deploy 192.0.2.%d port %d", r.IntN(20)+1, port)
	}
	return fmt.Appendf(buf, "%s bastion sshd[%d]: %s", ts, 1000+r.IntN(30000), msg)
}

// syntheticAccess writes n combined access-log lines, 10 ms apart: pages,
// static files, and probes (404 bursts, sensitive files, SQL injection,
// scanners, login brute force).
func syntheticAccess(n int) [][]byte {
	r := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	lines := make([][]byte, n)
	for i := range lines {
		ts := start.Add(time.Duration(i) * 10 * time.Millisecond).Format("02/Jan/2006:15:04:05 -0700")
		ip := fmt.Sprintf("198.51.%d.%d", r.IntN(8), r.IntN(250)+1)
		method, path, status, ua := "GET", "/", 200, "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"
		switch k := r.IntN(20); {
		case k < 8:
			path = fmt.Sprintf("/articles/%d", r.IntN(5000))
		case k < 13:
			path = fmt.Sprintf("/static/img/%d.png", r.IntN(500))
		case k < 15:
			path, status = fmt.Sprintf("/old/page-%d.php", r.IntN(10000)), 404
		case k < 16:
			path, status = []string{"/.env", "/.git/HEAD", "/backup.zip", "/wp-config.php.bak"}[r.IntN(4)], 404
		case k < 17:
			path = fmt.Sprintf("/item?id=%d%%20union%%20select%%20%d", r.IntN(100), r.IntN(100))
		case k < 18:
			ua = "Mozilla/5.00 (Nikto/2.1.5) (Evasions:None)"
		default:
			method, path = "POST", "/wp-login.php"
		}
		lines[i] = fmt.Appendf(nil, `%s - - [%s] "%s %s HTTP/1.1" %d %d "-" "%s"`, ip, ts, method, path, status, 100+r.IntN(9000), ua)
	}
	return lines
}

func benchReplay(b *testing.B, lines [][]byte) {
	ss, err := BuiltinScenarios()
	if err != nil {
		b.Fatal(err)
	}
	// As `logs replay` dates year-less lines: not after the file's mtime.
	hint := parse.Hint{Years: &parse.Years{NotAfter: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}}
	var size int64
	for _, l := range lines {
		size += int64(len(l))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	overflows := 0
	for b.Loop() {
		d := NewDetector(ss, Options{})
		for _, l := range lines {
			e, err := parse.Parse(l, hint)
			if err != nil {
				b.Fatal(err)
			}
			overflows += len(d.Feed(&e))
		}
	}
	if overflows == 0 {
		b.Fatal("no overflow: the synthetic log has attacks")
	}
	n := float64(b.N) * float64(len(lines))
	b.ReportMetric(n/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(overflows)/float64(b.N), "overflows/op")
}

// BenchmarkReplaySSHD parses and detects 100k synthetic sshd lines per op.
func BenchmarkReplaySSHD(b *testing.B) { benchReplay(b, syntheticSSHD(100_000)) }

// BenchmarkReplayAccess parses and detects 100k synthetic access-log lines
// per op.
func BenchmarkReplayAccess(b *testing.B) { benchReplay(b, syntheticAccess(100_000)) }

// BenchmarkReplaySSHDMemory streams 1,000,000 synthetic sshd lines (2.8
// hours of event time) through Parse and a Detector, generating each line
// as it goes, and reports the live heap after a GC at 100k lines and at the
// end: flat memory means the two are close.
func BenchmarkReplaySSHDMemory(b *testing.B) {
	ss, err := BuiltinScenarios()
	if err != nil {
		b.Fatal(err)
	}
	heap := func() float64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapAlloc) / (1 << 20)
	}
	const n = 1_000_000
	for b.Loop() {
		r := rand.New(rand.NewPCG(1, 2))
		d := NewDetector(ss, Options{})
		hint := parse.Hint{Years: &parse.Years{NotAfter: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}}
		var buf []byte
		var at100k float64
		for i := range n {
			buf = syntheticSSHDLine(r, i, buf[:0])
			e, err := parse.Parse(buf, hint)
			if err != nil {
				b.Fatal(err)
			}
			d.Feed(&e)
			if i == 100_000 {
				at100k = heap()
			}
		}
		b.ReportMetric(at100k, "heapMB@100k")
		b.ReportMetric(heap(), "heapMB@1M")
		b.ReportMetric(float64(d.Buckets()), "buckets@1M")
		runtime.KeepAlive(d)
	}
}

// BenchmarkReferenceSHA256 is the peer measured in the same run as the
// benchmarks above: SHA-256 of 1 KiB, as `occsimore bench` reports it, so
// that figures taken on a loaded machine can be scaled.
func BenchmarkReferenceSHA256(b *testing.B) {
	buf := make([]byte, 1024)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		sha256.Sum256(buf)
	}
}

// BenchmarkFeed is the detector alone on a parsed sshd line that hits an
// open bucket.
func BenchmarkFeed(b *testing.B) {
	ss, err := BuiltinScenarios()
	if err != nil {
		b.Fatal(err)
	}
	d := NewDetector(ss, Options{})
	e := sshFail("203.0.113.9", "root", 0)
	b.ReportAllocs()
	for b.Loop() {
		d.Feed(e)
	}
}

// TestFeedAllocations pins the allocation claim: an entry costs one
// allocation (the boxed Env) however many scenarios run, plus one per
// conditional scenario it is poured into (the boxed BucketEnv).
func TestFeedAllocations(t *testing.T) {
	ss, err := BuiltinScenarios()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(ss, Options{})
	e := sshFail("203.0.113.9", "alice", 0)
	for range 20 {
		d.Feed(e) // open every bucket; the fast ones overflow into blackholes
	}
	// Two conditional scenarios (ssh-time-based-bf and its user-enum).
	if got := testing.AllocsPerRun(200, func() { d.Feed(e) }); got > 3 {
		t.Errorf("Feed of an ssh failure allocates %.1f times, want at most 3", got)
	}
	page, err := parse.Parse([]byte(`198.51.100.4 - - [01/Mar/2026:10:00:00 +0000] "GET /articles/12?page=2 HTTP/1.1" 200 512 "-" "Mozilla/5.0"`), parse.Hint{})
	if err != nil {
		t.Fatal(err)
	}
	d.Feed(&page)
	if got := testing.AllocsPerRun(200, func() { d.Feed(&page) }); got > 1 {
		t.Errorf("Feed of a page view allocates %.1f times, want at most 1", got)
	}
	if got := testing.AllocsPerRun(200, func() { d.Explain(&page) }); got > 2 {
		t.Errorf("Explain on a page view allocates %.1f times, want at most 2 (the Env and the result)", got)
	}
}
