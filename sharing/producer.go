// Package sharing joins a member's detections to the consortium and the
// consortium's indicators to the member's events (issue 14's anticipation).
//
// The Producer turns attacks detected in a member's logs and its fraud
// labels into share indicators through the member's policy, converts them to
// STIX and adds them to the sharing group's TAXII collection. The
// Anticipator reads what arrives in the collections a member may read
// (pulled from a peer over TAXII, or published by another tenant of the same
// server), keeps a share.Index per member, matches events against it for the
// pipeline and turns shared attacker addresses into decisions of origin
// consortium on the bouncer streams.
package sharing

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/share"
	"github.com/occsimore/occsimore/stix"
	"github.com/occsimore/occsimore/taxii"
)

// MemberFinder finds a member by id for local wiring (unscoped).
type MemberFinder interface {
	Member(ctx context.Context, id string) (*occsimore.Member, error)
}

// Config configures sharing for every member of a server.
type Config struct {
	// Keyring makes the HMAC tokens of customer-linked identifiers.
	Keyring *share.Keyring
	// Collection is the sharing group's collection members publish into.
	// Empty: nothing is published.
	Collection string
	// TLP is the member policy's TLP per kind; a kind missing is not
	// shared, and TLP:RED is never shared (the policy drops it).
	TLP map[share.Kind]stix.TLP
	// Delay holds indicators back after the detection; zero publishes now.
	Delay time.Duration
	// Validity is how long an indicator stays valid (30 days if zero).
	Validity time.Duration
	// Granularity is how precisely sightings are disclosed (day if empty).
	Granularity share.Granularity
	// Anonymous publishes under the member's sector instead of its name.
	Anonymous bool

	Taxii   taxii.Store
	Members MemberFinder
	Now     func() time.Time
	Logger  *slog.Logger
}

// DefaultTLP is the default policy: attacker addresses at GREEN, and the
// terminals, merchants and devices of fraud at GREEN too, which travel only
// as HMAC tokens. Cards, accounts and customers are not shared: an HMAC
// token is enumerable by any key holder over so small a space, and the
// threat model (docs/sharing.md) gives them only OPRF tokens, which this
// package does not make.
func DefaultTLP() map[share.Kind]stix.TLP {
	return map[share.Kind]stix.TLP{
		share.KindIP: stix.TLPGreen, share.KindCIDR: stix.TLPGreen,
		share.KindTerminal: stix.TLPGreen, share.KindMerchant: stix.TLPGreen,
		share.KindDevice: stix.TLPGreen,
	}
}

// HMACRefused reports the kinds a policy may not share under the HMAC
// keyring (see DefaultTLP).
func HMACRefused(k share.Kind) bool {
	return k == share.KindCard || k == share.KindAccount || k == share.KindCustomer
}

func (c *Config) defaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.TLP == nil {
		c.TLP = DefaultTLP()
	}
}

// Producer publishes a member's attacks and fraud labels as indicators.
type Producer struct {
	cfg Config
}

// NewProducer returns a producer; cfg.Keyring, cfg.Taxii and cfg.Members
// are required.
func NewProducer(cfg Config) (*Producer, error) {
	cfg.defaults()
	if cfg.Keyring == nil || cfg.Taxii == nil || cfg.Members == nil {
		return nil, fmt.Errorf("sharing: keyring, TAXII store and members are required")
	}
	return &Producer{cfg: cfg}, nil
}

// Policy is the member's sharing policy: one rule per kind of the
// configured TLPs, for attacks, decisions and labels alike.
func (p *Producer) Policy(m *occsimore.Member) *share.Policy {
	pol := &share.Policy{
		Source:      share.Source{Member: m.ID, Name: m.Name, Organization: m.Slug, Sector: m.Sector, Anonymous: p.cfg.Anonymous},
		Granularity: p.cfg.Granularity,
		Validity:    p.cfg.Validity,
	}
	for _, k := range share.Kinds {
		if tlp, ok := p.cfg.TLP[k]; ok && !HMACRefused(k) {
			pol.Rules = append(pol.Rules, share.Rule{Kinds: []share.Kind{k}, TLP: tlp, Delay: p.cfg.Delay})
		}
	}
	return pol
}

// AttackCandidates are the candidates of attacks: the attacking address or
// range (attacks on a user name name a customer account and are not shared).
func AttackCandidates(attacks []*occsimore.Attack) []share.Candidate {
	var out []share.Candidate
	for _, a := range attacks {
		var k share.Kind
		switch a.Scope {
		case occsimore.ScopeIP:
			k = share.KindIP
		case occsimore.ScopeRange:
			k = share.KindCIDR
		default:
			continue
		}
		c := share.Candidate{Origin: share.OriginAttack, Scenario: a.Scenario, Kind: k, Value: a.Source,
			Confidence: 80, At: a.End, Count: max(a.Events, 1), First: a.Start, Last: a.End,
			Attack: &share.AttackPattern{Name: a.Scenario, Scenario: a.Scenario}}
		// The scenario's classification names its ATT&CK technique.
		for _, cl := range strings.Split(a.Labels["classification"], ",") {
			if t, ok := strings.CutPrefix(strings.TrimSpace(cl), "attack."); ok && strings.HasPrefix(t, "T") {
				c.Attack.ExternalID, c.Attack.Source = t, "mitre-attack"
				break
			}
		}
		out = append(out, c)
	}
	return out
}

// LabelCandidates are the candidates of an alert labelled fraud: its
// terminal, merchant, device and card, customer-linked (tokens only; the
// policy does not share cards, see DefaultTLP).
func LabelCandidates(a *occsimore.Alert, at time.Time) []share.Candidate {
	if a.Label != occsimore.LabelFraud {
		return nil
	}
	var out []share.Candidate
	for _, rk := range [...]struct {
		role string
		kind share.Kind
	}{{"terminal", share.KindTerminal}, {"merchant", share.KindMerchant}, {"device", share.KindDevice}, {"card", share.KindCard}} {
		if v := a.Entities[rk.role]; v != "" {
			out = append(out, share.Candidate{Origin: share.OriginLabel, Scenario: "fraud-label", Kind: rk.kind, Value: v,
				Confidence: 90, At: at, Count: 1, First: a.Time, Last: a.Time})
		}
	}
	return out
}

// Publish runs candidates of a member through its policy, TLP enforcement
// and the STIX conversion, and adds what may leave to the collection. It
// returns how many indicators were published. Held and reviewed candidates
// are not published (the review queue is not built: see docs/sharing.md).
func (p *Producer) Publish(ctx context.Context, memberID string, cands []share.Candidate) (int, error) {
	if p.cfg.Collection == "" || len(cands) == 0 {
		return 0, nil
	}
	m, err := p.cfg.Members.Member(ctx, memberID)
	if err != nil {
		return 0, fmt.Errorf("sharing: member %s: %w", memberID, err)
	}
	pol := p.Policy(m)
	now := p.cfg.Now()
	var inds []share.Indicator
	for i := range cands {
		d := pol.Decide(&cands[i], now)
		if d.Action != share.ActionPublish {
			p.cfg.Logger.DebugContext(ctx, "not shared", "member", m.Slug, "kind", cands[i].Kind, "action", d.Action, "reason", d.Reason)
			continue
		}
		ind, err := pol.Build(&cands[i], d, p.cfg.Keyring, now)
		if err != nil {
			p.cfg.Logger.WarnContext(ctx, "indicator not built", "member", m.Slug, "kind", cands[i].Kind, "err", err)
			continue
		}
		inds = append(inds, ind)
	}
	// The collection is the consortium's: GREEN and CLEAR go; AMBER only to
	// named members, which a shared collection cannot tell apart, so not.
	inds, refused := share.FilterExport(inds, share.Recipient{Consortium: true})
	for _, r := range refused {
		p.cfg.Logger.DebugContext(ctx, "not exported", "member", m.Slug, "indicator", r.ID, "reason", r.Reason)
	}
	if len(inds) == 0 {
		return 0, nil
	}
	objs, err := share.ToSTIX(inds)
	if err != nil {
		return 0, fmt.Errorf("sharing: to STIX: %w", err)
	}
	tobjs := make([]taxii.Object, 0, len(objs))
	for _, o := range objs {
		raw, err := stix.Marshal(o)
		if err != nil {
			return 0, fmt.Errorf("sharing: %s: %w", o.ObjectID(), err)
		}
		to, err := taxii.ParseObject(json.RawMessage(raw))
		if err != nil {
			return 0, fmt.Errorf("sharing: %s: %w", o.ObjectID(), err)
		}
		tobjs = append(tobjs, to)
	}
	outs, err := p.cfg.Taxii.AddObjects(ctx, memberID, p.cfg.Collection, tobjs, now)
	if err != nil {
		return 0, fmt.Errorf("sharing: add to collection %s: %w", p.cfg.Collection, err)
	}
	for _, o := range outs {
		if o.Err != nil {
			p.cfg.Logger.WarnContext(ctx, "shared object refused", "member", m.Slug, "object", o.ID, "err", o.Err)
		}
	}
	p.cfg.Logger.InfoContext(ctx, "indicators shared", "member", m.Slug, "indicators", len(inds), "collection", p.cfg.Collection)
	return len(inds), nil
}

// Attacks wraps the attack store so that the attacks logs detect are
// published once stored. A publishing failure is logged: detection and
// decisions go on.
type Attacks struct {
	occsimore.AttackService
	Producer *Producer
	Logger   *slog.Logger
}

// CreateAttacks stores the attacks, then publishes them.
func (a Attacks) CreateAttacks(ctx context.Context, memberID string, attacks []*occsimore.Attack) error {
	if err := a.AttackService.CreateAttacks(ctx, memberID, attacks); err != nil {
		return err
	}
	if _, err := a.Producer.Publish(ctx, memberID, AttackCandidates(attacks)); err != nil && a.Logger != nil {
		a.Logger.ErrorContext(ctx, "share attacks", "member", memberID, "err", err)
	}
	return nil
}

// Events wraps the event service so that fraud labels are published.
type Events struct {
	occsimore.EventService
	Producer *Producer
	Logger   *slog.Logger
}

// Label labels the alert, then publishes its customer-linked identifiers
// as tokens when the label is fraud.
func (e Events) Label(ctx context.Context, memberID, alertID string, label occsimore.Label, by string) (*occsimore.Alert, error) {
	a, err := e.EventService.Label(ctx, memberID, alertID, label, by)
	if err != nil {
		return a, err
	}
	if _, err := e.Producer.Publish(ctx, memberID, LabelCandidates(a, e.Producer.cfg.Now())); err != nil && e.Logger != nil {
		e.Logger.ErrorContext(ctx, "share label", "member", memberID, "err", err)
	}
	return a, nil
}
