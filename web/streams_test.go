package web

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// fakeEvents is an EventService whose alerts the test publishes, the way the
// pipeline does: never waiting on a subscriber.
type fakeEvents struct {
	mu   sync.Mutex
	subs map[chan *occsimore.Alert]string
}

func (e *fakeEvents) Label(context.Context, string, string, occsimore.Label, string) (*occsimore.Alert, error) {
	return nil, errors.New("not used")
}

func (e *fakeEvents) Submit(context.Context, string, []occsimore.Event, []occsimore.Scored) error {
	return errors.New("not used")
}

func (e *fakeEvents) Entity(string, string, string) (occsimore.ProfileView, bool) {
	return occsimore.ProfileView{}, false
}

func (e *fakeEvents) Subscribe(memberID string) (<-chan *occsimore.Alert, func()) {
	ch := make(chan *occsimore.Alert, 16)
	e.mu.Lock()
	if e.subs == nil {
		e.subs = make(map[chan *occsimore.Alert]string)
	}
	e.subs[ch] = memberID
	e.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			e.mu.Lock()
			delete(e.subs, ch)
			close(ch)
			e.mu.Unlock()
		})
	}
}

func (e *fakeEvents) publish(memberID string, a *occsimore.Alert) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for ch, m := range e.subs {
		if m == memberID {
			select {
			case ch <- a:
			default:
			}
		}
	}
}

// newStreamFixture is a console with the alert stream over fakeEvents,
// served on a real listener.
func newStreamFixture(t *testing.T, lim StreamLimits) (*fixture, *fakeEvents, *httptest.Server) {
	t.Helper()
	cfg := testConfig()
	cfg.Streams = lim
	ev := &fakeEvents{}
	f := newFixtureWith(t, cfg, func(f *fixture) { f.console.SetEvents(ev, f.db) })
	ts := httptest.NewServer(f.handler)
	t.Cleanup(ts.Close)
	return f, ev, ts
}

// openStream opens the alert stream with cookie and returns the response;
// the body is closed at the end of the test.
func openStream(t *testing.T, ts *httptest.Server, cookie *http.Cookie) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+"/alerts/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(cookie)
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("open stream: %v", err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// waitEnd reads res's body until it ends, and fails if it does not within
// ten seconds (a liveness bound, not a speed target).
func waitEnd(t *testing.T, res *http.Response, why string) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, res.Body)
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the stream stayed open after %s", why)
	}
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

// TestAlertStreamLimits: one session opened 2,000 streams that never read
// and starved every other member. Streams are now bounded per session, per
// member and for the whole console.
func TestAlertStreamLimits(t *testing.T) {
	f, _, ts := newStreamFixture(t, StreamLimits{PerSession: 2, PerMember: 3, Total: 4, WriteTimeout: time.Second})
	a1, a2, b := f.login(t, f.adminA), f.login(t, f.readerA), f.login(t, f.adminB)
	want := func(cookie *http.Cookie, status int, what string) *http.Response {
		t.Helper()
		res := openStream(t, ts, cookie)
		if res.StatusCode != status {
			t.Fatalf("%s: status %d, want %d", what, res.StatusCode, status)
		}
		if status == http.StatusTooManyRequests && res.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 429 without Retry-After", what)
		}
		return res
	}
	first := want(a1, http.StatusOK, "A's first stream")
	want(a1, http.StatusOK, "A's second stream of one session")
	want(a1, http.StatusTooManyRequests, "A's third stream of one session")
	want(a2, http.StatusOK, "a second session of member A")
	want(a2, http.StatusTooManyRequests, "member A's fourth stream")
	want(b, http.StatusOK, "member B's stream")
	b2 := f.login(t, f.adminB)
	want(b2, http.StatusTooManyRequests, "the console's fifth stream")
	// Closing a stream frees its place.
	first.Body.Close()
	waitFor(t, "the closed stream is counted out", func() bool { return f.console.streams.count() == 3 })
	want(b2, http.StatusOK, "a stream after one closed")
}

// TestAlertStreamEndsWithSession: after sign-out, a password change, the
// session's expiry or its removal elsewhere, an open stream stops.
func TestAlertStreamEndsWithSession(t *testing.T) {
	t.Run("sign-out", func(t *testing.T) {
		f, _, ts := newStreamFixture(t, DefaultConfig().Streams)
		cookie := f.login(t, f.adminA)
		other := openStream(t, ts, f.login(t, f.adminA))
		res := openStream(t, ts, cookie)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("open: status %d", res.StatusCode)
		}
		if r, _ := f.post(t, "/logout", url.Values{}, cookie); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: status %d", r.StatusCode)
		}
		waitEnd(t, res, "sign-out")
		if got := f.console.streams.count(); got != 1 {
			t.Fatalf("%d streams open, want the other session's one", got)
		}
		_ = other
	})
	t.Run("password change", func(t *testing.T) {
		f, _, ts := newStreamFixture(t, DefaultConfig().Streams)
		phone := openStream(t, ts, f.login(t, f.adminA))
		laptop := f.login(t, f.adminA)
		res, body := f.post(t, "/account/password", url.Values{"current": {testPassword}, "password": {"tram lilac ferry oboe"}}, laptop)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("change password: status %d\n%s", res.StatusCode, body)
		}
		waitEnd(t, phone, "a password change")
	})
	t.Run("expiry", func(t *testing.T) {
		f, _, ts := newStreamFixture(t, DefaultConfig().Streams)
		f.console.heartbeat = 10 * time.Millisecond
		res := openStream(t, ts, f.login(t, f.adminA))
		// The stream stays while the session lasts.
		sc := bufio.NewScanner(res.Body)
		for range 3 {
			if !sc.Scan() {
				t.Fatalf("stream ended while its session lasted: %v", sc.Err())
			}
		}
		f.clock.Advance(f.cfg.SessionTTL + time.Minute)
		waitEnd(t, res, "the session expired")
	})
	t.Run("ended elsewhere", func(t *testing.T) {
		f, _, ts := newStreamFixture(t, DefaultConfig().Streams)
		f.console.heartbeat = 10 * time.Millisecond
		res := openStream(t, ts, f.login(t, f.adminA))
		// As the API or the CLI would: the store ends the sessions.
		if err := f.db.SetPassword(t.Context(), f.memberA.ID, f.adminA.ID, f.adminA.PasswordHash); err != nil {
			t.Fatal(err)
		}
		waitEnd(t, res, "the session was ended in the store")
	})
}

// TestAlertStreamDropsSlowReader: a reader that never reads is disconnected
// once a write waits longer than WriteTimeout, while publishing goes on
// without waiting for it.
func TestAlertStreamDropsSlowReader(t *testing.T) {
	f, ev, ts := newStreamFixture(t, StreamLimits{PerSession: 4, PerMember: 4, Total: 4, WriteTimeout: 100 * time.Millisecond})
	res := openStream(t, ts, f.login(t, f.adminA))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("open: status %d", res.StatusCode)
	}
	big := strings.Repeat("a reason long enough to fill socket buffers quickly ", 100)
	for i := 0; f.console.streams.count() > 0; i++ {
		if i > 1_000_000 {
			t.Fatal("a reader that never reads was never dropped")
		}
		ev.publish(f.memberA.ID, &occsimore.Alert{ID: "alt_" + strconv.Itoa(i), Kind: "card.tx", Decision: occsimore.DecisionReview,
			Reasons: []occsimore.Reason{{Code: "amount_high", Role: "card", Text: big}}, Entities: map[string]string{"card": "c1"}})
		if i%64 == 63 {
			time.Sleep(time.Millisecond) // let the handler write
		}
	}
}

// TestAlertStreamEndsAtExpiry: with the real clock, the stream ends when its
// session expires, without waiting for a heartbeat.
func TestAlertStreamEndsAtExpiry(t *testing.T) {
	cfg := testConfig()
	ev := &fakeEvents{}
	var shift atomic.Int64 // added to the console's clock
	f := newFixtureWith(t, cfg, func(f *fixture) {
		f.console.SetEvents(ev, f.db)
		f.console.now = func() time.Time { return f.clock.Now().Add(time.Duration(shift.Load())) }
	})
	ts := httptest.NewServer(f.handler)
	t.Cleanup(ts.Close)
	cookie := f.login(t, f.adminA)
	// The session expires 200 ms from now on the real clock.
	shift.Store(int64(cfg.SessionTTL - 200*time.Millisecond))
	res := openStream(t, ts, cookie)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("open: status %d", res.StatusCode)
	}
	waitEnd(t, res, "the session expired")
}
