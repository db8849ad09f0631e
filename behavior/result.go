package behavior

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Sizes of a Result's fixed arrays.
const (
	MaxReasons  = 8
	MaxFeatures = 96
)

// Decision is what a score means for the event.
type Decision uint8

const (
	Allow Decision = iota
	Review
	Block
)

var decisionNames = [...]string{Allow: "allow", Review: "review", Block: "block"}

func (d Decision) String() string {
	if int(d) < len(decisionNames) {
		return decisionNames[d]
	}
	return "decision(" + strconv.Itoa(int(d)) + ")"
}

// MarshalText writes "allow", "review" or "block".
func (d Decision) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "allow", "review" or "block".
func (d *Decision) UnmarshalText(b []byte) error {
	for i, n := range decisionNames {
		if n == string(b) {
			*d = Decision(i)
			return nil
		}
	}
	return fmt.Errorf("decision %q is not allow, review or block", b)
}

// Result is what Process and Score fill in. The caller owns it and may reuse
// it for every event: nothing in it is allocated per event.
type Result struct {
	Kind     string
	Score    float64 // nats: the sum of feature contributions
	Decision Decision
	// Reasons holds the NReasons largest positive contributions, largest
	// first.
	Reasons  [MaxReasons]Reason
	NReasons int
	// Features is the per-event feature vector, named by
	// Engine.FeatureNames(Kind). Missing values (a role absent from the
	// event, no history yet) are NaN.
	Features  [MaxFeatures]float32
	NFeatures int
}

// TopReasons returns the reasons, largest contribution first.
func (r *Result) TopReasons() []Reason { return r.Reasons[:r.NReasons] }

// FeatureVector returns the features of the event.
func (r *Result) FeatureVector() []float32 { return r.Features[:r.NFeatures] }

// HasReason reports whether code is among the first n reasons.
func (r *Result) HasReason(code string, n int) bool {
	for i := 0; i < r.NReasons && i < n; i++ {
		if r.Reasons[i].Code == code {
			return true
		}
	}
	return false
}

// addReason keeps the MaxReasons largest contributions, sorted.
func (r *Result) addReason(x *Reason) {
	n := r.NReasons
	if n == MaxReasons {
		if x.Contribution <= r.Reasons[n-1].Contribution {
			return
		}
		n--
	}
	i := n
	for i > 0 && r.Reasons[i-1].Contribution < x.Contribution {
		r.Reasons[i] = r.Reasons[i-1]
		i--
	}
	r.Reasons[i] = *x
	r.NReasons = n + 1
}

// reasonForm selects the sentence a Reason renders.
type reasonForm uint8

const (
	formNumeric reasonForm = iota + 1
	formNew
	formHour
	formDay
	formVelocity
	formTravel
	formRisk
	formGap
	formRatio // a numeric value on a log scale, as a multiple of the usual
)

// Reason explains one contribution to a score with the numbers behind it.
// It holds no allocated data: codes and roles point to the engine's
// compiled strings and Text to the event's own value. The sentence is
// rendered only when asked for, by String or AppendText.
type Reason struct {
	Code         string  // stable: "amount_high", "new_country", "impossible_travel"...
	Role         string  // the entity whose habit broke: "card", "user"...
	Attr         string  // the attribute, if any: "amount", "country"...
	Contribution float64 // nats added to the score, after weights
	// The numbers behind the reason; their meaning depends on Code.
	Value    float64       // observed: amount, hour, count, km/h, rate; the ASN of a new_asn
	Baseline float64       // expected: usual mean, peer share, usual count, population rate
	Sigma    float64       // z-score of a numeric value
	Share    float64       // share of the entity's most frequent value, or of its events at this hour
	Count    float64       // distance in km, labelled events
	Window   time.Duration // velocity window, time since the previous location
	Text     string        // the event's value ("BR"), sharing the event's string
	Top      string        // the entity's most frequent value, when known ("FR")
	form     reasonForm
	topKey   uint64
	noun     string // RoleSpec.Noun, when it differs from Role
}

// String renders the reason as a sentence.
func (r Reason) String() string { return string(r.AppendText(nil)) }

// MarshalJSON writes the numbers and the sentence.
func (r Reason) MarshalJSON() ([]byte, error) {
	type plain struct {
		Code         string  `json:"code"`
		Role         string  `json:"role"`
		Attr         string  `json:"attr,omitempty"`
		Contribution float64 `json:"contribution"`
		Value        float64 `json:"value"`
		Baseline     float64 `json:"baseline"`
		Sigma        float64 `json:"sigma,omitempty"`
		Share        float64 `json:"share,omitempty"`
		Count        float64 `json:"count,omitempty"`
		Window       string  `json:"window,omitempty"`
		Text         string  `json:"text,omitempty"`
		Top          string  `json:"top,omitempty"`
		Message      string  `json:"message"`
	}
	p := plain{Code: r.Code, Role: r.Role, Attr: r.Attr, Contribution: finite(r.Contribution), Value: finite(r.Value),
		Baseline: finite(r.Baseline), Sigma: finite(r.Sigma), Share: finite(r.Share), Count: finite(r.Count),
		Text: r.Text, Top: r.Top, Message: r.String()}
	if r.Window != 0 {
		p.Window = string(appendDuration(nil, r.Window))
	}
	return json.Marshal(p)
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

var weekdays = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// AppendText appends the sentence to dst, for example
// "amount 412.50 is 7.9σ above this card's usual 48.20".
func (r Reason) AppendText(dst []byte) []byte {
	switch r.form {
	case formNumeric:
		dst = append(dst, r.attrName()...)
		dst = append(dst, ' ')
		dst = strconv.AppendFloat(dst, r.Value, 'f', 2, 64)
		dst = append(dst, " is "...)
		dst = strconv.AppendFloat(dst, math.Abs(r.Sigma), 'f', 1, 64)
		if r.Sigma >= 0 {
			dst = append(dst, "σ above this "...)
		} else {
			dst = append(dst, "σ below this "...)
		}
		dst = append(dst, r.subject()...)
		dst = append(dst, "'s usual "...)
		dst = strconv.AppendFloat(dst, r.Baseline, 'f', 2, 64)
	case formRatio:
		dst = append(dst, r.attrName()...)
		dst = append(dst, ' ')
		dst = strconv.AppendFloat(dst, r.Value, 'f', 2, 64)
		dst = append(dst, " is "...)
		if r.Value >= r.Baseline || r.Value <= 0 {
			dst = strconv.AppendFloat(dst, r.Value/max(r.Baseline, 0.01), 'f', 1, 64)
			dst = append(dst, "x this "...)
		} else {
			dst = append(dst, "1/"...)
			dst = strconv.AppendFloat(dst, max(r.Baseline, 0.01)/r.Value, 'f', 1, 64)
			dst = append(dst, " of this "...)
		}
		dst = append(dst, r.subject()...)
		dst = append(dst, "'s usual "...)
		dst = strconv.AppendFloat(dst, r.Baseline, 'f', 2, 64)
		dst = append(dst, " ("...)
		dst = strconv.AppendFloat(dst, math.Abs(r.Sigma), 'f', 1, 64)
		dst = append(dst, "σ)"...)
	case formNew:
		dst = append(dst, r.attrName()...)
		dst = append(dst, ' ')
		dst = r.appendValue(dst)
		dst = append(dst, " is new for this "...)
		dst = append(dst, r.subject()...)
		if r.Top != "" {
			dst = append(dst, " (top: "...)
			dst = append(dst, r.Top...)
			dst = append(dst, ' ')
		} else {
			dst = append(dst, " (its most frequent value has "...)
		}
		dst = appendPercent(dst, r.Share)
		dst = append(dst, ')')
	case formHour, formDay:
		if r.form == formHour {
			dst = append(dst, "time "...)
			dst = appendClock(dst, r.Value)
		} else if d := int(r.Value); d >= 0 && d < len(weekdays) {
			dst = append(dst, weekdays[d]...)
		}
		dst = append(dst, " is unusual for this "...)
		dst = append(dst, r.subject()...)
		dst = append(dst, ": "...)
		dst = appendPercent(dst, r.Share)
		dst = append(dst, " of its events vs "...)
		dst = appendPercent(dst, r.Baseline)
		dst = append(dst, " for its peers"...)
		if r.form == formHour && r.Sigma != 0 {
			dst = append(dst, "; usually around "...)
			dst = appendClock(dst, r.Count)
			dst = append(dst, ", "...)
			dst = strconv.AppendFloat(dst, math.Abs(r.Sigma), 'f', 1, 64)
			dst = append(dst, "σ away"...)
		}
	case formVelocity:
		dst = strconv.AppendFloat(dst, r.Value, 'f', 1, 64)
		switch r.Code {
		case "failure_burst":
			dst = append(dst, " failures"...)
		case "success_burst":
			dst = append(dst, " successes"...)
		default:
			if r.Attr != "" {
				dst = append(dst, " new "...)
				dst = append(dst, r.attrName()...)
				dst = append(dst, 's')
			} else {
				dst = append(dst, " events"...)
			}
		}
		dst = append(dst, " in the last "...)
		dst = appendDuration(dst, r.Window)
		dst = append(dst, " for this "...)
		dst = append(dst, r.subject()...)
		dst = append(dst, ", usual "...)
		dst = appendSmall(dst, r.Baseline)
	case formTravel:
		dst = append(dst, "travel of "...)
		dst = appendGrouped(dst, r.Count)
		dst = append(dst, " km in "...)
		dst = appendDuration(dst, r.Window)
		if r.Top != "" {
			dst = append(dst, " from "...)
			dst = append(dst, r.Top...)
		}
		dst = append(dst, " requires "...)
		dst = appendGrouped(dst, r.Value)
		dst = append(dst, " km/h"...)
	case formRisk:
		dst = append(dst, r.subject()...)
		dst = append(dst, " fraud rate "...)
		dst = appendPercent(dst, r.Value)
		dst = append(dst, " over "...)
		dst = strconv.AppendFloat(dst, r.Count, 'f', 0, 64)
		dst = append(dst, " labelled events (population "...)
		dst = appendPercent(dst, r.Baseline)
		dst = append(dst, ')')
	case formGap:
		dst = appendDuration(dst, time.Duration(r.Value*float64(time.Second)))
		dst = append(dst, " since this "...)
		dst = append(dst, r.subject()...)
		dst = append(dst, "'s previous event, usually "...)
		dst = appendDuration(dst, time.Duration(r.Baseline*float64(time.Second)))
	default:
		dst = append(dst, r.Code...)
	}
	return dst
}

// subject names the entity in sentences: its role's noun, else the role.
func (r Reason) subject() string {
	if r.noun != "" {
		return r.noun
	}
	return r.Role
}

// attrName is the attribute as a sentence shows it, without the "attrs." or
// "entity." of member-defined attributes: "region", not "attrs.region".
func (r Reason) attrName() string {
	if a, ok := parseAttr(r.Attr); ok {
		return a.short()
	}
	return r.Attr
}

func (r Reason) appendValue(dst []byte) []byte {
	switch {
	case r.Text != "":
		return append(dst, r.Text...)
	case r.Attr == "asn":
		dst = append(dst, "AS"...)
		return strconv.AppendUint(dst, uint64(r.Value), 10)
	}
	return append(dst, '?')
}

// appendClock writes hours as "03:40".
func appendClock(dst []byte, h float64) []byte {
	m := int(math.Round(h*60)) % (24 * 60)
	if m < 0 {
		m += 24 * 60
	}
	dst = append(dst, byte('0'+m/600), byte('0'+m/60%10), ':', byte('0'+m%60/10), byte('0'+m%10))
	return dst
}

// appendPercent writes a share as "92%", "1.2%" or "0.08%".
func appendPercent(dst []byte, share float64) []byte {
	p := share * 100
	switch {
	case p >= 9.95 || p == 0:
		dst = strconv.AppendFloat(dst, p, 'f', 0, 64)
	case p >= 0.995:
		dst = strconv.AppendFloat(dst, p, 'f', 1, 64)
	default:
		dst = strconv.AppendFloat(dst, p, 'f', 2, 64)
	}
	return append(dst, '%')
}

// appendSmall writes an expected count: "0.0014", "0.25", "12.0".
func appendSmall(dst []byte, v float64) []byte {
	if v >= 10 || v == 0 {
		return strconv.AppendFloat(dst, v, 'f', 1, 64)
	}
	return strconv.AppendFloat(dst, v, 'g', 2, 64)
}

// appendGrouped writes v rounded to an integer with thousands separators:
// "9,000".
func appendGrouped(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) >= 1e18 {
		return strconv.AppendFloat(dst, v, 'g', 3, 64)
	}
	n := int64(math.Round(v))
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	var buf [24]byte
	i := len(buf)
	for d := 0; ; d++ {
		if d > 0 && d%3 == 0 {
			i--
			buf[i] = ','
		}
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

// appendDuration writes a compact duration with at most two units: "45s",
// "25m", "1h", "2h30m", "3d", "1d6h".
func appendDuration(dst []byte, d time.Duration) []byte {
	if d < 0 {
		dst = append(dst, '-')
		d = -d
	}
	s := int64(d.Round(time.Second) / time.Second)
	if s == 0 {
		return append(dst, "0s"...)
	}
	units := [...]struct {
		n    int64
		name byte
	}{{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}}
	written := 0
	for _, u := range units {
		if written == 2 {
			break
		}
		if q := s / u.n; q > 0 {
			dst = strconv.AppendInt(dst, q, 10)
			dst = append(dst, u.name)
			s -= q * u.n
			written++
		} else if written > 0 {
			break // "1d" rather than "1d0h"; "2h30m" keeps adjacent units only
		}
	}
	return dst
}
