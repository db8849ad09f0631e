package share

import (
	"fmt"
	"slices"
	"time"

	"github.com/occsimore/occsimore/stix"
)

// Origin is what at the member produced a candidate indicator.
type Origin string

const (
	OriginAttack   Origin = "attack"   // a detected attack (log detection)
	OriginDecision Origin = "decision" // a decision (ban, captcha) on an IP or range
	OriginLabel    Origin = "label"    // an analyst's fraud label on an alert
)

// Candidate is something that happened at a member and may become an
// indicator. Value is clear here: the member's own data, inside the member.
type Candidate struct {
	Origin     Origin
	Scenario   string // detection scenario or fraud scenario, e.g. "ssh-bf", "card-testing"
	Kind       Kind
	Value      string
	HashAlgo   string
	Params     [][2]string
	Confidence int
	At         time.Time // when it was detected, decided or labelled
	Count      int       // how many times the member saw it
	First      time.Time
	Last       time.Time
	Attack     *AttackPattern
}

// Rule says which candidates a member shares and how. Empty Origins,
// Scenarios or Kinds match any.
type Rule struct {
	Origins       []Origin
	Scenarios     []string
	Kinds         []Kind
	MinConfidence int
	TLP           stix.TLP
	// Delay holds an indicator back after the candidate happened (e.g. so
	// that an ongoing investigation is not tipped off).
	Delay time.Duration
	// Review sends the indicator to the member's review queue instead of
	// publishing it.
	Review bool
	// Validity is how long the indicator stays valid; zero uses the policy's.
	Validity time.Duration
}

func (r *Rule) matches(c *Candidate) bool {
	return (len(r.Origins) == 0 || slices.Contains(r.Origins, c.Origin)) &&
		(len(r.Scenarios) == 0 || slices.Contains(r.Scenarios, c.Scenario)) &&
		(len(r.Kinds) == 0 || slices.Contains(r.Kinds, c.Kind)) &&
		c.Confidence >= r.MinConfidence
}

// Policy is a member's sharing policy. Rules are tried in order; the first
// that matches decides; a candidate no rule matches is not shared (sharing is
// opt-in).
type Policy struct {
	Source      Source
	Granularity Granularity
	// ShareWith names the members TLP:AMBER indicators may go to.
	ShareWith []string
	Rules     []Rule
	// Validity is the default lifetime of an indicator (30 days if zero).
	Validity time.Duration
}

// Action is what the policy does with a candidate.
type Action string

const (
	ActionDrop    Action = "drop"    // not shared
	ActionHold    Action = "hold"    // shared at PublishAt, after the rule's delay
	ActionReview  Action = "review"  // into the review queue
	ActionPublish Action = "publish" // shared now
)

// Decision is the policy's verdict on a candidate at a given time.
type Decision struct {
	Action    Action
	Rule      int // index of the matching rule, -1 when none
	TLP       stix.TLP
	PublishAt time.Time // earliest time it may be published
	Reason    string
}

// Decide applies the policy to a candidate at now. It is a pure function:
// calling it again later (with the same candidate) turns a hold into a
// publish once the delay has passed.
func (p *Policy) Decide(c *Candidate, now time.Time) Decision {
	for i := range p.Rules {
		r := &p.Rules[i]
		if !r.matches(c) {
			continue
		}
		d := Decision{Rule: i, TLP: r.TLP, PublishAt: c.At.Add(r.Delay)}
		switch {
		case r.TLP < stix.TLPClear || r.TLP > stix.TLPRed:
			d.Action, d.Reason = ActionDrop, fmt.Sprintf("rule %d has no TLP", i)
		case r.TLP == stix.TLPRed:
			// RED never leaves: an indicator nobody may receive is not made.
			d.Action, d.Reason = ActionDrop, fmt.Sprintf("rule %d marks it TLP:RED, which never leaves", i)
		case r.Review:
			d.Action, d.Reason = ActionReview, fmt.Sprintf("rule %d requires review", i)
		case now.Before(d.PublishAt):
			d.Action, d.Reason = ActionHold, fmt.Sprintf("rule %d delays it by %s", i, r.Delay)
		default:
			d.Action, d.Reason = ActionPublish, fmt.Sprintf("rule %d", i)
		}
		return d
	}
	return Decision{Action: ActionDrop, Rule: -1, Reason: "no rule shares it"}
}

// Tokenizer turns a customer-linked identifier into a token; Keyring and
// the OPRF client both do.
type Tokenizer interface {
	Token(kind Kind, clear string, now time.Time) (Token, error)
}

// Build makes the indicator a decision allows (publish, hold or review):
// the value normalised, and tokenised when customer-linked, so the clear
// identifier goes no further than this call; sightings at the member's
// granularity; the source anonymised if the member chose it.
func (p *Policy) Build(c *Candidate, d Decision, tok Tokenizer, now time.Time) (Indicator, error) {
	if d.Action == ActionDrop {
		return Indicator{}, fmt.Errorf("policy dropped it: %s", d.Reason)
	}
	r := &p.Rules[d.Rule]
	v, err := NormalizeValue(c.Kind, c.Value)
	if err != nil {
		return Indicator{}, err
	}
	if c.Kind.CustomerLinked() {
		if tok == nil {
			return Indicator{}, fmt.Errorf("%s indicator needs a tokenizer", c.Kind)
		}
		t, err := tok.Token(c.Kind, v, now)
		if err != nil {
			return Indicator{}, err
		}
		v = t.String()
	}
	validity := r.Validity
	if validity == 0 {
		validity = p.Validity
	}
	if validity == 0 {
		validity = 30 * 24 * time.Hour
	}
	src := p.Source
	if src.Anonymous {
		src = Source{Anonymous: true, Sector: p.Source.Sector}
	}
	g := p.Granularity
	if g == "" {
		g = GranularityDay
	}
	from := g.Coarsen(c.At)
	ind := Indicator{
		Kind: c.Kind, Value: v, HashAlgo: c.HashAlgo, Params: c.Params, Confidence: c.Confidence,
		ValidFrom: from, ValidUntil: from.Add(validity), TLP: d.TLP, Source: src,
		Created: now.UTC(), Modified: now.UTC(),
	}
	if d.TLP == stix.TLPAmber {
		ind.ShareWith = slices.Clone(p.ShareWith)
	}
	if c.Attack != nil {
		ind.AttackPatterns = []AttackPattern{*c.Attack}
	}
	if c.Count > 0 {
		by := p.Source.Member
		if p.Source.Anonymous {
			by = "sector:" + p.Source.Sector
		}
		first, last := c.First, c.Last
		if first.IsZero() {
			first = c.At
		}
		if last.IsZero() {
			last = c.At
		}
		ind.Sightings = []Sighting{{By: by, Count: c.Count, First: g.Coarsen(first), Last: g.Coarsen(last)}}
	}
	ind.ID = IndicatorID(&ind)
	return ind, ind.Validate()
}

// IndicatorID is the stable STIX id of an indicator: derived from its source
// label, kind and value (a token for customer-linked kinds, so the id leaks
// nothing the value does not).
func IndicatorID(ind *Indicator) string {
	return stix.DerivedID("indicator", ind.Source.Label(), string(ind.Kind), ind.HashAlgo, ind.Value)
}

// Validate checks a policy as a member saves it, naming the rule at fault.
func (p *Policy) Validate() error {
	if !p.Source.Anonymous && p.Source.Member == "" {
		return fmt.Errorf("policy: the source member is required")
	}
	if p.Source.Anonymous && p.Source.Sector == "" {
		return fmt.Errorf("policy: an anonymous member must name its sector")
	}
	switch p.Granularity {
	case "", GranularityExact, GranularityHour, GranularityDay:
	default:
		return fmt.Errorf("policy: granularity %q is not exact, hour or day", p.Granularity)
	}
	if p.Validity < 0 {
		return fmt.Errorf("policy: validity %s is negative", p.Validity)
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		switch {
		case r.TLP < stix.TLPClear || r.TLP > stix.TLPRed:
			return fmt.Errorf("policy: rule %d: TLP is unset", i)
		case r.TLP == stix.TLPRed:
			return fmt.Errorf("policy: rule %d: TLP:RED never leaves the member, so a rule cannot share at RED", i)
		case r.Delay < 0 || r.Validity < 0:
			return fmt.Errorf("policy: rule %d: delay and validity must not be negative", i)
		case r.MinConfidence < 0 || r.MinConfidence > 100:
			return fmt.Errorf("policy: rule %d: minimum confidence %d is outside 0..100", i, r.MinConfidence)
		}
		for _, k := range r.Kinds {
			if !k.valid() {
				return fmt.Errorf("policy: rule %d: kind %q is unknown", i, k)
			}
		}
		for _, o := range r.Origins {
			if o != OriginAttack && o != OriginDecision && o != OriginLabel {
				return fmt.Errorf("policy: rule %d: origin %q is not attack, decision or label", i, o)
			}
		}
	}
	return nil
}
