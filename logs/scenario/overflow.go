package scenario

import (
	"maps"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/remediation"
)

// Attack turns o into an attack of memberID, with a new ID and CreatedAt
// now. GeoIP fields (Country, ASN) are left for the caller's enrichment.
func (o *Overflow) Attack(memberID string, now time.Time) *occsimore.Attack {
	a := &occsimore.Attack{
		ID:        occsimore.NewID("atk"),
		MemberID:  memberID,
		Scenario:  o.Scenario,
		Scope:     o.Scope,
		Source:    o.Source,
		Host:      o.Host,
		Start:     o.First,
		End:       o.Last,
		Events:    o.Events,
		Message:   o.Message,
		CreatedAt: now,
	}
	a.Labels = maps.Clone(o.Labels)
	return a
}

// Remediation turns o into the decision its scenario asks for, in force
// from the overflow until o.Last plus the scenario's remediation duration.
// attackID may be empty. The store assigns ID and CreatedAt.
func (o *Overflow) Remediation(memberID, attackID string) *occsimore.Remediation {
	return &occsimore.Remediation{
		MemberID: memberID,
		Action:   o.Action,
		Scope:    o.Scope,
		Value:    o.Source,
		Scenario: o.Scenario,
		Origin:   remediation.OriginLogs,
		AttackID: attackID,
		Attacks:  1,
		Until:    o.Last.Add(o.Duration),
	}
}
