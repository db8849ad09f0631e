package logs

import (
	"errors"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/logs/parse"
	"github.com/prometheus/client_golang/prometheus"
)

// parsers are the values of the parser label: the parsers Parse picks from
// (Service gives it no JSON mapping, so no other name can come out), none
// for a line no parser tried, other for anything else.
var parsers = []string{parse.ParserSyslog, parse.ParserSSHD, parse.ParserAuth, parse.ParserAccess,
	parse.ParserCloudTrail, parse.ParserJSON, parse.ParserNginxError, parse.ParserApacheError, parserNone, labelOther}

const (
	parserNone = "none"
	labelOther = "other"
)

// metrics count the log path's work. Their labels are bounded sets: the
// parsers above, the scenarios of Config.Scenarios (configuration, fixed
// when the Service is made; any other name is counted as other) and the
// remediation actions. Lines are counted per line, so their counters are
// resolved once, here.
type metrics struct {
	lines     *prometheus.CounterVec
	byParser  map[string]*[2]prometheus.Counter // parsed, unparsed
	attacks   *prometheus.CounterVec
	decisions *prometheus.CounterVec
	scenarios map[string]bool
}

func newMetrics(scenarios []string) *metrics {
	m := &metrics{
		lines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "occsimore_log_lines_total",
			Help: "Log lines received, by parser and result: parsed (by the parser that took the line) or unparsed (by the first parser it was tried with; none if none tried it).",
		}, []string{"parser", "result"}),
		byParser: make(map[string]*[2]prometheus.Counter, len(parsers)),
		attacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "occsimore_attacks_total",
			Help: "Attacks detected in logs and stored, by scenario.",
		}, []string{"scenario"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "occsimore_decisions_total",
			Help: "Remediation decisions stored for bouncers (new or extending one in force), by scenario and action.",
		}, []string{"scenario", "action"}),
		scenarios: make(map[string]bool, len(scenarios)),
	}
	for _, p := range parsers {
		m.byParser[p] = &[2]prometheus.Counter{m.lines.WithLabelValues(p, "parsed"), m.lines.WithLabelValues(p, "unparsed")}
	}
	for _, s := range append(scenarios, labelOther) {
		m.scenarios[s] = true
		m.attacks.WithLabelValues(s)
		for _, a := range []occsimore.Action{occsimore.ActionBan, occsimore.ActionCaptcha, occsimore.ActionAlert} {
			m.decisions.WithLabelValues(s, string(a))
		}
	}
	return m
}

func (m *metrics) line(parser string, parsed bool) {
	c, ok := m.byParser[parser]
	if !ok {
		c = m.byParser[labelOther]
	}
	if parsed {
		c[0].Inc()
	} else {
		c[1].Inc()
	}
}

// unparsedBy is the parser a line was tried with first: the one its form
// (syslog program, JSON, access log...) sent it to.
func unparsedBy(err error) string {
	if pe, ok := errors.AsType[*parse.ParseError](err); ok && len(pe.Tried) > 0 {
		return pe.Tried[0]
	}
	return parserNone
}

func (m *metrics) scenario(s string) string {
	if m.scenarios[s] {
		return s
	}
	return labelOther
}

// Collector returns the service's metrics for a Prometheus registry.
func (s *Service) Collector() prometheus.Collector {
	return collectors{s.metrics.lines, s.metrics.attacks, s.metrics.decisions}
}

type collectors []prometheus.Collector

func (cs collectors) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range cs {
		c.Describe(ch)
	}
}

func (cs collectors) Collect(ch chan<- prometheus.Metric) {
	for _, c := range cs {
		c.Collect(ch)
	}
}
