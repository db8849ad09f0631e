package source

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// SyslogConfig configures a syslog server.
//
// A listener serves one member: every message it receives is tagged with
// Member, whatever its content says. A member with its own relay points it at
// its own listener (one port per member); the member is never taken from the
// message, which a sender could forge.
//
// TCP connections are bounded so that idle or hostile senders cannot lock
// out real ones: in all (MaxConns), per source address (MaxConnsPerAddr; an
// IPv6 source counts by its /64, which one host usually holds whole), and
// in time (IdleTimeout). A message over MaxMessageSize is dropped; one over
// twice that, such as an endless line, also cuts its connection.
type SyslogConfig struct {
	Member          string
	UDP             string        // UDP listen address, e.g. ":5514"; empty disables UDP
	TCP             string        // TCP listen address; empty disables TCP
	MaxMessageSize  int           // longer messages are rejected and counted; DefaultMaxLineSize when 0
	MaxConns        int           // concurrent TCP connections; DefaultMaxConns when 0
	MaxConnsPerAddr int           // concurrent TCP connections from one source; DefaultMaxConnsPerAddr when 0
	IdleTimeout     time.Duration // a TCP connection silent this long is closed; DefaultIdleTimeout when 0
}

// Defaults for SyslogConfig.
const (
	DefaultMaxConns        = 256
	DefaultMaxConnsPerAddr = 16
	DefaultIdleTimeout     = time.Minute
)

// Syslog is a syslog server over UDP and TCP. It accepts RFC 3164 and RFC
// 5424 messages; on TCP, each message is framed by octet counting or by a
// newline (RFC 6587). The host of a message is its syslog HOSTNAME, or the
// sender's IP address when the message has none.
type Syslog struct {
	cfg    SyslogConfig
	log    *slog.Logger
	udp    *net.UDPConn
	tcp    net.Listener
	conns  chan struct{} // one token per open TCP connection
	stats  counters
	closed sync.Once

	perAddrMu sync.Mutex
	perAddr   map[netip.Addr]int // open TCP connections by source (see sourceKey)
}

// ListenSyslog opens the listeners of cfg. Serve then delivers the messages;
// Close releases the listeners if Serve is never called.
func ListenSyslog(ctx context.Context, cfg SyslogConfig, logger *slog.Logger) (*Syslog, error) {
	if cfg.UDP == "" && cfg.TCP == "" {
		return nil, errors.New("syslog: no UDP or TCP address")
	}
	cfg.MaxMessageSize = maxOrDefault(cfg.MaxMessageSize)
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxConnsPerAddr <= 0 {
		cfg.MaxConnsPerAddr = DefaultMaxConnsPerAddr
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	s := &Syslog{
		cfg:     cfg,
		log:     orDiscard(logger).With("member", cfg.Member),
		conns:   make(chan struct{}, cfg.MaxConns),
		perAddr: make(map[netip.Addr]int),
	}
	var lc net.ListenConfig
	if cfg.UDP != "" {
		pc, err := lc.ListenPacket(ctx, "udp", cfg.UDP)
		if err != nil {
			return nil, fmt.Errorf("syslog: listen udp: %w", err)
		}
		s.udp = pc.(*net.UDPConn)
		// A larger socket buffer absorbs bursts; the kernel may cap it.
		_ = s.udp.SetReadBuffer(4 << 20)
	}
	if cfg.TCP != "" {
		l, err := lc.Listen(ctx, "tcp", cfg.TCP)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("syslog: listen tcp: %w", err)
		}
		s.tcp = l
	}
	return s, nil
}

// UDPAddr returns the bound UDP address, or nil when UDP is disabled.
func (s *Syslog) UDPAddr() net.Addr {
	if s.udp == nil {
		return nil
	}
	return s.udp.LocalAddr()
}

// TCPAddr returns the bound TCP address, or nil when TCP is disabled.
func (s *Syslog) TCPAddr() net.Addr {
	if s.tcp == nil {
		return nil
	}
	return s.tcp.Addr()
}

// Stats returns the counters so far. It is safe to call while Serve runs.
func (s *Syslog) Stats() Stats { return s.stats.snapshot() }

// Close closes the listeners. Serve closes them itself when it returns.
func (s *Syslog) Close() error {
	var errs []error
	s.closed.Do(func() {
		if s.udp != nil {
			errs = append(errs, s.udp.Close())
		}
		if s.tcp != nil {
			errs = append(errs, s.tcp.Close())
		}
	})
	return errors.Join(errs...)
}

// Serve delivers messages to h, from several goroutines at once, until ctx
// is done or h fails; call it once. On shutdown it stops accepting, lets
// every connection finish the messages it has already received, and waits
// for them. It returns nil when ctx is done and the error of h, wrapped,
// when h fails.
func (s *Syslog) Serve(ctx context.Context, h Handler) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		fatal error
	)
	fail := func(err error) {
		mu.Lock()
		if fatal == nil {
			fatal = err
		}
		mu.Unlock()
		cancel()
	}
	var wg sync.WaitGroup
	if s.udp != nil {
		wg.Go(func() { s.serveUDP(ctx, h, fail) })
	}
	if s.tcp != nil {
		wg.Go(func() { s.serveTCP(ctx, h, fail, &wg) })
	}
	<-ctx.Done()
	s.Close()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return fatal
}

// deliver tags one message and hands it to h.
func (s *Syslog) deliver(ctx context.Context, msg []byte, origin string, peer netip.Addr, h Handler) error {
	if len(msg) == 0 {
		return nil
	}
	host := syslogHost(msg)
	if host == "" {
		host = peer.Unmap().String()
	}
	s.stats.line(len(msg))
	l := Line{Member: s.cfg.Member, Host: host, Origin: origin, Text: msg, Received: time.Now()}
	if err := h(ctx, l); err != nil {
		return fmt.Errorf("syslog: handle message: %w", err)
	}
	return nil
}

func (s *Syslog) serveUDP(ctx context.Context, h Handler, fail func(error)) {
	// One byte more than the limit tells an oversize datagram, which the
	// kernel truncates to the buffer, from one that just fits.
	buf := make([]byte, s.cfg.MaxMessageSize+1)
	for {
		n, peer, err := s.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.stats.errors.Add(1)
			s.log.Warn("syslog udp read", "err", err)
			continue
		}
		if n > s.cfg.MaxMessageSize {
			s.stats.oversize.Add(1)
			s.log.Debug("syslog udp message too large", "peer", peer, "max", s.cfg.MaxMessageSize)
			continue
		}
		if err := s.deliver(ctx, trimNewline(buf[:n]), "syslog-udp", peer.Addr(), h); err != nil {
			fail(err)
			return
		}
	}
}

func (s *Syslog) serveTCP(ctx context.Context, h Handler, fail func(error), wg *sync.WaitGroup) {
	for {
		conn, err := s.tcp.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.stats.errors.Add(1)
			s.log.Warn("syslog tcp accept", "err", err)
			continue
		}
		src := sourceKey(conn.RemoteAddr())
		if !s.takeSource(src) {
			// Debug, not Warn: a flood from one source would flood the log.
			s.stats.refused.Add(1)
			s.log.Debug("syslog tcp connection refused: per-source limit reached", "peer", conn.RemoteAddr(), "max", s.cfg.MaxConnsPerAddr)
			conn.Close()
			continue
		}
		select {
		case s.conns <- struct{}{}:
		default:
			s.releaseSource(src)
			s.stats.refused.Add(1)
			s.log.Warn("syslog tcp connection refused: limit reached", "peer", conn.RemoteAddr(), "max", s.cfg.MaxConns)
			conn.Close()
			continue
		}
		wg.Go(func() {
			defer func() { <-s.conns }()
			defer s.releaseSource(src)
			defer conn.Close()
			if err := s.serveConn(ctx, conn, h); err != nil {
				fail(err)
			}
		})
	}
}

// sourceKey is what the per-source limit counts by: the IPv4 address, or
// the /64 of an IPv6 one.
func sourceKey(a net.Addr) netip.Addr {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}
	}
	ip := ta.AddrPort().Addr().Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip
}

// takeSource counts a new connection from src, unless src has its maximum.
func (s *Syslog) takeSource(src netip.Addr) bool {
	s.perAddrMu.Lock()
	defer s.perAddrMu.Unlock()
	if s.perAddr[src] >= s.cfg.MaxConnsPerAddr {
		return false
	}
	s.perAddr[src]++
	return true
}

func (s *Syslog) releaseSource(src netip.Addr) {
	s.perAddrMu.Lock()
	defer s.perAddrMu.Unlock()
	if s.perAddr[src]--; s.perAddr[src] <= 0 {
		delete(s.perAddr, src)
	}
}

// serveConn reads the messages of one TCP connection until it closes, idles
// out or ctx is done. Only an error of h is returned.
func (s *Syslog) serveConn(ctx context.Context, conn net.Conn, h Handler) error {
	var peer netip.Addr
	if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		peer = a.AddrPort().Addr()
	}
	log := s.log.With("peer", conn.RemoteAddr())
	// Shutdown interrupts a blocked read; messages already buffered have
	// been delivered by then, since the scanner only reads when it has none.
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Now()) })
	defer stop()
	fr := &framer{max: s.cfg.MaxMessageSize, cut: 2 * s.cfg.MaxMessageSize}
	sc := bufio.NewScanner(&idleReader{ctx: ctx, conn: conn, idle: s.cfg.IdleTimeout})
	sc.Buffer(make([]byte, 0, 4096), s.cfg.MaxMessageSize+maxLenDigits+2)
	sc.Split(fr.split)
	counted := 0
	for sc.Scan() {
		if d := fr.oversize - counted; d > 0 {
			s.stats.oversize.Add(uint64(d))
			counted = fr.oversize
		}
		if err := s.deliver(ctx, sc.Bytes(), "syslog-tcp", peer, h); err != nil {
			return err
		}
	}
	if d := fr.oversize - counted; d > 0 {
		s.stats.oversize.Add(uint64(d))
	}
	err := sc.Err()
	switch {
	case err == nil || ctx.Err() != nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		log.Debug("syslog tcp connection idle, closing")
	case errors.Is(err, errEndless):
		s.stats.cut.Add(1)
		log.Warn("syslog tcp connection cut: message over twice the maximum size", "max", s.cfg.MaxMessageSize)
	default:
		s.stats.errors.Add(1)
		log.Warn("syslog tcp read", "err", err)
	}
	return nil
}

// idleReader refreshes the read deadline of conn before each read, so that
// a silent connection times out, without undoing a shutdown deadline.
type idleReader struct {
	ctx  context.Context
	conn net.Conn
	idle time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if err := r.conn.SetReadDeadline(time.Now().Add(r.idle)); err != nil {
		return 0, err
	}
	// Shutdown may have set its deadline just before ours replaced it.
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.conn.Read(p)
}
