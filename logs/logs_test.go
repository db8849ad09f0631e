package logs_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/logs"
	"github.com/occsimore/occsimore/simulate"
)

// memAttacks keeps what the service stores.
type memAttacks struct {
	occsimore.AttackService
	mu      sync.Mutex
	attacks map[string][]*occsimore.Attack
	rems    map[string][]*occsimore.Remediation
}

func newMemAttacks() *memAttacks {
	return &memAttacks{attacks: map[string][]*occsimore.Attack{}, rems: map[string][]*occsimore.Remediation{}}
}

func (m *memAttacks) CreateAttacks(_ context.Context, member string, as []*occsimore.Attack) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.attacks[member] = append(m.attacks[member], as...)
	return nil
}

func (m *memAttacks) CreateRemediations(_ context.Context, member string, rs []*occsimore.Remediation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rems[member] = append(m.rems[member], rs...)
	return nil
}

// ExtendRemediations keeps one decision of origin logs in force per scope
// and value, as the stores do.
func (m *memAttacks) ExtendRemediations(_ context.Context, member string, rs []*occsimore.Remediation, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rs {
		merged := false
		for _, cur := range m.rems[member] {
			if cur.Scope == r.Scope && cur.Value == r.Value && cur.Origin == r.Origin && cur.Active(now) {
				if r.Until.After(cur.Until) {
					cur.Until = r.Until
				}
				cur.Attacks += max(r.Attacks, 1)
				*r = *cur
				merged = true
				break
			}
		}
		if !merged {
			r.ID = int64(len(m.rems[member]) + 1)
			m.rems[member] = append(m.rems[member], r)
		}
	}
	return nil
}

// plantedScenario maps the simulator's attack kinds to the built-in
// scenarios that must catch them.
var plantedScenario = map[string][]string{
	simulate.AttackSSHBruteForce:      {"ssh-bf"},
	simulate.AttackSSHSlowBruteForce:  {"ssh-slow-bf"},
	simulate.AttackSSHUserEnum:        {"ssh-bf_user-enum", "ssh-bf"},
	simulate.AttackCredentialStuffing: {"credential-stuffing", "ssh-bf_user-enum", "ssh-bf"},
	simulate.AttackHTTPProbing:        {"http-probing"},
	simulate.AttackHTTPSensitiveFiles: {"http-sensitive-files"},
	simulate.AttackHTTPSQLi:           {"http-sqli-probing"},
	simulate.AttackHTTPPathTraversal:  {"http-path-traversal-probing"},
	simulate.AttackHTTPBadUserAgent:   {"http-bad-user-agent"},
	simulate.AttackHTTPAdminProbing:   {"http-admin-interface-probing"},
	simulate.AttackHTTPLoginBF:        {"http-generic-bf"},
}

func TestIngestSimulatedLogs(t *testing.T) {
	ctx := context.Background()
	store := newMemAttacks()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	svc, err := logs.New(logs.Config{Attacks: store, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	cfg := simulate.DefaultAttackLogs()
	cfg.Start, cfg.Days, cfg.BackgroundPerDay = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 3, 500
	seq, err := simulate.AttackLogs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[planted]bool{}
	legit := map[string]bool{}
	var batch [][]byte
	n := 0
	for l := range seq {
		if l.Attack != "" {
			want[planted{l.Attack, l.Source}] = true
		} else {
			legit[strings.Fields(l.Text)[0]] = true
		}
		batch = append(batch, []byte(l.Text))
		n++
		if n == 37 { // a bad line amid the good ones
			batch = append(batch, []byte("\x00\x01 not a log line"))
		}
		if len(batch) == 500 {
			if _, err := svc.Ingest(ctx, "mem_a", "web-1", batch); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	if _, err := svc.Ingest(ctx, "mem_a", "web-1", batch); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Flush(ctx, "mem_a", svc.DetectorNow("mem_a").Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}

	detected := map[string]map[string]bool{} // scenario → sources
	for _, a := range store.attacks["mem_a"] {
		if detected[a.Scenario] == nil {
			detected[a.Scenario] = map[string]bool{}
		}
		detected[a.Scenario][a.Source] = true
		if a.MemberID != "mem_a" || a.ID == "" {
			t.Fatalf("attack %+v: wrong member or no ID", a)
		}
	}
	missed := map[string]int{}
	total := map[string]int{}
	for p := range want {
		total[p.kind]++
		found := false
		for _, sc := range plantedScenario[p.kind] {
			found = found || detected[sc][p.source]
		}
		if !found {
			missed[p.kind]++
		}
	}
	for kind, n := range total {
		// Every planted attack is long enough to overflow its scenario; allow
		// one miss per kind for a burst cut by midnight.
		if missed[kind] > 1 {
			t.Errorf("%s: missed %d of %d planted sources", kind, missed[kind], n)
		}
	}
	for sc, srcs := range detected {
		for src := range srcs {
			if legit[src] && !isPlanted(want, src) {
				t.Errorf("scenario %s flagged the legitimate source %s", sc, src)
			}
		}
	}
	// The logs are weeks older than now: every decision had ended before
	// it was recorded, and none is stored for bouncers.
	if got := len(store.rems["mem_a"]); got != 0 {
		t.Fatalf("%d remediations stored for attacks weeks old, want 0", got)
	}
	st := svc.Stats("mem_a")
	if got, want := st.Unparsed, int64(1); got != want {
		t.Fatalf("unparsed = %d, want %d", got, want)
	}
	if len(st.Samples) != 1 || !strings.Contains(st.Samples[0].Line, "not a log line") || st.Samples[0].Reason == "" {
		t.Fatalf("samples = %+v", st.Samples)
	}
	if got, want := st.Lines, int64(n+1); got != want {
		t.Fatalf("lines = %d, want %d", got, want)
	}
	if len(store.attacks["mem_b"]) != 0 {
		t.Fatal("another member got attacks")
	}
}

type planted struct{ kind, source string }

func isPlanted(want map[planted]bool, src string) bool {
	for p := range want {
		if p.source == src {
			return true
		}
	}
	return false
}

// TestIngestMembersIsolated: bursts split between two members never add up
// in one bucket.
func TestIngestMembersIsolated(t *testing.T) {
	ctx := context.Background()
	svc, err := logs.New(logs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	line := func(i int) []byte {
		ts := time.Date(2026, 11, 27, 10, 0, i, 0, time.UTC).Format(time.Stamp)
		return []byte(ts + " web-1 sshd[42]: Failed password for root from 45.1.2.3 port 4000 ssh2")
	}
	total := 0
	for i := range 8 {
		member := "mem_a"
		if i%2 == 1 {
			member = "mem_b"
		}
		res, err := svc.Ingest(ctx, member, "", [][]byte{line(i)})
		if err != nil {
			t.Fatal(err)
		}
		total += len(res.Attacks)
	}
	if total != 0 {
		t.Fatalf("4 failures per member raised %d attacks; buckets leak across members", total)
	}
	var res logs.Result
	for i := 8; i < 16; i++ {
		r, err := svc.Ingest(ctx, "mem_a", "", [][]byte{line(i)})
		if err != nil {
			t.Fatal(err)
		}
		res.Attacks = append(res.Attacks, r.Attacks...)
	}
	if len(res.Attacks) == 0 || res.Attacks[0].Scenario != "ssh-bf" || res.Attacks[0].Source != "45.1.2.3" {
		t.Fatalf("12 failures for mem_a: attacks %+v, want ssh-bf from 45.1.2.3", res.Attacks)
	}
}

type memEvents struct {
	mu  sync.Mutex
	evs []occsimore.Event
}

func (m *memEvents) SubmitEvents(_ context.Context, member string, evs []occsimore.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.evs = append(m.evs, evs...)
	return nil
}

// TestIngestCloudTrail: CloudTrail records become cloud.api events for the
// behaviour engine; other lines do not.
func TestIngestCloudTrail(t *testing.T) {
	sink := &memEvents{}
	svc, err := logs.New(logs.Config{Events: sink})
	if err != nil {
		t.Fatal(err)
	}
	record := `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/Mateo","userName":"Mateo"},"eventTime":"2026-11-27T03:02:01Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"ap-southeast-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0","eventID":"e9","eventType":"AwsApiCall"}`
	res, err := svc.Ingest(context.Background(), "mem_a", "", [][]byte{
		[]byte(record),
		[]byte("Nov 27 04:43:53 web-1 sshd[812]: Invalid user admin from 203.0.113.5 port 52344"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Parsed != 2 || res.Events != 1 || len(sink.evs) != 1 {
		t.Fatalf("parsed %d, events %d, submitted %d; want 2, 1, 1", res.Parsed, res.Events, len(sink.evs))
	}
	ev := sink.evs[0]
	if ev.Kind != "cloud.api" || ev.MemberID != "mem_a" || ev.User != "arn:aws:iam::111122223333:user/Mateo" || ev.Attrs["region"] != "ap-southeast-1" {
		t.Fatalf("event = %+v", ev)
	}
}

// TestIngestDatesAndEndedDecisions: year-less lines are never dated after
// the time they are ingested, and a decision that had ended before it was
// recorded is reported but not stored for bouncers.
func TestIngestDatesAndEndedDecisions(t *testing.T) {
	ctx := context.Background()
	store := newMemAttacks()
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	svc, err := logs.New(logs.Config{Attacks: store, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	burst := func(stamp string) [][]byte {
		var b [][]byte
		for range 8 {
			b = append(b, []byte(stamp+" web-1 sshd[42]: Failed password for root from 45.1.2.3 port 4000 ssh2"))
		}
		return b
	}
	// Dec 10 is in the future on Dec 6: these lines are last year's.
	res, err := svc.Ingest(ctx, "mem_a", "", burst("Dec 10 08:00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Attacks) == 0 || res.Attacks[0].End.Year() != 2025 {
		t.Fatalf("attacks %+v, want one dated 2025", res.Attacks)
	}
	if len(res.Remediations) != 0 || len(res.Ended) != len(res.Attacks) || len(store.rems["mem_a"]) != 0 {
		t.Fatalf("%d remediations, %d ended, %d stored; want 0, %d, 0", len(res.Remediations), len(res.Ended), len(store.rems["mem_a"]), len(res.Attacks))
	}
	// A burst a minute ago bans for real.
	res, err = svc.Ingest(ctx, "mem_b", "", burst("Dec  6 08:59:00"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Remediations) == 0 || len(store.rems["mem_b"]) != len(res.Remediations) || !res.Remediations[0].Until.After(now) {
		t.Fatalf("remediations %+v stored %d, want in force and stored", res.Remediations, len(store.rems["mem_b"]))
	}
}

// TestIngestOneDecisionPerSource: an address that keeps attacking has one
// decision, extended by each attack and counting them, not one per attack.
func TestIngestOneDecisionPerSource(t *testing.T) {
	ctx := context.Background()
	store := newMemAttacks()
	now := time.Date(2026, 12, 6, 10, 30, 0, 0, time.UTC)
	svc, err := logs.New(logs.Config{Attacks: store, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	var attacks int
	for burst := range 5 { // a burst every two minutes, past ssh-bf's blackhole
		var b [][]byte
		for i := range 8 {
			ts := time.Date(2026, 12, 6, 10, 2*burst, i, 0, time.UTC).Format(time.Stamp)
			b = append(b, []byte(ts+" web-1 sshd[42]: Failed password for root from 45.1.2.3 port 4000 ssh2"))
		}
		res, err := svc.Ingest(ctx, "mem_a", "", b)
		if err != nil {
			t.Fatal(err)
		}
		attacks += len(res.Attacks)
	}
	if attacks < 5 {
		t.Fatalf("%d attacks, want one per burst at least", attacks)
	}
	rems := store.rems["mem_a"]
	if len(rems) != 1 || rems[0].Value != "45.1.2.3" || rems[0].Attacks != attacks {
		t.Fatalf("decisions %+v, want one on 45.1.2.3 counting the %d attacks", rems, attacks)
	}
}
