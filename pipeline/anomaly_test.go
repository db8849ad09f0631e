package pipeline_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/pipeline"
)

// cloudCall is one CloudTrail record as package logs turns it into an event.
func cloudCall(at time.Time, user, api, ip string, asn uint32, country string) occsimore.Event {
	service, _, _ := strings.Cut(api, ":")
	return occsimore.Event{
		Kind: "cloud.api", Time: at, User: user, IP: ip, ASN: asn, Country: country,
		UserAgent: "aws-cli/2", Success: true, HasSuccess: true,
		Attrs: map[string]string{"api": api, "service": service, "region": "eu-west-1"},
	}
}

// cloudHabits is days of office-hour API calls by four identities, each
// with its own address and a few APIs it uses, from the member's usual
// network in France.
func cloudHabits(seed uint64, start time.Time, days int) []occsimore.Event {
	r := rand.New(rand.NewPCG(seed, 11))
	apis := [][]string{
		{"s3:GetObject", "s3:PutObject", "s3:ListBucket"},
		{"ec2:DescribeInstances", "ec2:StartInstances", "ec2:StopInstances"},
		{"lambda:InvokeFunction", "logs:GetLogEvents", "s3:GetObject"},
		{"dynamodb:Query", "dynamodb:PutItem", "dynamodb:GetItem"},
	}
	var evs []occsimore.Event
	for d := range days {
		day := start.AddDate(0, 0, d)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for k := range 40 {
			u := r.IntN(len(apis))
			at := day.Add(9*time.Hour + time.Duration(k*12+r.IntN(6))*time.Minute)
			evs = append(evs, cloudCall(at, fmt.Sprintf("arn:aws:iam::111122223333:user/u%d", u),
				apis[u][r.IntN(len(apis[u]))], fmt.Sprintf("203.0.113.%d", 10+u), 64500, "FR"))
		}
	}
	return evs
}

// cloudRupture is a stolen key of identity u1 used at 3 a.m. from another
// network to call an API the identity never called.
func cloudRupture(at time.Time) occsimore.Event {
	return cloudCall(at, "arn:aws:iam::111122223333:user/u1", "iam:CreateAccessKey", "198.51.100.66", 64999, "RU")
}

var cloudStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday

// unreachable are engine thresholds no score reaches, so that only a model
// can raise a decision.
var unreachable = behavior.Thresholds{Review: 1e5, Block: 1e6}

func TestAnomalyRaisesRupture(t *testing.T) {
	habits := cloudHabits(1, cloudStart, 21) // 15 working days, 600 calls
	rupture := cloudRupture(cloudStart.AddDate(0, 0, 22).Add(3*time.Hour + 10*time.Minute))
	after := cloudCall(cloudStart.AddDate(0, 0, 22).Add(10*time.Hour), "arn:aws:iam::111122223333:user/u0",
		"s3:GetObject", "203.0.113.10", 64500, "FR")

	for _, tc := range []struct {
		name      string
		engine    behavior.Thresholds
		wantFirst bool // the anomaly reason comes first: the model raised the decision
	}{
		{"only the anomaly model can flag", unreachable, true},
		{"the engine flags too", behavior.Thresholds{Review: 8, Block: 16}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := pipeline.Config{MaxFuture: -1, Thresholds: map[string]behavior.Thresholds{member: tc.engine}}
			e := open(t, t.TempDir(), cfg, newMemAlerts())
			evs := append(slices.Clone(habits), rupture, after)
			out := submit(t, e.p, member, evs, 50)

			warm := 256
			for i, s := range out[:warm] {
				if s.AnomalyScore != 0 {
					t.Fatalf("event %d of the warm-up has anomaly score %g", i, s.AnomalyScore)
				}
			}
			got := out[len(habits)]
			if got.Decision == occsimore.DecisionAllow {
				t.Fatalf("rupture allowed: score %.2f, anomaly %.4f", got.Score, got.AnomalyScore)
			}
			if got.AnomalyScore < 0.999 {
				t.Fatalf("rupture anomaly percentile = %.4f, want at least 0.999", got.AnomalyScore)
			}
			k := slices.IndexFunc(got.Reasons, func(r occsimore.Reason) bool { return r.Code == "anomaly_high" })
			if k < 0 {
				t.Fatalf("no anomaly_high reason in %v", got.Reasons)
			}
			if got, want := k == 0, tc.wantFirst; got != want {
				t.Fatalf("anomaly reason first = %v, want %v: %v", got, want, out[len(habits)].Reasons)
			}
			// Scores are kept from the third window of 64 events on.
			want := fmt.Sprintf("anomaly: this event is more isolated than every one of the last %d cloud.api events of this member (HST)",
				len(habits)-2*64)
			if got, want := got.Reasons[k].Text, want; got != want {
				t.Fatalf("reason text = %q, want %q", got, want)
			}
			// The rupture ranks above every habitual call after the warm-up,
			// and the model raises few of them.
			raised := 0
			for i, s := range out[warm:len(habits)] {
				if s.AnomalyScore == 0 {
					t.Fatalf("habitual event %d after the warm-up has no anomaly score", warm+i)
				}
				if s.AnomalyScore >= got.AnomalyScore {
					t.Errorf("habitual event %d has anomaly percentile %.4f, the rupture %.4f", warm+i, s.AnomalyScore, got.AnomalyScore)
				}
				if slices.ContainsFunc(s.Reasons, func(r occsimore.Reason) bool { return r.Code == "anomaly_high" }) {
					raised++
				}
			}
			if raised > (len(habits)-warm)/100 {
				t.Errorf("the anomaly model flagged %d of %d habitual calls", raised, len(habits)-warm)
			}
			if s := out[len(out)-1]; s.AnomalyScore >= 0.999 {
				t.Errorf("a habitual call after the rupture has anomaly percentile %.4f", s.AnomalyScore)
			}
			a, err := e.alerts.FindAlert(t.Context(), member, got.AlertID)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := a.AnomalyScore, got.AnomalyScore; g != w {
				t.Fatalf("alert anomaly score = %g, want %g", g, w)
			}
		})
	}
}

// TestAnomalyMembersIsolated interleaves a second member's calls with the
// first's: the first member's anomaly scores must be those it gets alone,
// and the second's model starts its own warm-up.
func TestAnomalyMembersIsolated(t *testing.T) {
	cfg := pipeline.Config{MaxFuture: -1, Thresholds: map[string]behavior.Thresholds{member: unreachable, "mem_other": unreachable}}
	habits := cloudHabits(2, cloudStart, 14)
	// The other member's identities call the same APIs at night from
	// elsewhere: had its events reached the first member's model, they
	// would have moved its scores.
	other := cloudHabits(3, cloudStart, 14)
	for i := range other {
		other[i].Time = other[i].Time.Add(-6 * time.Hour)
		other[i].ASN, other[i].Country, other[i].IP = 64999, "RU", "198.51.100.7"
	}

	alone := open(t, t.TempDir(), cfg, newMemAlerts())
	want := submit(t, alone.p, member, slices.Clone(habits), 40)

	both := open(t, t.TempDir(), cfg, newMemAlerts())
	got := make([]occsimore.Scored, len(habits))
	otherOut := make([]occsimore.Scored, len(other))
	for i := 0; i < len(habits); i += 40 {
		end := min(i+40, len(habits))
		if err := both.p.Submit(t.Context(), member, slices.Clone(habits[i:end]), got[i:end]); err != nil {
			t.Fatal(err)
		}
		oe := min(i+40, len(other))
		if i < oe {
			if err := both.p.Submit(t.Context(), "mem_other", slices.Clone(other[i:oe]), otherOut[i:oe]); err != nil {
				t.Fatal(err)
			}
		}
	}
	scored := 0
	for i := range want {
		if g, w := got[i].AnomalyScore, want[i].AnomalyScore; g != w {
			t.Fatalf("event %d: anomaly score %g beside another member, %g alone", i, g, w)
		}
		if want[i].AnomalyScore != 0 {
			scored++
		}
	}
	if scored == 0 {
		t.Fatal("no event was past the warm-up: the test compares nothing")
	}
	for i, s := range otherOut[:256] {
		if s.AnomalyScore != 0 {
			t.Fatalf("the other member's event %d has anomaly score %g during its own warm-up", i, s.AnomalyScore)
		}
	}
}

// TestAnomalyRecover restarts a pipeline twice, once after a crash
// (snapshot plus journal tail) and once after a clean close: every anomaly
// score afterwards must be that of a pipeline that never stopped.
func TestAnomalyRecover(t *testing.T) {
	cfg := pipeline.Config{MaxFuture: -1, CheckpointEvery: 170, Thresholds: map[string]behavior.Thresholds{member: unreachable}}
	evs := cloudHabits(4, cloudStart, 28)
	evs = append(evs, cloudRupture(cloudStart.AddDate(0, 0, 29).Add(3*time.Hour)))
	want := submit(t, open(t, t.TempDir(), cfg, newMemAlerts()).p, member, slices.Clone(evs), 30)

	dir := t.TempDir()
	alerts := newMemAlerts()
	cuts := []int{0, 210, 530, len(evs)} // in the warm-up, and after it
	var got []occsimore.Scored
	for c := range len(cuts) - 1 {
		e := open(t, dir, cfg, alerts)
		got = append(got, submit(t, e.p, member, slices.Clone(evs[cuts[c]:cuts[c+1]]), 30)...)
		if c == 0 {
			// Crash: the journal holds records past the last snapshot.
			seq, r, ok, err := e.j.LatestSnapshot()
			if err != nil || !ok {
				t.Fatalf("no automatic checkpoint: %v", err)
			}
			r.Close()
			if seq >= e.p.Seq() {
				t.Fatalf("snapshot at %d covers all %d records: the replay is untested", seq, e.p.Seq())
			}
		} else if err := e.p.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := e.j.Close(); err != nil {
			t.Fatal(err)
		}
	}
	scored := 0
	for i := range want {
		if g, w := got[i].AnomalyScore, want[i].AnomalyScore; g != w {
			t.Fatalf("event %d: anomaly score %g after restarts, %g uninterrupted", i, g, w)
		}
		if g, w := got[i].Decision, want[i].Decision; g != w {
			t.Fatalf("event %d: decision %s after restarts, %s uninterrupted", i, g, w)
		}
		if want[i].AnomalyScore != 0 {
			scored++
		}
	}
	if scored < len(evs)-cuts[2] {
		t.Fatalf("only %d events scored by the anomaly model", scored)
	}
	if last := want[len(want)-1]; last.Decision != occsimore.DecisionReview {
		t.Fatalf("rupture decision %s (anomaly %.4f), want review", last.Decision, last.AnomalyScore)
	}
}

func TestAnomalyDisabled(t *testing.T) {
	cfg := pipeline.Config{MaxFuture: -1, Anomaly: pipeline.AnomalyConfig{Disabled: true},
		Thresholds: map[string]behavior.Thresholds{member: unreachable}}
	evs := append(cloudHabits(1, cloudStart, 21), cloudRupture(cloudStart.AddDate(0, 0, 22).Add(3*time.Hour)))
	out := submit(t, open(t, t.TempDir(), cfg, newMemAlerts()).p, member, evs, 50)
	for i, s := range out {
		if s.AnomalyScore != 0 || s.Decision != occsimore.DecisionAllow {
			t.Fatalf("event %d: anomaly score %g, decision %s with the model off", i, s.AnomalyScore, s.Decision)
		}
	}
}
