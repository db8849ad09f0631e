package detectbench

import (
	"bytes"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

func small(seed uint64) Config { return Config{Seed: seed, Cards: 300, Users: 200, Days: 30} }

func TestDeterministicPerSeed(t *testing.T) {
	for _, gen := range []func(Config) (*Set, error){Cards, Logins} {
		a, err := gen(small(7))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := gen(small(7))
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: two runs of seed 7 differ", a.Name)
		}
		c, _ := gen(small(8))
		if reflect.DeepEqual(a.Events, c.Events) {
			t.Fatalf("%s: seeds 7 and 8 gave the same events", a.Name)
		}
	}
}

// checkSet asserts what every Set holds: valid events in time order, rows and
// incidents that agree, incidents in the last 10 days, n incidents per kind.
func checkSet(t *testing.T, s *Set, n, days int) {
	t.Helper()
	window := Start.AddDate(0, 0, days-incidentDays-1) // a zone may put a local day's start before UTC's
	for i := range s.Events {
		ev := &s.Events[i]
		if err := ev.Validate(); err != nil {
			t.Fatalf("%s event %d: %v", s.Name, i, err)
		}
		if i > 0 && ev.Time.Before(s.Events[i-1].Time) {
			t.Fatalf("%s: event %d is before event %d", s.Name, i, i-1)
		}
		if k := s.Incident[i]; k >= 0 && !slices.Contains(s.Incidents[k].Rows, i) {
			t.Fatalf("%s: row %d says incident %d, which does not list it", s.Name, i, k)
		}
	}
	count := map[Kind]int{}
	for k, inc := range s.Incidents {
		count[inc.Kind]++
		if len(inc.Rows) == 0 {
			t.Fatalf("incident %d (%s) has no rows", k, inc.Kind)
		}
		for _, r := range inc.Rows {
			if s.Incident[r] != k {
				t.Fatalf("incident %d lists row %d of incident %d", k, r, s.Incident[r])
			}
			if s.Events[r].Time.Before(window) {
				t.Fatalf("incident %d (%s) row at %s, before the last %d days", k, inc.Kind, s.Events[r].Time, incidentDays)
			}
		}
	}
	for _, k := range s.Kinds {
		if count[k] != n {
			t.Fatalf("%s: %d incidents of %s, want %d", s.Name, count[k], k, n)
		}
	}
}

// history returns the events of entity before row i.
func history(s *Set, i int) []occsimore.Event {
	var out []occsimore.Event
	ent := s.Events[i].Card + s.Events[i].User
	for j := range i {
		if s.Events[j].Card+s.Events[j].User == ent {
			out = append(out, s.Events[j])
		}
	}
	return out
}

func TestCardsIncidentsBreakTheirHabit(t *testing.T) {
	cfg := small(3)
	s, err := Cards(cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkSet(t, s, 5, cfg.Days)
	for k, inc := range s.Incidents {
		r := inc.Rows[0]
		ev := s.Events[r]
		h := history(s, r)
		if ev.Card != inc.Entity {
			t.Fatalf("incident %d: row of %s, want %s", k, ev.Card, inc.Entity)
		}
		switch inc.Kind {
		case FarCountry:
			if !slices.ContainsFunc(fars, func(c country) bool { return c.code == ev.Country }) {
				t.Errorf("far_country in %s", ev.Country)
			}
		case AmountSpike:
			var logs []float64
			for _, e := range h {
				logs = append(logs, math.Log(e.Amount))
			}
			slices.Sort(logs)
			if ratio := ev.Amount / math.Exp(logs[len(logs)/2]); ratio < 3 || ratio > 14 {
				t.Errorf("amount_spike %.2f is %.1fx the card's median", ev.Amount, ratio)
			}
		case Night:
			if hr := ev.Time.Hour(); hr < 2 || hr >= 4 {
				t.Errorf("night incident at %s", ev.Time)
			}
			for _, e := range h {
				if e.Time.Hour() < 6 {
					t.Errorf("night incident on a card that paid at %s", e.Time)
				}
			}
		case EcomBurst:
			if len(inc.Rows) != 8 {
				t.Fatalf("burst of %d payments", len(inc.Rows))
			}
			if d := s.Events[inc.Rows[7]].Time.Sub(ev.Time); d != 140*time.Second {
				t.Errorf("burst spans %s, want 7 x 20 s", d)
			}
		case FastTravel:
			last := h[len(h)-1]
			d := km(last.Lat, last.Lon, ev.Lat, ev.Lon)
			if gap := ev.Time.Sub(last.Time); gap != 12*time.Minute || d < 350 || d > 700 || ev.Country != last.Country {
				t.Errorf("fast_travel %.0f km in %s from %s to %s", d, gap, last.Country, ev.Country)
			}
		case NewDevice, NewTerminals:
			for _, row := range inc.Rows {
				e := s.Events[row]
				for _, p := range history(s, row) {
					if s.Incident[slices.IndexFunc(s.Events, func(x occsimore.Event) bool { return x.ID == p.ID })] >= 0 {
						continue
					}
					if (inc.Kind == NewDevice && p.Device == e.Device) || (inc.Kind == NewTerminals && p.Terminal == e.Terminal) {
						t.Errorf("%s row %d reuses %q%q", inc.Kind, row, e.Device, e.Terminal)
					}
				}
			}
		}
	}
}

func TestLoginsIncidents(t *testing.T) {
	cfg := small(4)
	s, err := Logins(cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkSet(t, s, 5, cfg.Days)
	for _, inc := range s.Incidents {
		last := s.Events[inc.Rows[len(inc.Rows)-1]]
		if !last.Success || last.User != inc.Entity {
			t.Fatalf("%s: last row %+v is not a success on %s", inc.Kind, last, inc.Entity)
		}
		switch inc.Kind {
		case Stuffing:
			if len(inc.Rows) != 41 {
				t.Errorf("stuffing with %d rows, want 40 failures and a success", len(inc.Rows))
			}
		case HomeVPN, NewCountryHosting:
			if last.Attrs["asn_type"] != "hosting" {
				t.Errorf("%s from an ASN of type %q", inc.Kind, last.Attrs["asn_type"])
			}
		case FarSession:
			h := history(s, inc.Rows[0])
			prev := h[len(h)-1]
			if last.Time.Sub(prev.Time) != 30*time.Minute || prev.Device != last.Device {
				t.Errorf("far_session %s after %+v", last.Time, prev)
			}
		}
	}
}

func TestBaselineRanksAnAmountSpikeFirst(t *testing.T) {
	b := NewBaseline()
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	best, bestReason := -1.0, ""
	var spike float64
	for i := range 60 {
		ev := occsimore.Event{Kind: "card.tx", Card: "c1", Time: t0.Add(time.Duration(i) * 7 * time.Hour),
			Amount: 20 + float64(i%7), Country: "FR", Terminal: "t1"}
		if i == 50 {
			ev.Amount = 2000
		}
		s, rs := b.Score(&ev)
		if i == 50 {
			spike, bestReason = s, rs[0]
		} else {
			best = max(best, s)
		}
	}
	if spike <= best || bestReason != "amount_high" {
		t.Fatalf("spike scored %.2f (%s), best normal %.2f", spike, bestReason, best)
	}
}

func TestMeasure(t *testing.T) {
	// Ten normal rows scored 0..9; incident 0 (amount_spike) has one row at
	// 9.5, incident 1 (night) two rows at 1.5 and 0.5.
	s := &Set{Kinds: []Kind{AmountSpike, Night},
		Incidents: []Incident{{Kind: AmountSpike, Rows: []int{10}}, {Kind: Night, Rows: []int{11, 12}}}}
	var scores []float64
	for i := range 10 {
		scores = append(scores, float64(i))
		s.Incident = append(s.Incident, -1)
	}
	scores = append(scores, 9.5, 1.5, 0.5)
	s.Incident = append(s.Incident, 0, 1, 1)
	reasons := make([][2]string, len(scores))
	reasons[10] = [2]string{"new_country", "amount_high"}
	reasons[11] = [2]string{"amount_high", ""}
	reasons[12] = [2]string{"new_hour", ""}
	m := Measure(s, scores, reasons)
	if m.TopN != 6 || m.FoundTopN != 0.5 {
		t.Errorf("top %d found %.2f, want 6 and 0.5", m.TopN, m.FoundTopN)
	}
	if m.Kinds[AmountSpike].AUC != 1 || m.Kinds[Night].AUC != (2+1)/20.0 {
		t.Errorf("AUCs %v %v", m.Kinds[AmountSpike].AUC, m.Kinds[Night].AUC)
	}
	// By incident, night's best row (1.5) beats 2 of the 10 normal rows.
	if m.Kinds[AmountSpike].IncidentAUC != 1 || m.Kinds[Night].IncidentAUC != 2/10.0 {
		t.Errorf("incident AUCs %v %v", m.Kinds[AmountSpike].IncidentAUC, m.Kinds[Night].IncidentAUC)
	}
	// The night incident's best row (1.5) leads with amount_high: wrong.
	if m.Kinds[AmountSpike].ReasonsRight != 1 || m.Kinds[Night].ReasonsRight != 0 {
		t.Errorf("reasons right %+v %+v", m.Kinds[AmountSpike], m.Kinds[Night])
	}
	// AP: the positives at ranks 1, 10 and 12: (1 + 2/10 + 3/12) / 3.
	if want := (1 + 2.0/10 + 3.0/12) / 3; math.Abs(m.RowAP-want) > 1e-9 {
		t.Errorf("AP %.4f, want %.4f", m.RowAP, want)
	}
	if m.FewOutscore != 0.5 {
		t.Errorf("few outscore %.2f, want 0.5 (no normal row above 9.5)", m.FewOutscore)
	}
	wins := BaselineWins(s.Kinds, m, Measures{FoundTopN: 1, RowAP: 0, Kinds: map[Kind]*KindMeasures{Night: {AUC: 0.9, IncidentAUC: 0.1}}})
	if len(wins) != 2 || !strings.HasPrefix(wins[0], "incidents in top N") || !strings.HasPrefix(wins[1], "night AUC") {
		t.Errorf("baseline wins %q", wins)
	}
}

func TestExport(t *testing.T) {
	s, err := Cards(Config{Seed: 1, Cards: 120, Days: 20})
	if err != nil {
		t.Fatal(err)
	}
	var ev, lab bytes.Buffer
	if err := WriteEvents(&ev, s); err != nil {
		t.Fatal(err)
	}
	if err := WriteLabels(&lab, s); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(ev.Bytes(), []byte("\n")); n != len(s.Events) {
		t.Fatalf("%d lines for %d events", n, len(s.Events))
	}
	normal := 0
	for _, k := range s.Incident {
		if k < 0 {
			normal++
		}
	}
	if n := bytes.Count(lab.Bytes(), []byte(",cards,,\n")); n != normal {
		t.Fatalf("%d normal labels for %d normal rows", n, normal)
	}
	if !strings.Contains(lab.String(), ",cards,0,far_country\n") {
		t.Fatal("labels lack incident 0")
	}
}

func TestClairvoyant(t *testing.T) {
	// Two cards pay 20 to 30 EUR at noon; one row of card a pays 60 EUR (an
	// amount spike), one row of card b pays at 3 a.m. (night): each is the
	// only row its habit ranks first.
	s := &Set{Kinds: []Kind{AmountSpike, Night}}
	at := Start.Add(12 * time.Hour)
	for d := range 30 {
		for _, c := range []string{"a", "b"} {
			s.Events = append(s.Events, occsimore.Event{Card: c, Amount: 20 + 5*float64(d%3), Time: at.AddDate(0, 0, d)})
			s.Incident = append(s.Incident, -1)
		}
	}
	s.Events = append(s.Events, occsimore.Event{Card: "a", Amount: 60, Time: at.AddDate(0, 0, 31)})
	s.Events = append(s.Events, occsimore.Event{Card: "b", Amount: 21, Time: at.AddDate(0, 0, 31).Add(-9 * time.Hour)})
	s.Incident = append(s.Incident, 0, 1)
	s.Incidents = []Incident{{Kind: AmountSpike, Rows: []int{60}}, {Kind: Night, Rows: []int{61}}}
	got, admits := Clairvoyant(s)
	if got[AmountSpike] != 1 || got[Night] != 1 {
		t.Errorf("clairvoyant found %v, want one of each", got)
	}
	if admits != 0 {
		t.Errorf("the spike of 60 EUR is the largest amount, yet %d normal rows are admitted before it", admits)
	}
	// Hidden among louder breaks of the same habits, neither is found: N is
	// 6 rows, and eight other cards with far longer habits (2,000 payments
	// of 20 EUR around noon) each have one normal payment of 5,000 EUR at
	// 4 a.m.
	for c := range 8 {
		for d := range 2000 {
			s.Events = append(s.Events, occsimore.Event{Card: strconv.Itoa(c), Amount: 20 + float64(d%3), Time: at.Add(time.Duration(d) * time.Second)})
			s.Incident = append(s.Incident, -1)
		}
		s.Events = append(s.Events, occsimore.Event{Card: strconv.Itoa(c), Amount: 5000, Time: at.AddDate(0, 0, 1).Add(-8 * time.Hour)})
		s.Incident = append(s.Incident, -1)
	}
	got, admits = Clairvoyant(s)
	if got[AmountSpike] != 0 || got[Night] != 0 {
		t.Errorf("clairvoyant found %v among louder normal rows, want none", got)
	}
	if admits != 8 {
		t.Errorf("%d normal rows admitted before the spike, want the 8 payments of 5,000 EUR", admits)
	}
}

func TestClairvoyantJoint(t *testing.T) {
	// Ten cards pay 20 to 30 EUR at noon at their own terminal for 60 days.
	// Card 0 then pays 300 EUR (a spike), card 1 at 3 a.m. (night), card 2 from
	// a new device: each breaks one habit that no normal row breaks, so all
	// three rank ahead of every normal row.
	s := &Set{Kinds: []Kind{AmountSpike, Night, NewDevice}}
	at := Start.Add(12 * time.Hour)
	for d := range 60 {
		for c := range 10 {
			s.Events = append(s.Events, occsimore.Event{Card: strconv.Itoa(c), Amount: 20 + 5*float64((d+c)%3),
				Time: at.AddDate(0, 0, d).Add(time.Duration(c) * time.Minute), Terminal: "T" + strconv.Itoa(c),
				Device: "D" + strconv.Itoa(c), Country: "FR"})
			s.Incident = append(s.Incident, -1)
		}
	}
	plant := func(ev occsimore.Event, inc int) {
		s.Incidents = append(s.Incidents, Incident{Kind: s.Kinds[inc], Rows: []int{len(s.Events)}})
		s.Events = append(s.Events, ev)
		s.Incident = append(s.Incident, inc)
	}
	day := at.AddDate(0, 0, 61)
	plant(occsimore.Event{Card: "0", Amount: 300, Time: day, Terminal: "T0", Device: "D0", Country: "FR"}, 0)
	plant(occsimore.Event{Card: "1", Amount: 25, Time: day.Add(-9 * time.Hour), Terminal: "T1", Device: "D1", Country: "FR"}, 1)
	plant(occsimore.Event{Card: "2", Amount: 25, Time: day.Add(2 * time.Minute), Terminal: "T2", Device: "new", Country: "FR"}, 2)
	slices.SortStableFunc(s.Events, func(a, b occsimore.Event) int { return a.Time.Compare(b.Time) })
	// Sorting moved the planted rows: find them again.
	s.Incident = s.Incident[:0]
	for i := range s.Incidents {
		s.Incidents[i].Rows = s.Incidents[i].Rows[:0]
	}
	for i, ev := range s.Events {
		inc := -1
		switch {
		case ev.Amount == 300:
			inc = 0
		case ev.Time.Hour() == 3:
			inc = 1
		case ev.Device == "new":
			inc = 2
		}
		s.Incident = append(s.Incident, inc)
		if inc >= 0 {
			s.Incidents[inc].Rows = append(s.Incidents[inc].Rows, i)
		}
	}
	m := Measure(s, ClairvoyantJoint(s), make([][2]string, len(s.Events)))
	for _, k := range s.Kinds {
		if m.Kinds[k].FoundTopN != 1 {
			t.Errorf("joint clairvoyant found %d of %s, want 1", m.Kinds[k].FoundTopN, k)
		}
	}
	if m.RowAP != 1 {
		t.Errorf("joint clairvoyant row AP %.3f, want 1: the three planted rows rank first", m.RowAP)
	}
}
