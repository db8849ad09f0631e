package scenario

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/logs/parse"
)

// Options tune a Detector.
type Options struct {
	// SkipPrivate ignores entries whose source address is private,
	// loopback, link-local or unspecified, as CrowdSec's default whitelist
	// does. Off by default: lab networks and tests use such addresses.
	SkipPrivate bool
	// MaxBuckets bounds memory: when this many buckets are open and none has
	// expired, events that would open a new one are dropped and counted.
	// Zero means DefaultMaxBuckets.
	MaxBuckets int
}

// DefaultMaxBuckets is Options.MaxBuckets when unset: at about 200 bytes a
// bucket, 256 MB at most.
const DefaultMaxBuckets = 1 << 20

// sweepEvery is how much event time passes between scans for expired
// buckets.
const sweepEvery = time.Minute

// MaxAuthTries is OpenSSH's default MaxAuthTries: a "maximum
// authentication attempts exceeded" line stands for at least this many
// failed attempts in its session.
const MaxAuthTries = 6

// sessionIdle is how long an sshd session's failure count is kept after its
// last line: twice OpenSSH's default LoginGraceTime.
const sessionIdle = 4 * time.Minute

// sessionKey names one sshd connection: its process and client.
type sessionKey struct {
	ip  netip.Addr
	pid int
}

// sshSession counts the failures sshd logged in one connection.
type sshSession struct {
	failures int
	last     time.Time
}

// maxValues bounds the values a bucket keeps for distinct and for the
// message.
const maxValues = 64

// Overflow is one scenario overflowing for one group (source) of entries.
type Overflow struct {
	Scenario string
	Scope    occsimore.Scope
	// Source is the group the bucket counted: an IP address, a user name,
	// or for scope range the /24 (IPv4) or /64 (IPv6) around the address.
	Source string
	IP     netip.Addr // the address when the group is one; invalid otherwise
	Host   string     // host of the entry that overflowed the bucket
	First  time.Time  // first event in the bucket
	Last   time.Time  // the event that overflowed it (window end for counters)
	Events int        // events counted, the overflowing one included (sequence: the events before it)
	// User is the account of the entry that overflowed the bucket, e.g.
	// the one that logged in after a brute force; "" for counters.
	User   string
	Values []string // distinct values (of distinct, else of values), at most 64
	// Message is readable, e.g. "ssh-bf: 6 failed logins for 4 users in 12s".
	Message string
	Labels  map[string]string // the scenario's labels; shared, do not modify

	Action   occsimore.Action
	Duration time.Duration // how long a remediation lasts
}

// ScenarioStats counts one scenario's activity in a Detector.
type ScenarioStats struct {
	Name      string
	Fed       int64 // entries that passed the filter
	Overflows int64
	Dropped   int64 // entries dropped because MaxBuckets was reached
	Errors    int64 // expression run-time errors (entry skipped)
}

// groupKey is a group or distinct value: an address or a string, so that
// neither needs formatting on the hot path.
type groupKey struct {
	ip netip.Addr
	s  string
}

func (k groupKey) String() string {
	if k.ip.IsValid() {
		return k.ip.String()
	}
	return k.s
}

type bucketKey struct {
	scn int
	groupKey
}

type bucket struct {
	level       float64
	leakedAt    time.Time
	first, last time.Time
	events      int
	values      []groupKey
	moreValues  bool        // values were left out past maxValues
	times       []time.Time // conditional: the last Window moments
	points      int         // conditional: moments so far
	blackhole   time.Time   // non-zero: the group is ignored until then
	windowEnd   time.Time   // counter
}

type counterDue struct {
	key bucketKey
	end time.Time
}

// Detector feeds entries into the buckets of a set of scenarios, in event
// time, so that replaying old logs and following live ones behave the same.
// It is not safe for concurrent use: run one per member stream.
type Detector struct {
	scenarios []*Scenario
	opts      Options
	vm        vm.VM
	env       Env
	buckets   map[bucketKey]*bucket
	counters  [][]counterDue // per scenario index, in window-end order
	stats     []ScenarioStats
	now       time.Time // latest event time seen
	lastSweep time.Time
	sessions  map[sessionKey]sshSession
}

// NewDetector returns a Detector over compiled scenarios, which it shares
// read-only.
func NewDetector(scenarios []*Scenario, opts Options) *Detector {
	if opts.MaxBuckets <= 0 {
		opts.MaxBuckets = DefaultMaxBuckets
	}
	d := &Detector{
		scenarios: scenarios,
		opts:      opts,
		env:       helperEnv,
		buckets:   make(map[bucketKey]*bucket),
		counters:  make([][]counterDue, len(scenarios)),
		stats:     make([]ScenarioStats, len(scenarios)),
		sessions:  make(map[sessionKey]sshSession),
	}
	for i, s := range scenarios {
		d.stats[i].Name = s.Name
	}
	return d
}

// Now is the latest event time the Detector has seen.
func (d *Detector) Now() time.Time { return d.now }

// Buckets is the number of open buckets, blackholes included.
func (d *Detector) Buckets() int { return len(d.buckets) }

// Stats returns per-scenario counters, in scenario order.
func (d *Detector) Stats() []ScenarioStats { return slices.Clone(d.stats) }

func skipAddr(a netip.Addr) bool {
	return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified()
}

// Feed pours one entry into every scenario it matches and returns the
// overflows it caused, usually none (nil). An entry without a time is
// taken to happen at Now. An sshd "maximum authentication attempts
// exceeded" entry has its Count set to the attempts its session has not
// logged yet, and is dropped when there are none (see countSession).
func (d *Detector) Feed(e *parse.Entry) []Overflow {
	t := e.Time
	if t.IsZero() {
		t = d.now
	}
	if t.After(d.now) {
		d.now = t
	}
	var out []Overflow
	out = d.closeCounters(d.now, out)
	if d.now.Sub(d.lastSweep) >= sweepEvery {
		d.sweep(d.now)
	}
	if d.opts.SkipPrivate && e.SourceIP.IsValid() && skipAddr(e.SourceIP) {
		return out
	}
	if e.Source == parse.ParserSSHD && e.PID > 0 && e.SourceIP.IsValid() && !d.countSession(e, t) {
		return out
	}
	d.env.setEntry(e)
	var env any = d.env // boxed once for all scenarios: see Env
	for i, s := range d.scenarios {
		if s.kinds != nil && !s.kinds[e.Kind] {
			continue
		}
		if s.cancel != nil {
			cancel, err := d.vm.Run(s.cancel, env)
			if err != nil {
				d.stats[i].Errors++
				continue
			}
			if cancel == true {
				if k, ok := d.eval(i, s.groupBy, env); ok {
					if b := d.buckets[bucketKey{i, k}]; b != nil && b.blackhole.IsZero() {
						delete(d.buckets, bucketKey{i, k})
					}
				}
				continue
			}
		}
		if s.then != nil {
			then, err := d.vm.Run(s.then, env)
			if err != nil {
				d.stats[i].Errors++
				continue
			}
			if then == true {
				if k, ok := d.eval(i, s.groupBy, env); ok {
					if ov, ok := d.complete(i, s, k, e, t); ok {
						out = append(out, ov)
					}
				}
				continue
			}
		}
		match, err := d.vm.Run(s.filter, env)
		if err != nil {
			d.stats[i].Errors++
			continue
		}
		if match != true {
			continue
		}
		d.stats[i].Fed++
		k, ok := d.eval(i, s.groupBy, env)
		if !ok {
			continue
		}
		if ov, ok := d.pour(i, s, k, e, t, env); ok {
			out = append(out, ov)
		}
	}
	return out
}

// countSession keeps the failures each sshd connection (pid and client)
// logged, so that "maximum authentication attempts exceeded" is worth the
// MaxAuthTries attempts it stands for, less those already counted: a bot
// whose failed attempts sshd did not log one by one (LogLevel, or attempts
// folded away) is still counted, and one whose attempts were logged is not
// counted twice. It reports false for a max-auth line worth no attempt more,
// which Feed then drops.
func (d *Detector) countSession(e *parse.Entry, t time.Time) bool {
	switch e.Kind {
	case parse.KindSSHFailedPassword, parse.KindSSHFailedAuth, parse.KindSSHMaxAuth:
	default:
		return true
	}
	k := sessionKey{e.SourceIP, e.PID}
	ss := d.sessions[k]
	n := max(e.Count, 1)
	if e.Kind == parse.KindSSHMaxAuth {
		// sshd may log the limit twice ("maximum authentication attempts
		// exceeded", then "Disconnecting ...: Too many authentication
		// failures"): the second finds the session already full.
		n = MaxAuthTries - ss.failures
		if n <= 0 {
			return false
		}
		e.Count = n
	}
	ss.failures += n
	ss.last = t
	d.sessions[k] = ss
	return true
}

// eval runs a groupby or distinct program; ok is false for an empty value
// or an error.
func (d *Detector) eval(i int, p *vm.Program, env any) (groupKey, bool) {
	v, err := d.vm.Run(p, env)
	if err != nil {
		d.stats[i].Errors++
		return groupKey{}, false
	}
	switch v := v.(type) {
	case netip.Addr:
		return groupKey{ip: v}, v.IsValid()
	case string:
		return groupKey{s: v}, v != ""
	case nil:
		return groupKey{}, false
	default:
		s := fmt.Sprint(v)
		return groupKey{s: s}, s != ""
	}
}

// pour adds e to the bucket of group k of scenario i.
func (d *Detector) pour(i int, s *Scenario, k groupKey, e *parse.Entry, t time.Time, env any) (Overflow, bool) {
	key := bucketKey{i, k}
	b := d.buckets[key]
	if b != nil && !b.blackhole.IsZero() {
		if t.Before(b.blackhole) {
			return Overflow{}, false
		}
		delete(d.buckets, key)
		b = nil
	}
	if b == nil {
		if len(d.buckets) >= d.opts.MaxBuckets {
			// Sweep at most once per instant of event time, so a flood of
			// new groups costs one scan, not one per line.
			if d.now.After(d.lastSweep) {
				d.sweep(d.now)
			}
			if len(d.buckets) >= d.opts.MaxBuckets {
				d.stats[i].Dropped++
				return Overflow{}, false
			}
		}
		// The key's string aliases the log line: copy it so the bucket does
		// not keep the line alive.
		key.s = strings.Clone(key.s)
		b = &bucket{first: t, leakedAt: t}
		if s.Type == TypeCounter {
			b.windowEnd = t.Add(s.Duration)
			d.counters[i] = append(d.counters[i], counterDue{key, b.windowEnd})
		}
		d.buckets[key] = b
	}

	n := max(e.Count, 1)
	switch {
	case s.distinct != nil:
		v, ok := d.eval(i, s.distinct, env)
		if !ok {
			return Overflow{}, false
		}
		if b.hasValue(v) {
			return Overflow{}, false // already counted: distinct drops it
		}
		b.addValue(v) // evicts the oldest past maxValues
		n = 1         // "message repeated" of one value is one distinct value
	case s.values != nil:
		if v, ok := d.eval(i, s.values, env); ok && !b.hasValue(v) {
			if len(b.values) < maxValues {
				b.values = append(b.values, groupKey{ip: v.ip, s: strings.Clone(v.s)})
			} else {
				b.moreValues = true
			}
		}
	}

	if t.Before(b.first) {
		b.first = t
	}
	if t.After(b.last) {
		b.last = t
	}
	if s.LeakSpeed > 0 && t.After(b.leakedAt) {
		b.level = max(0, b.level-float64(t.Sub(b.leakedAt))/float64(s.LeakSpeed))
		b.leakedAt = t
	}

	switch s.Type {
	case TypeSequence:
		// Never overflows here: complete does, on the Then event.
		b.events += n
		b.level += float64(n)
	case TypeLeaky, TypeTrigger:
		// CrowdSec's token bucket: the event that finds the bucket full
		// overflows it. Float rounding must not delay an exact fill.
		for range n {
			b.events++
			if b.level+1 > float64(s.Capacity)+1e-9 {
				return d.overflow(i, s, key, b, e, t), true
			}
			b.level++
		}
	case TypeCounter:
		b.events += n
	case TypeConditional:
		b.events += n
		b.level += float64(n)
		if n := len(b.times); n == 0 || s.Merge <= 0 || t.Sub(b.times[n-1]) >= s.Merge {
			if len(b.times) == s.Window {
				copy(b.times, b.times[1:])
				b.times = b.times[:len(b.times)-1]
			}
			b.times = append(b.times, t)
			b.points++
		}
		var benv any = b.env(t)
		ok, err := d.vm.Run(s.condition, benv)
		if err != nil {
			d.stats[i].Errors++
			return Overflow{}, false
		}
		if ok == true {
			return d.overflow(i, s, key, b, e, t), true
		}
	}
	return Overflow{}, false
}

// complete ends a sequence for group k with e: it overflows when the
// group's bucket, leaked to t, still holds Capacity events, and otherwise
// forgets the group.
func (d *Detector) complete(i int, s *Scenario, k groupKey, e *parse.Entry, t time.Time) (Overflow, bool) {
	key := bucketKey{i, k}
	b := d.buckets[key]
	if b == nil || !b.blackhole.IsZero() {
		return Overflow{}, false
	}
	if t.After(b.leakedAt) {
		b.level = max(0, b.level-float64(t.Sub(b.leakedAt))/float64(s.LeakSpeed))
		b.leakedAt = t
	}
	if b.level+1e-9 < float64(s.Capacity) {
		delete(d.buckets, key)
		return Overflow{}, false
	}
	if t.After(b.last) {
		b.last = t
	}
	d.stats[i].Fed++
	return d.overflow(i, s, key, b, e, t), true
}

func (b *bucket) hasValue(v groupKey) bool {
	for _, x := range b.values {
		if x == v {
			return true
		}
	}
	return false
}

// addValue records a distinct value, keeping the last maxValues.
func (b *bucket) addValue(v groupKey) {
	if len(b.values) == maxValues {
		copy(b.values, b.values[1:])
		b.values = b.values[:maxValues-1]
		b.moreValues = true
	}
	b.values = append(b.values, groupKey{ip: v.ip, s: strings.Clone(v.s)})
}

// env is the conditional scenario's view of b after an event at t.
func (b *bucket) env(t time.Time) BucketEnv {
	env := BucketEnv{Events: b.events, Distinct: len(b.values), Points: b.points, Span: b.last.Sub(b.first), ParseDuration: parseDuration}
	n := len(b.times)
	if n >= 2 {
		env.Gap = b.times[n-1].Sub(b.times[n-2])
		var buf [maxWindow]time.Duration
		gaps := buf[:0]
		for j := 1; j < n; j++ {
			gaps = append(gaps, b.times[j].Sub(b.times[j-1]))
		}
		slices.Sort(gaps)
		if m := len(gaps); m%2 == 1 {
			env.MedianGap = gaps[m/2]
		} else {
			env.MedianGap = (gaps[m/2-1] + gaps[m/2]) / 2
		}
	}
	return env
}

// overflow reports b and replaces it by a blackhole for the group.
func (d *Detector) overflow(i int, s *Scenario, key bucketKey, b *bucket, e *parse.Entry, t time.Time) Overflow {
	d.stats[i].Overflows++
	ov := Overflow{
		Scenario: s.Name,
		Scope:    s.Scope,
		Source:   strings.Clone(key.String()), // key.s may alias the log line
		IP:       key.ip,
		First:    b.first,
		Last:     t,
		Events:   b.events,
		Labels:   s.Labels,
		Action:   s.Action,
		Duration: s.RemediationDuration,
	}
	if e != nil {
		ov.Host = strings.Clone(e.Host)
		ov.User = strings.Clone(e.User)
	}
	if s.Scope == occsimore.ScopeRange && key.ip.IsValid() {
		bits := 24
		if key.ip.Is6() {
			bits = 64
		}
		p, _ := key.ip.Prefix(bits)
		ov.Source = p.String()
	}
	if len(b.values) > 0 {
		ov.Values = make([]string, len(b.values))
		for j, v := range b.values {
			ov.Values[j] = v.String()
		}
	}
	var client string
	if e != nil && e.SourceIP.IsValid() {
		client = e.SourceIP.String()
	}
	ov.Message = s.Name + ": " + formatMessage(s.Message, &ov, b.moreValues, client)
	if s.Blackhole > 0 {
		*b = bucket{blackhole: t.Add(s.Blackhole)}
	} else {
		delete(d.buckets, key)
	}
	return ov
}

// formatMessage fills a scenario's message template; client is the address
// of the entry that overflowed the bucket.
func formatMessage(tmpl string, ov *Overflow, more bool, client string) string {
	nvalues := fmt.Sprint(len(ov.Values))
	switch {
	case more:
		nvalues += "+"
	case len(ov.Values) == 0:
		nvalues = "unnamed" // no line named an account: "6 failed logins for unnamed users"
	}
	list := ov.Values
	if len(list) > 5 {
		list = list[:5]
	}
	l := strings.Join(list, ", ")
	if len(ov.Values) > 5 || more {
		l += ", …"
	}
	return strings.NewReplacer(
		"{events}", fmt.Sprint(ov.Events),
		"{values}", nvalues,
		"{span}", formatSpan(ov.Last.Sub(ov.First)),
		"{source}", ov.Source,
		"{list}", l,
		"{user}", ov.User,
		"{ip}", client,
	).Replace(tmpl)
}

// formatSpan writes a duration the way people say it: 12s, 10m30s, 2h.
func formatSpan(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// closeCounters reports counter windows that ended by now.
func (d *Detector) closeCounters(now time.Time, out []Overflow) []Overflow {
	for i, q := range d.counters {
		if len(q) == 0 || q[0].end.After(now) {
			continue
		}
		s := d.scenarios[i]
		j := 0
		for ; j < len(q) && !q[j].end.After(now); j++ {
			c := q[j]
			b := d.buckets[c.key]
			if b == nil || !b.blackhole.IsZero() || !b.windowEnd.Equal(c.end) {
				continue // expired or replaced since
			}
			if b.events > s.Capacity {
				out = append(out, d.overflow(i, s, c.key, b, nil, c.end))
			} else {
				delete(d.buckets, c.key)
			}
		}
		d.counters[i] = slices.Delete(q, 0, j)
	}
	return out
}

// Flush moves the Detector's clock to now (if later), closes counter
// windows ended by then and frees expired buckets. A replay calls it at the
// end with a time past its last entry, a live stream from time to time.
func (d *Detector) Flush(now time.Time) []Overflow {
	if now.After(d.now) {
		d.now = now
	}
	out := d.closeCounters(d.now, nil)
	d.sweep(d.now)
	return out
}

// sweep deletes buckets that have drained and blackholes that have ended.
func (d *Detector) sweep(now time.Time) {
	d.lastSweep = now
	for k, ss := range d.sessions {
		if now.Sub(ss.last) > sessionIdle {
			delete(d.sessions, k)
		}
	}
	for k, b := range d.buckets {
		s := d.scenarios[k.scn]
		switch {
		case !b.blackhole.IsZero():
			if !now.Before(b.blackhole) {
				delete(d.buckets, k)
			}
		case s.Type == TypeCounter:
			// closeCounters owns these.
		case s.LeakSpeed > 0:
			if drained := b.leakedAt.Add(time.Duration(math.Ceil(b.level * float64(s.LeakSpeed)))); !now.Before(drained) {
				delete(d.buckets, k)
			}
		default:
			delete(d.buckets, k)
		}
	}
}

// Explain names the scenarios whose kinds and filter e passes, in
// scenario order, for "occsimore logs explain".
func (d *Detector) Explain(e *parse.Entry) []string {
	d.env.setEntry(e)
	var env any = d.env
	var names []string
	for _, s := range d.scenarios {
		if s.kinds != nil && !s.kinds[e.Kind] {
			continue
		}
		if ok, err := d.vm.Run(s.filter, env); err == nil && ok == true {
			names = append(names, s.Name)
		}
	}
	return names
}
