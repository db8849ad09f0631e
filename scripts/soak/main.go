// Command soak is the load driver of scripts/soak.sh (issue 12's soak
// benchmark). For -duration it runs, at once and against one server on
// loopback:
//
//   - two members ingesting NDJSON batches (POST /v1/events:batch) at a
//     steady rate, counting every event the server acknowledged per card;
//   - console sign-ins that open slow alert streams (/alerts/stream) and
//     never read them, counting those accepted and refused;
//   - a sign-in flood with made-up emails from many 127.0.x.y addresses,
//     and wrong passwords against one real account, while that account's
//     owner signs in from an address of their own;
//   - idle syslog TCP connections from several addresses, reopened when the
//     server closes them, beside a real sender of one line at a time;
//   - the server's RSS, sampled from /proc.
//
// It prints a JSON report and writes the acknowledged counts per card to
// -acked. With -verify it instead reads -acked and compares each card's
// event count on the server (GET /v1/entities/card/{id}) with it.
//
// Every loop stops at the deadline or at its count bound, whichever is
// first, and uses only the addresses given (loopback).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// config is the driver's flags.
type config struct {
	url, syslog     string
	duration        time.Duration
	ingest          []string // slug=token of the ingesting members
	readers         []string // slug=token, for -verify
	rate, batch     int      // events per second and per batch, per member
	cards           int      // cards per ingesting member
	users           []string // emails of the stream users
	password        string
	signins         int // sign-ins per stream user
	streamsPer      int // stream attempts per sign-in
	floodRate       int // made-up sign-ins per second
	floodAddrs      int
	victim          string // a real account the flood guesses at; its owner signs in now and then
	idleAddrs       int
	idlePerAddr     int
	pid             int
	acked           string
	verify          bool
	streamAddrBase  int // third octet of the streams' sign-in addresses
	floodAddrBase   int
	syslogAddrBase  int
	legitimateAddr  string
	realSyslogAddr  string
	maxFloodTotal   int
	maxBatches      int
	rssEvery        time.Duration
	reconnectIdle   bool
	syslogLineEvery time.Duration
}

func run() error {
	var c config
	var ingest, readers, users string
	flag.StringVar(&c.url, "url", "http://127.0.0.1:18193", "server base URL (loopback)")
	flag.StringVar(&c.syslog, "syslog", "127.0.0.1:18194", "the server's syslog TCP address")
	flag.DurationVar(&c.duration, "duration", 10*time.Minute, "how long the load lasts")
	flag.StringVar(&ingest, "ingest", "", "comma-separated slug=token of the ingesting members")
	flag.StringVar(&readers, "readers", "", "comma-separated slug=token (reader role) for -verify")
	flag.IntVar(&c.rate, "rate", 400, "events per second per ingesting member")
	flag.IntVar(&c.batch, "batch", 200, "events per batch")
	flag.IntVar(&c.cards, "cards", 1000, "cards per ingesting member")
	flag.StringVar(&users, "users", "", "comma-separated emails of the users opening streams")
	flag.StringVar(&c.password, "password-file", "", "file holding the users' password")
	flag.IntVar(&c.signins, "signins", 5, "sign-ins per stream user")
	flag.IntVar(&c.streamsPer, "streams-per-signin", 5, "stream attempts per sign-in")
	flag.IntVar(&c.floodRate, "flood-rate", 100, "made-up sign-ins per second")
	flag.IntVar(&c.floodAddrs, "flood-addrs", 1000, "source addresses of the flood (127.0.x.y from -flood-base)")
	flag.IntVar(&c.maxFloodTotal, "flood-max", 200000, "bound on flood sign-ins")
	flag.StringVar(&c.victim, "victim", "", "a real account's email the flood also guesses at")
	flag.IntVar(&c.idleAddrs, "idle-addrs", 15, "source addresses of idle syslog connections")
	flag.IntVar(&c.idlePerAddr, "idle-per-addr", 20, "idle syslog connections tried per address")
	flag.IntVar(&c.pid, "pid", 0, "server process whose RSS is sampled")
	flag.StringVar(&c.acked, "acked", "acked.json", "file of acknowledged events per card")
	flag.BoolVar(&c.verify, "verify", false, "compare the server's per-card counts with -acked instead of loading")
	c.streamAddrBase, c.floodAddrBase, c.syslogAddrBase = 1, 2, 20
	c.legitimateAddr, c.realSyslogAddr = "127.0.30.1", "127.0.30.2"
	c.maxBatches = 1 << 20
	c.rssEvery = 5 * time.Second
	c.reconnectIdle = true
	c.syslogLineEvery = 5 * time.Second
	flag.Parse()
	c.ingest, c.readers, c.users = split(ingest), split(readers), split(users)
	if c.verify {
		return verify(&c)
	}
	if c.password != "" {
		b, err := os.ReadFile(c.password)
		if err != nil {
			return fmt.Errorf("password file: %w", err)
		}
		c.password = strings.TrimRight(string(b), "\n")
	}
	return load(&c)
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// report is what load prints.
type report struct {
	Seconds float64         `json:"seconds"`
	Ingest  []ingestReport  `json:"ingest"`
	Streams streamReport    `json:"streams"`
	Flood   floodReport     `json:"flood"`
	Syslog  syslogReport    `json:"syslog"`
	RSS     rssReport       `json:"rss"`
	Errors  map[string]int  `json:"errors,omitempty"`
	acked   map[string]*int // per member/card, not printed
}

type ingestReport struct {
	Member   string         `json:"member"`
	Batches  int            `json:"batches"`
	Sent     int            `json:"sent"`
	Acked    int            `json:"acked"`
	Rejected int            `json:"rejected"`
	Status   map[string]int `json:"status"`
	BatchP50 float64        `json:"batch_p50_ms"`
	BatchP99 float64        `json:"batch_p99_ms"`
	BatchMax float64        `json:"batch_max_ms"`
	Late     int            `json:"late_ticks"` // batches due while the previous one was still in flight
}

type streamReport struct {
	SignIns        int            `json:"sign_ins"`
	SignInFailed   int            `json:"sign_in_failed"`
	SignInRetries  int            `json:"sign_in_retries"` // after a 429, a second later
	Attempts       int            `json:"attempts"`
	Accepted       int            `json:"accepted"`
	Refused        map[string]int `json:"refused"` // by reason
	OtherStatus    map[string]int `json:"other_status,omitempty"`
	OpenAtEnd      int            `json:"open_at_end"`
	ClosedByServer int            `json:"closed_by_server"`
	BytesUnread    int64          `json:"bytes_unread"`
	OpenedAfter    float64        `json:"opened_after_s"` // when the last stream was tried
}

type floodReport struct {
	Attempts       int            `json:"attempts"`
	Status         map[string]int `json:"status"`
	VictimGuesses  int            `json:"victim_guesses"`
	VictimStatus   map[string]int `json:"victim_status"`
	OwnerSignIns   int            `json:"owner_sign_ins"`
	OwnerSucceeded int            `json:"owner_succeeded"`
	OwnerStatus    map[string]int `json:"owner_status"`
	OwnerMaxMillis float64        `json:"owner_max_ms"`
	// OwnerFirstDevice: the owner's first sign-in, before the flood, gave
	// their browser a device cookie.
	OwnerFirstDevice bool `json:"owner_first_device"`
	OwnerFirstTries  int  `json:"owner_first_tries"` // not counted above
}

type syslogReport struct {
	Attempts        int     `json:"attempts"`
	Accepted        int     `json:"accepted"`
	Refused         int     `json:"refused"`
	ClosedIdle      int     `json:"closed_idle"`
	IdleCloseMinS   float64 `json:"idle_close_min_s"`
	IdleCloseMaxS   float64 `json:"idle_close_max_s"`
	MaxOpen         int     `json:"max_open"`
	RealLines       int     `json:"real_lines_sent"`
	RealLinesFailed int     `json:"real_lines_failed"`
}

type rssReport struct {
	Samples   int       `json:"samples"`
	StartMB   float64   `json:"start_mb"`
	MaxMB     float64   `json:"max_mb"`
	EndMB     float64   `json:"end_mb"`
	PerMinute []float64 `json:"max_mb_per_minute"`
	HWMMB     float64   `json:"hwm_mb"`
}

// counter is a concurrency-safe map of counts.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) add(k string, n int) {
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]int)
	}
	c.m[k] += n
	c.mu.Unlock()
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps(c.m)
}

func maps(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// addr returns 127.0.a.b for the n-th address from third octet base
// (b from 1 to 250).
func addr(base, n int) string {
	return fmt.Sprintf("127.0.%d.%d", base+n/250, 1+n%250)
}

// client returns an HTTP client whose connections come from source address
// src and that does not follow redirects.
func client(src string, keepAlive bool) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 4},
		Timeout:   60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func load(c *config) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.duration)
	defer cancel()
	start := time.Now()
	rep := &report{acked: make(map[string]*int)}
	errs := &counter{}
	var wg sync.WaitGroup

	// RSS first, so that it sees the whole run.
	var rss rssReport
	if c.pid > 0 {
		wg.Go(func() { rss = sampleRSS(ctx, c.pid, c.rssEvery, start) })
	}

	ing := make([]ingestReport, len(c.ingest))
	ackedPer := make([][]int, len(c.ingest))
	for i, kv := range c.ingest {
		slug, token, _ := strings.Cut(kv, "=")
		ackedPer[i] = make([]int, c.cards)
		wg.Go(func() { ing[i] = ingestLoop(ctx, c, slug, token, ackedPer[i], errs) })
	}

	var streams streamReport
	var conns []net.Conn
	signedIn := make(chan struct{})
	wg.Go(func() { streams, conns = openStreams(ctx, c, signedIn, errs) })

	// The flood starts once the streams' users have signed in: sign-ins
	// share the bounded password-hashing slots, and the streams are what
	// this part measures.
	var flood floodReport
	wg.Go(func() {
		select {
		case <-ctx.Done():
		case <-signedIn:
			flood = floodLoop(ctx, c, errs)
		}
	})

	var sys syslogReport
	wg.Go(func() { sys = syslogLoop(ctx, c, errs) })

	wg.Wait()
	// The slow streams were never read; now see which the server closed
	// (it drops a reader that does not take an event in time) and which
	// are still open.
	streams.OpenAtEnd, streams.ClosedByServer, streams.BytesUnread = drain(conns)

	rep.Seconds = time.Since(start).Seconds()
	rep.Ingest, rep.Streams, rep.Flood, rep.Syslog, rep.RSS = ing, streams, flood, sys, rss
	rep.Errors = errs.snapshot()

	// Acknowledged events per card, for -verify after a restart.
	acked := make(map[string]map[string]int)
	for i, kv := range c.ingest {
		slug, _, _ := strings.Cut(kv, "=")
		m := make(map[string]int)
		for card, n := range ackedPer[i] {
			if n > 0 {
				m[cardID(slug, card)] = n
			}
		}
		acked[slug] = m
	}
	b, err := json.Marshal(acked)
	if err != nil {
		return err
	}
	if err := os.WriteFile(c.acked, b, 0o600); err != nil {
		return fmt.Errorf("write acked counts: %w", err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func cardID(slug string, n int) string { return fmt.Sprintf("%s-card-%d", slug, n) }

// ingestLoop sends a batch of c.batch events every c.batch/c.rate seconds
// until ctx ends, one batch at a time, and counts per card the events the
// server answered as scored.
func ingestLoop(ctx context.Context, c *config, slug, token string, acked []int, errs *counter) ingestReport {
	r := ingestReport{Member: slug}
	status := &counter{}
	hc := client("127.0.0.1", true)
	every := time.Duration(float64(time.Second) * float64(c.batch) / float64(c.rate))
	tick := time.NewTicker(every)
	defer tick.Stop()
	var lat []time.Duration
	seq := 0
	var body bytes.Buffer
	cards := make([]int, c.batch) // the card of each line
	for r.Batches < c.maxBatches {
		select {
		case <-ctx.Done():
			r.Status = status.snapshot()
			r.BatchP50, r.BatchP99, r.BatchMax = quantiles(lat)
			return r
		case <-tick.C:
		}
		body.Reset()
		now := time.Now().UTC()
		for i := range c.batch {
			card := (seq * 7919) % c.cards // every card, in a scattered order
			cards[i] = card
			// One event in a hundred is unusual (a large amount abroad), so
			// that alerts flow to the slow streams.
			amount, country := 5+(seq*37)%400, "FR"
			if seq%100 == 99 {
				amount, country = 4000+(seq*53)%5000, unusual[(seq/100)%len(unusual)]
			}
			fmt.Fprintf(&body, `{"id":"%s-%d","kind":"card.tx","time":%q,"card":%q,"terminal":"%s-t%d","merchant":"%s-m%d","amount":%d.%02d,"country":%q}`+"\n",
				slug, seq, now.Format(time.RFC3339Nano), cardID(slug, card), slug, seq%300, slug, seq%120, amount, seq%100, country)
			seq++
		}
		r.Sent += c.batch
		r.Batches++
		// The request outlives ctx by a little: a batch cut at the deadline
		// would be counted as sent but not acknowledged, which is allowed,
		// but its acknowledged lines must still be read.
		rctx, rcancel := context.WithTimeout(context.Background(), 60*time.Second)
		req, _ := http.NewRequestWithContext(rctx, "POST", c.url+"/v1/events:batch", bytes.NewReader(body.Bytes()))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/x-ndjson")
		t0 := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			errs.add("ingest: "+err.Error(), 1)
			rcancel()
			continue
		}
		status.add(strconv.Itoa(resp.StatusCode), 1)
		if resp.StatusCode == http.StatusOK {
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				var line struct {
					Line    int             `json:"line"`
					EventID string          `json:"event_id"`
					Error   json.RawMessage `json:"error"`
				}
				if json.Unmarshal(sc.Bytes(), &line) != nil {
					errs.add("ingest: unreadable answer line", 1)
					continue
				}
				switch {
				case line.EventID != "" && line.Line >= 1 && line.Line <= c.batch:
					acked[cards[line.Line-1]]++
					r.Acked++
				case line.Error != nil:
					r.Rejected++
				}
			}
			if err := sc.Err(); err != nil {
				errs.add("ingest: read answer: "+err.Error(), 1)
			}
		} else {
			io.Copy(io.Discard, resp.Body)
		}
		resp.Body.Close()
		rcancel()
		lat = append(lat, time.Since(t0))
		// Ticks missed while this batch was in flight are dropped by the
		// ticker; count them so that a slow server shows.
		if d := time.Since(t0); d > every {
			r.Late += int(d / every)
		}
	}
	r.Status = status.snapshot()
	r.BatchP50, r.BatchP99, r.BatchMax = quantiles(lat)
	return r
}

var unusual = []string{"BR", "NG", "VN", "RU", "PH"}

func quantiles(lat []time.Duration) (p50, p99, max float64) {
	if len(lat) == 0 {
		return 0, 0, 0
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e6
	}
	return q(0.5), q(0.99), q(1)
}

// signIn posts the console's sign-in form from src as a browser on the same
// origin does (the console refuses cross-origin posts) and returns the
// session cookie ("" when refused) and the status.
func signIn(ctx context.Context, hc *http.Client, base, email, password string) (cookie string, status int, err error) {
	cookie, _, status, err = signInWith(ctx, hc, base, email, password, "")
	return cookie, status, err
}

// signInWith is signIn from a browser that holds device, a device cookie
// ("name=value", or ""), and also returns the device cookie the server sets
// ("" when none). The console's cookies are Secure, so a cookie jar would
// not send them over this plain-HTTP loopback; the browser here does.
func signInWith(ctx context.Context, hc *http.Client, base, email, password, device string) (cookie, newDevice string, status int, err error) {
	form := url.Values{"email": {email}, "password": {password}, "next": {"/"}}
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if device != "" {
		req.Header.Set("Cookie", device)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", "", 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	for _, ck := range resp.Cookies() {
		switch {
		case ck.Value == "":
		case ck.Name == "__Host-occsimore_session":
			cookie = ck.Name + "=" + ck.Value
		case ck.Name == "__Host-occsimore_device":
			newDevice = ck.Name + "=" + ck.Value
		}
	}
	return cookie, newDevice, resp.StatusCode, nil
}

// openStreams signs each stream user in c.signins times, each from an
// address of its own, and opens c.streamsPer alert streams per sign-in.
// Accepted streams are kept open and never read; it returns their
// connections when ctx ends.
func openStreams(ctx context.Context, c *config, signedIn chan<- struct{}, errs *counter) (streamReport, []net.Conn) {
	start := time.Now()
	r := streamReport{}
	refused, other := &counter{}, &counter{}
	host := strings.TrimPrefix(c.url, "http://")
	var conns []net.Conn
	n := 0
	for _, email := range c.users {
		for range c.signins {
			if ctx.Err() != nil {
				break
			}
			src := addr(c.streamAddrBase, n)
			n++
			// Over the console's sign-in budget (429), a person waits
			// and tries again; so does this.
			cookie, status, err := signIn(ctx, client(src, false), c.url, email, c.password)
			for try := 0; err == nil && status == http.StatusTooManyRequests && try < 120 && ctx.Err() == nil; try++ {
				r.SignInRetries++
				time.Sleep(time.Second)
				cookie, status, err = signIn(ctx, client(src, false), c.url, email, c.password)
			}
			r.SignIns++
			if err != nil || cookie == "" {
				r.SignInFailed++
				if err != nil {
					errs.add("stream sign-in: "+err.Error(), 1)
				} else {
					errs.add("stream sign-in: status "+strconv.Itoa(status), 1)
				}
				continue
			}
			for range c.streamsPer {
				r.Attempts++
				conn, code, body, err := openStream(src, host, cookie)
				switch {
				case err != nil:
					errs.add("stream: "+err.Error(), 1)
				case code == http.StatusOK:
					r.Accepted++
					conns = append(conns, conn)
				case code == http.StatusTooManyRequests:
					refused.add(refusalReason(body), 1)
				default:
					other.add(strconv.Itoa(code), 1)
				}
			}
		}
	}
	r.Refused, r.OtherStatus = refused.snapshot(), other.snapshot()
	r.OpenedAfter = time.Since(start).Seconds()
	close(signedIn)
	<-ctx.Done()
	return r, conns
}

// openStream sends GET /alerts/stream on a connection of its own from src
// and reads only the status line and headers (and, when refused, the body).
// An accepted stream's connection is returned, never to be read again
// until the end.
func openStream(src, host, cookie string) (net.Conn, int, string, error) {
	// A small receive buffer, as a stalled browser tab's would be once
	// full: the server's writes block after a few alerts rather than after
	// megabytes.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second,
		Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			return errors.Join(err, serr)
		}}
	conn, err := d.Dial("tcp", host)
	if err != nil {
		return nil, 0, "", err
	}
	fmt.Fprintf(conn, "GET /alerts/stream HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nAccept: text/event-stream\r\nSec-Fetch-Site: same-origin\r\n\r\n", host, cookie)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	// A small buffer: the stream's first bytes only.
	br := bufio.NewReaderSize(conn, 256)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, 0, "", err
	}
	if resp.StatusCode == http.StatusOK {
		conn.SetReadDeadline(time.Time{})
		return &bufConn{Conn: conn, r: br}, resp.StatusCode, "", nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	conn.Close()
	return nil, resp.StatusCode, string(b), nil
}

// bufConn is a connection whose first bytes were read into r.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// refusalReason names the limit a 429 of the stream reports.
func refusalReason(body string) string {
	switch {
	case strings.Contains(body, "this sign-in has"):
		return "per_session"
	case strings.Contains(body, "your organisation has"):
		return "per_member"
	case strings.Contains(body, "the console has as many"):
		return "server"
	}
	return "unknown"
}

// drain reads what each never-read stream holds, for a second: a stream
// the server closed ends in EOF, an open one times out.
func drain(conns []net.Conn) (open, closed int, unread int64) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, conn := range conns {
		wg.Go(func() {
			conn.SetReadDeadline(time.Now().Add(time.Second))
			n, err := io.Copy(io.Discard, conn)
			conn.Close()
			mu.Lock()
			defer mu.Unlock()
			unread += n
			if err == nil {
				closed++
			} else {
				open++
			}
		})
	}
	wg.Wait()
	return open, closed, unread
}

// floodLoop sends made-up sign-ins at c.floodRate per second, each with a
// fresh email and the next of c.floodAddrs source addresses; one in ten
// instead guesses the victim's password. Every 45 s the victim signs in
// with the right password from an address of their own.
func floodLoop(ctx context.Context, c *config, errs *counter) floodReport {
	r := floodReport{}
	status, vstatus, ostatus := &counter{}, &counter{}, &counter{}
	var attempts, victim atomic.Int64
	var wg sync.WaitGroup

	// The owner's own sign-ins, from a browser that keeps the device
	// cookie each success gives it; the first is before the flood starts.
	var owner []time.Duration
	if c.victim != "" {
		hc := client(c.legitimateAddr, false)
		var device string
		ownerSignIn := func(count bool) (code int) {
			t0 := time.Now()
			cookie, dev, code, err := signInWith(ctx, hc, c.url, c.victim, c.password, device)
			if err != nil {
				if ctx.Err() == nil {
					errs.add("owner sign-in: "+err.Error(), 1)
				}
				return 0
			}
			if dev != "" {
				device = dev
			}
			if !count {
				r.OwnerFirstTries++
				return code
			}
			owner = append(owner, time.Since(t0))
			r.OwnerSignIns++
			ostatus.add(strconv.Itoa(code), 1)
			if cookie != "" {
				r.OwnerSucceeded++
			}
			return code
		}
		// The stream users' sign-ins may have spent the sign-in budget
		// just now; like them, the owner waits a second and tries again.
		for try := 0; try < 30 && ctx.Err() == nil && ownerSignIn(false) == http.StatusTooManyRequests; try++ {
			time.Sleep(time.Second)
		}
		r.OwnerFirstDevice = device != ""
		wg.Go(func() {
			// Slower than the per-(email, address) bound (5, then 1 per
			// 30 s), which applies to right passwords without a device
			// cookie.
			t := time.NewTicker(45 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				ownerSignIn(true)
			}
		})
	}

	if c.floodRate > 0 {
		clients := make([]*http.Client, c.floodAddrs)
		for i := range clients {
			clients[i] = client(addr(c.floodAddrBase, i), false)
		}
		sem := make(chan struct{}, 64) // requests in flight
		every := time.Second / time.Duration(c.floodRate)
		t := time.NewTicker(every)
		defer t.Stop()
	loop:
		for i := 0; i < c.maxFloodTotal; i++ {
			select {
			case <-ctx.Done():
				break loop
			case <-t.C:
			}
			select {
			case sem <- struct{}{}:
			default:
				status.add("skipped: 64 in flight", 1)
				continue
			}
			wg.Go(func() {
				defer func() { <-sem }()
				hc := clients[i%len(clients)]
				email, st := fmt.Sprintf("flood-%d@nowhere.example", i), status
				if c.victim != "" && i%10 == 0 {
					email, st = c.victim, vstatus
					victim.Add(1)
				}
				attempts.Add(1)
				_, code, err := signIn(ctx, hc, c.url, email, "not the password "+strconv.Itoa(i))
				if err != nil {
					if ctx.Err() == nil {
						errs.add("flood: "+err.Error(), 1)
					}
					return
				}
				st.add(strconv.Itoa(code), 1)
			})
		}
	}
	wg.Wait()
	r.Attempts, r.VictimGuesses = int(attempts.Load()), int(victim.Load())
	r.Status, r.VictimStatus, r.OwnerStatus = status.snapshot(), vstatus.snapshot(), ostatus.snapshot()
	_, _, mx := quantiles(owner)
	r.OwnerMaxMillis = mx
	return r
}

// syslogLoop opens c.idlePerAddr connections from each of c.idleAddrs
// addresses to the syslog TCP listener and sends nothing on them. A
// connection the server closes within 2 s counts as refused; a later close
// is the idle timeout, and the connection is opened again a second later.
// Meanwhile a real sender from its own address sends one sshd line on a
// fresh connection every few seconds.
func syslogLoop(ctx context.Context, c *config, errs *counter) syslogReport {
	var mu sync.Mutex
	r := syslogReport{IdleCloseMinS: -1}
	var open, maxOpen atomic.Int64
	var wg sync.WaitGroup
	for a := range c.idleAddrs {
		src := addr(c.syslogAddrBase, a)
		for range c.idlePerAddr {
			wg.Go(func() {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
				for ctx.Err() == nil {
					conn, err := d.DialContext(ctx, "tcp", c.syslog)
					mu.Lock()
					r.Attempts++
					mu.Unlock()
					if err != nil {
						if ctx.Err() == nil {
							errs.add("syslog dial: "+err.Error(), 1)
						}
						sleep(ctx, time.Second)
						continue
					}
					t0 := time.Now()
					if n := open.Add(1); n > maxOpen.Load() {
						maxOpen.Store(n) // a racy maximum is close enough
					}
					closed := make(chan struct{})
					go func() {
						select {
						case <-ctx.Done():
						case <-closed:
						}
						conn.SetReadDeadline(time.Now()) // wake the read at the end
					}()
					_, err = conn.Read(make([]byte, 1))
					close(closed)
					conn.Close()
					open.Add(-1)
					held := time.Since(t0)
					if ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
						mu.Lock()
						r.Accepted++ // open until the end
						mu.Unlock()
						return
					}
					mu.Lock()
					if held < 2*time.Second {
						r.Refused++
					} else {
						r.Accepted++
						r.ClosedIdle++
						s := held.Seconds()
						if r.IdleCloseMinS < 0 || s < r.IdleCloseMinS {
							r.IdleCloseMinS = s
						}
						r.IdleCloseMaxS = max(r.IdleCloseMaxS, s)
					}
					mu.Unlock()
					if !c.reconnectIdle {
						return
					}
					// A refused sender retries after 5 s, one closed idle
					// after 1 s.
					if held < 2*time.Second {
						sleep(ctx, 5*time.Second)
					} else {
						sleep(ctx, time.Second)
					}
				}
			})
		}
	}
	// The real sender.
	wg.Go(func() {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(c.realSyslogAddr)}, Timeout: 5 * time.Second}
		for i := 0; ctx.Err() == nil; i++ {
			sleep(ctx, c.syslogLineEvery)
			if ctx.Err() != nil {
				break
			}
			ok := func() bool {
				conn, err := d.DialContext(ctx, "tcp", c.syslog)
				if err != nil {
					return false
				}
				defer conn.Close()
				line := fmt.Sprintf("<38>%s web-1 sshd[%d]: Failed password for invalid user soak%d from 203.0.113.%d port %d ssh2\n",
					time.Now().Format(time.Stamp), 1000+i, i, 1+i%250, 40000+i)
				if _, err := conn.Write([]byte(line)); err != nil {
					return false
				}
				// A refused connection is closed by the server at once;
				// an accepted one stays open for us to close.
				conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
				_, err = conn.Read(make([]byte, 1))
				return errors.Is(err, os.ErrDeadlineExceeded)
			}()
			mu.Lock()
			if ok {
				r.RealLines++
			} else {
				r.RealLinesFailed++
			}
			mu.Unlock()
		}
	})
	wg.Wait()
	if r.IdleCloseMinS < 0 {
		r.IdleCloseMinS = 0
	}
	r.MaxOpen = int(maxOpen.Load())
	return r
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// sampleRSS reads VmRSS of pid every `every` until ctx ends.
func sampleRSS(ctx context.Context, pid int, every time.Duration, start time.Time) rssReport {
	r := rssReport{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rss, hwm, err := readRSS(pid)
		if err == nil {
			mb := float64(rss) / 1024
			if r.Samples == 0 {
				r.StartMB = mb
			}
			r.Samples++
			r.MaxMB, r.EndMB, r.HWMMB = max(r.MaxMB, mb), mb, float64(hwm)/1024
			m := int(time.Since(start) / time.Minute)
			for len(r.PerMinute) <= m {
				r.PerMinute = append(r.PerMinute, 0)
			}
			r.PerMinute[m] = max(r.PerMinute[m], mb)
		}
		select {
		case <-ctx.Done():
			return r
		case <-t.C:
		}
	}
}

// readRSS returns VmRSS and VmHWM of pid in KiB.
func readRSS(pid int) (rss, hwm int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.Atoi(f[1])
		case "VmHWM:":
			hwm, _ = strconv.Atoi(f[1])
		}
	}
	return rss, hwm, nil
}

// verifyReport is what -verify prints.
type verifyReport struct {
	Members []verifyMember `json:"members"`
	Lost    int            `json:"lost"` // acknowledged events the server does not count
}

type verifyMember struct {
	Member       string `json:"member"`
	Cards        int    `json:"cards"`
	Acked        int    `json:"acked"`
	Server       int    `json:"server_events"` // on the same cards
	CardsShort   int    `json:"cards_short"`   // cards with fewer events than acknowledged
	CardsMissing int    `json:"cards_missing"` // cards the server does not know
	Lost         int    `json:"lost"`
	Extra        int    `json:"extra"` // counted but never acknowledged (an answer cut at the deadline)
}

// verify compares, card by card, the events the server counts with those
// it acknowledged.
func verify(c *config) error {
	b, err := os.ReadFile(c.acked)
	if err != nil {
		return fmt.Errorf("read acked counts: %w", err)
	}
	var acked map[string]map[string]int
	if err := json.Unmarshal(b, &acked); err != nil {
		return fmt.Errorf("read acked counts: %w", err)
	}
	hc := client("127.0.0.1", true)
	var rep verifyReport
	for _, kv := range c.readers {
		slug, token, _ := strings.Cut(kv, "=")
		m := verifyMember{Member: slug}
		for card, n := range acked[slug] {
			m.Cards++
			m.Acked += n
			req, _ := http.NewRequest("GET", c.url+"/v1/entities/card/"+url.PathEscape(card), nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := hc.Do(req)
			if err != nil {
				return fmt.Errorf("get card %s: %w", card, err)
			}
			var v struct {
				Events int `json:"events"`
			}
			err = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusNotFound:
				m.CardsMissing++
			case resp.StatusCode != http.StatusOK || err != nil:
				return fmt.Errorf("get card %s: status %d, %v", card, resp.StatusCode, err)
			}
			m.Server += v.Events
			if v.Events < n {
				m.CardsShort++
				m.Lost += n - v.Events
			} else {
				m.Extra += v.Events - n
			}
		}
		rep.Lost += m.Lost
		rep.Members = append(rep.Members, m)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return err
	}
	if rep.Lost > 0 {
		return fmt.Errorf("%d acknowledged events lost", rep.Lost)
	}
	return nil
}
