package scenario

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/logs/parse"
)

func TestParseScenariosDefaults(t *testing.T) {
	t.Parallel()
	ss := mustScenarios(t, `
name: a
type: leaky
filter: evt.Kind == "ssh_failed_password"
capacity: 3
leakspeed: 1m
---
---
name: b
type: trigger
filter: "true"
groupby: evt.User
remediation: {scope: user, action: captcha, duration: 30m}
`)
	if got, want := len(ss), 2; got != want {
		t.Fatalf("%d scenarios, want %d", got, want)
	}
	a, b := ss[0], ss[1]
	if a.GroupBy != "evt.SourceIP" || a.Action != occsimore.ActionBan || a.Scope != occsimore.ScopeIP ||
		a.RemediationDuration != DefaultRemediationDuration || a.LeakSpeed != time.Minute || a.File != "test.yaml" {
		t.Errorf("a = %+v", a)
	}
	if b.Action != occsimore.ActionCaptcha || b.Scope != occsimore.ScopeUser || b.RemediationDuration != 30*time.Minute {
		t.Errorf("b = %+v", b)
	}
}

func TestParseScenariosErrors(t *testing.T) {
	t.Parallel()
	const base = "name: s1\ntype: leaky\nfilter: evt.Status == 404\ncapacity: 5\nleakspeed: 10s\n"
	for _, tc := range []struct {
		name, yaml, field string
		line              int
		msg               string
	}{
		{"bad duration", base + "blackhole: soon\n", "blackhole", 6, `bad duration "soon"`},
		{"unknown field", base + "leak_speed: 10s\n", "leak_speed", 6, "unknown field"},
		{"bad filter", strings.Replace(base, "evt.Status == 404", "evt.Nope == 1", 1), "filter", 3, "Nope"},
		{"filter not bool", strings.Replace(base, "evt.Status == 404", "evt.Status", 1), "filter", 3, "bool"},
		{"no type", strings.Replace(base, "type: leaky\n", "", 1), "type", 0, "type is required"},
		{"bad type", strings.Replace(base, "leaky", "bucket", 1), "type", 2, `unknown type "bucket"`},
		{"no capacity", strings.Replace(base, "capacity: 5\n", "", 1), "capacity", 0, "capacity >= 1"},
		{"capacity type", strings.Replace(base, "capacity: 5", "capacity: five", 1), "capacity", 4, "cannot unmarshal"},
		{"bad name", strings.Replace(base, "s1", "s 1", 1), "name", 1, "name"},
		{"bad action", base + "remediation: {action: nuke}\n", "remediation", 6, `unknown action "nuke"`},
		{"action vs label", base + "labels: {remediation: false}\nremediation: {action: ban}\n", "remediation", 7, "contradicts"},
		{"scope user on ip", base + "remediation: {scope: user}\n", "remediation", 6, "scope user"},
		{"scope ip on user", base + "groupby: evt.User\n", "remediation", 0, "scope ip"},
		{"merge on leaky", base + "merge: 1m\n", "merge", 6, "only a conditional"},
		{"then on leaky", base + "then: evt.Kind == \"ssh_accepted\"\n", "then", 6, "only a sequence"},
		{"sequence without then", strings.Replace(base, "leaky", "sequence", 1), "then", 0, "needs then"},
		{"then not bool", strings.Replace(base, "leaky", "sequence", 1) + "then: evt.User\n", "then", 6, "bool"},
		{"trigger capacity", strings.Replace(base, "leaky", "trigger", 1), "capacity", 4, "no capacity"},
		{"counter no duration", strings.Replace(strings.Replace(base, "leaky", "counter", 1), "leakspeed: 10s\n", "", 1), "duration", 0, "duration > 0"},
		{"conditional no condition", strings.Replace(strings.Replace(base, "leaky", "conditional", 1), "capacity: 5\n", "", 1), "condition", 0, "needs a condition"},
		{"bad condition", strings.Replace(strings.Replace(base, "leaky", "conditional", 1), "capacity: 5\n", "condition: evt.Status > 1\n", 1), "condition", 4, "evt"},
		{"bad duration literal", strings.Replace(strings.Replace(base, "leaky", "conditional", 1), "capacity: 5\n", "condition: median_gap > duration(\"soon\")\n", 1), "condition", 4, "soon"},
		{"condition on leaky", base + "condition: events > 1\n", "condition", 6, "only a conditional"},
		{"label map", base + "labels: {x: {y: 1}}\n", "labels", 6, "scalar or a list"},
		{"remediation label", base + "labels: {remediation: maybe}\n", "labels", 6, "true or false"},
		{"duplicate", base + "---\n" + base, "name", 0, "duplicate"},
		{"not a mapping", "- a\n- b\n", "", 1, "mapping"},
		{"yaml syntax", "name: [\n", "", 0, "did not find"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseScenarios("ssh.yaml", []byte(tc.yaml))
			var se *ScenarioError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *ScenarioError", err)
			}
			if se.File != "ssh.yaml" || se.Field != tc.field || (tc.line != 0 && se.Line != tc.line) {
				t.Errorf("error at %s:%d field %q, want field %q line %d (%v)", se.File, se.Line, se.Field, tc.field, tc.line, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if tc.field != "" && tc.field != "name" && !strings.Contains(err.Error(), "scenario s1") {
				t.Errorf("error %q does not name the scenario", err)
			}
			if got, want := occsimore.ErrorCode(err), occsimore.EINVALID; got != want {
				t.Errorf("code = %q, want %q", got, want)
			}
		})
	}
}

func TestLoadScenariosRejectsDuplicatesAcrossFiles(t *testing.T) {
	t.Parallel()
	const s = "name: dup\ntype: trigger\nfilter: \"true\"\n"
	fsys := fstest.MapFS{
		"sc/a.yaml": {Data: []byte(s)},
		"sc/b.yml":  {Data: []byte(s)},
		"sc/readme": {Data: []byte("not yaml")},
	}
	_, err := LoadScenarios(fsys, "sc")
	if err == nil || !strings.Contains(err.Error(), "sc/b.yml") || !strings.Contains(err.Error(), "sc/a.yaml") {
		t.Fatalf("err = %v, want a duplicate naming both files", err)
	}
	delete(fsys, "sc/b.yml")
	ss, err := LoadScenarios(fsys, "sc")
	if err != nil || len(ss) != 1 {
		t.Fatalf("LoadScenarios = %v, %v", ss, err)
	}
}

func FuzzParseScenarios(f *testing.F) {
	for _, name := range []string{"ssh.yaml", "http.yaml", "credentials.yaml"} {
		data, err := builtinFS.ReadFile("scenarios/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(leakyYAML))
	f.Add([]byte("name: x\ntype: counter\nfilter: \"true\"\nduration: 1m\n---\nname: y\ntype: conditional\nfilter: \"true\"\nleakspeed: 1s\ncondition: events > 2\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ss, err := ParseScenarios("fuzz.yaml", data)
		if err != nil {
			var se *ScenarioError
			if !errors.As(err, &se) || se.File != "fuzz.yaml" {
				t.Fatalf("error %v is not a *ScenarioError for the file", err)
			}
			if c := occsimore.ErrorCode(err); c != occsimore.EINVALID && c != occsimore.ETOOLARGE {
				t.Fatalf("code %q for %v", c, err)
			}
			return
		}
		for _, s := range ss {
			if s.filter == nil || s.groupBy == nil || !s.Action.Valid() || !s.Scope.Valid() {
				t.Fatalf("scenario %q compiled incompletely", s.Name)
			}
		}
		// Whatever compiled must run without panicking.
		d := NewDetector(ss, Options{})
		for _, e := range []*parse.Entry{sshFail("192.0.2.1", "root", 0), {Kind: parse.KindHTTPAccess, Count: 1, Path: "/a?b", Status: 404}} {
			d.Feed(e)
			d.Explain(e)
		}
		d.Flush(t0.Add(time.Hour))
	})
}
