package pipeline_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/journal"
	"github.com/occsimore/occsimore/pipeline"
)

// memAlerts is an in-memory occsimore.AlertService for tests; the SQL one
// lives in sqlstore.
type memAlerts struct {
	mu     sync.Mutex
	alerts map[string]*occsimore.Alert // by ID
	order  []string
	fail   error // returned by CreateAlerts when set
}

var _ occsimore.AlertService = (*memAlerts)(nil)

func newMemAlerts() *memAlerts { return &memAlerts{alerts: make(map[string]*occsimore.Alert)} }

func (m *memAlerts) CreateAlerts(ctx context.Context, memberID string, alerts []*occsimore.Alert) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	for _, a := range alerts {
		if a.MemberID != memberID {
			return occsimore.Errorf(occsimore.EINVALID, "alert of member %q stored for %q", a.MemberID, memberID)
		}
		if a.ID == "" {
			a.ID = occsimore.NewID("alr")
		}
		if a.CreatedAt.IsZero() {
			a.CreatedAt = time.Now()
		}
		c := *a
		m.alerts[a.ID] = &c
		m.order = append(m.order, a.ID)
	}
	return nil
}

func (m *memAlerts) FindAlert(ctx context.Context, memberID, id string) (*occsimore.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.alerts[id]
	if !ok || a.MemberID != memberID {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "alert %s not found", id)
	}
	c := *a
	return &c, nil
}

func (m *memAlerts) ListAlerts(ctx context.Context, memberID string, f occsimore.AlertFilter) ([]*occsimore.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*occsimore.Alert
	for _, id := range slices.Backward(m.order) {
		if a := m.alerts[id]; a.MemberID == memberID {
			c := *a
			out = append(out, &c)
		}
	}
	return out, nil
}

func (m *memAlerts) LabelAlert(ctx context.Context, memberID, id string, label occsimore.Label, by string, at time.Time) (*occsimore.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.alerts[id]
	if !ok || a.MemberID != memberID {
		return nil, occsimore.Errorf(occsimore.ENOTFOUND, "alert %s not found", id)
	}
	a.Label, a.LabeledBy, a.LabeledAt = label, by, at
	c := *a
	return &c, nil
}

func (m *memAlerts) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.alerts)
}

// genEvents returns n deterministic events of member: mostly card
// transactions with habits, some logins, a few anomalies, a few events too
// late for the engine (more than an hour behind) and a few invalid ones.
// IDs are "<prefix><i>".
func genEvents(seed uint64, member, prefix string, n int) []occsimore.Event {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	t := time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)
	countries := []string{"FR", "FR", "FR", "DE", "BE"}
	evs := make([]occsimore.Event, 0, n)
	for i := range n {
		t = t.Add(time.Duration(10+r.IntN(300)) * time.Second)
		ev := occsimore.Event{ID: fmt.Sprintf("%s%05d", prefix, i), Time: t}
		switch x := r.IntN(100); {
		case x < 80:
			card := r.IntN(40)
			merchant := r.IntN(8)
			ev.Kind = "card.tx"
			ev.Card = fmt.Sprintf("card%02d", card)
			ev.Customer = fmt.Sprintf("cust%02d", card/2)
			ev.Terminal = fmt.Sprintf("term%02d", merchant*2+r.IntN(2))
			ev.Merchant = fmt.Sprintf("merch%d", merchant)
			ev.MCC = fmt.Sprintf("54%02d", merchant)
			ev.Amount = math.Round(math.Exp(3+r.NormFloat64()*0.4+float64(card%5)*0.3)*100) / 100
			ev.Currency = "EUR"
			ev.Country = countries[card%len(countries)]
			ev.Channel = "pos"
			if r.IntN(4) == 0 {
				ev.Lat, ev.Lon, ev.HasLocation = 48.85+r.Float64()/10, 2.35+r.Float64()/10, true
			}
			if r.IntN(40) == 0 { // a break of habit
				ev.Amount *= 40
				ev.Country = "BR"
				ev.Channel = "ecom"
			}
		case x < 97:
			user := r.IntN(30)
			ev.Kind = "auth.login"
			ev.User = fmt.Sprintf("user%02d", user)
			ev.IP = fmt.Sprintf("10.0.%d.%d", user%4, r.IntN(3))
			ev.ASN = uint32(3215 + user%3)
			ev.Device = fmt.Sprintf("dev%d", user)
			ev.Country = "FR"
			ev.Success, ev.HasSuccess = r.IntN(10) != 0, true
			if r.IntN(30) == 0 {
				ev.Country, ev.ASN, ev.Device = "RU", 12389, "dev-unknown"
			}
		case x < 99: // too late for the engine's one hour of lateness
			ev.Kind = "card.tx"
			ev.Time = t.Add(-3 * time.Hour)
			ev.Card = "card07"
			ev.Amount = 12
		default: // invalid: refused before the journal
			ev.Kind = "card.tx"
			ev.Card = "card01"
			ev.Currency = "euro"
		}
		evs = append(evs, ev)
	}
	return evs
}

// entities lists the (role, id) pairs evs touch, sorted.
func entities(evs []occsimore.Event) [][2]string {
	seen := map[[2]string]bool{}
	for i := range evs {
		for _, role := range occsimore.FixedRoles {
			if id := evs[i].EntityID(role); id != "" {
				seen[[2]string{role, id}] = true
			}
		}
	}
	out := make([][2]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	return out
}

// probeEvents are scored without updating anything to compare two engines.
func probeEvents(member string) []occsimore.Event {
	evs := genEvents(99, member, "probe", 60)
	for i := range evs {
		evs[i].MemberID = member
		evs[i].Time = evs[i].Time.Add(60 * 24 * time.Hour)
	}
	return evs
}

// engineState is what two engines must agree on: every entity's profile and
// the score of every probe event.
type engineState struct {
	Profiles []behavior.ProfileView
	Missing  [][2]string
	Scores   []float64
	Reasons  [][]string
}

func stateOf(t *testing.T, eng *behavior.Engine, member string, ents [][2]string) engineState {
	t.Helper()
	var s engineState
	for _, e := range ents {
		v, ok := eng.Profile(member, e[0], e[1])
		if !ok {
			s.Missing = append(s.Missing, e)
			continue
		}
		s.Profiles = append(s.Profiles, v)
	}
	var res behavior.Result
	for _, ev := range probeEvents(member) {
		if err := eng.Score(&ev, &res); err != nil {
			s.Scores = append(s.Scores, -1)
			s.Reasons = append(s.Reasons, []string{occsimore.ErrorMessage(err)})
			continue
		}
		s.Scores = append(s.Scores, res.Score)
		var rs []string
		for _, r := range res.TopReasons() {
			rs = append(rs, r.String())
		}
		s.Reasons = append(s.Reasons, rs)
	}
	return s
}

func diffState(a, b engineState) string {
	return cmp.Diff(a, b, cmpopts.EquateNaNs(), cmpopts.EquateEmpty())
}

// checkState fails the test unless got equals want exactly: replay and the
// engine's snapshot round trip must both be bit for bit.
func checkState(t *testing.T, what string, want, got engineState) {
	t.Helper()
	if d := diffState(want, got); d != "" {
		t.Fatalf("%s differs (-want +got):\n%s", what, d)
	}
}

func newEngine(t testing.TB) *behavior.Engine {
	t.Helper()
	eng, err := behavior.NewEngine(behavior.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

type env struct {
	j      *journal.Journal
	eng    *behavior.Engine
	alerts *memAlerts
	p      *pipeline.Pipeline
}

// open opens the journal in dir and a pipeline over a fresh engine, and
// recovers it. The journal is closed at the end of the test.
func open(t *testing.T, dir string, cfg pipeline.Config, alerts *memAlerts) *env {
	t.Helper()
	j, err := journal.Open(t.Context(), dir, journal.Options{SegmentSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	eng := newEngine(t)
	p := pipeline.New(cfg, eng, j, alerts, slog.New(slog.DiscardHandler))
	if err := p.Recover(t.Context()); err != nil {
		t.Fatalf("recover: %v", err)
	}
	return &env{j: j, eng: eng, alerts: alerts, p: p}
}

// submit sends evs in batches and returns every result.
func submit(t *testing.T, p *pipeline.Pipeline, member string, evs []occsimore.Event, batch int) []occsimore.Scored {
	t.Helper()
	out := make([]occsimore.Scored, len(evs))
	for i := 0; i < len(evs); i += batch {
		end := min(i+batch, len(evs))
		if err := p.Submit(t.Context(), member, evs[i:end], out[i:end]); err != nil {
			t.Fatalf("submit events %d-%d: %v", i, end, err)
		}
	}
	return out
}
