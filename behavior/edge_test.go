package behavior

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// The amounts at the edges of issue 10: hand-made cards that pay 20 to 30
// EUR in France, one member with no other history.

// usualAmount is the card's usual amount as its reasons and views give it:
// the mean of its longest half-life, back on the amount's own scale.
func usualAmount(t *testing.T, e *Engine, member, card string) float64 {
	t.Helper()
	v, ok := e.Profile(member, "card", card)
	if !ok {
		t.Fatalf("no profile for %s", card)
	}
	usual := math.NaN()
	for _, n := range v.Numeric {
		if n.Attr == "amount" {
			usual = n.Mean // the half-lives come shortest first
		}
	}
	if math.IsNaN(usual) {
		t.Fatalf("no amount in the profile of %s", card)
	}
	return usual
}

func payments(t *testing.T, e *Engine, member, card string, from time.Time, n int, amount func(i int) float64) time.Time {
	t.Helper()
	at := from
	for i := range n {
		at = from.Add(time.Duration(i) * 26 * time.Hour)
		mustProcess(t, e, cardEv(member, card, at, amount(i)))
	}
	return at
}

func TestColdStartBlocksAbsurdAmount(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			e := newTestEngine(t)
			last := payments(t, e, "mem_a", "c1", simStart, n, func(int) float64 { return 25 })
			res := mustProcess(t, e, cardEv("mem_a", "c1", last.Add(26*time.Hour), 50_000))
			if res.Decision != Block {
				t.Fatalf("50,000 after %d payments of 25: %s (score %.2f, reasons %v)", n, res.Decision, res.Score, res.TopReasons())
			}
			if res.Reasons[0].Code != "amount_high" {
				t.Errorf("first reason %s, want amount_high", res.Reasons[0].Code)
			}
		})
	}
}

// fleet has n cards of member pay once every 26 hours, rounds from to k-1,
// in time order, each at a terminal of its own.
func fleet(t *testing.T, e *Engine, member string, n, from, k int, amount func(c, i int) float64) time.Time {
	t.Helper()
	var at time.Time
	for i := from; i < k; i++ {
		for c := range n {
			at = simStart.Add(time.Duration(i)*26*time.Hour + time.Duration(c)*time.Minute)
			ev := cardEv(member, fmt.Sprintf("c%d", c), at, amount(c, i))
			ev.Terminal, ev.Merchant = fmt.Sprintf("t%d", c), fmt.Sprintf("m%d", c)
			mustProcess(t, e, ev)
		}
	}
	return at
}

func TestFirstPaymentJudgedByPeers(t *testing.T) {
	e := newTestEngine(t)
	// 40 cards of the member pay 20 to 30 EUR for a month.
	at := fleet(t, e, "mem_a", 40, 0, 25, func(c, i int) float64 { return 20 + float64((c+i)%11) }).Add(time.Hour)
	res := mustProcess(t, e, cardEv("mem_a", "new", at, 25_000))
	if res.Decision != Block {
		t.Fatalf("a first payment 1,000 times the peers' usual: %s (score %.2f, reasons %v)", res.Decision, res.Score, res.TopReasons())
	}
	normal := cardEv("mem_a", "new2", at, 27)
	normal.Terminal, normal.Merchant = "t-new2", "m-new2"
	ok := mustProcess(t, e, normal)
	if ok.Decision != Allow {
		t.Errorf("a first payment like the peers': %s (score %.2f, reasons %v)", ok.Decision, ok.Score, ok.TopReasons())
	}
}

func TestEstablishedCardBlocksThousandfold(t *testing.T) {
	e := newTestEngine(t)
	last := payments(t, e, "mem_a", "c1", simStart, 30, func(i int) float64 { return 20 + float64(i%11) })
	res := mustProcess(t, e, cardEv("mem_a", "c1", last.Add(26*time.Hour), 25_000))
	if res.Decision != Block {
		t.Fatalf("1,000 times the usual on an established card: %s (score %.2f)", res.Decision, res.Score)
	}
}

func TestBlockedTeachesNothing(t *testing.T) {
	e := newTestEngine(t)
	last := payments(t, e, "mem_a", "c1", simStart, 10, func(int) float64 { return 25 })
	before := usualAmount(t, e, "mem_a", "c1")
	pBefore, _ := e.Profile("mem_a", "card", "c1")
	for i, amount := range []float64{250, 2_500, 25_000} {
		ev := cardEv("mem_a", "c1", last.Add(time.Duration(i+1)*26*time.Hour), amount)
		ev.Country, ev.Merchant, ev.Terminal = "BR", "m-br", "t-br"
		if res := mustProcess(t, e, ev); res.Decision != Block {
			t.Fatalf("%g from Brazil: %s (score %.2f), want block", amount, res.Decision, res.Score)
		}
	}
	after := usualAmount(t, e, "mem_a", "c1")
	if math.Abs(after-before) > 1e-6*before {
		t.Errorf("usual amount moved from %.2f to %.2f after three blocked frauds", before, after)
	}
	pAfter, _ := e.Profile("mem_a", "card", "c1")
	if got, want := pAfter.Events, pBefore.Events+3; got != want {
		t.Errorf("events = %d, want %d: blocked events still count", got, want)
	}
	for _, c := range pAfter.Categorical {
		for _, v := range c.Top {
			if v.Value == "BR" || v.Value == "m-br" {
				t.Errorf("%s learnt %s from a blocked event", c.Attr, v.Value)
			}
		}
	}
}

func TestOutliersMoveNoOtherCard(t *testing.T) {
	e := newTestEngine(t)
	// Card c1 pays 25 EUR; every third card of the member pays 50,000
	// EUR from the eighth round on.
	amount := func(c, i int) float64 {
		switch {
		case c == 1:
			return 25
		case i >= 7 && c%3 == 0:
			return 50_000
		}
		return 20 + float64(i)
	}
	fleet(t, e, "mem_a", 30, 0, 7, amount)
	before := usualAmount(t, e, "mem_a", "c1")
	last := fleet(t, e, "mem_a", 30, 7, 10, amount)
	if after := usualAmount(t, e, "mem_a", "c1"); math.Abs(after-before) > 1e-4*before {
		t.Errorf("other cards' outliers moved this card's usual from %.2f to %.2f", before, after)
	}
	ev := cardEv("mem_a", "c1", last.Add(26*time.Hour), 50_000)
	ev.Terminal, ev.Merchant = "t1", "m1"
	res := mustProcess(t, e, ev)
	if res.Decision != Block {
		t.Errorf("50,000 on the steady card: %s (score %.2f)", res.Decision, res.Score)
	}
	r, ok := reason(&res, "amount_high")
	if !ok || r.Baseline < 20 || r.Baseline > 30 {
		t.Errorf("the reason's usual amount is %.2f, want about 25 (reason found: %v)", r.Baseline, ok)
	}
}

// TestProfilesStayFinite feeds the largest and smallest amounts an event
// may carry and checks that every number of the profile and of its view
// stays finite.
func TestProfilesStayFinite(t *testing.T) {
	e := newTestEngine(t)
	last := payments(t, e, "mem_a", "c1", simStart, 5, func(int) float64 { return 25 })
	for i, amount := range []float64{occsimore.MaxAmount, 1e-300, 0, occsimore.MaxAmount, 5e-324} {
		mustProcess(t, e, cardEv("mem_a", "c1", last.Add(time.Duration(i+1)*time.Hour), amount))
		assertFiniteProfile(t, e, "mem_a", occsimore.Event{Card: "c1", Customer: "u-c1", Terminal: "t1", Merchant: "m1"})
	}
}

// assertFiniteProfile checks that the profile of every entity of ev, in
// every kind, encodes as JSON: no NaN nor infinity anywhere in it.
func assertFiniteProfile(t *testing.T, e *Engine, member string, ev occsimore.Event) {
	t.Helper()
	for _, role := range occsimore.FixedRoles {
		id := ev.EntityID(role)
		if id == "" {
			continue
		}
		for _, kind := range e.Kinds() {
			v, ok := e.ProfileOf(member, kind, role, id)
			if !ok {
				continue
			}
			if _, err := json.Marshal(v); err != nil {
				t.Fatalf("%s profile of %s %s: %v", kind, role, id, err)
			}
		}
	}
}

// TestHugeAttributeStaysFinite: a member-defined numeric attribute may be as
// large as 1e100 (Event.Validate's bound), far beyond a float32 profile; the
// engine bounds what it learns so the profile stays finite.
func TestHugeAttributeStaysFinite(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Specs = []Spec{{Kind: "api.call", Thresholds: Thresholds{Review: 8, Block: 16}, Roles: []RoleSpec{{
		Role:    "user",
		Numeric: []NumericSpec{{Attr: "attrs.bytes", HalfLives: []Duration{days(7)}}},
	}}}}
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range []string{"100", "120", "1e100", "-1e100", "90", "1e100"} {
		ev := occsimore.Event{MemberID: "mem_a", Kind: "api.call", Time: simStart.Add(time.Duration(i) * time.Minute), User: "u1",
			Attrs: map[string]string{"bytes": v}}
		mustProcess(t, e, ev)
		assertFiniteProfile(t, e, "mem_a", ev)
	}
}

// TestSpecNewFields: the spec fields issue 10 added are checked, with the
// field named.
func TestSpecNewFields(t *testing.T) {
	base := func() Spec {
		return Spec{Kind: "k", Thresholds: Thresholds{Review: 1, Block: 2}, Roles: []RoleSpec{{
			Role: "user",
			Categorical: []CategoricalSpec{
				{Attr: "country", TopK: 2, HalfLife: days(1)},
				{Attr: "device", TopK: 2, HalfLife: days(1)},
			},
		}}}
	}
	for _, tc := range []struct {
		name  string
		edit  func(s *Spec)
		field string
	}{
		{"seen not a multiple of 32", func(s *Spec) { s.Roles[0].Categorical[0].Seen = 33 }, "roles[0].categorical[0].seen"},
		{"seen too large", func(s *Spec) { s.Roles[0].Categorical[0].Seen = 2048 }, "roles[0].categorical[0].seen"},
		{"bad group name", func(s *Spec) { s.Roles[0].Categorical[1].Group = "Bad Group" }, "roles[0].categorical[1].group"},
		{"too many groups", func(s *Spec) {
			for _, a := range []string{"asn", "ip", "mcc"} {
				s.Roles[0].Categorical = append(s.Roles[0].Categorical, CategoricalSpec{Attr: a, TopK: 1, HalfLife: days(1), Group: "g" + a})
			}
			s.Roles[0].Categorical[0].Group, s.Roles[0].Categorical[1].Group = "g1", "g2"
		}, "roles[0]"},
		{"new_of not a categorical of the role", func(s *Spec) {
			s.Roles[0].Velocity = []VelocitySpec{{Windows: []Duration{days(1)}, NewOf: "terminal"}}
		}, "roles[0].velocity[0].new_of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			if err := s.Validate(); err != nil {
				t.Fatalf("base spec: %v", err)
			}
			tc.edit(&s)
			err := s.Validate()
			if got := occsimore.ErrorField(err); got != tc.field {
				t.Fatalf("error %v names field %q, want %q", err, got, tc.field)
			}
		})
	}
	s := base()
	s.Roles[0].Categorical[0].Seen, s.Roles[0].Categorical[0].Group = 64, "place"
	s.Roles[0].Velocity = []VelocitySpec{{Windows: []Duration{days(1)}, NewOf: "device"}}
	if err := s.Validate(); err != nil {
		t.Errorf("a valid spec with seen, group and new_of: %v", err)
	}
}
