package scenario

import (
	"github.com/occsimore/occsimore/logs/parse"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// The detector's clocks at their edges (issue 13).

// TestLeakyBucketDrainsOnTime: a bucket is freed once it has leaked empty,
// level × leakspeed after its last leak, not a nanosecond before.
func TestLeakyBucketDrainsOnTime(t *testing.T) {
	ss := mustScenarios(t, "name: l\ntype: leaky\nfilter: \"true\"\ncapacity: 5\nleakspeed: 10s\n")
	d := NewDetector(ss, Options{})
	feedAll(d, sshFail("192.0.2.20", "a", 0), sshFail("192.0.2.20", "a", 0))
	d.Flush(t0.Add(20*time.Second - 1))
	if d.Buckets() != 1 {
		t.Fatalf("a bucket of 2 at 10s a leak is gone before 20s")
	}
	d.Flush(t0.Add(20 * time.Second))
	if d.Buckets() != 0 {
		t.Errorf("a bucket of 2 at 10s a leak is still there at 20s")
	}
}

// TestSSHSessionIdle: a session's failures are remembered for 4 minutes of
// idleness, so that its "maximum authentication attempts" line is worth
// only the attempts not yet logged; after that it is worth them all.
func TestSSHSessionIdle(t *testing.T) {
	ss := mustScenarios(t, "name: t\ntype: trigger\nfilter: \"false\"\n")
	fail := func(sec float64, kind string) *parse.Entry {
		e := sshFail("198.51.100.30", "root", sec)
		e.Source, e.PID, e.Kind = parse.ParserSSHD, 4242, kind
		return e
	}
	for _, tc := range []struct {
		idle time.Duration
		want int
	}{{4 * time.Minute, MaxAuthTries - 2}, {4*time.Minute + 1, MaxAuthTries}} {
		d := NewDetector(ss, Options{})
		d.Feed(fail(0, parse.KindSSHFailedPassword))
		d.Feed(fail(0, parse.KindSSHFailedPassword))
		d.Flush(t0.Add(tc.idle))
		e := fail(tc.idle.Seconds(), parse.KindSSHMaxAuth)
		d.Feed(e)
		if e.Count != tc.want {
			t.Errorf("after %v idle: max-auth worth %d attempts, want %d", tc.idle, e.Count, tc.want)
		}
	}
}

// TestSkipPrivate: with SkipPrivate, private, loopback, link-local and
// unspecified sources are ignored; others are not.
func TestSkipPrivate(t *testing.T) {
	ss := mustScenarios(t, "name: t\ntype: trigger\nfilter: \"true\"\n")
	for ip, skip := range map[string]bool{"10.1.2.3": true, "127.0.0.1": true, "fe80::1": true, "0.0.0.0": true,
		"192.0.2.1": false, "2001:db8::1": false} {
		d := NewDetector(ss, Options{SkipPrivate: true})
		e := sshFail("192.0.2.1", "x", 0)
		e.SourceIP = netip.MustParseAddr(ip)
		if got := len(d.Feed(e)) == 0; got != skip {
			t.Errorf("%s: skipped %v, want %v", ip, got, skip)
		}
	}
}

// TestSweepEveryMinute: expired buckets are swept once a minute of event
// time has passed since the last sweep, exactly a minute included.
func TestSweepEveryMinute(t *testing.T) {
	d := NewDetector(mustScenarios(t, leakyYAML), Options{})
	for i := range 20 {
		d.Feed(sshFail("198.18.1."+strconv.Itoa(i), "root", 0)) // the first sweep runs at 0
	}
	d.Feed(sshFail("192.0.2.1", "root", 59.999))
	if got := d.Buckets(); got != 21 {
		t.Fatalf("Buckets before a minute = %d, want 21", got)
	}
	d.Feed(sshFail("192.0.2.2", "root", 60))
	if got := d.Buckets(); got != 2 {
		t.Errorf("Buckets a minute after the last sweep = %d, want 2", got)
	}
}
