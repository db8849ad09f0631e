package simulate

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

func liveConfig() LiveConfig {
	cfg := DefaultLive()
	cfg.Member = "m1"
	cfg.WallStart = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	cfg.Start = time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)
	cfg.Cards, cfg.Users = 60, 40
	cfg.PlantRate = 0.05
	return cfg
}

func TestLiveDeterministic(t *testing.T) {
	a, err := NewLive(liveConfig())
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewLive(liveConfig())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		x, y := a.Next(), b.Next()
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("event %d differs:\n%+v\n%+v", i, x, y)
		}
	}
	cfg := liveConfig()
	cfg.Seed = 99
	c, err := NewLive(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, _ = NewLive(liveConfig())
	same := 0
	for range 100 {
		if x, y := a.Next(), c.Next(); x.Event.Card == y.Event.Card && x.Event.User == y.Event.User && x.Event.Time.Equal(y.Event.Time) {
			same++
		}
	}
	if same > 10 {
		t.Fatalf("seeds 0 and 99 share %d of 100 events", same)
	}
}

// liveEntity is what the stream showed of one card or account so far.
type liveEntity struct {
	countries map[string]bool
	devices   map[string]bool
	amounts   []float64
	last      occsimore.Event
	seen      bool
}

func TestLiveStream(t *testing.T) {
	cfg := liveConfig()
	l, err := NewLive(cfg)
	if err != nil {
		t.Fatal(err)
	}
	entities := map[string]*liveEntity{}
	bursts := map[int][]occsimore.Event{}
	plantKinds := map[Plant]map[string]int{} // plant → event kind → count
	plantIDs := map[int]bool{}
	var prevDue time.Time
	var live, history int
	for i := range 60000 {
		le := l.Next()
		ev := &le.Event
		if err := ev.Validate(); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ev.MemberID != cfg.Member || ev.ID == "" {
			t.Fatalf("event %d: member %q id %q", i, ev.MemberID, ev.ID)
		}
		if le.Due.Before(prevDue) {
			t.Fatalf("event %d due %s before the previous %s", i, le.Due, prevDue)
		}
		prevDue = le.Due
		if !ev.Time.After(cfg.Start) {
			history++
			if !le.Due.Equal(cfg.WallStart) || le.Plant != "" {
				t.Fatalf("history event %d: due %s, plant %q", i, le.Due, le.Plant)
			}
		} else {
			live++
			want := cfg.WallStart.Add(time.Duration(float64(ev.Time.Sub(cfg.Start)) / cfg.Speedup))
			if d := le.Due.Sub(want); d < -time.Millisecond || d > time.Millisecond {
				t.Fatalf("event %d at %s due %s, want %s", i, ev.Time, le.Due, want)
			}
		}
		key := ev.Card + ev.User
		e := entities[key]
		if e == nil {
			e = &liveEntity{countries: map[string]bool{}, devices: map[string]bool{}}
			entities[key] = e
		}
		if le.Plant != "" {
			if le.PlantID <= 0 {
				t.Fatalf("event %d: plant %s with id %d", i, le.Plant, le.PlantID)
			}
			plantIDs[le.PlantID] = true
			if plantKinds[le.Plant] == nil {
				plantKinds[le.Plant] = map[string]int{}
			}
			plantKinds[le.Plant][ev.Kind]++
			switch le.Plant {
			case PlantAmount5x:
				med := median(e.amounts)
				if len(e.amounts) >= 5 && ev.Amount < 3*med {
					t.Fatalf("event %d: amount_5x of %.2f, card's median %.2f", i, ev.Amount, med)
				}
			case PlantNewCountry:
				if e.countries[ev.Country] {
					t.Fatalf("event %d: new_country %s already seen for %s", i, ev.Country, key)
				}
			case PlantNightHour:
				if h := ev.Time.Hour(); h < 2 || h >= 5 {
					t.Fatalf("event %d: night_hour at %02d local", i, h)
				}
			case PlantImpossibleTravel:
				km := haversineKm(e.last.Lat, e.last.Lon, ev.Lat, ev.Lon)
				gap := ev.Time.Sub(e.last.Time)
				if !e.seen || gap > 35*time.Minute || km/gap.Hours() < 900 {
					t.Fatalf("event %d: impossible_travel of %.0f km in %s", i, km, gap)
				}
			case PlantNewDevice:
				if e.devices[ev.Device] {
					t.Fatalf("event %d: new_device %s already seen for %s", i, ev.Device, key)
				}
			case PlantBurst:
				bursts[le.PlantID] = append(bursts[le.PlantID], *ev)
			default:
				t.Fatalf("event %d: unknown plant %q", i, le.Plant)
			}
		} else {
			e.countries[ev.Country] = true
			e.devices[ev.Device] = true
			if ev.Kind == KindCardTx {
				e.amounts = append(e.amounts, ev.Amount)
			}
		}
		e.last, e.seen = *ev, true
	}
	if history == 0 || live == 0 {
		t.Fatalf("%d history and %d live events", history, live)
	}
	for _, p := range []Plant{PlantAmount5x, PlantNewCountry, PlantNightHour, PlantBurst, PlantImpossibleTravel, PlantNewDevice} {
		if len(p.Reasons()) == 0 {
			t.Fatalf("plant %s has no reason codes", p)
		}
		if len(plantKinds[p]) == 0 {
			t.Fatalf("no %s planted in %d live events", p, live)
		}
	}
	for _, p := range []Plant{PlantNewCountry, PlantNightHour, PlantBurst, PlantImpossibleTravel} {
		if plantKinds[p][KindCardTx] == 0 || plantKinds[p][KindAuthLogin] == 0 {
			t.Fatalf("%s planted on %v only", p, plantKinds[p])
		}
	}
	for id, evs := range bursts {
		if len(evs) < 10 || evs[len(evs)-1].Time.Sub(evs[0].Time) > 5*time.Minute {
			t.Fatalf("burst %d: %d events over %s", id, len(evs), evs[len(evs)-1].Time.Sub(evs[0].Time))
		}
		for _, ev := range evs {
			if ev.Card+ev.User != evs[0].Card+evs[0].User {
				t.Fatalf("burst %d mixes entities", id)
			}
		}
	}
	// About PlantRate of live arrivals are planted; bursts add events, so
	// count plants, not events.
	if share := float64(len(plantIDs)) / float64(live); share < cfg.PlantRate/3 || share > cfg.PlantRate*1.5 {
		t.Fatalf("%d plants in %d live events, want about %g", len(plantIDs), live, cfg.PlantRate)
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestLiveNoHistoryNoPlants(t *testing.T) {
	cfg := liveConfig()
	cfg.History, cfg.PlantRate = 0, 0
	l, err := NewLive(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		le := l.Next()
		if le.Plant != "" || le.Event.Time.Before(cfg.Start) {
			t.Fatalf("event %d: plant %q at %s with no history and no plants", i, le.Plant, le.Event.Time)
		}
	}
}

func TestLiveValidate(t *testing.T) {
	for _, tc := range []struct {
		field string
		edit  func(*LiveConfig)
	}{
		{"wall_start", func(c *LiveConfig) { c.WallStart = time.Time{} }},
		{"speedup", func(c *LiveConfig) { c.Speedup = 0 }},
		{"history", func(c *LiveConfig) { c.History = -time.Hour }},
		{"cards", func(c *LiveConfig) { c.Cards, c.Users = 0, 0 }},
		{"plant_rate", func(c *LiveConfig) { c.PlantRate = 1.5 }},
	} {
		cfg := liveConfig()
		tc.edit(&cfg)
		_, err := NewLive(cfg)
		if got, want := occsimore.ErrorField(err), tc.field; got != want {
			t.Fatalf("field %q, want %q (err %v)", got, want, err)
		}
	}
}
