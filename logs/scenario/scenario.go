// Package scenario detects attacks in parsed log lines: scenarios declared in
// YAML with expr-lang filters (leaky, trigger, counter, conditional and
// sequence buckets), the built-in set (scenarios/*.yaml), the per-member
// Detector that pours entries into buckets in event time, the attacks and
// remediations an overflow becomes, and CloudTrail records mapped to
// cloud.api events. It is pure.
package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"path"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/occsimore/occsimore"
)

// ScenarioType says how a scenario's buckets overflow.
type ScenarioType string

const (
	// TypeLeaky overflows when more than Capacity events are in a bucket
	// that leaks one event every LeakSpeed.
	TypeLeaky ScenarioType = "leaky"
	// TypeTrigger overflows on the first matching event.
	TypeTrigger ScenarioType = "trigger"
	// TypeCounter counts events over Duration from a bucket's first event
	// and overflows when the window closes with more than Capacity events.
	TypeCounter ScenarioType = "counter"
	// TypeConditional overflows when Condition holds after an event; it
	// leaks like a leaky bucket but has no capacity.
	TypeConditional ScenarioType = "conditional"
	// TypeSequence counts the events its filter takes in a leaky bucket
	// that never overflows by itself; it overflows when an event matching
	// Then (a successful login) finds Capacity events or more in its
	// group's bucket (a brute force). Below Capacity, that event empties the
	// bucket.
	TypeSequence ScenarioType = "sequence"
)

// Defaults applied when a scenario file leaves a field out.
const (
	DefaultRemediationDuration = 4 * time.Hour
	defaultWindow              = 4
	maxWindow                  = 64
	maxCapacity                = 1_000_000
)

// Scenario is one compiled detection scenario. Its exported fields are the
// file's values after defaults; the programs are compiled once by
// ParseScenarios and shared read-only by every Detector.
type Scenario struct {
	Name        string
	Description string
	Type        ScenarioType
	// Kinds, when set, restricts the scenario to entries of these kinds
	// before the filter runs: a cheap pre-filter.
	Kinds     []string
	Filter    string
	GroupBy   string // default "evt.SourceIP"
	Distinct  string // events whose distinct value is already in the bucket are dropped
	Values    string // values collected for the message when Distinct is empty
	CancelOn  string // conditional: an event matching it (same group) empties the bucket
	Then      string // sequence: the event that completes the sequence
	Condition string // conditional only
	Capacity  int
	LeakSpeed time.Duration
	Blackhole time.Duration // after an overflow, the group is ignored this long
	Duration  time.Duration // counter window
	Window    int           // conditional: how many recent event times median_gap covers
	// Merge (conditional): an event within Merge of the bucket's previous
	// moment joins it: it counts in events but adds no moment, so the
	// lines one attempt writes (PAM, sshd, disconnect) are one point in time
	// for points, gap and median_gap.
	Merge   time.Duration
	Message string // template: {events} {values} {span} {source} {list} {user} {ip}
	Labels  map[string]string

	// Remediation: labels.remediation false means Action is ActionAlert.
	Action              occsimore.Action
	RemediationDuration time.Duration
	Scope               occsimore.Scope

	File string // the file the scenario came from, for errors and explain

	kinds                                           map[string]bool
	filter, groupBy, distinct, values, cancel, then *vm.Program
	condition                                       *vm.Program
}

// ScenarioError says which file, scenario and field a scenario error is
// about. It unwraps to an EINVALID *occsimore.Error.
type ScenarioError struct {
	File     string
	Scenario string // "" when the name itself is missing or bad
	Field    string
	Line     int // 0 when unknown
	Err      error
}

func (e *ScenarioError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Scenario != "" {
		b.WriteString(": scenario ")
		b.WriteString(e.Scenario)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(occsimore.ErrorMessage(e.Err))
	return b.String()
}

func (e *ScenarioError) Unwrap() error { return e.Err }

// scenarioYAML is the file form of a scenario.
type scenarioYAML struct {
	Name        string         `yaml:"name"`
	Description string         `yaml:"description"`
	Type        string         `yaml:"type"`
	Kinds       []string       `yaml:"kinds"`
	Filter      string         `yaml:"filter"`
	GroupBy     string         `yaml:"groupby"`
	Distinct    string         `yaml:"distinct"`
	Values      string         `yaml:"values"`
	CancelOn    string         `yaml:"cancel_on"`
	Then        string         `yaml:"then"`
	Condition   string         `yaml:"condition"`
	Capacity    *int           `yaml:"capacity"`
	LeakSpeed   string         `yaml:"leakspeed"`
	Blackhole   string         `yaml:"blackhole"`
	Duration    string         `yaml:"duration"`
	Merge       string         `yaml:"merge"`
	Window      int            `yaml:"window"`
	Message     string         `yaml:"message"`
	Labels      map[string]any `yaml:"labels"`
	References  []string       `yaml:"references"`
	Remediation *struct {
		Action   string `yaml:"action"`
		Duration string `yaml:"duration"`
		Scope    string `yaml:"scope"`
	} `yaml:"remediation"`
}

var scenarioKeys = []string{
	"name", "description", "type", "kinds", "filter", "groupby", "distinct", "values", "cancel_on", "then",
	"condition", "capacity", "leakspeed", "blackhole", "duration", "merge", "window", "message", "labels",
	"references", "remediation",
}

// maxScenarioFile bounds what ParseScenarios reads: scenario files are
// small, and yaml expands aliases.
const maxScenarioFile = 1 << 20

// ParseScenarios decodes and compiles the scenarios of one YAML file (one
// scenario per document, documents separated by "---"). file names the
// source in errors, which are *ScenarioError.
func ParseScenarios(file string, data []byte) ([]*Scenario, error) {
	if len(data) > maxScenarioFile {
		return nil, &ScenarioError{File: file, Err: occsimore.Errorf(occsimore.ETOOLARGE, "file is over %d bytes", maxScenarioFile)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*Scenario
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &ScenarioError{File: file, Err: occsimore.Errorf(occsimore.EINVALID, "%s", yamlMessage(err))}
		}
		if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null") {
			continue // empty document, e.g. a trailing "---"
		}
		s, err := decodeScenario(file, doc.Content[0])
		if err != nil {
			return nil, err
		}
		for _, o := range out {
			if o.Name == s.Name {
				return nil, &ScenarioError{File: file, Scenario: s.Name, Field: "name",
					Err: occsimore.FieldErrorf("name", "duplicate scenario name")}
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// LoadScenarios parses every *.yaml and *.yml file directly under dir in
// fsys, in name order. Scenario names must be unique across the files.
func LoadScenarios(fsys fs.FS, dir string) ([]*Scenario, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read scenarios: %w", err)
	}
	var out []*Scenario
	seen := map[string]string{}
	for _, de := range entries {
		ext := path.Ext(de.Name())
		if de.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		name := path.Join(dir, de.Name())
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read scenarios: %w", err)
		}
		ss, err := ParseScenarios(name, data)
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			if prev, dup := seen[s.Name]; dup {
				return nil, &ScenarioError{File: name, Scenario: s.Name, Field: "name",
					Err: occsimore.FieldErrorf("name", "scenario also defined in %s", prev)}
			}
			seen[s.Name] = name
		}
		out = append(out, ss...)
	}
	return out, nil
}

// yamlMessage strips yaml's "yaml: " prefix.
func yamlMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

func decodeScenario(file string, n *yaml.Node) (*Scenario, error) {
	if n.Kind != yaml.MappingNode {
		return nil, &ScenarioError{File: file, Line: n.Line, Err: occsimore.Errorf(occsimore.EINVALID, "a scenario must be a mapping")}
	}
	// Key lines give field errors a line number; unknown keys are refused so
	// a typo ("leak_speed") does not silently fall back to a default.
	lines := map[string]int{}
	name := ""
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		lines[k.Value] = k.Line
		if k.Value == "name" && v.Kind == yaml.ScalarNode {
			name = v.Value
		}
	}
	fail := func(field string, format string, args ...any) error {
		return &ScenarioError{File: file, Scenario: name, Field: field, Line: lines[field],
			Err: occsimore.FieldErrorf(field, format, args...)}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; !slices.Contains(scenarioKeys, k) {
			return nil, &ScenarioError{File: file, Scenario: name, Field: k, Line: n.Content[i].Line,
				Err: occsimore.FieldErrorf(k, "unknown field")}
		}
	}
	var y scenarioYAML
	if err := n.Decode(&y); err != nil {
		return nil, decodeError(file, name, n, err)
	}

	if !validScenarioName(y.Name) {
		return nil, fail("name", "name %q must be 1-64 characters: letters, digits, '.', '_', '-', '/'", y.Name)
	}
	s := &Scenario{
		Name: y.Name, Description: y.Description, Type: ScenarioType(y.Type), Kinds: y.Kinds,
		Filter: strings.TrimSpace(y.Filter), GroupBy: strings.TrimSpace(y.GroupBy),
		Distinct: strings.TrimSpace(y.Distinct), Values: strings.TrimSpace(y.Values),
		CancelOn: strings.TrimSpace(y.CancelOn), Condition: strings.TrimSpace(y.Condition), Then: strings.TrimSpace(y.Then),
		Window: y.Window, Message: y.Message, File: file,
	}
	switch s.Type {
	case TypeLeaky, TypeTrigger, TypeCounter, TypeConditional, TypeSequence:
	case "":
		return nil, fail("type", "type is required (leaky, trigger, counter, conditional or sequence)")
	default:
		return nil, fail("type", "unknown type %q (want leaky, trigger, counter, conditional or sequence)", y.Type)
	}

	dur := func(field, v string) (time.Duration, error) {
		if v == "" {
			return 0, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return 0, fail(field, "bad duration %q", v)
		}
		return d, nil
	}
	var err error
	if s.LeakSpeed, err = dur("leakspeed", y.LeakSpeed); err != nil {
		return nil, err
	}
	if s.Blackhole, err = dur("blackhole", y.Blackhole); err != nil {
		return nil, err
	}
	if s.Duration, err = dur("duration", y.Duration); err != nil {
		return nil, err
	}
	if s.Merge, err = dur("merge", y.Merge); err != nil {
		return nil, err
	}
	if y.Capacity != nil {
		s.Capacity = *y.Capacity
	}
	if s.Capacity > maxCapacity {
		return nil, fail("capacity", "capacity %d is over %d", s.Capacity, maxCapacity)
	}

	if err := checkTypeFields(s, &y, fail); err != nil {
		return nil, err
	}
	for _, k := range s.Kinds {
		if k == "" {
			return nil, fail("kinds", "empty kind")
		}
	}
	if len(s.Kinds) > 0 {
		s.kinds = make(map[string]bool, len(s.Kinds))
		for _, k := range s.Kinds {
			s.kinds[k] = true
		}
	}

	if err := decodeLabels(s, &y, fail); err != nil {
		return nil, err
	}
	if s.Message == "" {
		s.Message = "{events} events in {span}"
	}

	if err := s.compile(fail); err != nil {
		return nil, err
	}
	return s, nil
}

// decodeError names the field of a scenario whose key or value starts on
// the line yaml reports ("line N: cannot unmarshal ...").
func decodeError(file, name string, n *yaml.Node, err error) error {
	// yaml reports "line N: cannot unmarshal ...": name the field
	// whose key or value starts on that line.
	field, line := "", 0
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		var msg string
		if _, serr := fmt.Sscanf(te.Errors[0], "line %d: %s", &line, &msg); serr == nil {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Line == line || n.Content[i+1].Line == line {
					field = n.Content[i].Value
				}
			}
		}
	}
	return &ScenarioError{File: file, Scenario: name, Field: field, Line: line,
		Err: occsimore.FieldErrorf(field, "%s", yamlMessage(err))}
}

// failFunc builds a scenario's field error.
type failFunc = func(field, format string, args ...any) error

// checkTypeFields checks the fields each scenario type requires or forbids,
// and sets the conditional scenario's implied capacity and window.
func checkTypeFields(s *Scenario, y *scenarioYAML, fail failFunc) error {
	switch s.Type {
	case TypeLeaky:
		if y.Capacity == nil || s.Capacity < 1 {
			return fail("capacity", "a leaky scenario needs capacity >= 1 (use type trigger for 0)")
		}
		if s.LeakSpeed <= 0 {
			return fail("leakspeed", "a leaky scenario needs a leakspeed > 0")
		}
	case TypeSequence:
		if y.Capacity == nil || s.Capacity < 1 {
			return fail("capacity", "a sequence scenario needs capacity >= 1: the events before then")
		}
		if s.LeakSpeed <= 0 {
			return fail("leakspeed", "a sequence scenario needs a leakspeed > 0")
		}
		if s.Then == "" {
			return fail("then", "a sequence scenario needs then: the event that completes it")
		}
		if s.Distinct != "" {
			return fail("distinct", "a sequence scenario has no distinct (use values)")
		}
	case TypeTrigger:
		if s.Capacity != 0 {
			return fail("capacity", "a trigger scenario has no capacity")
		}
		if s.LeakSpeed != 0 {
			return fail("leakspeed", "a trigger scenario has no leakspeed")
		}
	case TypeCounter:
		if s.Duration <= 0 {
			return fail("duration", "a counter scenario needs a duration > 0")
		}
		if s.Capacity < 0 {
			return fail("capacity", "capacity must be >= 0")
		}
		if s.LeakSpeed != 0 {
			return fail("leakspeed", "a counter scenario has no leakspeed")
		}
	case TypeConditional:
		if s.Condition == "" {
			return fail("condition", "a conditional scenario needs a condition")
		}
		if s.LeakSpeed <= 0 {
			return fail("leakspeed", "a conditional scenario needs a leakspeed > 0")
		}
		if y.Capacity != nil && s.Capacity != -1 {
			return fail("capacity", "a conditional scenario has no capacity (omit it or use -1)")
		}
		s.Capacity = -1
		if s.Window == 0 {
			s.Window = defaultWindow
		}
		if s.Window < 2 || s.Window > maxWindow {
			return fail("window", "window must be between 2 and %d", maxWindow)
		}
	}
	if s.Type != TypeConditional {
		if s.Condition != "" {
			return fail("condition", "only a conditional scenario has a condition")
		}
		if s.CancelOn != "" {
			return fail("cancel_on", "only a conditional scenario has cancel_on")
		}
		if y.Window != 0 {
			return fail("window", "only a conditional scenario has a window")
		}
		if s.Merge != 0 {
			return fail("merge", "only a conditional scenario has merge")
		}
	}
	if s.Type != TypeSequence && s.Then != "" {
		return fail("then", "only a sequence scenario has then")
	}
	if s.Type != TypeCounter && s.Duration != 0 {
		return fail("duration", "only a counter scenario has a duration (the ban length is remediation.duration)")
	}
	return nil
}

// decodeLabels reads the labels (scalars as text, lists joined by commas)
// and the remediation: labels.remediation false makes the scenario only
// alert; remediation sets the action, scope and duration of its decisions.
func decodeLabels(s *Scenario, y *scenarioYAML, fail failFunc) error {
	// Labels: scalars as text, lists joined by commas; remediation is a
	// boolean that decides whether the scenario bans or only alerts.
	remediate := true
	if len(y.Labels) > 0 {
		s.Labels = make(map[string]string, len(y.Labels))
		keys := make([]string, 0, len(y.Labels))
		for k := range y.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch v := y.Labels[k].(type) {
			case nil:
			case []any:
				parts := make([]string, 0, len(v))
				for _, p := range v {
					parts = append(parts, fmt.Sprint(p))
				}
				s.Labels[k] = strings.Join(parts, ",")
			case map[string]any:
				return fail("labels", "label %q must be a scalar or a list", k)
			default:
				s.Labels[k] = fmt.Sprint(v)
			}
		}
		if v, ok := y.Labels["remediation"]; ok {
			b, isBool := v.(bool)
			if !isBool {
				return fail("labels", "labels.remediation must be true or false")
			}
			remediate = b
		}
	}
	s.Action, s.Scope, s.RemediationDuration = occsimore.ActionBan, occsimore.ScopeIP, DefaultRemediationDuration
	if !remediate {
		s.Action = occsimore.ActionAlert
	}
	if r := y.Remediation; r != nil {
		if r.Action != "" {
			s.Action = occsimore.Action(r.Action)
			if !s.Action.Valid() {
				return fail("remediation", "unknown action %q (want ban, captcha or alert)", r.Action)
			}
			if !remediate && s.Action != occsimore.ActionAlert {
				return fail("remediation", "action %s contradicts labels.remediation: false", r.Action)
			}
		}
		if r.Scope != "" {
			s.Scope = occsimore.Scope(r.Scope)
			if !s.Scope.Valid() {
				return fail("remediation", "unknown scope %q (want ip, range or user)", r.Scope)
			}
		}
		if r.Duration != "" {
			d, err := time.ParseDuration(r.Duration)
			if err != nil || d <= 0 {
				return fail("remediation", "bad duration %q", r.Duration)
			}
			s.RemediationDuration = d
		}
	}
	return nil
}

func validScenarioName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' || c == '/') {
			return false
		}
	}
	return true
}

// compile compiles every expression of s against Env (BucketEnv for the
// condition).
func (s *Scenario) compile(fail func(field, format string, args ...any) error) error {
	if s.Filter == "" {
		return fail("filter", "filter is required")
	}
	if s.GroupBy == "" {
		s.GroupBy = "evt.SourceIP"
	}
	var err error
	if s.filter, err = expr.Compile(s.Filter, expr.Env(Env{}), expr.AsBool()); err != nil {
		return fail("filter", "%v", err)
	}
	if s.groupBy, err = expr.Compile(s.GroupBy, expr.Env(Env{})); err != nil {
		return fail("groupby", "%v", err)
	}
	// A bouncer must never be told to ban the IP "alice": the scope must
	// match what groupby yields.
	switch t := s.groupBy.Node().Type(); {
	case t == reflect.TypeFor[netip.Addr]():
		if s.Scope == occsimore.ScopeUser {
			return fail("remediation", "scope user but groupby %q yields an address", s.GroupBy)
		}
	case t == reflect.TypeFor[string]():
		if s.Scope != occsimore.ScopeUser {
			return fail("remediation", "scope %s but groupby %q yields text (use scope user, or group by evt.SourceIP)", s.Scope, s.GroupBy)
		}
	case t == nil || t.Kind() == reflect.Interface:
		// Known only at run time.
	default:
		return fail("groupby", "groupby must yield an address or a string, not %s", t)
	}
	if s.Distinct != "" {
		if s.distinct, err = expr.Compile(s.Distinct, expr.Env(Env{})); err != nil {
			return fail("distinct", "%v", err)
		}
	}
	if s.Values != "" {
		if s.values, err = expr.Compile(s.Values, expr.Env(Env{})); err != nil {
			return fail("values", "%v", err)
		}
	}
	if s.CancelOn != "" {
		if s.cancel, err = expr.Compile(s.CancelOn, expr.Env(Env{}), expr.AsBool()); err != nil {
			return fail("cancel_on", "%v", err)
		}
	}
	if s.Then != "" {
		if s.then, err = expr.Compile(s.Then, expr.Env(Env{}), expr.AsBool()); err != nil {
			return fail("then", "%v", err)
		}
	}
	if s.Condition != "" {
		// duration("10m") with a constant argument is folded at compile
		// time; expr's builtin would parse it on every run.
		if s.condition, err = expr.Compile(s.Condition, expr.Env(BucketEnv{ParseDuration: parseDuration}),
			expr.AsBool(), expr.ConstExpr("duration")); err != nil {
			return fail("condition", "%v", err)
		}
	}
	return nil
}

// parseDuration is BucketEnv.ParseDuration: it panics on a bad duration,
// which only ever runs at compile time, where expr reports the panic as a
// compile error.
func parseDuration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}
