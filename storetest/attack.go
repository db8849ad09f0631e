package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlstore"
)

// runAttacks runs the AttackService contract, each subtest on a fresh store.
func runAttacks(t *testing.T, open Open) {
	contract{
		{"Attacks", testAttacks},
		{"AttackCreateRejects", testAttackCreateRejects},
		{"AttackFiltersAndPages", testAttackFiltersAndPages},
		{"AttacksPerDay", testAttacksPerDay},
		{"SectorAttacksPerDay", testSectorAttacksPerDay},
		{"Remediations", testRemediations},
		{"RemediationRejects", testRemediationRejects},
		{"RemediationStream", testRemediationStream},
		{"RemediationStreamReassert", testRemediationStreamReassert},
		{"RemediationStreamClockBack", testRemediationStreamClockBack},
		{"RemediationStreamConcurrent", testRemediationStreamConcurrent},
		{"RemediationExtend", testRemediationExtend},
		{"AttackCrossMember", testAttackCrossMember},
		{"AttackCascadeDelete", testAttackCascadeDelete},
		{"AttackContextCanceled", testAttackContextCanceled},
	}.run(t, open)
}

// newAttack returns a valid attack ending at end, with no ID.
func newAttack(scenario, source string, end time.Time) *occsimore.Attack {
	return &occsimore.Attack{
		Scenario: scenario, Scope: occsimore.ScopeIP, Source: source, Host: "web-1", Country: "NL", ASN: 64500,
		Start: end.Add(-12 * time.Second), End: end, Events: 6,
		Message: scenario + ": 6 failed logins", Labels: map[string]string{"service": "ssh"},
	}
}

func createAttacks(t *testing.T, db *sqlstore.DB, memberID string, attacks ...*occsimore.Attack) {
	t.Helper()
	if err := db.CreateAttacks(t.Context(), memberID, attacks); err != nil {
		t.Fatalf("CreateAttacks: %v", err)
	}
}

func listAttacks(t *testing.T, db *sqlstore.DB, memberID string, f occsimore.AttackFilter) []*occsimore.Attack {
	t.Helper()
	list, err := db.ListAttacks(t.Context(), memberID, f)
	if err != nil {
		t.Fatalf("ListAttacks(%+v): %v", f, err)
	}
	return list
}

func attackIDs(attacks []*occsimore.Attack) []string {
	ids := []string{}
	for _, a := range attacks {
		ids = append(ids, a.ID)
	}
	return ids
}

func testAttacks(t *testing.T, db *sqlstore.DB) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.UTC)
	db.Now = func() time.Time { return now }
	a := createMember(t, db, "alpha", false)

	full := &occsimore.Attack{
		ID: "atk_full", Scenario: "ssh-bf", Scope: occsimore.ScopeRange, Source: "2001:db8::/48", Host: "bastion",
		Country: "BR", ASN: 4294967295, Start: t0.Add(-time.Minute), End: t0.Add(999 * time.Nanosecond), Events: 1 << 20,
		Message:   `ssh-bf: 6 failed logins for "root" & <admin> ü`,
		Labels:    map[string]string{"service": "ssh", "mitre": "T1110", "classification": ""},
		CreatedAt: t0.Add(time.Minute),
	}
	bare := &occsimore.Attack{Scenario: "http-probing", Scope: occsimore.ScopeUser, Source: "bob", Start: t0, End: t0}
	want := *full
	want.MemberID, want.End = a.ID, t0 // truncated to the microsecond
	createAttacks(t, db, a.ID, full, bare)

	if diff := gocmp.Diff(&want, full); diff != "" {
		t.Fatalf("CreateAttacks changed more than MemberID and precision (-want +got):\n%s", diff)
	}
	if got, want := bare.CreatedAt, now.Truncate(time.Microsecond); !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("assigned CreatedAt = %v, want %v from DB.Now", got, want)
	}
	if len(bare.ID) < 5 || bare.ID[:4] != "atk_" {
		t.Fatalf("assigned ID = %q, want an atk_ prefix", bare.ID)
	}
	if bare.Labels == nil {
		t.Fatal("nil Labels not made empty")
	}
	got := listAttacks(t, db, a.ID, occsimore.AttackFilter{})
	// Both end at t0: the tie is broken by ID, descending.
	wantList := []*occsimore.Attack{full, bare}
	if bare.ID > full.ID {
		wantList = []*occsimore.Attack{bare, full}
	}
	if diff := gocmp.Diff(wantList, got); diff != "" {
		t.Fatalf("ListAttacks mismatch (-want +got):\n%s", diff)
	}
	wantCode(t, "CreateAttacks(duplicate ID)", db.CreateAttacks(t.Context(), a.ID,
		[]*occsimore.Attack{{ID: "atk_full", Scenario: "x", Scope: occsimore.ScopeIP, Source: "192.0.2.1", Start: t0, End: t0}}),
		occsimore.ECONFLICT)
	wantCode(t, "CreateAttacks(unknown member)", db.CreateAttacks(t.Context(), "mem_nobody",
		[]*occsimore.Attack{newAttack("ssh-bf", "192.0.2.1", t0)}), occsimore.ENOTFOUND)
	if err := db.CreateAttacks(t.Context(), a.ID, nil); err != nil {
		t.Fatalf("CreateAttacks(nil) = %v", err)
	}
}

func testAttackCreateRejects(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	for _, tc := range []struct {
		field string
		edit  func(*occsimore.Attack)
	}{
		{"scenario", func(x *occsimore.Attack) { x.Scenario = "" }},
		{"scope", func(x *occsimore.Attack) { x.Scope = "asn" }},
		{"source", func(x *occsimore.Attack) { x.Source = "" }},
		{"start", func(x *occsimore.Attack) { x.Start = time.Time{} }},
		{"end", func(x *occsimore.Attack) { x.End = x.Start.Add(-time.Second) }},
		{"events", func(x *occsimore.Attack) { x.Events = -1 }},
		{"labels", func(x *occsimore.Attack) { x.Labels = map[string]string{"": "v"} }},
	} {
		good, bad := newAttack("ssh-bf", "192.0.2.1", t0), newAttack("ssh-bf", "192.0.2.2", t0)
		tc.edit(bad)
		wantField(t, "CreateAttacks(bad "+tc.field+")", db.CreateAttacks(t.Context(), a.ID, []*occsimore.Attack{good, bad}), tc.field)
		if good.ID != "" || good.MemberID != "" {
			t.Fatalf("a rejected batch changed its valid attack: %+v", good)
		}
	}
	if got := listAttacks(t, db, a.ID, occsimore.AttackFilter{}); len(got) != 0 {
		t.Fatalf("rejected batches stored %d attacks", len(got))
	}
}

func testAttackFiltersAndPages(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	var all []*occsimore.Attack
	for i := range 12 {
		scenario := []string{"ssh-bf", "http-probing", "ssh-slow-bf"}[i%3]
		at := newAttack(scenario, fmt.Sprintf("192.0.2.%d", i%4), t0.Add(time.Duration(i/2)*time.Minute)) // pairs tie
		all = append(all, at)
	}
	createAttacks(t, db, a.ID, all...)
	newest := slices.Clone(all)
	slices.SortFunc(newest, func(x, y *occsimore.Attack) int {
		if c := y.End.Compare(x.End); c != 0 {
			return c
		}
		return cmpString(y.ID, x.ID)
	})
	keep := func(f func(*occsimore.Attack) bool) []string {
		var ids []string
		for _, x := range newest {
			if f(x) {
				ids = append(ids, x.ID)
			}
		}
		return append([]string{}, ids...)
	}
	for _, tc := range []struct {
		f    occsimore.AttackFilter
		want []string
	}{
		{occsimore.AttackFilter{}, keep(func(*occsimore.Attack) bool { return true })},
		{occsimore.AttackFilter{Scenario: "ssh-bf"}, keep(func(x *occsimore.Attack) bool { return x.Scenario == "ssh-bf" })},
		{occsimore.AttackFilter{Source: "192.0.2.1"}, keep(func(x *occsimore.Attack) bool { return x.Source == "192.0.2.1" })},
		{occsimore.AttackFilter{Since: t0.Add(2 * time.Minute), Until: t0.Add(4 * time.Minute)}, keep(func(x *occsimore.Attack) bool {
			return !x.End.Before(t0.Add(2*time.Minute)) && x.End.Before(t0.Add(4*time.Minute))
		})},
		{occsimore.AttackFilter{Scenario: "ssh-bf", Source: "192.0.2.0"}, keep(func(x *occsimore.Attack) bool {
			return x.Scenario == "ssh-bf" && x.Source == "192.0.2.0"
		})},
		{occsimore.AttackFilter{Scenario: "none"}, []string{}},
	} {
		if got := attackIDs(listAttacks(t, db, a.ID, tc.f)); !slices.Equal(got, tc.want) {
			t.Errorf("ListAttacks(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}

	// Pages of 5 over the ties cover everything once, in order.
	var paged []string
	f := occsimore.AttackFilter{Limit: 5}
	for range 10 {
		page := listAttacks(t, db, a.ID, f)
		paged = append(paged, attackIDs(page)...)
		if len(page) < f.Limit {
			break
		}
		f.Before = page[len(page)-1].ID
	}
	if want := attackIDs(newest); !slices.Equal(paged, want) {
		t.Fatalf("paged = %v, want %v", paged, want)
	}

	for _, tc := range []struct {
		f     occsimore.AttackFilter
		field string
	}{
		{occsimore.AttackFilter{Limit: -1}, "limit"},
		{occsimore.AttackFilter{Limit: sqlstore.MaxAttackLimit + 1}, "limit"},
		{occsimore.AttackFilter{Since: t0, Until: t0}, "until"},
		{occsimore.AttackFilter{Before: "atk_unknown"}, "before"},
	} {
		_, err := db.ListAttacks(t.Context(), a.ID, tc.f)
		wantField(t, fmt.Sprintf("ListAttacks(%+v)", tc.f), err, tc.field)
	}
	if got, want := len(listAttacks(t, db, a.ID, occsimore.AttackFilter{Limit: 3})), 3; got != want {
		t.Fatalf("Limit 3 returned %d", got)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// dayCounts returns the counts of days, for compact comparisons.
func dayCounts(t *testing.T, days []occsimore.DayCount, first time.Time) []int {
	t.Helper()
	counts := make([]int, len(days))
	for i, d := range days {
		if want := first.AddDate(0, 0, i); !d.Day.Equal(want) || d.Day.Location() != time.UTC {
			t.Fatalf("day %d is %v, want %v in UTC", i, d.Day, want)
		}
		counts[i] = d.Count
	}
	return counts
}

func testAttacksPerDay(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	d0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var attacks []*occsimore.Attack
	add := func(end time.Time, n int) {
		for range n {
			attacks = append(attacks, newAttack("ssh-bf", "192.0.2.1", end))
		}
	}
	add(d0.Add(-time.Microsecond), 4) // the day before
	add(d0, 2)                        // the first instant of day 0
	add(d0.Add(23*time.Hour), 1)
	add(d0.AddDate(0, 0, 2).Add(time.Hour), 3) // day 1 has none
	add(d0.AddDate(0, 0, 3).Add(-time.Microsecond), 5)
	add(d0.AddDate(0, 0, 3), 7) // day 3: at until below
	createAttacks(t, db, a.ID, attacks...)

	days, err := db.AttacksPerDay(ctx, a.ID, d0, d0.AddDate(0, 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dayCounts(t, days, d0), []int{3, 0, 8}; !slices.Equal(got, want) {
		t.Fatalf("AttacksPerDay = %v, want %v", got, want)
	}
	// Bounds inside days: only attacks in [since, until) count, and every
	// day the interval touches is listed.
	days, err = db.AttacksPerDay(ctx, a.ID, d0.Add(-time.Hour), d0.AddDate(0, 0, 3).Add(time.Microsecond))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dayCounts(t, days, d0.AddDate(0, 0, -1)), []int{4, 3, 0, 8, 7}; !slices.Equal(got, want) {
		t.Fatalf("AttacksPerDay(mid-day bounds) = %v, want %v", got, want)
	}
	days, err = db.AttacksPerDay(ctx, a.ID, d0.Add(time.Hour), d0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dayCounts(t, days, d0), []int{0}; !slices.Equal(got, want) {
		t.Fatalf("AttacksPerDay(one hour) = %v, want %v", got, want)
	}
	// Zone of the bounds does not matter.
	zone := time.FixedZone("UTC-5", -5*3600)
	days, err = db.AttacksPerDay(ctx, a.ID, d0.In(zone), d0.AddDate(0, 0, 1).In(zone))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dayCounts(t, days, d0), []int{3}; !slices.Equal(got, want) {
		t.Fatalf("AttacksPerDay(zoned bounds) = %v, want %v", got, want)
	}

	for _, tc := range []struct {
		since, until time.Time
		field        string
	}{
		{time.Time{}, d0, "since"},
		{d0, time.Time{}, "until"},
		{d0, d0, "until"},
		{d0, d0.AddDate(0, 0, sqlstore.MaxDays+1), "until"},
		{time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), "until"},
	} {
		_, err := db.AttacksPerDay(ctx, a.ID, tc.since, tc.until)
		wantField(t, fmt.Sprintf("AttacksPerDay(%v, %v)", tc.since, tc.until), err, tc.field)
	}
}

func testSectorAttacksPerDay(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	d0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	b1 := createMember(t, db, "bank-one", false) // createMember puts members in banking
	b2 := createMember(t, db, "bank-two", false)
	ph := &occsimore.Member{Slug: "pharma", Name: "Pharma", Sector: "pharma"}
	if err := db.CreateMember(ctx, ph); err != nil {
		t.Fatal(err)
	}
	createAttacks(t, db, b1.ID, newAttack("ssh-bf", "192.0.2.1", d0.Add(time.Hour)), newAttack("ssh-bf", "192.0.2.1", d0.AddDate(0, 0, 1)))
	createAttacks(t, db, b2.ID, newAttack("ssh-bf", "192.0.2.1", d0.Add(2*time.Hour)))
	createAttacks(t, db, ph.ID, newAttack("ssh-bf", "192.0.2.1", d0.Add(time.Hour)), newAttack("ssh-bf", "192.0.2.1", d0.Add(time.Hour)))

	for _, tc := range []struct {
		sector  string
		want    []int
		members int
	}{
		{"banking", []int{2, 1}, 2},
		{"pharma", []int{2, 0}, 1},
		{"weather", []int{0, 0}, 0},
	} {
		days, members, err := db.SectorAttacksPerDay(ctx, tc.sector, d0, d0.AddDate(0, 0, 2))
		if err != nil {
			t.Fatalf("SectorAttacksPerDay(%s): %v", tc.sector, err)
		}
		if got := dayCounts(t, days, d0); !slices.Equal(got, tc.want) || members != tc.members {
			t.Errorf("SectorAttacksPerDay(%s) = %v, %d members; want %v, %d", tc.sector, got, members, tc.want, tc.members)
		}
	}
	_, _, err := db.SectorAttacksPerDay(ctx, "casino", d0, d0.AddDate(0, 0, 1))
	wantField(t, "SectorAttacksPerDay(unknown sector)", err, "sector")
	_, _, err = db.SectorAttacksPerDay(ctx, "banking", d0, d0)
	wantField(t, "SectorAttacksPerDay(empty interval)", err, "until")
}

// ban returns a valid manual ban on an address until until.
func ban(value string, until time.Time) *occsimore.Remediation {
	return &occsimore.Remediation{Action: occsimore.ActionBan, Scope: occsimore.ScopeIP, Value: value,
		Scenario: "ssh-bf", Origin: "logs", Until: until}
}

func createRemediations(t *testing.T, db *sqlstore.DB, memberID string, rs ...*occsimore.Remediation) {
	t.Helper()
	if err := db.CreateRemediations(t.Context(), memberID, rs); err != nil {
		t.Fatalf("CreateRemediations: %v", err)
	}
}

func active(t *testing.T, db *sqlstore.DB, memberID string, now time.Time) []*occsimore.Remediation {
	t.Helper()
	rs, err := db.ActiveRemediations(t.Context(), memberID, now)
	if err != nil {
		t.Fatalf("ActiveRemediations: %v", err)
	}
	return rs
}

func remIDs(rs []*occsimore.Remediation) []int64 {
	ids := []int64{}
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func testRemediations(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	db.Now = func() time.Time { return now }
	a := createMember(t, db, "alpha", false)

	full := &occsimore.Remediation{Action: occsimore.ActionCaptcha, Scope: occsimore.ScopeRange, Value: "2001:db8::/32",
		Scenario: "http-probing", Origin: "consortium", AttackID: "atk_1", Until: now.Add(time.Hour), CreatedAt: t0.Add(time.Nanosecond)}
	user := &occsimore.Remediation{Action: occsimore.ActionAlert, Scope: occsimore.ScopeUser, Value: "root",
		Scenario: "manual", Origin: "manual", Until: now.Add(2 * time.Hour)}
	short := ban("192.0.2.7", now.Add(time.Minute))
	createRemediations(t, db, a.ID, full, user, short)
	if !(full.ID > 0 && user.ID > full.ID && short.ID > user.ID) {
		t.Fatalf("IDs %d, %d, %d are not increasing", full.ID, user.ID, short.ID)
	}
	if got, want := full.CreatedAt, t0; !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("given CreatedAt = %v, want %v", got, want)
	}
	if got, want := user.CreatedAt, now.Truncate(time.Microsecond); !got.Equal(want) {
		t.Fatalf("assigned CreatedAt = %v, want %v from DB.Now", got, want)
	}
	if full.MemberID != a.ID || !full.Until.Equal(now.Add(time.Hour).Truncate(time.Microsecond)) {
		t.Fatalf("after create: %+v", full)
	}
	later := ban("192.0.2.8", now.Add(time.Hour))
	createRemediations(t, db, a.ID, later)
	if later.ID <= short.ID {
		t.Fatalf("ID %d of a later batch is not above %d", later.ID, short.ID)
	}

	got := active(t, db, a.ID, now)
	if diff := gocmp.Diff([]*occsimore.Remediation{full, user, short, later}, got); diff != "" {
		t.Fatalf("ActiveRemediations mismatch (-want +got):\n%s", diff)
	}
	if got, want := remIDs(active(t, db, a.ID, now.Add(time.Minute))), []int64{full.ID, user.ID, later.ID}; !slices.Equal(got, want) {
		t.Fatalf("active once short expired = %v, want %v", got, want)
	}

	del := now.Add(10 * time.Second)
	if err := db.DeleteRemediation(ctx, a.ID, user.ID, del); err != nil {
		t.Fatalf("DeleteRemediation: %v", err)
	}
	if got, want := remIDs(active(t, db, a.ID, del)), []int64{full.ID, short.ID, later.ID}; !slices.Equal(got, want) {
		t.Fatalf("active after delete = %v, want %v", got, want)
	}
	// Deleting again, or an expired one, is no error and changes nothing.
	if err := db.DeleteRemediation(ctx, a.ID, user.ID, del.Add(time.Second)); err != nil {
		t.Fatalf("DeleteRemediation again: %v", err)
	}
	if err := db.DeleteRemediation(ctx, a.ID, short.ID, now.Add(time.Hour)); err != nil {
		t.Fatalf("DeleteRemediation(expired): %v", err)
	}
	// A zero time means now.
	if err := db.DeleteRemediation(ctx, a.ID, later.ID, time.Time{}); err != nil {
		t.Fatalf("DeleteRemediation(zero time): %v", err)
	}
	if got, want := remIDs(active(t, db, a.ID, now)), []int64{full.ID, short.ID}; !slices.Equal(got, want) {
		t.Fatalf("active after deletes = %v, want %v", got, want)
	}
	wantCode(t, "DeleteRemediation(unknown)", db.DeleteRemediation(ctx, a.ID, 1<<40, now), occsimore.ENOTFOUND)
	wantCode(t, "CreateRemediations(unknown member)", db.CreateRemediations(ctx, "mem_nobody",
		[]*occsimore.Remediation{ban("192.0.2.1", now.Add(time.Hour))}), occsimore.ENOTFOUND)
}

func testRemediationRejects(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	for _, tc := range []struct {
		field string
		edit  func(*occsimore.Remediation)
	}{
		{"action", func(r *occsimore.Remediation) { r.Action = "drop" }},
		{"value", func(r *occsimore.Remediation) { r.Value = "192.0.2.300" }},
		{"value", func(r *occsimore.Remediation) { r.Scope, r.Value = occsimore.ScopeRange, "192.0.2.7/24" }},
		{"origin", func(r *occsimore.Remediation) { r.Origin = "magic" }},
		{"until", func(r *occsimore.Remediation) { r.Until = time.Time{} }},
		{"deleted_at", func(r *occsimore.Remediation) { r.DeletedAt = t0 }},
	} {
		good, bad := ban("192.0.2.1", t0.Add(time.Hour)), ban("192.0.2.2", t0.Add(time.Hour))
		tc.edit(bad)
		wantField(t, "CreateRemediations(bad "+tc.field+")",
			db.CreateRemediations(t.Context(), a.ID, []*occsimore.Remediation{good, bad}), tc.field)
		if good.ID != 0 {
			t.Fatalf("a rejected batch gave its valid remediation ID %d", good.ID)
		}
	}
	if got := active(t, db, a.ID, t0); len(got) != 0 {
		t.Fatalf("rejected batches stored %d remediations", len(got))
	}
}

// puller pulls the stream of one bouncer and checks each pull exactly.
type puller struct {
	t        *testing.T
	db       *sqlstore.DB
	memberID string
	bouncer  string
}

func (p puller) pull(startup bool, now time.Time, wantAdded, wantEnded []int64) {
	p.t.Helper()
	added, ended, err := p.db.PullRemediations(p.t.Context(), p.memberID, p.bouncer, startup, now)
	if err != nil {
		p.t.Fatalf("PullRemediations(%s, startup %v, %v): %v", p.bouncer, startup, now, err)
	}
	if got := remIDs(added); !slices.Equal(got, wantAdded) {
		p.t.Fatalf("pull by %s at %v: added %v, want %v", p.bouncer, now, got, wantAdded)
	}
	if got := remIDs(ended); !slices.Equal(got, wantEnded) {
		p.t.Fatalf("pull by %s at %v: ended %v, want %v", p.bouncer, now, got, wantEnded)
	}
	for _, r := range added {
		if !r.Active(now) {
			p.t.Fatalf("added remediation %d is not in force: %+v", r.ID, r)
		}
	}
}

func testRemediationStream(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	fw := puller{t, db, a.ID, "tok_firewall"}
	proxy := puller{t, db, a.ID, "tok_proxy"}
	none := []int64{}

	// A bouncer's first pull on an empty member.
	fw.pull(false, t0, none, none)

	old := ban("192.0.2.1", t0.Add(time.Hour))
	gone := ban("192.0.2.2", t0.Add(time.Minute))
	createRemediations(t, db, a.ID, old, gone)
	fw.pull(false, t0.Add(time.Second), []int64{old.ID, gone.ID}, none)
	fw.pull(false, t0.Add(2*time.Second), none, none) // nothing changed

	// A new ban, a manual delete and an expiry between two pulls.
	fresh := ban("192.0.2.3", t0.Add(2*time.Hour))
	createRemediations(t, db, a.ID, fresh)
	if err := db.DeleteRemediation(ctx, a.ID, old.ID, t0.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	// Created and ended between two pulls: never sent.
	brief := ban("192.0.2.4", t0.Add(30*time.Second))
	deletedSoon := ban("192.0.2.5", t0.Add(time.Hour))
	createRemediations(t, db, a.ID, brief, deletedSoon)
	if err := db.DeleteRemediation(ctx, a.ID, deletedSoon.ID, t0.Add(4*time.Second)); err != nil {
		t.Fatal(err)
	}
	fw.pull(false, t0.Add(time.Minute), []int64{fresh.ID}, []int64{old.ID, gone.ID})
	fw.pull(false, t0.Add(time.Minute+time.Second), none, none)

	// Another bouncer has its own position: its first pull is a startup.
	proxy.pull(false, t0.Add(time.Minute), []int64{fresh.ID}, none)
	// Startup again: everything in force is new, nothing ended.
	createRemediations(t, db, a.ID, ban("2001:db8::1", t0.Add(3*time.Hour)))
	fw.pull(true, t0.Add(2*time.Minute), []int64{fresh.ID, fresh.ID + 3}, none)
	proxy.pull(false, t0.Add(2*time.Minute), []int64{fresh.ID + 3}, none)

	// Expiries, exactly at the pull's time too.
	fw.pull(false, t0.Add(2*time.Hour), none, []int64{fresh.ID})
	fw.pull(false, t0.Add(3*time.Hour), none, []int64{fresh.ID + 3})
	fw.pull(false, t0.Add(4*time.Hour), none, none)

	_, _, err := db.PullRemediations(ctx, a.ID, "", false, t0)
	wantField(t, "PullRemediations(no bouncer)", err, "bouncer")
	_, _, err = db.PullRemediations(ctx, "mem_nobody", "tok_x", false, t0)
	wantCode(t, "PullRemediations(unknown member)", err, occsimore.ENOTFOUND)
}

// testRemediationExtend checks that later attacks extend the one decision
// of origin logs in force on a value, with their count and the stronger
// action, that bouncers receive it again with its new end, and that
// ended decisions and other origins are not extended.
func testRemediationExtend(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	b := createMember(t, db, "beta", false)
	fw := puller{t, db, a.ID, "tok_firewall"}
	extend := func(now time.Time, rs ...*occsimore.Remediation) {
		t.Helper()
		if err := db.ExtendRemediations(ctx, a.ID, rs, now); err != nil {
			t.Fatalf("ExtendRemediations: %v", err)
		}
	}
	logs := func(action occsimore.Action, value string, until time.Time) *occsimore.Remediation {
		return &occsimore.Remediation{Action: action, Scope: occsimore.ScopeIP, Value: value,
			Scenario: "ssh-bf", Origin: "logs", Attacks: 1, Until: until}
	}
	first := logs(occsimore.ActionBan, "192.0.2.9", t0.Add(time.Hour))
	extend(t0, first)
	if first.ID <= 0 || first.Attacks != 1 || first.MemberID != a.ID {
		t.Fatalf("first decision %+v", first)
	}
	fw.pull(true, t0, []int64{first.ID}, []int64{})

	// Two attacks in one batch, then one more: one decision, four hours.
	again, more := logs(occsimore.ActionBan, "192.0.2.9", t0.Add(2*time.Hour)), logs(occsimore.ActionAlert, "192.0.2.9", t0.Add(30*time.Minute))
	extend(t0.Add(10*time.Minute), again, more)
	last := logs(occsimore.ActionBan, "192.0.2.9", t0.Add(4*time.Hour))
	last.Attacks = 2
	extend(t0.Add(20*time.Minute), last)
	for _, r := range []*occsimore.Remediation{again, more, last} {
		if r.ID != first.ID {
			t.Fatalf("extension got ID %d, want the decision in force, %d", r.ID, first.ID)
		}
	}
	rs := active(t, db, a.ID, t0.Add(21*time.Minute))
	if len(rs) != 1 || rs[0].ID != first.ID || rs[0].Attacks != 5 || rs[0].Action != occsimore.ActionBan ||
		!rs[0].Until.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("active after extensions = %+v, want decision %d until %v standing for 5 attacks, a ban", rs, first.ID, t0.Add(4*time.Hour))
	}
	// The bouncer gets it again, with its new end; it did not end.
	added, ended, err := db.PullRemediations(ctx, a.ID, "tok_firewall", false, t0.Add(21*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 1 || added[0].ID != first.ID || !added[0].Until.Equal(t0.Add(4*time.Hour)) || len(ended) != 0 {
		t.Fatalf("pull after extension: added %+v, ended %+v", added, ended)
	}
	fw.pull(false, t0.Add(22*time.Minute), []int64{}, []int64{})

	// A captcha made a ban by a later ban; a manual ban is left alone.
	c := logs(occsimore.ActionCaptcha, "192.0.2.10", t0.Add(time.Hour))
	extend(t0, c)
	up := logs(occsimore.ActionBan, "192.0.2.10", t0.Add(30*time.Minute))
	manual := &occsimore.Remediation{Action: occsimore.ActionBan, Scope: occsimore.ScopeIP, Value: "192.0.2.10",
		Scenario: "manual", Origin: "manual", Until: t0.Add(time.Hour)}
	extend(t0.Add(time.Minute), up, manual)
	if up.ID != c.ID || up.Action != occsimore.ActionBan || !up.Until.Equal(t0.Add(time.Hour)) || manual.ID == c.ID || manual.Attacks != 1 {
		t.Fatalf("captcha then ban: %+v; manual %+v", up, manual)
	}

	// Once ended, the next attack opens a new decision.
	later := logs(occsimore.ActionBan, "192.0.2.9", t0.Add(6*time.Hour))
	extend(t0.Add(5*time.Hour), later)
	if later.ID == first.ID || later.Attacks != 1 {
		t.Fatalf("after the end: %+v, want a new decision", later)
	}
	// Another member's decisions are its own.
	other := logs(occsimore.ActionBan, "192.0.2.9", t0.Add(6*time.Hour))
	if err := db.ExtendRemediations(ctx, b.ID, []*occsimore.Remediation{other}, t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if other.ID == later.ID || other.MemberID != b.ID {
		t.Fatalf("another member's decision %+v extended %d", other, later.ID)
	}
	bad := logs(occsimore.ActionBan, "not an address", t0.Add(time.Hour))
	wantField(t, "ExtendRemediations(bad value)", db.ExtendRemediations(ctx, a.ID, []*occsimore.Remediation{bad}, t0), "value")
	wantCode(t, "ExtendRemediations(unknown member)", db.ExtendRemediations(ctx, "mem_nobody",
		[]*occsimore.Remediation{logs(occsimore.ActionBan, "192.0.2.1", t0.Add(time.Hour))}, t0), occsimore.ENOTFOUND)
}

// testRemediationStreamReassert checks that when one of two remediations on
// the same value ends, the other is sent again, so that a bouncer applying
// the deletion does not unblock a value still in force.
func testRemediationStreamReassert(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	fw := puller{t, db, a.ID, "tok_firewall"}
	short, long := ban("192.0.2.9", t0.Add(time.Minute)), ban("192.0.2.9", t0.Add(time.Hour))
	other := ban("192.0.2.10", t0.Add(time.Hour))
	createRemediations(t, db, a.ID, short, long, other)
	fw.pull(true, t0, []int64{short.ID, long.ID, other.ID}, []int64{})
	fw.pull(false, t0.Add(2*time.Minute), []int64{long.ID}, []int64{short.ID})
	fw.pull(false, t0.Add(3*time.Minute), []int64{}, []int64{})
	if err := db.DeleteRemediation(t.Context(), a.ID, long.ID, t0.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	fw.pull(false, t0.Add(5*time.Minute), []int64{}, []int64{long.ID})
}

// testRemediationStreamClockBack checks that a pull with an earlier clock
// (another node) does not send again what the bouncer saw expire.
func testRemediationStreamClockBack(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	fw := puller{t, db, a.ID, "tok_firewall"}
	r := ban("192.0.2.1", t0.Add(time.Minute))
	createRemediations(t, db, a.ID, r)
	fw.pull(true, t0, []int64{r.ID}, []int64{})
	fw.pull(false, t0.Add(2*time.Minute), []int64{}, []int64{r.ID})
	fw.pull(false, t0.Add(30*time.Second), []int64{}, []int64{})
	fw.pull(false, t0.Add(3*time.Minute), []int64{}, []int64{})
}

// testRemediationStreamConcurrent pulls while several writers create and
// delete: applying every pull must leave the bouncer holding exactly what is
// in force, which fails if a change commits below a position already pulled.
func testRemediationStreamConcurrent(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	const writers, each = 4, 25
	until := t0.Add(time.Hour)
	held := map[int64]bool{}
	apply := func() {
		added, ended, err := db.PullRemediations(t.Context(), a.ID, "tok_fw", false, t0)
		if err != nil {
			t.Errorf("PullRemediations: %v", err)
			return
		}
		for _, r := range ended {
			if !held[r.ID] {
				t.Errorf("ended %d was never added", r.ID)
			}
			delete(held, r.ID)
		}
		for _, r := range added {
			held[r.ID] = true
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	// Writers signal progress and the bouncer pulls once per signal, so that
	// pulls interleave with writes without starving them of SQLite's lock.
	progress := make(chan struct{}, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				progress <- struct{}{}
				r := ban(fmt.Sprintf("198.51.100.%d", w*each+i), until)
				if err := db.CreateRemediations(context.Background(), a.ID, []*occsimore.Remediation{r}); err != nil {
					errs <- err
					continue
				}
				if i%3 == 0 {
					if err := db.DeleteRemediation(context.Background(), a.ID, r.ID, t0); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	go func() { wg.Wait(); close(progress) }()
	for range progress {
		apply()
	}
	apply()
	close(errs)
	for err := range errs {
		t.Errorf("writer: %v", err)
	}
	want := remIDs(active(t, db, a.ID, t0))
	var got []int64
	for id := range held {
		got = append(got, id)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("bouncer holds %v\nbut in force are %v", got, want)
	}
	if got, want := len(want), writers*(each-(each+2)/3); got != want {
		t.Fatalf("%d in force, want %d", got, want)
	}
}

func testAttackCrossMember(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	b := createMember(t, db, "bravo", false)
	atB := newAttack("ssh-bf", "192.0.2.1", t0)
	createAttacks(t, db, b.ID, atB)
	rB := ban("192.0.2.1", t0.Add(time.Hour))
	createRemediations(t, db, b.ID, rB)

	if got := listAttacks(t, db, a.ID, occsimore.AttackFilter{}); len(got) != 0 {
		t.Fatalf("alpha lists bravo's attacks: %v", attackIDs(got))
	}
	_, err := db.ListAttacks(ctx, a.ID, occsimore.AttackFilter{Before: atB.ID})
	wantField(t, "ListAttacks(other member's cursor)", err, "before")
	days, err := db.AttacksPerDay(ctx, a.ID, t0.Truncate(24*time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := days[0].Count, 0; got != want {
		t.Fatalf("alpha's day counts bravo's attack: %d", got)
	}
	if got := active(t, db, a.ID, t0); len(got) != 0 {
		t.Fatalf("alpha sees bravo's remediations: %v", remIDs(got))
	}
	wantCode(t, "DeleteRemediation(other member's)", db.DeleteRemediation(ctx, a.ID, rB.ID, t0), occsimore.ENOTFOUND)
	// The same bouncer name in two members is two bouncers.
	puller{t, db, a.ID, "tok_same"}.pull(false, t0, []int64{}, []int64{})
	puller{t, db, b.ID, "tok_same"}.pull(false, t0, []int64{rB.ID}, []int64{})
	if got := remIDs(active(t, db, b.ID, t0)); !slices.Equal(got, []int64{rB.ID}) {
		t.Fatalf("bravo's remediation after alpha's delete = %v", got)
	}
}

func testAttackCascadeDelete(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	b := createMember(t, db, "bravo", false)
	for _, m := range []*occsimore.Member{a, b} {
		createAttacks(t, db, m.ID, newAttack("ssh-bf", "192.0.2.1", t0))
		createRemediations(t, db, m.ID, ban("192.0.2.1", t0.Add(time.Hour)))
		puller{t, db, m.ID, "tok_fw"}.pull(true, t0, []int64{active(t, db, m.ID, t0)[0].ID}, []int64{})
	}
	if _, err := db.SQL().ExecContext(t.Context(), db.Rebind(`DELETE FROM members WHERE id = ?`), a.ID); err != nil {
		t.Fatalf("delete member: %v", err)
	}
	for _, table := range []string{"attacks", "remediations", "remediation_seqs", "bouncer_pulls"} {
		if got := countRows(t, db, table, a.ID); got != 0 {
			t.Errorf("%s rows of a deleted member = %d, want 0", table, got)
		}
		if got := countRows(t, db, table, b.ID); got != 1 {
			t.Errorf("%s rows of the other member = %d, want 1", table, got)
		}
	}
}

func testAttackContextCanceled(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	r := ban("192.0.2.1", t0.Add(time.Hour))
	createRemediations(t, db, a.ID, r)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"CreateAttacks": func() error {
			return db.CreateAttacks(ctx, a.ID, []*occsimore.Attack{newAttack("ssh-bf", "192.0.2.1", t0)})
		},
		"ListAttacks":   func() error { _, err := db.ListAttacks(ctx, a.ID, occsimore.AttackFilter{}); return err },
		"AttacksPerDay": func() error { _, err := db.AttacksPerDay(ctx, a.ID, t0, t0.Add(time.Hour)); return err },
		"SectorAttacksPerDay": func() error {
			_, _, err := db.SectorAttacksPerDay(ctx, "banking", t0, t0.Add(time.Hour))
			return err
		},
		"CreateRemediations": func() error {
			return db.CreateRemediations(ctx, a.ID, []*occsimore.Remediation{ban("192.0.2.2", t0.Add(time.Hour))})
		},
		"DeleteRemediation":  func() error { return db.DeleteRemediation(ctx, a.ID, r.ID, t0) },
		"ActiveRemediations": func() error { _, err := db.ActiveRemediations(ctx, a.ID, t0); return err },
		"PullRemediations": func() error {
			_, _, err := db.PullRemediations(ctx, a.ID, "tok_fw", false, t0)
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: error %v, want context.Canceled", name, err)
		}
	}
	if got := remIDs(active(t, db, a.ID, t0)); !slices.Equal(got, []int64{r.ID}) {
		t.Fatalf("remediations after canceled calls = %v, want [%d]", got, r.ID)
	}
	if got := listAttacks(t, db, a.ID, occsimore.AttackFilter{}); len(got) != 0 {
		t.Fatalf("attacks after canceled CreateAttacks = %d", len(got))
	}
	// The canceled pull recorded nothing: the next is still a first pull.
	puller{t, db, a.ID, "tok_fw"}.pull(false, t0, []int64{r.ID}, []int64{})
}
