package behavior

import "time"

// cloudSpec is the built-in "cloud.api" spec: calls to a cloud provider's
// API, one event per audit record, as scenario.CloudEvent maps AWS
// CloudTrail. The user is the calling identity (an IAM user or role ARN) and
// the ip its source address; the attributes are attrs.api ("iam:CreateAccessKey"),
// attrs.region ("eu-west-1"), attrs.service ("iam"), the client family in
// user_agent ("aws-cli/2"), country and asn from GeoIP, and success (the call
// returned no error).
//
// A stolen key or a hijacked session breaks the identity's habits: it calls
// APIs and regions the identity never used (iam:CreateAccessKey, then
// ec2:RunInstances in a far region), from a new client and network, at an
// unusual hour, in a burst, often with a trail of AccessDenied while it
// probes its permissions.
func cloudSpec() Spec {
	hl30 := days(30)
	return Spec{
		Kind:       "cloud.api",
		Thresholds: Thresholds{Review: 8, Block: 16},
		Roles: []RoleSpec{
			{
				Role: "user",
				Noun: "identity",
				Categorical: []CategoricalSpec{
					// An identity often calls a few dozen APIs: keep as many
					// as a profile allows. Its own rate of new APIs keeps a
					// developer who tries new ones from being flagged for it.
					// Its seen filter remembers the APIs beyond the top K, so
					// that a run of never-called ones stands out below.
					{Attr: "attrs.api", TopK: MaxTopK, HalfLife: hl30, Seen: 512, Group: "api"},
					{Attr: "attrs.region", TopK: 4, HalfLife: hl30, Population: true},
					// A new service always comes with a new API, already
					// counted: half weight.
					{Attr: "attrs.service", TopK: 8, HalfLife: hl30, Population: true, Weight: 0.5, Group: "api"},
					{Attr: "user_agent", TopK: 4, HalfLife: hl30, Population: true},
					{Attr: "country", TopK: 4, HalfLife: hl30, Population: true, Group: "network"},
					{Attr: "asn", TopK: 4, HalfLife: hl30, Population: true, Group: "network"},
					// The address itself, for trails without GeoIP; half
					// weight, as it mostly repeats the ASN and country.
					{Attr: "ip", TopK: 6, HalfLife: hl30, Weight: 0.5, Seen: 256, Group: "network"},
				},
				Hours: &HoursSpec{},
				// API calls come in bursts (one CLI command or deployment
				// makes several), far above an identity's mean rate over
				// nights and weekends: only a flood of calls is evidence,
				// such as a script enumerating an account with a stolen key.
				// Probing permissions leaves a trail of AccessDenied.
				Velocity: []VelocitySpec{
					{Windows: []Duration{Duration(10 * time.Minute), Duration(time.Hour)}, MinExpected: 30},
					{Windows: []Duration{Duration(10 * time.Minute), Duration(time.Hour), days(1)}, Only: "failure", MinExpected: 2},
					// A stolen key enumerates: many APIs the identity never
					// called, in a short time.
					{Windows: []Duration{Duration(10 * time.Minute), Duration(time.Hour), days(1)}, NewOf: "attrs.api", MinExpected: 1},
				},
				// API calls come in bursts separated by nights: the gap is
				// a feature for models, not evidence on its own.
				Gap: &GapSpec{HalfLife: hl30, Mute: true},
			},
			{
				// An address mostly repeats what its identities' profiles say.
				Role:   "ip",
				Weight: 0.5,
				Categorical: []CategoricalSpec{
					{Attr: "user", TopK: 4, HalfLife: days(7)},
				},
				Velocity: []VelocitySpec{
					{Windows: []Duration{Duration(10 * time.Minute), Duration(time.Hour)}, MinExpected: 30},
					{Windows: []Duration{Duration(10 * time.Minute), Duration(time.Hour)}, Only: "failure", MinExpected: 2},
				},
				Risk: &RiskSpec{LabelDelay: Duration(time.Hour), HalfLife: days(7)},
			},
		},
	}
}
