package simulate_test

import (
	"slices"
	"testing"
	"time"

	"github.com/occsimore/occsimore/logs/parse"
	"github.com/occsimore/occsimore/simulate"
)

func TestAttackLogs(t *testing.T) {
	cfg := simulate.DefaultAttackLogs()
	cfg.Days = 28
	cfg.BackgroundPerDay = 200
	seq, err := simulate.AttackLogs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		day    int
		attack string
		source string
	}
	attacks := map[key]bool{}
	kinds := map[string]int{}
	var prev time.Time
	n := 0
	for l := range seq {
		n++
		if l.Time.Before(prev) {
			t.Fatalf("line %d at %v before the previous one at %v", n, l.Time, prev)
		}
		prev = l.Time
		e, err := parse.ParseString(l.Text, parse.Hint{Year: l.Time.Year()})
		if err != nil {
			t.Fatalf("line %d does not parse: %v\n%s", n, err, l.Text)
		}
		if !e.Time.Equal(l.Time.Truncate(time.Second)) {
			t.Fatalf("line %d: parsed time %v, generated %v", n, e.Time, l.Time)
		}
		if l.Attack != "" {
			if got := e.SourceIP.String(); got != l.Source {
				t.Fatalf("line %d: parsed source %s, planted %s\n%s", n, got, l.Source, l.Text)
			}
			d := int(l.Time.Sub(cfg.Start) / (24 * time.Hour))
			if !attacks[key{d, l.Attack, l.Source}] {
				kinds[l.Attack]++
			}
			attacks[key{d, l.Attack, l.Source}] = true
		}
	}
	perDay := make([]int, cfg.Days)
	for k := range attacks {
		perDay[k.day]++
	}
	var weekday, weekend, weekdays, weekends float64
	for d := range cfg.Days - 1 {
		switch cfg.Start.AddDate(0, 0, d).Weekday() {
		case time.Saturday, time.Sunday:
			weekend += float64(perDay[d])
			weekends++
		default:
			weekday += float64(perDay[d])
			weekdays++
		}
	}
	if weekday/weekdays <= weekend/weekends {
		t.Fatalf("weekday mean %.1f not above weekend mean %.1f", weekday/weekdays, weekend/weekends)
	}
	last := perDay[cfg.Days-1]
	if float64(last) < 2*weekday/weekdays {
		t.Fatalf("last day has %d attacks, want a surge over the weekday mean %.1f", last, weekday/weekdays)
	}
	for _, k := range simulate.AttackKinds() {
		if kinds[k] == 0 {
			t.Errorf("no %s attack planted in %d days", k, cfg.Days)
		}
	}
}

func TestAttackLogsDeterministic(t *testing.T) {
	cfg := simulate.DefaultAttackLogs()
	cfg.BackgroundPerDay = 50
	a, b := cfg.Day(3), cfg.Day(3)
	if !slices.Equal(a, b) {
		t.Fatal("the same day of the same seed differs")
	}
	cfg.Seed++
	if slices.Equal(a, cfg.Day(3)) {
		t.Fatal("another seed gives the same day")
	}
}

func TestAttackLogsValidate(t *testing.T) {
	for _, mut := range []func(*simulate.AttackLogsConfig){
		func(c *simulate.AttackLogsConfig) { c.Days = 0 },
		func(c *simulate.AttackLogsConfig) { c.Hosts = nil },
		func(c *simulate.AttackLogsConfig) { c.AttacksPerDay = -1 },
		func(c *simulate.AttackLogsConfig) { c.Trend = -1 },
	} {
		cfg := simulate.DefaultAttackLogs()
		mut(&cfg)
		if _, err := simulate.AttackLogs(cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}
