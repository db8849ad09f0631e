// Package logs turns members' raw log lines into attacks and remediations:
// it parses each line (logs/parse), pours it into the member's
// own leaky buckets, enriches what overflows with GeoIP, and stores the
// attacks and the remediations bouncers apply. Every source (syslog, files,
// HTTP push, the CLI) goes through it.
//
// Each member has its own Detector, so one member's lines never fill another
// member's buckets.
package logs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/geoip"
	"github.com/occsimore/occsimore/logs/parse"
	"github.com/occsimore/occsimore/logs/scenario"
)

// GeoIP looks up an address; *geoip.DB implements it.
type GeoIP interface {
	Lookup(addr netip.Addr) (geoip.Info, error)
}

// EventSink takes the behaviour events logs yield (CloudTrail records become
// cloud.api events, scored against each identity's habits).
type EventSink interface {
	SubmitEvents(ctx context.Context, memberID string, evs []occsimore.Event) error
}

// Config configures a Service.
type Config struct {
	// Scenarios are compiled scenarios, shared read-only by every member's
	// detector; nil means scenario.BuiltinScenarios.
	Scenarios []*scenario.Scenario
	Detector  scenario.Options
	// Attacks stores attacks and remediations; nil keeps them only in the
	// results (offline replay).
	Attacks occsimore.AttackService
	// GeoIP, when set, fills Attack.Country and Attack.ASN, and the country
	// and ASN of cloud.api events.
	GeoIP GeoIP
	// Events, when set, receives a cloud.api event for each CloudTrail
	// record, so that an identity calling unusual APIs or regions is scored
	// by the behaviour engine.
	Events EventSink
	// Samples is how many unparsed lines are kept per member for operators
	// to look at; DefaultSamples when 0.
	Samples int
	Now     func() time.Time
	Logger  *slog.Logger
}

// DefaultSamples is the default number of unparsed lines kept per member.
const DefaultSamples = 20

// Result is what one Ingest call did.
type Result struct {
	Lines    int                 `json:"lines"`
	Parsed   int                 `json:"parsed"`
	Unparsed int                 `json:"unparsed"`
	Events   int                 `json:"events"` // behaviour events submitted (cloud.api)
	Attacks  []*occsimore.Attack `json:"attacks"`
	// Remediations created, in the order of Attacks (alert-only scenarios
	// create a remediation of action alert, which bouncers ignore), except
	// those already ended when their attack is recorded.
	Remediations []*occsimore.Remediation `json:"remediations"`
	// Ended are the remediations of attacks in old logs that had ended
	// before they were recorded: they are reported, never stored, so no
	// bouncer receives them.
	Ended []*occsimore.Remediation `json:"ended,omitzero"`
}

// Service is safe for concurrent use; lines of one member are processed one
// at a time, in the order Ingest receives them.
type Service struct {
	cfg Config

	mu      sync.Mutex
	members map[string]*member

	metrics *metrics
}

type member struct {
	mu      sync.Mutex
	det     *scenario.Detector
	stats   occsimore.LogStats
	samples []occsimore.UnparsedLine // ring
	next    int
}

// New returns a service.
func New(cfg Config) (*Service, error) {
	if cfg.Scenarios == nil {
		s, err := scenario.BuiltinScenarios()
		if err != nil {
			return nil, fmt.Errorf("logs: built-in scenarios: %w", err)
		}
		cfg.Scenarios = s
	}
	if cfg.Samples <= 0 {
		cfg.Samples = DefaultSamples
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	names := make([]string, len(cfg.Scenarios))
	for i, sc := range cfg.Scenarios {
		names[i] = sc.Name
	}
	return &Service{cfg: cfg, members: make(map[string]*member), metrics: newMetrics(names)}, nil
}

func (s *Service) member(id string) *member {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.members[id]
	if m == nil {
		m = &member{
			det:   scenario.NewDetector(s.cfg.Scenarios, s.cfg.Detector),
			stats: occsimore.LogStats{ByParser: map[string]int64{}},
		}
		s.members[id] = m
	}
	return m
}

// Ingest processes lines of memberID. host, when set, is the host of lines
// whose format does not name one (access logs). An unparsed line is
// counted and sampled and never stops the others. The error is the store's:
// the lines were processed and the detectors moved on, but the attacks in
// the result may not be stored.
//
// Year-less syslog timestamps are dated from the time of the call, as the
// receive time of the lines: none is later than now.
func (s *Service) Ingest(ctx context.Context, memberID, host string, lines [][]byte) (Result, error) {
	return s.IngestYears(ctx, memberID, host, &parse.Years{NotAfter: s.cfg.Now()}, lines)
}

// IngestYears is Ingest with years dating the year-less syslog timestamps
// of lines, e.g. from the modification time of the file they come from. A
// caller passes the same years for every batch of one file.
func (s *Service) IngestYears(ctx context.Context, memberID, host string, years *parse.Years, lines [][]byte) (Result, error) {
	now := s.cfg.Now()
	hint := parse.Hint{Years: years}
	m := s.member(memberID)
	var res Result
	var overflows []scenario.Overflow
	var events []occsimore.Event
	m.mu.Lock()
	for _, line := range lines {
		res.Lines++
		e, err := parse.Parse(line, hint)
		if err != nil {
			res.Unparsed++
			s.metrics.line(unparsedBy(err), false)
			m.sample(occsimore.UnparsedLine{Host: host, Line: truncate(string(line), 512), Reason: err.Error(), At: now}, s.cfg.Samples)
			continue
		}
		res.Parsed++
		if e.Host == "" {
			e.Host = host
		}
		m.stats.ByParser[e.Source]++
		s.metrics.line(e.Source, true)
		overflows = append(overflows, m.det.Feed(&e)...)
		if s.cfg.Events != nil && e.Kind == parse.KindCloudTrail {
			var ev occsimore.Event
			if scenario.CloudEvent(&e, memberID, &ev) {
				s.locate(&ev)
				events = append(events, ev)
			}
		}
	}
	m.stats.Lines += int64(res.Lines)
	m.stats.Parsed += int64(res.Parsed)
	m.stats.Unparsed += int64(res.Unparsed)
	m.mu.Unlock()
	var submitErr error
	if len(events) > 0 {
		if err := s.cfg.Events.SubmitEvents(ctx, memberID, events); err != nil {
			submitErr = fmt.Errorf("logs: submit %d cloud.api events: %w", len(events), err)
		} else {
			res.Events = len(events)
		}
	}
	return res, errors.Join(submitErr, s.record(ctx, memberID, m, overflows, now, &res))
}

// locate fills an event's country and ASN from its IP.
func (s *Service) locate(ev *occsimore.Event) {
	if s.cfg.GeoIP == nil || ev.IP == "" {
		return
	}
	addr, err := netip.ParseAddr(ev.IP)
	if err != nil {
		return
	}
	if info, err := s.cfg.GeoIP.Lookup(addr); err == nil {
		ev.Country, ev.ASN = info.Country, info.ASN
	}
}

// Flush closes what is due at now in memberID's detector (counter windows)
// and records the overflows; a live server calls it periodically, a replay
// once at the end.
func (s *Service) Flush(ctx context.Context, memberID string, now time.Time) (Result, error) {
	m := s.member(memberID)
	m.mu.Lock()
	overflows := m.det.Flush(now)
	m.mu.Unlock()
	var res Result
	return res, s.record(ctx, memberID, m, overflows, s.cfg.Now(), &res)
}

// FlushAll flushes every member's detector at now.
func (s *Service) FlushAll(ctx context.Context, now time.Time) error {
	s.mu.Lock()
	ids := make([]string, 0, len(s.members))
	for id := range s.members {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	slices.Sort(ids)
	for _, id := range ids {
		if _, err := s.Flush(ctx, id, now); err != nil {
			return err
		}
	}
	return nil
}

// DetectorNow is the event time memberID's detector has reached.
func (s *Service) DetectorNow(memberID string) time.Time {
	m := s.member(memberID)
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.det.Now()
}

// record turns overflows into attacks and remediations and stores them.
func (s *Service) record(ctx context.Context, memberID string, m *member, overflows []scenario.Overflow, now time.Time, res *Result) error {
	if len(overflows) == 0 {
		return nil
	}
	attacks := make([]*occsimore.Attack, 0, len(overflows))
	rems := make([]*occsimore.Remediation, 0, len(overflows))
	for i := range overflows {
		o := &overflows[i]
		a := o.Attack(memberID, now)
		if s.cfg.GeoIP != nil && o.IP.IsValid() {
			if info, err := s.cfg.GeoIP.Lookup(o.IP); err == nil {
				a.Country, a.ASN = info.Country, info.ASN
			}
		}
		attacks = append(attacks, a)
		if r := o.Remediation(memberID, a.ID); r.Until.After(now) {
			rems = append(rems, r)
		} else {
			res.Ended = append(res.Ended, r)
		}
	}
	res.Attacks = append(res.Attacks, attacks...)
	res.Remediations = append(res.Remediations, rems...)
	m.mu.Lock()
	m.stats.Attacks += int64(len(attacks))
	m.stats.Remediations += int64(len(rems))
	m.mu.Unlock()
	if s.cfg.Attacks == nil {
		return nil
	}
	if err := s.cfg.Attacks.CreateAttacks(ctx, memberID, attacks); err != nil {
		return fmt.Errorf("logs: store %d attacks: %w", len(attacks), err)
	}
	for _, a := range attacks {
		s.metrics.attacks.WithLabelValues(s.metrics.scenario(a.Scenario)).Inc()
	}
	if len(rems) == 0 {
		return nil
	}
	// One decision per scope and value: a later attack on a source already
	// banned extends its ban and counts the attack.
	if err := s.cfg.Attacks.ExtendRemediations(ctx, memberID, rems, now); err != nil {
		return fmt.Errorf("logs: store %d remediations: %w", len(rems), err)
	}
	for _, r := range rems {
		s.metrics.decisions.WithLabelValues(s.metrics.scenario(r.Scenario), string(r.Action)).Inc()
	}
	for _, a := range attacks {
		s.cfg.Logger.InfoContext(ctx, "attack", "member", memberID, "scenario", a.Scenario, "source", a.Source, "country", a.Country, "events", a.Events)
	}
	return nil
}

// Stats returns a copy of memberID's counters, per-scenario counts and
// unparsed samples.
func (s *Service) Stats(memberID string) occsimore.LogStats {
	m := s.member(memberID)
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.stats
	st.ByParser = maps.Clone(m.stats.ByParser)
	// Oldest first: the ring's tail, then its head.
	st.Samples = append(slices.Clone(m.samples[m.next:]), m.samples[:m.next]...)
	for _, sc := range m.det.Stats() {
		st.Scenarios = append(st.Scenarios, occsimore.ScenarioStats{Name: sc.Name, Fed: sc.Fed, Overflows: sc.Overflows, Dropped: sc.Dropped, Errors: sc.Errors})
	}
	return st
}

func (m *member) sample(u occsimore.UnparsedLine, max int) {
	if len(m.samples) < max {
		m.samples = append(m.samples, u)
		return
	}
	m.samples[m.next] = u
	m.next = (m.next + 1) % max
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
