package source_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore/logs/source"
)

func listen(t *testing.T, cfg source.SyslogConfig) (*source.Syslog, chan source.Line, func() error) {
	t.Helper()
	srv, err := source.ListenSyslog(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, ch := collect()
	stop := run(t, func(ctx context.Context) error { return srv.Serve(ctx, h) })
	return srv, ch, stop
}

func dial(t *testing.T, network string, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.Dial(network, addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

func octets(msg string) string { return fmt.Sprintf("%d %s", len(msg), msg) }

const (
	msg5424 = "<34>1 2026-11-27T10:15:01.003Z web1 sshd 123 - - Failed password for root from 203.0.113.9 port 22 ssh2"
	msg3164 = "<38>Nov 27 10:15:02 db1 sshd[77]: Accepted publickey for deploy from 198.51.100.4 port 50022 ssh2"
	noHost  = "<34>1 2026-11-27T10:15:03Z - app - - - no hostname here"
)

func TestSyslogEndToEnd(t *testing.T) {
	srv, ch, stop := listen(t, source.SyslogConfig{
		Member: "bank", UDP: "127.0.0.1:0", TCP: "127.0.0.1:0", MaxMessageSize: 200, MaxConns: 2,
	})

	check := func(l source.Line, text, host, origin string) {
		t.Helper()
		if got, want := string(l.Text), text; got != want {
			t.Fatalf("text = %q, want %q", got, want)
		}
		if got, want := l.Host, host; got != want {
			t.Fatalf("host = %q, want %q", got, want)
		}
		if got, want := l.Origin, origin; got != want {
			t.Fatalf("origin = %q, want %q", got, want)
		}
		if got, want := l.Member, "bank"; got != want {
			t.Fatalf("member = %q, want %q", got, want)
		}
	}

	// UDP: one datagram is one message; an oversize one is dropped.
	u := dial(t, "udp", srv.UDPAddr())
	write(t, u, msg5424+"\n")
	check(next(t, ch), msg5424, "web1", "syslog-udp")
	write(t, u, "<34>1 - big - - - "+strings.Repeat("x", 300))
	write(t, u, noHost)
	check(next(t, ch), noHost, "127.0.0.1", "syslog-udp")
	if got, want := srv.Stats().Oversize, uint64(1); got != want {
		t.Fatalf("Stats.Oversize after UDP = %d, want %d", got, want)
	}

	// TCP: octet counting and LF framing mixed on one connection, with an
	// oversize message of each kind in the middle.
	c1 := dial(t, "tcp", srv.TCPAddr())
	write(t, c1, octets(msg3164)+
		msg5424+"\n"+
		octets(strings.Repeat("o", 350))+ // under twice the maximum: skipped, not cut
		strings.Repeat("l", 300)+"\n"+
		octets(noHost+"\n")+"\n")
	// The last message arrives in pieces, its header split too.
	write(t, c1, "1")
	write(t, c1, "3 <13>hello")
	write(t, c1, " tcp")
	check(next(t, ch), msg3164, "db1", "syslog-tcp")
	check(next(t, ch), msg5424, "web1", "syslog-tcp")
	check(next(t, ch), noHost, "127.0.0.1", "syslog-tcp")
	check(next(t, ch), "<13>hello tcp", "127.0.0.1", "syslog-tcp")
	if got, want := srv.Stats().Oversize, uint64(3); got != want {
		t.Fatalf("Stats.Oversize after TCP = %d, want %d", got, want)
	}

	// Connection limit: c1 and c2 are served, c3 is refused.
	c2 := dial(t, "tcp", srv.TCPAddr())
	write(t, c2, "<13>from c2\n")
	check(next(t, ch), "<13>from c2", "127.0.0.1", "syslog-tcp")
	c3 := dial(t, "tcp", srv.TCPAddr())
	if n, err := c3.Read(make([]byte, 1)); err == nil {
		t.Fatalf("third connection read %d bytes, want it closed", n)
	}
	if got, want := srv.Stats().Refused, uint64(1); got != want {
		t.Fatalf("Stats.Refused = %d, want %d", got, want)
	}
	// The refusal did not disturb the served connections.
	write(t, c1, "<13>c1 again\n")
	check(next(t, ch), "<13>c1 again", "127.0.0.1", "syslog-tcp")

	// Shutdown closes the open connections and returns nil.
	if err := stop(); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	if n, err := c1.Read(make([]byte, 1)); err == nil {
		t.Fatalf("c1 read %d bytes after shutdown, want it closed", n)
	}
	st := srv.Stats()
	if got, want := st.Lines, uint64(8); got != want {
		t.Fatalf("Stats.Lines = %d, want %d", got, want)
	}
	if got, want := st.Errors, uint64(0); got != want {
		t.Fatalf("Stats.Errors = %d, want %d", got, want)
	}
}

func TestSyslogHandlerErrorStopsServe(t *testing.T) {
	srv, err := source.ListenSyslog(t.Context(), source.SyslogConfig{TCP: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stopErr := errors.New("store down")
	done := make(chan error, 1)
	go func() {
		done <- srv.Serve(context.Background(), func(context.Context, source.Line) error { return stopErr })
	}()
	c := dial(t, "tcp", srv.TCPAddr())
	write(t, c, "<13>one\n")
	select {
	case err := <-done:
		if !errors.Is(err, stopErr) {
			t.Fatalf("Serve = %v, want %v", err, stopErr)
		}
	case <-time.After(guard):
		t.Fatalf("Serve did not return within %v after its handler failed", guard)
	}
}

func TestListenSyslogNeedsAnAddress(t *testing.T) {
	if _, err := source.ListenSyslog(t.Context(), source.SyslogConfig{Member: "bank"}, nil); err == nil {
		t.Fatal("ListenSyslog without addresses succeeded")
	}
}

// dialFrom connects to addr from the loopback address local, such as
// 127.0.0.2: Linux routes all of 127.0.0.0/8 to the loopback interface, so
// one machine can play several senders.
func dialFrom(t *testing.T, local string, addr net.Addr) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls cond until it holds; the guard bounds a failure, it is no
// timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, guard)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSyslogIdleFloodFromOneSource opens 1,000 idle connections from one
// address, as the probe did, and checks that a real sender from another
// address is still served: one source gets at most MaxConnsPerAddr of the
// server's connections, the others are refused at once.
func TestSyslogIdleFloodFromOneSource(t *testing.T) {
	srv, ch, _ := listen(t, source.SyslogConfig{Member: "bank", TCP: "127.0.0.1:0"})
	const idle = 1000
	for range idle {
		dialFrom(t, "127.0.0.1", srv.TCPAddr())
	}
	// Every connection over the default limit of 256 in all is refused
	// whatever the per-source limit; wait for those refusals, so that the
	// server has taken what it will take of the flood.
	waitFor(t, "refusals of the flood", func() bool { return srv.Stats().Refused >= idle-source.DefaultMaxConns })

	real := dialFrom(t, "127.0.0.2", srv.TCPAddr())
	write(t, real, msg3164+"\n")
	if l := next(t, ch); string(l.Text) != msg3164 || l.Host != "db1" {
		t.Fatalf("got %q from %q, want the real sender's line", l.Text, l.Host)
	}
	if got, want := srv.Stats().Refused, uint64(idle-source.DefaultMaxConnsPerAddr); got < want {
		t.Fatalf("Stats.Refused = %d, want at least %d (all but %d of the flood)", got, want, source.DefaultMaxConnsPerAddr)
	}
	// One more connection from the flooding address is refused: the server
	// closes it without reading.
	extra := dialFrom(t, "127.0.0.1", srv.TCPAddr())
	extra.SetReadDeadline(time.Now().Add(guard))
	if n, err := extra.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("extra connection from the flooding address: read %d bytes, err %v; want it closed", n, err)
	}
}

// TestSyslogIdleTimeoutAndEndlessLine checks that an idle connection is
// closed after IdleTimeout, that an endless line (more than twice the
// maximum message size without a newline) cuts its connection, and that
// both leave other senders served.
func TestSyslogIdleTimeoutAndEndlessLine(t *testing.T) {
	srv, ch, _ := listen(t, source.SyslogConfig{
		Member: "bank", TCP: "127.0.0.1:0", MaxMessageSize: 512, IdleTimeout: 200 * time.Millisecond,
	})
	closed := func(c net.Conn, what string) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(guard))
		if n, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: read %d bytes, err %v; want the server to close it", what, n, err)
		}
	}
	closed(dialFrom(t, "127.0.0.3", srv.TCPAddr()), "idle connection")

	endless := dialFrom(t, "127.0.0.4", srv.TCPAddr())
	write(t, endless, "<13>before\n")
	if got := string(next(t, ch).Text); got != "<13>before" {
		t.Fatalf("got %q", got)
	}
	// Write more than the cut-off and keep going; the server cuts the
	// connection, so a write eventually fails or the read sees the end.
	chunk := strings.Repeat("x", 256)
	for range 8 {
		if _, err := io.WriteString(endless, chunk); err != nil {
			break
		}
	}
	closed(endless, "connection with an endless line")
	waitFor(t, "Stats.Cut", func() bool { return srv.Stats().Cut == 1 })

	other := dialFrom(t, "127.0.0.5", srv.TCPAddr())
	write(t, other, "<13>still served\n")
	if got := string(next(t, ch).Text); got != "<13>still served" {
		t.Fatalf("got %q", got)
	}
}
