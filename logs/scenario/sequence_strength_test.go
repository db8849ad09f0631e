package scenario

import (
	"github.com/occsimore/occsimore/logs/parse"
	"strconv"
	"strings"
	"testing"
)

// TestSequenceAtCapacity (issue 13): a sequence overflows on its then
// event when the bucket, leaked to that moment, still holds capacity
// events; a hair less and the group is forgotten.
func TestSequenceAtCapacity(t *testing.T) {
	yaml := "name: q\ntype: sequence\nfilter: evt.Kind == \"ssh_failed_password\"\nthen: evt.Kind == \"ssh_accepted\"\n" +
		"capacity: 3\nleakspeed: 10s\n"
	accepted := func(sec float64) *parse.Entry {
		e := sshFail("192.0.2.40", "root", sec)
		e.Kind = parse.KindSSHAccepted
		return e
	}
	for _, tc := range []struct {
		fails []float64
		at    float64
		want  int // overflows
	}{
		{[]float64{0, 0, 0}, 0, 1},
		{[]float64{0, 0, 0}, 0.5, 0},     // leaked to 2.95
		{[]float64{0, 0, 0, 0}, 10, 1},   // leaked from 4 to exactly 3
		{[]float64{0, 0, 0, 0}, 10.5, 0}, // 2.95
		{[]float64{0, 0}, 0, 0},
		{nil, 0, 0}, // no bucket
	} {
		d := NewDetector(mustScenarios(t, yaml), Options{})
		for _, s := range tc.fails {
			if ovs := d.Feed(sshFail("192.0.2.40", "root", s)); len(ovs) != 0 {
				t.Fatalf("a failure overflowed a sequence: %+v", ovs)
			}
		}
		ovs := d.Feed(accepted(tc.at))
		if len(ovs) != tc.want {
			t.Errorf("%d failures, success at %vs: %d overflows, want %d", len(tc.fails), tc.at, len(ovs), tc.want)
		}
		if len(ovs) == 1 && ovs[0].Events != len(tc.fails) {
			t.Errorf("%d failures: overflow of %d events", len(tc.fails), ovs[0].Events)
		}
		if d.Buckets() != 0 {
			t.Errorf("%d failures, success at %vs: %d buckets left", len(tc.fails), tc.at, d.Buckets())
		}
	}
}

// TestValuesLimit: a bucket names at most maxValues values and says there
// were more.
func TestValuesLimit(t *testing.T) {
	yaml := "name: w\ntype: leaky\nfilter: evt.Kind == \"ssh_failed_password\"\n" +
		"values: evt.User\ncapacity: 100\nleakspeed: 1h\nmessage: \"{values} users: {list}\"\n"
	d := NewDetector(mustScenarios(t, yaml), Options{})
	var ovs []Overflow
	for i := range maxValues + 2 {
		ovs = append(ovs, d.Feed(sshFail("192.0.2.41", "u"+strings.Repeat("x", i), float64(i)))...)
	}
	if len(ovs) != 0 {
		t.Fatalf("overflow before capacity: %+v", ovs)
	}
	for i := range 100 - maxValues - 2 {
		ovs = append(ovs, d.Feed(sshFail("192.0.2.41", "u", float64(maxValues+2+i)))...)
	}
	ovs = append(ovs, d.Feed(sshFail("192.0.2.41", "last", 200))...)
	if len(ovs) != 1 || len(ovs[0].Values) != maxValues || !strings.HasPrefix(ovs[0].Message, "w: "+strconv.Itoa(maxValues)+"+ users: u, ux, ") ||
		!strings.HasSuffix(ovs[0].Message, ", …") {
		t.Fatalf("overflows %+v", ovs)
	}
}
