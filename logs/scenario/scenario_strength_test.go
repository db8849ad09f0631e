package scenario

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Tests closing gaps mutation testing found in the scenarios (issue 13).

// conditionalYAML is a conditional scenario over failed ssh logins with the
// given extra lines.
func conditionalYAML(extra string) string {
	return "name: c1\ntype: conditional\nfilter: evt.Kind == \"ssh_failed_password\"\nleakspeed: 1h\n" +
		"condition: events >= 3\n" + extra
}

// TestConditionalCapacity: a conditional scenario overflows on its
// condition, not on a capacity: a capacity is refused, except -1 (none),
// which is also what an omitted one means.
func TestConditionalCapacity(t *testing.T) {
	for extra, wantErr := range map[string]bool{
		"":               false,
		"capacity: -1\n": false,
		"capacity: 0\n":  true,
		"capacity: 5\n":  true,
		"capacity: -2\n": true,
	} {
		ss, err := ParseScenarios("c.yaml", []byte(conditionalYAML(extra)))
		if wantErr {
			var se *ScenarioError
			if !errors.As(err, &se) || se.Field != "capacity" {
				t.Errorf("%q: err = %v, want an error about capacity", extra, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", extra, err)
			continue
		}
		if ss[0].Capacity != -1 {
			t.Errorf("%q: Capacity = %d, want -1", extra, ss[0].Capacity)
		}
		// Whatever the capacity said, the third event overflows.
		d := NewDetector(ss, Options{})
		ovs := feedAll(d, sshFail("192.0.2.9", "a", 0), sshFail("192.0.2.9", "b", 1))
		if len(ovs) != 0 {
			t.Errorf("%q: overflow after 2 events", extra)
		}
		if ovs = d.Feed(sshFail("192.0.2.9", "c", 2)); len(ovs) != 1 || ovs[0].Events != 3 {
			t.Errorf("%q: third event gave %+v, want one overflow of 3 events", extra, ovs)
		}
	}
}

// TestConditionalWindow: the window is 2 to 64 moments, 4 by default.
func TestConditionalWindow(t *testing.T) {
	for extra, want := range map[string]int{"": 4, "window: 2\n": 2, "window: 64\n": 64, "window: 1\n": -1, "window: 65\n": -1, "window: -3\n": -1} {
		ss, err := ParseScenarios("c.yaml", []byte(conditionalYAML(extra)))
		if want < 0 {
			var se *ScenarioError
			if !errors.As(err, &se) || se.Field != "window" {
				t.Errorf("%q: err = %v, want an error about window", extra, err)
			}
			continue
		}
		if err != nil || ss[0].Window != want {
			t.Errorf("%q: %v, window %d, want %d", extra, err, ss[0].Window, want)
		}
	}
}

// medianGapAfter feeds failures at the given seconds to a conditional
// scenario of window w that overflows when median_gap equals want, and
// reports whether the last event overflowed.
func medianGapAfter(t *testing.T, w int, secs []float64, want time.Duration) bool {
	t.Helper()
	yaml := fmt.Sprintf("name: mg\ntype: conditional\nfilter: \"true\"\nleakspeed: 1h\nwindow: %d\n"+
		"condition: points == %d && median_gap == duration(%q)\n", w, len(secs), want)
	d := NewDetector(mustScenarios(t, yaml), Options{})
	var ovs []Overflow
	for _, s := range secs {
		ovs = d.Feed(sshFail("192.0.2.10", "root", s))
	}
	return len(ovs) == 1
}

// TestMedianGap: the median of an even number of gaps is the mean of the
// middle two; of an odd number, the middle one; over the window's last
// moments only.
func TestMedianGap(t *testing.T) {
	for _, tc := range []struct {
		window int
		secs   []float64
		want   time.Duration
	}{
		{4, []float64{0, 10}, 10 * time.Second},                   // one gap
		{4, []float64{0, 10, 30}, 15 * time.Second},               // gaps 10 20: even
		{4, []float64{0, 10, 30, 70}, 20 * time.Second},           // gaps 10 20 40: odd
		{8, []float64{0, 1, 2, 12, 42}, 5500 * time.Millisecond},  // gaps 1 1 10 30: (1+10)/2
		{8, []float64{0, 1, 41, 42, 52}, 5500 * time.Millisecond}, // gaps 1 40 1 10: sorted first
		{3, []float64{0, 100, 101, 103}, 1500 * time.Millisecond}, // window 3: gaps 1 2 only
		{2, []float64{0, 100, 101, 103, 110}, 7 * time.Second},    // window 2: the last gap
		{8, []float64{0, 30, 60, 61, 62, 63}, 1 * time.Second},    // gaps 30 30 1 1 1: odd
		{8, []float64{0, 30, 60, 90, 91, 92}, 30 * time.Second},   // gaps 30 30 30 1 1: sorted 1 1 30 30 30
	} {
		if !medianGapAfter(t, tc.window, tc.secs, tc.want) {
			t.Errorf("window %d, events at %v s: median_gap is not %v", tc.window, tc.secs, tc.want)
		}
		// And not a neighbouring value.
		if medianGapAfter(t, tc.window, tc.secs, tc.want+time.Millisecond) {
			t.Errorf("window %d, events at %v s: median_gap equals %v too", tc.window, tc.secs, tc.want+time.Millisecond)
		}
	}
}

// TestScenarioFieldEdges: each rule of a scenario file at its edge, accepted
// on one side and refused, naming the field, on the other.
func TestScenarioFieldEdges(t *testing.T) {
	const leaky = "name: s1\ntype: leaky\nfilter: \"true\"\ncapacity: 5\nleakspeed: 10s\n"
	const counter = "name: s1\ntype: counter\nfilter: \"true\"\nduration: 1m\n"
	const sequence = "name: s1\ntype: sequence\nfilter: \"true\"\ncapacity: 1\nleakspeed: 1m\nthen: \"true\"\n"
	const trigger = "name: s1\ntype: trigger\nfilter: \"true\"\n"
	name := func(n string) string { return strings.Replace(leaky, "s1", n, 1) }
	for _, tc := range []struct {
		yaml, field string // field "" if accepted
	}{
		{name(strings.Repeat("n", 64)), ""},
		{name(strings.Repeat("n", 65)), "name"},
		{name("aZ09._-/x"), ""},
		{name("a b"), "name"}, {name("a@"), "name"}, {name("a["), "name"}, {name("a`"), "name"}, {name("a{"), "name"},
		{name("\"a:\""), "name"}, {name("a,"), "name"},
		{strings.Replace(leaky, "capacity: 5", "capacity: 1", 1), ""},
		{strings.Replace(leaky, "capacity: 5", "capacity: 0", 1), "capacity"},
		{strings.Replace(leaky, "capacity: 5", "capacity: 1000000", 1), ""},
		{strings.Replace(leaky, "capacity: 5", "capacity: 1000001", 1), "capacity"},
		{strings.Replace(leaky, "leakspeed: 10s", "leakspeed: 0s", 1), "leakspeed"},
		{strings.Replace(leaky, "leakspeed: 10s", "leakspeed: -1s", 1), "leakspeed"},
		{leaky + "blackhole: 0s\n", ""},
		{leaky + "blackhole: -1ns\n", "blackhole"},
		{leaky + "remediation: {duration: 1s}\n", ""},
		{leaky + "remediation: {duration: 0s}\n", "remediation"},
		{leaky + "remediation: {scope: planet}\n", "remediation"},
		{leaky + "labels: {remediation: false}\nremediation: {action: alert}\n", ""},
		{leaky + "duration: 1m\n", "duration"},
		{leaky + "then: \"true\"\n", "then"},
		{leaky + "window: 3\n", "window"},
		{leaky + "cancel_on: \"true\"\n", "cancel_on"},
		{leaky + "kinds: [\"\"]\n", "kinds"},
		{counter, ""},
		{counter + "capacity: 0\n", ""},
		{counter + "capacity: -1\n", "capacity"},
		{counter + "leakspeed: 1s\n", "leakspeed"},
		{strings.Replace(counter, "duration: 1m", "duration: 0s", 1), "duration"},
		{sequence, ""},
		{strings.Replace(sequence, "capacity: 1", "capacity: 0", 1), "capacity"},
		{strings.Replace(sequence, "leakspeed: 1m", "leakspeed: 0s", 1), "leakspeed"},
		{strings.Replace(sequence, "then: \"true\"\n", "", 1), "then"},
		{sequence + "distinct: evt.User\n", "distinct"},
		{trigger, ""},
		{trigger + "capacity: 1\n", "capacity"},
		{trigger + "leakspeed: 1s\n", "leakspeed"},
		{strings.Replace(trigger, "filter: \"true\"\n", "", 1), "filter"},
	} {
		ss, err := ParseScenarios("e.yaml", []byte(tc.yaml))
		if tc.field == "" {
			if err != nil || len(ss) != 1 {
				t.Errorf("%q: %v", tc.yaml, err)
			}
			continue
		}
		var se *ScenarioError
		if !errors.As(err, &se) || se.Field != tc.field {
			t.Errorf("%q: err = %v, want an error about %s", tc.yaml, err, tc.field)
		}
	}
	// Defaults: a trigger's group is the source address and its message
	// counts events; alert-only scenarios alert.
	ss := mustScenarios(t, trigger+"---\n"+strings.Replace(leaky, "s1", "s2", 1)+"labels: {remediation: false}\n")
	if ss[0].GroupBy != "evt.SourceIP" || ss[0].Message != "{events} events in {span}" || ss[0].Action != "ban" {
		t.Errorf("trigger defaults: %+v", ss[0])
	}
	if ss[1].Action != "alert" || ss[1].Labels["remediation"] != "false" {
		t.Errorf("remediation: false gives action %q, labels %v", ss[1].Action, ss[1].Labels)
	}
}

// TestConditionalMerge: an event less than merge after the bucket's last
// moment joins it (it counts in events, not in points); one exactly merge
// later is a new moment.
func TestConditionalMerge(t *testing.T) {
	yaml := "name: m\ntype: conditional\nfilter: \"true\"\nleakspeed: 1h\nmerge: 10s\n" +
		"condition: events == 4 && points == 3 && gap == duration(\"15s\")\n"
	d := NewDetector(mustScenarios(t, yaml), Options{})
	// Moments at 0, 10 (10 after 0: new) and 25; 5 joins the first.
	ovs := feedAll(d, sshFail("192.0.2.11", "a", 0), sshFail("192.0.2.11", "a", 5), sshFail("192.0.2.11", "a", 10))
	if len(ovs) != 0 {
		t.Fatalf("overflow before the fourth event: %+v", ovs)
	}
	if ovs = d.Feed(sshFail("192.0.2.11", "a", 25)); len(ovs) != 1 {
		t.Errorf("events at 0, 5, 10, 25 s with merge 10s: %+v, want 4 events in 3 moments, last gap 15s", ovs)
	}
}

// TestCounterAtCapacity: a counter reports a window holding more than its
// capacity, not one holding exactly its capacity.
func TestCounterAtCapacity(t *testing.T) {
	ss := mustScenarios(t, "name: c\ntype: counter\nfilter: \"true\"\ngroupby: evt.User\ncapacity: 2\nduration: 1m\n"+
		"remediation: {action: alert, scope: user}\n")
	d := NewDetector(ss, Options{})
	ovs := feedAll(d, sshFail("192.0.2.12", "amy", 0), sshFail("192.0.2.12", "amy", 1),
		sshFail("192.0.2.12", "ben", 0), sshFail("192.0.2.12", "ben", 1), sshFail("192.0.2.12", "ben", 2))
	ovs = append(ovs, d.Flush(t0.Add(time.Hour))...)
	if len(ovs) != 1 || ovs[0].Source != "ben" || ovs[0].Events != 3 {
		t.Errorf("overflows %+v, want ben's 3 events only", ovs)
	}
}

// TestRangeScopeIPv6: a range remediation covers the source's /24 in IPv4
// and its /64 in IPv6.
func TestRangeScopeIPv6(t *testing.T) {
	ss := mustScenarios(t, "name: r\ntype: trigger\nfilter: \"true\"\nremediation: {scope: range}\n")
	d := NewDetector(ss, Options{})
	ovs := feedAll(d, sshFail("2001:db8:1:2:3:4:5:6", "root", 0), sshFail("198.51.100.200", "root", 1))
	if len(ovs) != 2 || ovs[0].Source != "2001:db8:1:2::/64" || ovs[1].Source != "198.51.100.0/24" {
		t.Errorf("overflows %+v, want 2001:db8:1:2::/64 and 198.51.100.0/24", ovs)
	}
}
