package http

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
)

// CrowdSec bouncers (firewall, nginx, custom…) pull decisions from a CrowdSec
// Local API. Under /crowdsec/ the server speaks that API's bouncer side, so a
// member points an unchanged bouncer at api_url https://occsimore…/crowdsec/
// with an occsimore reader token as its api_key. Bouncers apply bans and
// captchas of IPs and ranges; alert-only and user decisions stay out.

// csDecision is a decision in the CrowdSec Local API's shape.
type csDecision struct {
	ID       int64  `json:"id"`
	Origin   string `json:"origin"`
	Type     string `json:"type"`
	Scope    string `json:"scope"`
	Value    string `json:"value"`
	Duration string `json:"duration"`
	Until    string `json:"until"`
	Scenario string `json:"scenario"`
}

type csStream struct {
	New     []csDecision `json:"new"`
	Deleted []csDecision `json:"deleted"`
}

// csOrigin maps an occsimore origin to the CrowdSec one with the same
// meaning, since bouncers may filter on origins: a detection of the local
// engine, a human decision, the consortium's shared list.
func csOrigin(origin string) string {
	switch origin {
	case "manual":
		return "cscli"
	case "consortium":
		// Kept as is: the consortium's list is told apart on both streams.
		return "consortium"
	default:
		return "crowdsec"
	}
}

// csScope is CrowdSec's spelling of a scope bouncers apply, or "".
func csScope(s occsimore.Scope) string {
	switch s {
	case occsimore.ScopeIP:
		return "Ip"
	case occsimore.ScopeRange:
		return "Range"
	}
	return ""
}

// csFilter holds the bouncer's query: which scopes, origins and scenarios
// it wants. Parameters CrowdSec knows and occsimore does not need are
// accepted and ignored, as the Local API does.
type csFilter struct {
	scopes, origins, contains, notContains []string
}

func csList(v string) []string {
	var out []string
	for f := range strings.SplitSeq(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, strings.ToLower(f))
		}
	}
	return out
}

func newCSFilter(r *http.Request) csFilter {
	q := r.URL.Query()
	return csFilter{
		scopes:      csList(q.Get("scopes")),
		origins:     csList(q.Get("origins")),
		contains:    csList(q.Get("scenarios_containing")),
		notContains: csList(q.Get("scenarios_not_containing")),
	}
}

// decision converts rm, or reports false when the bouncer should not see it.
func (f csFilter) decision(rm *occsimore.Remediation, now time.Time) (csDecision, bool) {
	scope := csScope(rm.Scope)
	if scope == "" || rm.Action == occsimore.ActionAlert {
		return csDecision{}, false
	}
	origin := csOrigin(rm.Origin)
	scenario := strings.ToLower(rm.Scenario)
	anyIn := func(subs []string) bool {
		return slices.ContainsFunc(subs, func(s string) bool { return strings.Contains(scenario, s) })
	}
	if len(f.scopes) > 0 && !slices.Contains(f.scopes, strings.ToLower(scope)) ||
		len(f.origins) > 0 && !slices.Contains(f.origins, origin) ||
		len(f.contains) > 0 && !anyIn(f.contains) ||
		anyIn(f.notContains) {
		return csDecision{}, false
	}
	until := rm.Until
	if !rm.DeletedAt.IsZero() && rm.DeletedAt.Before(until) {
		until = rm.DeletedAt
	}
	return csDecision{
		ID: rm.ID, Origin: origin, Type: string(rm.Action), Scope: scope, Value: rm.Value,
		Duration: until.Sub(now).Round(time.Millisecond).String(),
		Until:    until.UTC().Format(time.RFC3339), Scenario: rm.Scenario,
	}, true
}

func (f csFilter) convert(rs []*occsimore.Remediation, now time.Time) []csDecision {
	out := []csDecision{}
	for _, rm := range rs {
		if d, ok := f.decision(rm, now); ok {
			out = append(out, d)
		}
	}
	return out
}

// handleCSStream is the Local API's GET /v1/decisions/stream: with
// startup=true every decision in force, then what was added and removed
// since this bouncer's (this token's) last pull.
func (s *Server) handleCSStream(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	startup := false
	if v := r.URL.Query().Get("startup"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return occsimore.FieldErrorf("startup", "startup=%q is not true or false", v)
		}
		startup = b
	}
	if p.TokenID == "" {
		return occsimore.Errorf(occsimore.EFORBIDDEN, "the decision stream needs an API token: each bouncer has its own")
	}
	now := s.Now()
	added, ended, err := s.Attacks.PullRemediations(r.Context(), p.Member.ID, p.TokenID, startup, now)
	if err != nil {
		return fmt.Errorf("crowdsec decision stream: %w", err)
	}
	f := newCSFilter(r)
	s.writeJSON(w, r, http.StatusOK, csStream{New: f.convert(added, now), Deleted: f.convert(ended, now)})
	return nil
}

// handleCSDecisions is the Local API's GET /v1/decisions, which bouncers in
// live mode call per request: the decisions in force for ip= (its own and
// those of ranges holding it), range=, or scope= and value=, of type=.
// None is a JSON null, as the Local API answers.
func (s *Server) handleCSDecisions(w http.ResponseWriter, r *http.Request) error {
	p := occsimore.PrincipalFromContext(r.Context())
	q := r.URL.Query()
	var ip netip.Addr
	var prefix netip.Prefix
	if v := q.Get("ip"); v != "" {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return occsimore.FieldErrorf("ip", "ip=%q is not an IP address", v)
		}
		ip = a.Unmap()
	}
	if v := q.Get("range"); v != "" {
		pf, err := netip.ParsePrefix(v)
		if err != nil {
			return occsimore.FieldErrorf("range", "range=%q is not a CIDR range such as 192.0.2.0/24", v)
		}
		prefix = pf.Masked()
	}
	scope, value, typ := strings.ToLower(q.Get("scope")), q.Get("value"), strings.ToLower(q.Get("type"))
	now := s.Now()
	rs, err := s.Attacks.ActiveRemediations(r.Context(), p.Member.ID, now)
	if err != nil {
		return fmt.Errorf("crowdsec decisions: %w", err)
	}
	f := newCSFilter(r)
	var out []csDecision
	for _, rm := range rs {
		d, ok := f.decision(rm, now)
		if !ok || typ != "" && d.Type != typ || scope != "" && strings.ToLower(d.Scope) != scope || value != "" && d.Value != value {
			continue
		}
		if ip.IsValid() && !covers(rm, netip.PrefixFrom(ip, ip.BitLen())) ||
			prefix.IsValid() && !covers(rm, prefix) {
			continue
		}
		out = append(out, d)
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// covers reports whether the IP or range decision rm applies to all of p.
func covers(rm *occsimore.Remediation, p netip.Prefix) bool {
	switch rm.Scope {
	case occsimore.ScopeIP:
		a, err := netip.ParseAddr(rm.Value)
		return err == nil && p.Bits() == p.Addr().BitLen() && a.Unmap() == p.Addr()
	case occsimore.ScopeRange:
		r, err := netip.ParsePrefix(rm.Value)
		return err == nil && r.Bits() <= p.Bits() && r.Contains(p.Addr())
	}
	return false
}
