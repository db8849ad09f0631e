package simulate

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

func collectLogins(t testing.TB, cfg LoginsConfig) []Login {
	t.Helper()
	seq, err := GenerateLogins(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []Login
	for l := range seq {
		out = append(out, *l)
	}
	return out
}

func TestLoginsOrderAndRange(t *testing.T) {
	cfg := DefaultLogins()
	cfg.Users, cfg.Days = 300, 10
	logins := collectLogins(t, cfg)
	if len(logins) == 0 {
		t.Fatal("no logins")
	}
	end := cfg.Start.AddDate(0, 0, cfg.Days)
	for i := range logins {
		l := &logins[i]
		if got, want := l.ID, int64(i); got != want {
			t.Fatalf("login %d has id %d", i, got)
		}
		if i > 0 && l.Time.Unix() < logins[i-1].Time.Unix() {
			t.Fatalf("login %d at %s before login %d at %s", i, l.Time, i-1, logins[i-1].Time)
		}
		if l.Time.Before(cfg.Start) || !l.Time.Before(end) {
			t.Fatalf("login %d at %s outside the run", i, l.Time)
		}
		var ev occsimore.Event
		l.Event(&ev)
		if err := ev.Validate(); err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
	}
}

func TestLoginsDeterminism(t *testing.T) {
	cfg := DefaultLogins()
	cfg.Users, cfg.Days = 200, 7
	digest := func(cfg LoginsConfig) uint64 {
		h := fnv.New64a()
		w := NewLoginsCSVWriter(h)
		for _, l := range collectLogins(t, cfg) {
			if err := w.Write(&l); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		return h.Sum64()
	}
	a, b := digest(cfg), digest(cfg)
	if a != b {
		t.Fatalf("same seed, different output: %x, %x", a, b)
	}
	cfg.Seed = 7
	if c := digest(cfg); c == a {
		t.Fatalf("different seeds, same output %x", c)
	}
}

// userHistory is what the stream showed of one account so far.
type userHistory struct {
	devices   map[string]bool
	countries map[string]bool
	asns      map[uint32]bool
	recent    []*Login // the owner's successful logins
}

func TestLoginsHabitsAndAttacks(t *testing.T) {
	cfg := DefaultLogins()
	cfg.Users, cfg.Days = 1000, 30
	logins := collectLogins(t, cfg)

	hist := map[int]*userHistory{}
	get := func(u int) *userHistory {
		h := hist[u]
		if h == nil {
			h = &userHistory{devices: map[string]bool{}, countries: map[string]bool{}, asns: map[uint32]bool{}}
			hist[u] = h
		}
		return h
	}
	ownerASNs := map[uint32]bool{}
	var byScen [maxLoginScenario + 1]int
	var stuffingOK, stuffingExisting int
	var weekday, weekend int
	for i := range logins {
		l := &logins[i]
		byScen[l.Scenario]++
		if l.ATO != (l.Scenario != LoginNormal && l.Success) || l.AttackIP != (l.Scenario != LoginNormal) {
			t.Fatalf("login %d: labels attack_ip=%v ato=%v for %s, success %v", l.ID, l.AttackIP, l.ATO, l.Scenario, l.Success)
		}
		h := get(l.User)
		hour := l.Time.Hour()
		switch l.Scenario {
		case LoginNormal:
			ownerASNs[l.ASN] = true
			if hour < 6 && l.Success {
				t.Fatalf("login %d: owner at %02d:00 local", l.ID, hour)
			}
			if wd := l.Time.Weekday(); wd == time.Saturday || wd == time.Sunday {
				weekend++
			} else {
				weekday++
			}
		case LoginStuffing:
			if !asns[asnIndex(l.ASN)].hosting {
				t.Fatalf("login %d: stuffing from ASN %d, not a hosting provider", l.ID, l.ASN)
			}
			if l.User < cfg.Users {
				stuffingExisting++
				if l.Success {
					stuffingOK++
				}
			} else if l.Success {
				t.Fatalf("login %d: stuffing succeeded on unknown account %d", l.ID, l.User)
			}
		case LoginImpossibleTravel:
			// One of the owner's logins 5 to 45 minutes before, more than
			// 3,000 km away.
			found := false
			for _, p := range h.recent {
				gap := l.Time.Sub(p.Time)
				km := haversineKm(p.Lat, p.Lon, l.Lat, l.Lon)
				if gap >= 5*time.Minute && gap <= 45*time.Minute && km > 3000 && km/gap.Hours() > 900 {
					found = true
				}
			}
			if !found {
				t.Fatalf("login %d of user %d: no owner's login 5-45 minutes before and 3,000 km away", l.ID, l.User)
			}
			if h.countries[l.Country] || h.devices[l.Device] {
				t.Fatalf("login %d: impossible travel from a known country %s or device", l.ID, l.Country)
			}
		case LoginNewDevice:
			if hour < 1 || hour >= 5 {
				t.Fatalf("login %d: new device at %02d:00 local, want 01-05", l.ID, hour)
			}
			if h.devices[l.Device] {
				t.Fatalf("login %d: device %s already seen for user %d", l.ID, l.Device, l.User)
			}
		}
		if l.Scenario == LoginNormal {
			h.devices[l.Device] = true
			h.countries[l.Country] = true
			h.asns[l.ASN] = true
			if l.Success {
				h.recent = append(h.recent, l)
			}
		}
	}
	// Stuffing comes from ASNs no owner uses.
	for i := range logins {
		if l := &logins[i]; l.Scenario == LoginStuffing && ownerASNs[l.ASN] {
			t.Fatalf("login %d: stuffing from ASN %d, which owners use", l.ID, l.ASN)
		}
	}
	// Owners keep to at most two countries and three devices.
	for u, h := range hist {
		if u < cfg.Users && (len(h.countries) > 2 || len(h.devices) > 3) {
			t.Fatalf("user %d: %d countries, %d devices", u, len(h.countries), len(h.devices))
		}
	}
	// Weekdays are busier: 22 weekdays and 8 weekend days in January 2024,
	// at a rate 1/0.35 higher.
	if perWeekday, perWeekend := float64(weekday)/22, float64(weekend)/8; perWeekday < 2*perWeekend {
		t.Fatalf("%.0f logins a weekday, %.0f a weekend day: want weekdays at least twice as busy", perWeekday, perWeekend)
	}
	// Rates: 30 days of 1 a day each (Poisson, σ ≈ 5.5) and 15 campaigns
	// of about 100 attempts.
	days := float64(cfg.Days)
	if n := float64(byScen[LoginImpossibleTravel]); n < 0.4*days || n > 1.8*days {
		t.Fatalf("%v impossible-travel logins in %v days at %g a day", n, days, cfg.ImpossibleTravelPerDay)
	}
	if n := float64(byScen[LoginNewDevice]); n < 0.4*days || n > 1.8*days {
		t.Fatalf("%v new-device logins in %v days at %g a day", n, days, cfg.NewDevicePerDay)
	}
	if n, want := float64(byScen[LoginStuffing]), cfg.StuffingPerDay*days*cfg.StuffingTargets; n < 0.4*want || n > 2*want {
		t.Fatalf("%v stuffing attempts, want about %v", n, want)
	}
	if rate := float64(stuffingOK) / float64(stuffingExisting); rate > 0.04 {
		t.Fatalf("stuffing succeeded %d times of %d, want about %g", stuffingOK, stuffingExisting, cfg.StuffingSuccess)
	}
	if byScen[LoginNormal] < 10*(byScen[LoginStuffing]+byScen[LoginImpossibleTravel]+byScen[LoginNewDevice]) {
		t.Fatalf("attacks swamp normal traffic: %v", byScen)
	}
}

func TestLoginsAttackRatesFollowConfig(t *testing.T) {
	cfg := DefaultLogins()
	cfg.Users, cfg.Days = 200, 20
	cfg.StuffingPerDay, cfg.ImpossibleTravelPerDay, cfg.NewDevicePerDay = 0, 0, 0
	for _, l := range collectLogins(t, cfg) {
		if l.Scenario != LoginNormal {
			t.Fatalf("attack %s with all attack rates at 0", l.Scenario)
		}
	}
	cfg.NewDevicePerDay = 10
	var n int
	for _, l := range collectLogins(t, cfg) {
		if l.Scenario == LoginNewDevice {
			n++
		}
	}
	if n < 150 || n > 250 {
		t.Fatalf("%d new-device logins in 20 days at 10 a day", n)
	}
}

func TestLoginsCSVAndNDJSON(t *testing.T) {
	cfg := DefaultLogins()
	cfg.Users, cfg.Days = 100, 5
	cfg.StuffingPerDay = 2
	logins := collectLogins(t, cfg)

	var buf bytes.Buffer
	cw := NewLoginsCSVWriter(&buf)
	for i := range logins {
		if err := cw.Write(&logins[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rba := "index,Login Timestamp,User ID,Round-Trip Time [ms],IP Address,Country,Region,City,ASN,User Agent String,Browser Name and Version,OS Name and Version,Device Type,Login Successful,Is Attack IP,Is Account Takeover"
	if got := strings.Join(rows[0], ","); !strings.HasPrefix(got, rba+",") {
		t.Fatalf("header %s does not start with the RBA dataset's", got)
	}
	if got, want := len(rows)-1, len(logins); got != want {
		t.Fatalf("%d rows, want %d", got, want)
	}
	for i, l := range logins {
		r := rows[i+1]
		if r[0] != strconv.FormatInt(l.ID, 10) || r[1] != l.Time.UTC().Format("2006-01-02 15:04:05.000") || r[4] != l.IP ||
			r[9] != l.UserAgent || r[13] != pyBool(l.Success) || r[15] != pyBool(l.ATO) || r[17] != l.Scenario.String() {
			t.Fatalf("row %v for login %+v", r, l)
		}
	}

	buf.Reset()
	nw := NewLoginsNDJSONWriter(&buf, true)
	for i := range logins {
		if err := nw.Write(&logins[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := nw.Flush(); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&buf)
	for i := range logins {
		var ev occsimore.Event
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if err := ev.Validate(); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		l := &logins[i]
		if ev.User != strconv.Itoa(l.User) || ev.IP != l.IP || ev.ASN != l.ASN || ev.Device != l.Device || ev.Success != l.Success ||
			!ev.HasSuccess || !ev.Time.Equal(l.Time) || math.Abs(ev.Lat-l.Lat) > 1e-9 || ev.Attrs["scenario"] != l.Scenario.String() {
			t.Fatalf("line %d: event %+v for login %+v", i, ev, l)
		}
		if _, off := ev.Time.Zone(); off != func() int { _, o := l.Time.Zone(); return o }() {
			t.Fatalf("line %d: zone offset %d lost", i, off)
		}
	}
}

func TestLoginsValidate(t *testing.T) {
	for _, tc := range []struct {
		field string
		edit  func(*LoginsConfig)
	}{
		{"users", func(c *LoginsConfig) { c.Users = 0 }},
		{"days", func(c *LoginsConfig) { c.Days = -3 }},
		{"start", func(c *LoginsConfig) { c.Start = time.Time{} }},
		{"logins_per_day", func(c *LoginsConfig) { c.LoginsPerDay = 0 }},
		{"stuffing_success", func(c *LoginsConfig) { c.StuffingSuccess = 2 }},
		{"stuffing_per_day", func(c *LoginsConfig) { c.StuffingPerDay = math.NaN() }},
		{"stuffing_targets", func(c *LoginsConfig) { c.StuffingTargets = 0 }},
		{"impossible_travel_per_day", func(c *LoginsConfig) { c.ImpossibleTravelPerDay = -1 }},
		{"new_device_per_day", func(c *LoginsConfig) { c.NewDevicePerDay = 1e9 }},
	} {
		cfg := DefaultLogins()
		tc.edit(&cfg)
		_, err := GenerateLogins(cfg)
		if got, want := occsimore.ErrorField(err), tc.field; got != want {
			t.Fatalf("field %q, want %q (err %v)", got, want, err)
		}
	}
}
