// Package remediation checks remediations and exports those in force for
// blockers: plain text, JSON and an nftables script. It is pure: writers take
// an io.Writer and the caller decides where the bytes go.
package remediation

import (
	"math"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/occsimore/occsimore"
)

// Origins a remediation may come from.
const (
	OriginLogs       = "logs"       // a scenario overflowed in the member's logs
	OriginConsortium = "consortium" // an indicator shared by another member of the consortium
	OriginManual     = "manual"     // an analyst's decision
	// OriginForced is an admin's decision on a range wider than the bounds
	// below, made with force: the only way such a range reaches a firewall.
	OriginForced = "forced"
)

// The widest ranges a decision may cover without force: a /16 is 65,536
// IPv4 addresses, a /32 an IPv6 allocation to a whole provider. Wider ranges
// (up to 0.0.0.0/0 and ::/0, which block everyone) are refused unless an
// admin forces them, and the nftables export leaves out any that were not
// forced, whatever their origin.
const (
	MinRangeBits4 = 16
	MinRangeBits6 = 32
)

// TooWide reports whether a remediation of scope with canonical value
// covers more addresses than MinRangeBits4 or MinRangeBits6 allow.
func TooWide(scope occsimore.Scope, value string) bool {
	if scope != occsimore.ScopeRange {
		return false
	}
	p, err := netip.ParsePrefix(value)
	if err != nil {
		return false
	}
	if p.Addr().Is4() {
		return p.Bits() < MinRangeBits4
	}
	return p.Bits() < MinRangeBits6
}

// Limits on what a remediation may carry.
const (
	MaxValueLen    = 256
	MaxScenarioLen = 128
)

// ParseValue checks that s is a value of scope and returns its canonical
// form, the one stored and exported: an IP address without zone (an IPv4
// address mapped into IPv6 becomes IPv4), a CIDR prefix without host bits,
// or a user name without control characters. Errors name the field "value".
func ParseValue(scope occsimore.Scope, s string) (string, error) {
	switch scope {
	case occsimore.ScopeIP:
		a, err := netip.ParseAddr(s)
		if err != nil {
			return "", occsimore.FieldErrorf("value", "%q is not an IP address", s)
		}
		if a.Zone() != "" {
			return "", occsimore.FieldErrorf("value", "IP address %q must not have a zone", s)
		}
		return a.Unmap().String(), nil
	case occsimore.ScopeRange:
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return "", occsimore.FieldErrorf("value", "%q is not a CIDR range such as 192.0.2.0/24", s)
		}
		if p != p.Masked() {
			return "", occsimore.FieldErrorf("value", "range %q has host bits set; did you mean %s?", s, p.Masked())
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.String(), nil
	case occsimore.ScopeUser:
		switch {
		case s == "" || len(s) > MaxValueLen:
			return "", occsimore.FieldErrorf("value", "a user name is 1 to %d bytes", MaxValueLen)
		case !utf8.ValidString(s):
			return "", occsimore.FieldErrorf("value", "user name %q is not valid UTF-8", s)
		case strings.ContainsFunc(s, unicode.IsControl):
			// A newline would split the value in the text export.
			return "", occsimore.FieldErrorf("value", "user name %q contains a control character", s)
		}
		return s, nil
	}
	return "", occsimore.FieldErrorf("scope", "scope %q is not ip, range or user", scope)
}

// Check validates the fields of r a caller supplies: a known action, scope
// and origin, a value in the canonical form ParseValue returns, a scenario,
// and an end.
func Check(r *occsimore.Remediation) error {
	switch {
	case r == nil:
		return occsimore.Errorf(occsimore.EINVALID, "remediation is nil")
	case !r.Action.Valid():
		return occsimore.FieldErrorf("action", "action %q is not ban, captcha or alert", r.Action)
	case !r.Scope.Valid():
		return occsimore.FieldErrorf("scope", "scope %q is not ip, range or user", r.Scope)
	case r.Origin != OriginLogs && r.Origin != OriginConsortium && r.Origin != OriginManual && r.Origin != OriginForced:
		return occsimore.FieldErrorf("origin", "origin %q is not logs, consortium, manual or forced", r.Origin)
	case r.Scenario == "" || len(r.Scenario) > MaxScenarioLen:
		return occsimore.FieldErrorf("scenario", "scenario is required and at most %d bytes", MaxScenarioLen)
	case !utf8.ValidString(r.Scenario):
		return occsimore.FieldErrorf("scenario", "scenario is not valid UTF-8")
	case r.Until.IsZero():
		return occsimore.FieldErrorf("until", "until is required")
	}
	v, err := ParseValue(r.Scope, r.Value)
	if err != nil {
		return err
	}
	if v != r.Value {
		return occsimore.FieldErrorf("value", "value %q is not in canonical form %q", r.Value, v)
	}
	return nil
}

// Remaining is how long r stays in force after now, rounded up to a whole
// second so that an export never ends a remediation early; zero if it has
// ended.
func Remaining(r *occsimore.Remediation, now time.Time) time.Duration {
	if !r.Active(now) {
		return 0
	}
	// The largest whole second a Duration holds: Sub saturates far in the
	// future, and rounding up beyond it would overflow.
	const maxSecond = math.MaxInt64 / time.Second * time.Second
	d := r.Until.Sub(now)
	if d > maxSecond {
		return maxSecond
	}
	if part := d % time.Second; part != 0 {
		d += time.Second - part
	}
	return d
}
