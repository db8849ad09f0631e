package behavior

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

func cloudEv(at time.Time, api, region, ip string) occsimore.Event {
	service, _, _ := strings.Cut(api, ":")
	return occsimore.Event{
		MemberID: "m", Kind: "cloud.api", Time: at, User: "arn:aws:iam::111122223333:user/alice", IP: ip,
		UserAgent: "aws-cli/2", Success: true, HasSuccess: true,
		Attrs: map[string]string{"api": api, "service": service, "region": region},
	}
}

// TestCloudSpec gives an identity four weeks of office-hour calls in
// eu-west-1, then calls from a new region at 3 a.m.: the built-in cloud.api
// spec must flag the rupture with reasons about the identity.
func TestCloudSpec(t *testing.T) {
	e := newTestEngine(t)
	apis := []string{"s3:GetObject", "s3:PutObject", "ec2:DescribeInstances", "lambda:InvokeFunction"}
	start := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC) // a Monday
	for d := range 28 {
		day := start.AddDate(0, 0, d)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for k := range 12 {
			at := day.Add(9*time.Hour + time.Duration(k*37)*time.Minute)
			mustProcess(t, e, cloudEv(at, apis[(d+k)%len(apis)], "eu-west-1", "203.0.113.10"))
		}
	}
	night := start.AddDate(0, 0, 30).Add(3 * time.Hour) // a Wednesday
	usual := cloudEv(start.AddDate(0, 0, 30).Add(11*time.Hour), "s3:GetObject", "eu-west-1", "203.0.113.10")
	var res Result
	if err := e.Score(&usual, &res); err != nil {
		t.Fatal(err)
	}
	if res.Score >= 1 || res.Decision != Allow {
		t.Errorf("habitual call scores %.2f (%s), want under 1 and allow: %v", res.Score, res.Decision, res.TopReasons())
	}

	res = mustProcess(t, e, cloudEv(night, "ec2:RunInstances", "ap-southeast-1", "198.51.100.66"))
	if res.Decision != Block {
		t.Errorf("rupture: decision %s at score %.2f, want block: %v", res.Decision, res.Score, res.TopReasons())
	}
	for code, want := range map[string]string{
		"new_region": "region ap-southeast-1 is new for this identity (top: eu-west-1 100%)",
		"new_ip":     "ip 198.51.100.66 is new for this identity (top: 203.0.113.10 100%)",
	} {
		r, ok := reason(&res, code)
		if !ok {
			t.Errorf("no %s reason in %v", code, res.TopReasons())
			continue
		}
		if got := r.String(); got != want {
			t.Errorf("%s sentence = %q, want %q", code, got, want)
		}
		if got, want := r.Role, "user"; got != want {
			t.Errorf("%s role = %q, want %q: the noun changes sentences only", code, got, want)
		}
	}
	for _, code := range []string{"new_api", "unusual_hour"} {
		if !res.HasReason(code, MaxReasons) {
			t.Errorf("no %s reason in %v", code, res.TopReasons())
		}
	}
	if r, ok := reason(&res, "new_api"); ok && !strings.HasPrefix(r.String(), "api ec2:RunInstances is new for this identity (top: ") {
		t.Errorf("new_api sentence = %q", r.String())
	}
}

func TestReasonNounAndAttrName(t *testing.T) {
	for _, tc := range []struct {
		r    Reason
		want string
	}{
		{Reason{Code: "new_region", Role: "user", Attr: "attrs.region", form: formNew, Text: "ap-southeast-1", Top: "eu-west-1", Share: 0.9, noun: "identity"},
			"region ap-southeast-1 is new for this identity (top: eu-west-1 90%)"},
		{Reason{Code: "new_account", Role: "card", Attr: "entity.account", form: formNew, Text: "a7", Share: 0.5},
			"account a7 is new for this card (its most frequent value has 50%)"},
		{Reason{Code: "bytes_high", Role: "user", Attr: "attrs.bytes", form: formNumeric, Value: 9000, Baseline: 120, Sigma: 6, noun: "identity"},
			"bytes 9000.00 is 6.0σ above this identity's usual 120.00"},
		{Reason{Code: "failure_burst", Role: "user", form: formVelocity, Value: 12, Baseline: 0.25, Window: 10 * time.Minute, noun: "identity"},
			"12.0 failures in the last 10m for this identity, usual 0.25"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.r.Code, got, tc.want)
		}
	}
}

// TestNounLayout checks that a noun is presentation only: a snapshot taken
// without it loads under a spec with it, and vice versa.
func TestNounLayout(t *testing.T) {
	spec := func(noun string) []Spec {
		return []Spec{{Kind: "x.y", Thresholds: Thresholds{Review: 1, Block: 2}, Roles: []RoleSpec{
			{Role: "user", Noun: noun, Categorical: []CategoricalSpec{{Attr: "country", TopK: 2, HalfLife: days(7)}}},
		}}}
	}
	plain, err := NewEngine(Config{Specs: spec("")})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for i := range 20 {
		ev := occsimore.Event{MemberID: "m", Kind: "x.y", Time: at.Add(time.Duration(i) * time.Hour), User: "u", Country: "FR"}
		mustProcess(t, plain, ev)
	}
	var buf bytes.Buffer
	if err := plain.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	named, err := NewEngine(Config{Specs: spec("account holder")})
	if err != nil {
		t.Fatal(err)
	}
	if err := named.ReadSnapshot(&buf); err != nil {
		t.Fatalf("a noun changed the profile layout: %v", err)
	}
	ev := occsimore.Event{MemberID: "m", Kind: "x.y", Time: at.Add(21 * time.Hour), User: "u", Country: "BR"}
	res := mustProcess(t, named, ev)
	r, ok := reason(&res, "new_country")
	if !ok {
		t.Fatalf("no new_country reason in %v", res.TopReasons())
	}
	if got, want := r.String(), "country BR is new for this account holder (top: FR 100%)"; got != want {
		t.Errorf("sentence = %q, want %q", got, want)
	}

	for _, bad := range []string{"Identity", "identity!", strings.Repeat("a", maxNounLen+1)} {
		s := spec(bad)[0]
		if err := s.Validate(); occsimore.ErrorField(err) != "roles[0].noun" {
			t.Errorf("noun %q: err = %v, want a roles[0].noun error", bad, err)
		}
	}
}
