package behavior

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// cardEv is a card transaction at a Paris grocery.
func cardEv(member, card string, at time.Time, amount float64) occsimore.Event {
	return occsimore.Event{
		MemberID: member, Kind: "card.tx", Time: at, Card: card, Customer: "cust-" + card,
		Terminal: "t1", Merchant: "m1", Amount: amount, Currency: "EUR", Country: "FR", MCC: "5411", Channel: "pos",
		Lat: 48.8566, Lon: 2.3522, HasLocation: true,
	}
}

func mustProcess(t testing.TB, e *Engine, ev occsimore.Event) Result {
	t.Helper()
	var res Result
	if err := e.Process(&ev, &res); err != nil {
		t.Fatalf("process %s at %s: %v", ev.Kind, ev.Time, err)
	}
	return res
}

func mustScore(t testing.TB, e *Engine, ev occsimore.Event) Result {
	t.Helper()
	var res Result
	if err := e.Score(&ev, &res); err != nil {
		t.Fatalf("score %s at %s: %v", ev.Kind, ev.Time, err)
	}
	return res
}

// reason returns the reason with code, if any.
func reason(res *Result, code string) (Reason, bool) {
	for _, r := range res.TopReasons() {
		if r.Code == code {
			return r, true
		}
	}
	return Reason{}, false
}

func feature(t testing.TB, e *Engine, res *Result, name string) float32 {
	t.Helper()
	i := slices.Index(e.FeatureNames(res.Kind), name)
	if i < 0 {
		t.Fatalf("no feature %q in %s", name, res.Kind)
	}
	return res.Features[i]
}

// habit gives card a month of purchases around 48 EUR at 10 to 17h.
func habit(t testing.TB, e *Engine, member, card string) time.Time {
	t.Helper()
	at := simStart
	for d := range 30 {
		for k := range 2 {
			ev := cardEv(member, card, simStart.AddDate(0, 0, d).Add(time.Duration(10+4*k)*time.Hour), 44+float64((d*7+k*3)%9))
			mustProcess(t, e, ev)
			at = ev.Time
		}
	}
	return at
}

func TestReasonSentences(t *testing.T) {
	e := newTestEngine(t)
	last := habit(t, e, "mem_a", "c1")

	// A large amount, the next day at a usual hour.
	next := last.Truncate(24 * time.Hour).Add(24*time.Hour + 11*time.Hour)
	res := mustProcess(t, e, cardEv("mem_a", "c1", next, 412.50))
	r, ok := reason(&res, "amount_high")
	if !ok {
		t.Fatalf("no amount_high reason in %v", res.TopReasons())
	}
	if got, want := r.String(), `^amount 412\.50 is \d\.\dx this card's usual 4\d\.\d\d \(\d+\.\dσ\)$`; !regexp.MustCompile(want).MatchString(got) {
		t.Errorf("sentence = %q, want match %s", got, want)
	}
	if r.Value != 412.50 || r.Baseline < 44 || r.Baseline > 53 || r.Sigma < 5 {
		t.Errorf("numbers: value %g baseline %g sigma %g", r.Value, r.Baseline, r.Sigma)
	}
	if got, want := res.Reasons[0].Code, "amount_high"; got != want {
		t.Errorf("first reason = %s, want %s", got, want)
	}

	// A purchase in New York an hour after a usual one in Paris: far, new
	// country, and fast. (The blocked one above moved nothing: the travel
	// is measured from the Paris purchase the card made.)
	mustProcess(t, e, cardEv("mem_a", "c1", next.Add(time.Hour), 45))
	ny := cardEv("mem_a", "c1", next.Add(2*time.Hour), 48)
	ny.Country, ny.Lat, ny.Lon, ny.Merchant, ny.Terminal = "US", 40.7128, -74.0060, "m-ny", "t-ny"
	res = mustProcess(t, e, ny)
	r, ok = reason(&res, "impossible_travel")
	if !ok {
		t.Fatalf("no impossible_travel reason in %v", res.TopReasons())
	}
	// Paris to New York is 5,837 km by the great circle.
	if math.Abs(r.Count-5837) > 10 {
		t.Errorf("distance = %.0f km, want 5837", r.Count)
	}
	if got, want := r.String(), "travel of 5,8\\d\\d km in 1h from FR requires 5,8\\d\\d km/h"; !regexp.MustCompile(want).MatchString(got) {
		t.Errorf("sentence = %q, want match %s", got, want)
	}
	r, ok = reason(&res, "new_country")
	if !ok {
		t.Fatalf("no new_country reason in %v", res.TopReasons())
	}
	if got, want := r.String(), "country US is new for this card (top: FR 100%)"; got != want {
		t.Errorf("sentence = %q, want %q", got, want)
	}
	if res.Decision != Block {
		t.Errorf("decision = %s with score %.1f, want block", res.Decision, res.Score)
	}
}

func TestReasonAppendText(t *testing.T) {
	for _, tc := range []struct {
		r    Reason
		want string
	}{
		{Reason{Code: "amount_low", Role: "card", Attr: "amount", form: formNumeric, Value: 1, Baseline: 48.2, Sigma: -2.14}, "amount 1.00 is 2.1σ below this card's usual 48.20"},
		{Reason{Code: "new_asn", Role: "user", Attr: "asn", form: formNew, Value: 7922, Share: 0.625}, "asn AS7922 is new for this user (its most frequent value has 62%)"},
		{Reason{Code: "unusual_hour", Role: "user", form: formHour, Value: 3.25, Share: 0, Baseline: 0.0012, Sigma: 4.4, Count: 14.5}, "time 03:15 is unusual for this user: 0% of its events vs 0.12% for its peers; usually around 14:30, 4.4σ away"},
		{Reason{Code: "unusual_day", Role: "card", form: formDay, Value: 0, Share: 0.01, Baseline: 0.14}, "Sunday is unusual for this card: 1.0% of its events vs 14% for its peers"},
		{Reason{Code: "velocity_burst", Role: "card", form: formVelocity, Value: 9.04, Baseline: 0.0014, Window: time.Minute}, "9.0 events in the last 1m for this card, usual 0.0014"},
		{Reason{Code: "failure_burst", Role: "ip", form: formVelocity, Value: 12, Baseline: 0.25, Window: 10 * time.Minute}, "12.0 failures in the last 10m for this ip, usual 0.25"},
		{Reason{Code: "impossible_travel", Role: "card", form: formTravel, Value: 9012.4, Count: 9012.4, Window: time.Hour, Top: "FR"}, "travel of 9,012 km in 1h from FR requires 9,012 km/h"},
		{Reason{Code: "risky_terminal", Role: "terminal", form: formRisk, Value: 0.63, Count: 19, Baseline: 0.008}, "terminal fraud rate 63% over 19 labelled events (population 0.80%)"},
		{Reason{Code: "gap_short", Role: "card", form: formGap, Value: 3, Baseline: 39600}, "3s since this card's previous event, usually 11h"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.r.Code, got, tc.want)
		}
	}
	if got, want := string(appendDuration(nil, 26*time.Hour+5*time.Minute)), "1d2h"; got != want {
		t.Errorf("duration = %q, want %q", got, want)
	}
	if got, want := string(appendGrouped(nil, -1234567.4)), "-1,234,567"; got != want {
		t.Errorf("grouped = %q, want %q", got, want)
	}
}

func TestColdStart(t *testing.T) {
	e := newTestEngine(t)
	history, _, _ := simulateCards(3, 300, 28)
	var res Result
	for i := range history {
		if err := e.Process(&history[i], &res); err != nil {
			t.Fatal(err)
		}
	}
	last := history[len(history)-1].Time
	at := last.Truncate(24 * time.Hour).Add(24*time.Hour + 13*time.Hour)

	// A brand-new card with an ordinary purchase is not flagged for being
	// new: with no history it is compared with its peers.
	ev := history[len(history)/2]
	ev.Card, ev.Customer, ev.Time, ev.Amount = "card-new", "cust-new", at, 45
	res = mustProcess(t, e, ev)
	if res.Decision != Allow || res.Score > 2 {
		t.Errorf("new card, ordinary purchase: score %.2f decision %s, reasons %v", res.Score, res.Decision, res.TopReasons())
	}
	if got := feature(t, e, &res, "card.events"); got != 0 {
		t.Errorf("card.events = %g, want 0", got)
	}

	// Its second purchase, ordinary too, is not flagged either.
	ev.Time, ev.Amount = at.Add(3*time.Hour), 60
	res = mustProcess(t, e, ev)
	if res.Decision != Allow || res.Score > 2 {
		t.Errorf("new card, second purchase: score %.2f decision %s, reasons %v", res.Score, res.Decision, res.TopReasons())
	}

	// A brand-new card spending far above what any card spends is judged
	// against the population, which it breaks.
	ev.Card, ev.Customer, ev.Time, ev.Amount = "card-new2", "cust-new2", at.Add(4*time.Hour), 2500
	res = mustProcess(t, e, ev)
	if !res.HasReason("amount_high", 1) {
		t.Errorf("new card, huge amount: reasons %v", res.TopReasons())
	}
}

func TestNewMember(t *testing.T) {
	// A member's first events have no peers to lean on: they are not
	// flagged for it.
	e := newTestEngine(t)
	for i, amount := range []float64{10, 20, 35, 80, 15, 250, 5} {
		ev := cardEv("mem_new", fmt.Sprintf("c%d", i), simStart.Add(time.Duration(10*60+i)*time.Minute), amount)
		ev.Terminal, ev.Merchant = fmt.Sprintf("t%d", i%3), fmt.Sprintf("m%d", i%3)
		res := mustProcess(t, e, ev)
		if res.Decision != Allow || res.Score > 2 {
			t.Errorf("event %d (amount %g): score %.2f decision %s, reasons %v", i, amount, res.Score, res.Decision, res.TopReasons())
		}
	}
}

func TestLateness(t *testing.T) {
	e := newTestEngine(t) // MaxLateness 1h
	t0 := simStart.Add(10 * time.Hour)
	mustProcess(t, e, cardEv("mem_a", "c1", t0, 10))
	mustProcess(t, e, cardEv("mem_a", "c1", t0.Add(2*time.Hour), 30))
	// 30 minutes behind the newest event: folded in.
	mustProcess(t, e, cardEv("mem_a", "c1", t0.Add(90*time.Minute), 20))

	// The profile equals that of the same events in order.
	o := newTestEngine(t)
	for _, m := range []int{0, 90, 120} {
		mustProcess(t, o, cardEv("mem_a", "c1", t0.Add(time.Duration(m)*time.Minute), []float64{10, 20, 30}[m/60]))
	}
	late, _ := e.Profile("mem_a", "card", "c1")
	inOrder, _ := o.Profile("mem_a", "card", "c1")
	if got, want := late.Events, uint32(3); got != want {
		t.Fatalf("events = %d, want %d", got, want)
	}
	for i := range late.Numeric {
		l, w := late.Numeric[i], inOrder.Numeric[i]
		if math.Abs(l.Count-w.Count) > 1e-5 || math.Abs(l.Mean-w.Mean) > 1e-4 || math.Abs(l.Std-w.Std) > 1e-3 {
			t.Errorf("%s %s: late %+v, in order %+v", l.Attr, l.HalfLife, l, w)
		}
		if math.IsNaN(l.Mean) || math.IsInf(l.Count, 0) {
			t.Errorf("%s %s: not finite: %+v", l.Attr, l.HalfLife, l)
		}
	}
	if got, want := late.Last, t0.Add(2*time.Hour); !got.Equal(want) {
		t.Errorf("last = %s, want %s (a late event does not move it back)", got, want)
	}

	// Two hours behind: refused, naming the lateness.
	ev := cardEv("mem_a", "c2", t0, 10)
	var res Result
	err := e.Process(&ev, &res)
	if got, want := occsimore.ErrorCode(err), occsimore.EINVALID; got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
	if got, want := occsimore.ErrorField(err), "time"; got != want {
		t.Errorf("error field = %q, want %q", got, want)
	}
	if !strings.Contains(occsimore.ErrorMessage(err), "lateness of 1h0m0s") {
		t.Errorf("message %q does not name the lateness", occsimore.ErrorMessage(err))
	}
	// Lateness is per member: another member's stream is not behind.
	ev.MemberID = "mem_b"
	if err := e.Process(&ev, &res); err != nil {
		t.Errorf("other member: %v", err)
	}
}

func TestFutureEvents(t *testing.T) {
	cfg := DefaultConfig()
	now := simStart
	cfg.Now = func() time.Time { return now }
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ev := cardEv("mem_a", "c1", now.Add(time.Hour), 10)
	var res Result
	if err := e.Process(&ev, &res); occsimore.ErrorField(err) != "time" {
		t.Errorf("an hour ahead: err = %v, want a time error", err)
	}
	ev.Time = now.Add(time.Minute)
	if err := e.Process(&ev, &res); err != nil {
		t.Errorf("a minute ahead: %v", err)
	}
}

func TestLabelDelay(t *testing.T) {
	e := newTestEngine(t) // terminals: label delay 7 days
	day0 := simStart.Add(10 * time.Hour)
	// Terminal "bad" sees fraud, the others genuine purchases; every label
	// is known at once, but counts only 7 days after its event.
	for i := range 10 {
		for _, term := range []string{"bad", "ok1", "ok2", "ok3"} {
			ev := cardEv("mem_a", term+"-card"+string(rune('a'+i)), day0.Add(time.Duration(i)*time.Minute), 50)
			ev.Terminal, ev.Merchant = term, "m-"+term
			mustProcess(t, e, ev)
			if err := e.Label("mem_a", "terminal", term, term == "bad", ev.Time, ev.Time); err != nil {
				t.Fatal(err)
			}
		}
	}
	score := func(at time.Time, term string) Result {
		ev := cardEv("mem_a", "probe-"+at.Format("150405")+term, at, 50)
		ev.Terminal, ev.Merchant = term, "m-"+term
		return mustProcess(t, e, ev)
	}
	// The first labels become usable at day0 + 7d (10:00), rounded up to
	// the hour.
	usable := day0.Add(7 * 24 * time.Hour)
	res := score(usable.Add(-time.Minute), "bad")
	if got := feature(t, e, &res, "terminal.risk"); !math.IsNaN(float64(got)) {
		t.Errorf("a minute before the delay: terminal.risk = %g, want NaN (no usable label)", got)
	}
	if _, ok := reason(&res, "risky_terminal"); ok {
		t.Errorf("a minute before the delay: risky_terminal reason %v", res.TopReasons())
	}
	res = score(usable.Add(time.Hour), "bad")
	if got := feature(t, e, &res, "terminal.risk"); !(got > 0.5) {
		t.Errorf("after the delay: terminal.risk = %g, want > 0.5", got)
	}
	r, ok := reason(&res, "risky_terminal")
	if !ok {
		t.Fatalf("after the delay: no risky_terminal reason in %v", res.TopReasons())
	}
	// Ten labels, decayed by their age of 7 days and an hour at a 14-day
	// half-life.
	if !strings.HasPrefix(r.String(), "terminal fraud rate ") || math.Abs(r.Count-10*math.Exp2(-(7+1.0/24)/14)) > 0.05 || r.Baseline < 0.2 || r.Baseline > 0.3 {
		t.Errorf("reason %q: count %g, population %g", r.String(), r.Count, r.Baseline)
	}
	res = score(usable.Add(time.Hour), "ok1")
	if got := feature(t, e, &res, "terminal.risk"); !(got < 0.25) {
		t.Errorf("genuine terminal: terminal.risk = %g, want < 0.25", got)
	}
	if v, _ := e.Profile("mem_a", "terminal", "bad"); v.Risk == nil || v.Risk.FraudRate < 0.99 {
		t.Errorf("profile risk = %+v, want a fraud rate of 1", v.Risk)
	}

	// A label for a role without a fraud rate is refused.
	if err := e.Label("mem_a", "card", "x", true, day0, day0); occsimore.ErrorField(err) != "role" {
		t.Errorf("label of a card: err = %v, want a role error", err)
	}
}

func TestLabelPendingMerge(t *testing.T) {
	// With more usable hours than pending slots, labels are postponed, never
	// brought forward.
	e := newTestEngine(t)
	t0 := simStart.Add(10 * time.Hour)
	ev := cardEv("mem_a", "c1", t0, 50)
	ev.Terminal = "T"
	mustProcess(t, e, ev)
	for h := range 6 {
		at := t0.Add(time.Duration(h) * time.Hour)
		if err := e.Label("mem_a", "terminal", "T", true, at, at); err != nil {
			t.Fatal(err)
		}
	}
	// Pending weights are decayed to the hour each label becomes usable:
	// 7 days at a 14-day half-life.
	week := math.Exp2(-0.5)
	v, _ := e.Profile("mem_a", "terminal", "T")
	if v.Risk.Labelled != 0 || math.Abs(v.Risk.Pending-6*week) > 0.01 {
		t.Fatalf("risk = %+v, want 6 pending labels (weight %.3f)", v.Risk, 6*week)
	}
	// Just after the first usable hour nothing may count yet beyond what
	// was due.
	ev.Time = t0.Add(7*24*time.Hour + 30*time.Minute)
	ev.Card = "c2"
	mustProcess(t, e, ev)
	v, _ = e.Profile("mem_a", "terminal", "T")
	if v.Risk.Labelled > week+0.01 {
		t.Errorf("labelled weight %.3f half an hour after the first label was due, want at most %.3f", v.Risk.Labelled, week)
	}
	ev.Time = t0.Add(7*24*time.Hour + 6*time.Hour)
	ev.Card = "c3"
	mustProcess(t, e, ev)
	v, _ = e.Profile("mem_a", "terminal", "T")
	if v.Risk.Labelled < 6*week*0.98 || v.Risk.Pending != 0 {
		t.Errorf("risk = %+v after the last was due, want 6 labelled", v.Risk)
	}
}

func TestMemberIsolation(t *testing.T) {
	e := newTestEngine(t)
	last := habit(t, e, "mem_a", "shared-id")
	if _, ok := e.Profile("mem_b", "card", "shared-id"); ok {
		t.Fatal("member b sees a profile it never fed")
	}
	ev := cardEv("mem_b", "shared-id", last.Add(time.Hour), 48)
	ev.Country, ev.Lat, ev.Lon = "DE", 52.52, 13.40
	res := mustProcess(t, e, ev)
	if got := feature(t, e, &res, "card.events"); got != 0 {
		t.Errorf("member b's first event sees %g events of history", got)
	}
	if _, ok := reason(&res, "impossible_travel"); ok {
		t.Errorf("member b's card travelled from member a's location: %v", res.TopReasons())
	}
	a, _ := e.Profile("mem_a", "card", "shared-id")
	b, _ := e.Profile("mem_b", "card", "shared-id")
	if got, want := a.Events, uint32(60); got != want {
		t.Errorf("member a events = %d, want %d", got, want)
	}
	if got, want := b.Events, uint32(1); got != want {
		t.Errorf("member b events = %d, want %d", got, want)
	}
	if got := a.Categorical[0].Top; len(got) != 1 || got[0].Value != "FR" {
		t.Errorf("member a countries = %v, want only FR", got)
	}
	if got := b.Categorical[0].Top; len(got) != 1 || got[0].Value != "DE" {
		t.Errorf("member b countries = %v, want only DE", got)
	}
}

func TestProfileView(t *testing.T) {
	e := newTestEngine(t)
	last := habit(t, e, "mem_a", "c1")
	v, ok := e.Profile("mem_a", "card", "c1")
	if !ok {
		t.Fatal("no profile")
	}
	if v.Kind != "card.tx" || v.Role != "card" || v.ID != "c1" || !v.Last.Equal(last) {
		t.Errorf("header = %s %s %s last %s", v.Kind, v.Role, v.ID, v.Last)
	}
	var hours, week float64
	for _, h := range v.Hours.Hours {
		hours += h
	}
	for _, d := range v.Hours.HourOfWeek {
		for _, h := range d {
			week += h
		}
	}
	if math.Abs(hours-1) > 1e-9 || math.Abs(week-1) > 1e-9 {
		t.Errorf("hour shares sum to %g, hour-of-week to %g", hours, week)
	}
	if v.Hours.Hours[10] < 0.4 || v.Hours.Hours[14] < 0.4 || v.Hours.Hours[3] != 0 {
		t.Errorf("hours = %v, want half at 10h, half at 14h", v.Hours.Hours)
	}
	if n := v.Numeric[2]; n.HalfLife != days(30) || n.Mean < 46 || n.Mean > 50 || n.Std < 1 || n.Std > 4 {
		t.Errorf("amount at 30d = %+v", n)
	}
	if v.Location == nil || v.Location.Country != "FR" || math.Abs(v.Location.Lat-48.8566) > 1e-4 {
		t.Errorf("location = %+v", v.Location)
	}
	if r := v.Velocity[0].RatePerDay; r < 1.5 || r > 2.5 {
		t.Errorf("rate = %g per day, want 2", r)
	}
	merchants := v.Categorical[3]
	if merchants.Attr != "merchant" || len(merchants.Top) != 1 || merchants.Top[0].Value != "m1" || merchants.Top[0].Share < 0.99 {
		t.Errorf("merchants = %+v", merchants)
	}
	if _, ok := e.Profile("mem_a", "card", "nobody"); ok {
		t.Error("a profile for an unknown card")
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	history, normal, plants := simulateCards(5, 120, 21)
	a := newTestEngine(t)
	var res Result
	for i := range history {
		if err := a.Process(&history[i], &res); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Label("mem_bank", "terminal", history[0].Terminal, true, history[0].Time, history[0].Time); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := a.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	snap := buf.Bytes()
	// The restoring engine has another seed: it adopts the snapshot's.
	cfgB := DefaultConfig()
	cfgB.HashSeed = 12345
	b, err := NewEngine(cfgB)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ReadSnapshot(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	week := slices.Clone(normal)
	for _, p := range plants {
		week = append(week, p.ev)
	}
	sortEvents(week)
	for i := range week {
		var ra, rb Result
		if err := a.Process(&week[i], &ra); err != nil {
			t.Fatal(err)
		}
		if err := b.Process(&week[i], &rb); err != nil {
			t.Fatal(err)
		}
		if math.Float64bits(ra.Score) != math.Float64bits(rb.Score) || ra.NReasons != rb.NReasons || ra.Decision != rb.Decision {
			t.Fatalf("event %d: original %.6f (%d reasons), restored %.6f (%d reasons)", i, ra.Score, ra.NReasons, rb.Score, rb.NReasons)
		}
		for j := range ra.NFeatures {
			if math.Float32bits(ra.Features[j]) != math.Float32bits(rb.Features[j]) {
				t.Fatalf("event %d feature %s: %g vs %g", i, a.FeatureNames(ra.Kind)[j], ra.Features[j], rb.Features[j])
			}
		}
		for j := range ra.NReasons {
			if ra.Reasons[j].String() != rb.Reasons[j].String() {
				t.Fatalf("event %d reason %d: %q vs %q", i, j, ra.Reasons[j], rb.Reasons[j])
			}
		}
	}

	// A corrupt, truncated or foreign snapshot is refused and changes
	// nothing.
	c := newTestEngine(t)
	mustProcess(t, c, cardEv("mem_a", "keep", simStart, 10))
	bad := slices.Clone(snap)
	bad[len(bad)/2] ^= 0x40
	for name, data := range map[string][]byte{
		"corrupt":   bad,
		"truncated": snap[:len(snap)-100],
		"empty":     nil,
		"foreign":   []byte("PK\x03\x04 not a snapshot at all"),
	} {
		err := c.ReadSnapshot(bytes.NewReader(data))
		if got, want := occsimore.ErrorCode(err), occsimore.EINVALID; got != want {
			t.Errorf("%s: error %v, want code %s", name, err, want)
		}
		if _, ok := c.Profile("mem_a", "card", "keep"); !ok {
			t.Errorf("%s: the failed read changed the engine", name)
		}
	}
	cfg := DefaultConfig()
	cfg.Specs[0].Roles[0].Categorical[0].TopK = 5
	d, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.ReadSnapshot(bytes.NewReader(snap)); !strings.Contains(occsimore.ErrorMessage(err), "layout") {
		t.Errorf("other layout: %v", err)
	}
}

func TestThresholds(t *testing.T) {
	cfg := DefaultConfig()
	// Block thresholds change what is learnt (a blocked event teaches no
	// habit, TestBlockedTeachesNothing): keep them out of reach here.
	cfg.Thresholds = map[string]map[string]Thresholds{"mem_strict": {"card.tx": {Review: 0.1, Block: 90}}}
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	habit(t, e, "mem_a", "c1")
	last := habit(t, e, "mem_strict", "c1")
	ev := cardEv("mem_a", "c1", last.Add(20*time.Hour), 80)
	a := mustProcess(t, e, ev)
	ev.MemberID = "mem_strict"
	if r := mustScore(t, e, ev); r.Decision != Review {
		t.Errorf("configured thresholds: %s (score %g), want review", r.Decision, r.Score)
	}
	if err := e.SetThresholds("mem_strict", "card.tx", Thresholds{Review: 0.1, Block: 0.2}); err != nil {
		t.Fatal(err)
	}
	s := mustProcess(t, e, ev)
	if math.Abs(a.Score-s.Score) > 1e-9 {
		t.Fatalf("same history, different scores %g and %g", a.Score, s.Score)
	}
	if a.Score < 0.2 || a.Score >= 8 {
		t.Fatalf("score %g is not between the two members' thresholds", a.Score)
	}
	if a.Decision != Allow || s.Decision != Block {
		t.Errorf("decisions = %s and %s, want allow and block", a.Decision, s.Decision)
	}
	if err := e.SetThresholds("mem_a", "card.tx", Thresholds{Review: 0.1, Block: 100}); err != nil {
		t.Fatal(err)
	}
	ev.MemberID, ev.Time = "mem_a", ev.Time.Add(time.Minute)
	if r := mustProcess(t, e, ev); r.Decision != Review {
		t.Errorf("after SetThresholds: %s (score %g), want review", r.Decision, r.Score)
	}
	if err := e.SetThresholds("mem_a", "card.tx", Thresholds{Review: 5, Block: 1}); occsimore.ErrorCode(err) != occsimore.EINVALID {
		t.Errorf("review above block: %v", err)
	}
}

func TestScoreDoesNotUpdate(t *testing.T) {
	e := newTestEngine(t)
	last := habit(t, e, "mem_a", "c1")
	before, _ := e.Profile("mem_a", "card", "c1")
	ev := cardEv("mem_a", "c1", last.Add(time.Hour), 400)
	var s, p Result
	if err := e.Score(&ev, &s); err != nil {
		t.Fatal(err)
	}
	after, _ := e.Profile("mem_a", "card", "c1")
	if before.Events != after.Events || before.Numeric[0] != after.Numeric[0] {
		t.Errorf("Score changed the profile: %+v -> %+v", before.Numeric[0], after.Numeric[0])
	}
	if err := e.Process(&ev, &p); err != nil {
		t.Fatal(err)
	}
	if s.Score != p.Score || s.NReasons != p.NReasons {
		t.Errorf("Score %g (%d reasons) differs from Process %g (%d reasons)", s.Score, s.NReasons, p.Score, p.NReasons)
	}
	if _, ok := e.Profile("mem_a", "card", "never"); ok {
		t.Error("profile exists")
	}
	ev.Card = "never"
	if err := e.Score(&ev, &s); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.Profile("mem_a", "card", "never"); ok {
		t.Error("Score created a profile")
	}
}

func TestProcessErrors(t *testing.T) {
	e := newTestEngine(t)
	for _, tc := range []struct {
		name  string
		edit  func(*occsimore.Event)
		field string
	}{
		{"no member", func(ev *occsimore.Event) { ev.MemberID = "" }, "member_id"},
		{"unknown kind", func(ev *occsimore.Event) { ev.Kind = "wire.transfer" }, "kind"},
		{"no entity", func(ev *occsimore.Event) { ev.Card, ev.Customer, ev.Terminal, ev.Merchant = "", "", "", "" }, "card"},
		{"negative amount", func(ev *occsimore.Event) { ev.Amount = -1 }, "amount"},
		{"zero time", func(ev *occsimore.Event) { ev.Time = time.Time{} }, "time"},
	} {
		ev := cardEv("mem_a", "c1", simStart, 10)
		tc.edit(&ev)
		var res Result
		err := e.Process(&ev, &res)
		if got := occsimore.ErrorCode(err); got != occsimore.EINVALID {
			t.Errorf("%s: code %q (%v)", tc.name, got, err)
		}
		if got := occsimore.ErrorField(err); got != tc.field {
			t.Errorf("%s: field %q, want %q", tc.name, got, tc.field)
		}
	}
}

func TestConcurrentProcess(t *testing.T) {
	// Run with -race: concurrent Process, Label, Profile and a snapshot.
	e := newTestEngine(t)
	evs := cardTemplates(200, 4000)
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			var res Result
			for i := g; i < len(evs); i += 4 {
				ev := evs[i]
				ev.MemberID = []string{"mem_a", "mem_b"}[g%2]
				ev.Time = simStart.Add(time.Duration(i) * 500 * time.Millisecond) // all within the lateness
				if err := e.Process(&ev, &res); err != nil {
					t.Error(err)
					return
				}
				if i%97 == 0 {
					_ = e.Label(ev.MemberID, "terminal", ev.Terminal, i%2 == 0, ev.Time, ev.Time)
					_, _ = e.Profile(ev.MemberID, "card", ev.Card)
				}
			}
		}()
	}
	var buf bytes.Buffer
	if err := e.WriteSnapshot(&buf); err != nil {
		t.Error(err)
	}
	for range 4 {
		<-done
	}
	var total uint32
	for _, m := range []string{"mem_a", "mem_b"} {
		for _, c := range []string{"card0", "card1", "card2"} {
			if v, ok := e.Profile(m, "card", c); ok {
				total += v.Events
			}
		}
	}
	if total == 0 {
		t.Error("no events recorded")
	}
}

func TestZeroAllocs(t *testing.T) {
	e := newTestEngine(t)
	cards := cardTemplates(300, 2000)
	logins := loginTemplates(300, 2000)
	cs := &stream{evs: cards, t0: simStart, step: time.Second}
	ls := &stream{evs: logins, t0: simStart, step: time.Second}
	var res Result
	for range 3 * len(cards) {
		if err := e.Process(cs.next(), &res); err != nil {
			t.Fatal(err)
		}
		if err := e.Process(ls.next(), &res); err != nil {
			t.Fatal(err)
		}
	}
	if got := testing.AllocsPerRun(2000, func() {
		if err := e.Process(cs.next(), &res); err != nil {
			t.Fatal(err)
		}
	}); got != 0 {
		t.Errorf("Process(card.tx) allocates %g times per event", got)
	}
	if got := testing.AllocsPerRun(2000, func() {
		if err := e.Process(ls.next(), &res); err != nil {
			t.Fatal(err)
		}
	}); got != 0 {
		t.Errorf("Process(auth.login) allocates %g times per event", got)
	}
	if got := testing.AllocsPerRun(2000, func() {
		if err := e.Score(cs.next(), &res); err != nil {
			t.Fatal(err)
		}
	}); got != 0 {
		t.Errorf("Score allocates %g times per event", got)
	}
	// Rendering a reason allocates only its buffer's growth.
	buf := make([]byte, 0, 256)
	r := Reason{Code: "impossible_travel", Role: "card", form: formTravel, Value: 9000, Count: 9000, Window: time.Hour, Top: "FR"}
	if got := testing.AllocsPerRun(100, func() { buf = r.AppendText(buf[:0]) }); got != 0 {
		t.Errorf("AppendText allocates %g times", got)
	}
}

// TestProfileMemory checks the budget at 200,000 profiles;
// BenchmarkProfileMemory measures it at a million.
func TestProfileMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a few hundred megabytes")
	}
	n := 200_000
	got := profileBytes(t, n)
	t.Logf("%.0f bytes per card profile at %d profiles", got, n)
	// 400 bytes until card profiles kept a device habit and seen filters
	// of their terminals, merchants, devices and countries (120 bytes),
	// and a home area.
	if got > 600 {
		t.Errorf("%.0f bytes per card profile, want <= 600", got)
	}
}

func TestFeatureNames(t *testing.T) {
	e := newTestEngine(t)
	names := e.FeatureNames("card.tx")
	if len(names) < 20 {
		t.Errorf("card.tx has %d features, want >= 20", len(names))
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("duplicate feature %q", n)
		}
		seen[n] = true
	}
	for _, want := range []string{"score", "amount", "card.amount.z_30d", "card.amount.mean_7d", "card.count_1h", "card.country.new",
		"terminal.risk", "card.travel_kmh", "card.hour.z", "customer.amount.count_7d"} {
		if !seen[want] {
			t.Errorf("no feature %q", want)
		}
	}
	if e.FeatureNames("nope") != nil {
		t.Error("names for an unknown kind")
	}
	var res Result
	ev := cardEv("mem_a", "c1", simStart, 10)
	if err := e.Process(&ev, &res); err != nil {
		t.Fatal(err)
	}
	if res.NFeatures != len(names) {
		t.Errorf("result has %d features, names %d", res.NFeatures, len(names))
	}
}

// TestScoreIsProcessWithoutUpdate scores every event of the golden stream
// (cards, logins, two members, late events) with Score, then processes it:
// both must give the same result, bit for bit, once the peer statistics
// are past their first events (Score does not count itself in them, which
// can move a readiness threshold).
func TestScoreIsProcessWithoutUpdate(t *testing.T) {
	e := newTestEngine(t)
	var s, p Result
	for i, ev := range goldenStream() {
		ev2 := ev
		if i < 2000 {
			mustProcess(t, e, ev2)
			continue
		}
		serr := e.Score(&ev, &s)
		perr := e.Process(&ev2, &p)
		if (serr == nil) != (perr == nil) {
			t.Fatalf("event %d: Score error %v, Process error %v", i, serr, perr)
		}
		if serr != nil {
			continue
		}
		if s.Score != p.Score || s.Decision != p.Decision || s.NReasons != p.NReasons ||
			!slices.Equal(s.FeatureVector(), p.FeatureVector()) && !sameNaN(s.FeatureVector(), p.FeatureVector()) {
			t.Fatalf("event %d (%s): Score gives %g %s %v, Process %g %s %v", i, ev.Kind, s.Score, s.Decision, s.TopReasons(), p.Score, p.Decision, p.TopReasons())
		}
	}
}

// sameNaN compares feature vectors where NaN (unknown) equals NaN.
func sameNaN(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}

// TestResultsIgnoreTheSeed runs the golden stream through two engines with
// different hash seeds: every result and every profile must be the same, so
// that a restart that replays the journal under a new seed (no snapshot yet)
// rebuilds the state the crashed process had.
func TestResultsIgnoreTheSeed(t *testing.T) {
	var engines [2]*Engine
	for i := range engines {
		cfg := DefaultConfig()
		cfg.HashSeed = uint64(i*7919 + 1)
		e, err := NewEngine(cfg)
		if err != nil {
			t.Fatal(err)
		}
		engines[i] = e
	}
	evs := goldenStream()
	var a, b Result
	for i := range evs {
		ev, ev2 := evs[i], evs[i]
		errA, errB := engines[0].Process(&ev, &a), engines[1].Process(&ev2, &b)
		if (errA == nil) != (errB == nil) || errA == nil && (a.Score != b.Score || a.Decision != b.Decision) {
			t.Fatalf("event %d: %g %s (%v) under one seed, %g %s (%v) under the other", i, a.Score, a.Decision, errA, b.Score, b.Decision, errB)
		}
	}
	for _, ev := range evs {
		for _, role := range []string{"card", "user"} {
			id := ev.EntityID(role)
			if id == "" {
				continue
			}
			va, _ := engines[0].ProfileOf(ev.MemberID, ev.Kind, role, id)
			vb, _ := engines[1].ProfileOf(ev.MemberID, ev.Kind, role, id)
			ja, _ := json.Marshal(va)
			jb, _ := json.Marshal(vb)
			if !bytes.Equal(ja, jb) {
				t.Fatalf("%s %s differs between seeds:\n%s\n%s", role, id, ja, jb)
			}
		}
	}
}
