package storetest

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlstore"
)

// runAlerts runs the AlertService contract, each subtest on a fresh store.
func runAlerts(t *testing.T, open Open) {
	contract{
		{"Alerts", testAlerts},
		{"AlertCreateRejects", testAlertCreateRejects},
		{"AlertTimePrecision", testAlertTimePrecision},
		{"AlertFilters", testAlertFilters},
		{"AlertFilterInvalid", testAlertFilterInvalid},
		{"AlertPagination", testAlertPagination},
		{"AlertLimit", testAlertLimit},
		{"AlertLabel", testAlertLabel},
		{"AlertCrossMember", testAlertCrossMember},
		{"AlertCascadeDelete", testAlertCascadeDelete},
		{"AlertContextCanceled", testAlertContextCanceled},
	}.run(t, open)
}

// newAlert returns a valid alert created at created, with no ID.
func newAlert(kind string, d occsimore.Decision, score float64, created time.Time, entities map[string]string) *occsimore.Alert {
	return &occsimore.Alert{
		EventID:   occsimore.NewID("evt"),
		Kind:      kind,
		Time:      created.Add(-time.Second),
		Score:     score,
		Decision:  d,
		Reasons:   []occsimore.Reason{{Code: "amount_high", Role: "card", Text: "amount is high", Score: score}},
		Entities:  entities,
		Amount:    10,
		Country:   "FR",
		CreatedAt: created,
	}
}

// createAlerts stores alerts within memberID.
func createAlerts(t *testing.T, db *sqlstore.DB, memberID string, alerts ...*occsimore.Alert) {
	t.Helper()
	if err := db.CreateAlerts(t.Context(), memberID, alerts); err != nil {
		t.Fatalf("CreateAlerts: %v", err)
	}
}

// listAlerts lists the alerts of memberID matching f.
func listAlerts(t *testing.T, db *sqlstore.DB, memberID string, f occsimore.AlertFilter) []*occsimore.Alert {
	t.Helper()
	list, err := db.ListAlerts(t.Context(), memberID, f)
	if err != nil {
		t.Fatalf("ListAlerts(%+v): %v", f, err)
	}
	return list
}

func alertIDs(alerts []*occsimore.Alert) []string {
	ids := []string{}
	for _, a := range alerts {
		ids = append(ids, a.ID)
	}
	return ids
}

// newestFirst sorts alerts in list order: CreatedAt, then ID, descending.
func newestFirst(alerts []*occsimore.Alert) []*occsimore.Alert {
	s := slices.Clone(alerts)
	slices.SortFunc(s, func(a, b *occsimore.Alert) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return s
}

// wantField fails the test unless err is EINVALID about field.
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	wantCode(t, what, err, occsimore.EINVALID)
	if got := occsimore.ErrorField(err); got != field {
		t.Fatalf("%s: error %v names field %q, want %q", what, err, got, field)
	}
}

// countRows counts the rows of table (a constant) whose member_id is memberID.
func countRows(t *testing.T, db *sqlstore.DB, table, memberID string) int {
	t.Helper()
	var n int
	err := db.SQL().QueryRowContext(t.Context(),
		db.Rebind(`SELECT count(*) FROM `+table+` WHERE member_id = ?`), memberID).Scan(&n)
	if err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func testAlerts(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	now := time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.UTC)
	db.Now = func() time.Time { return now }
	a := createMember(t, db, "alpha", false)

	full := &occsimore.Alert{
		ID:       "alr_full",
		EventID:  "evt-42",
		Kind:     "card.tx",
		Time:     t0,
		Score:    0.1 + 0.2, // not exactly 0.3: the float must survive unrounded
		Decision: occsimore.DecisionBlock,
		Reasons: []occsimore.Reason{
			{Code: "amount_high", Role: "card", Text: "amount 412.50 is 7.9σ above this card's usual 48.20", Score: 0.25},
			{Code: "country_new", Role: "customer", Text: `country "BR" never seen <in> 180 days & \ more`, Score: 1e-300},
			{Code: "", Role: "", Text: "", Score: 0},
		},
		Entities:  map[string]string{"card": "c-1", "customer": "cust-ü", "ip": "2001:db8::1", "device": "d"},
		Amount:    412.5,
		Country:   "BR",
		CreatedAt: t0.Add(time.Minute),
		Label:     occsimore.LabelFraud,
		LabeledBy: "usr_import",
		LabeledAt: t0.Add(time.Hour),

		ModelScore:    0.875,
		ModelVersion:  3,
		ShadowScore:   0.1 + 0.7, // unrounded too
		ShadowVersion: 4,
		AnomalyScore:  0.9990234375,
	}
	assigned := newAlert("auth.login", occsimore.DecisionReview, 3.5, time.Time{}, map[string]string{"user": "u1"})
	bare := &occsimore.Alert{EventID: "evt-bare", Kind: "custom", Time: t0, Decision: occsimore.DecisionAllow}
	want := *full // what the caller passed, before CreateAlerts touches it
	createAlerts(t, db, a.ID, full, assigned, bare)

	if got, want := full.ID, "alr_full"; got != want {
		t.Fatalf("a given ID was replaced: ID = %q, want %q", got, want)
	}
	want.MemberID = a.ID
	if diff := gocmp.Diff(&want, full); diff != "" {
		t.Fatalf("CreateAlerts changed more than MemberID (-want +got):\n%s", diff)
	}
	for _, al := range []*occsimore.Alert{assigned, bare} {
		if !strings.HasPrefix(al.ID, "alr_") {
			t.Fatalf("assigned ID = %q, want an alr_ prefix", al.ID)
		}
		if got, want := al.CreatedAt, now.Truncate(time.Microsecond); !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("assigned CreatedAt = %v, want %v from DB.Now in UTC", got, want)
		}
		if got, want := al.MemberID, a.ID; got != want {
			t.Fatalf("MemberID = %q, want %q", got, want)
		}
	}
	if assigned.ID == bare.ID {
		t.Fatalf("two alerts got the same ID %q", bare.ID)
	}
	// Absent reasons and entities read back (and are left) empty, not nil,
	// so that they encode as [] and {}.
	if bare.Reasons == nil || len(bare.Reasons) != 0 || bare.Entities == nil || len(bare.Entities) != 0 {
		t.Fatalf("bare alert Reasons = %#v, Entities = %#v, want empty and non-nil", bare.Reasons, bare.Entities)
	}

	for _, al := range []*occsimore.Alert{full, assigned, bare} {
		got, err := db.FindAlert(ctx, a.ID, al.ID)
		if err != nil {
			t.Fatalf("FindAlert(%s): %v", al.ID, err)
		}
		if diff := gocmp.Diff(al, got); diff != "" {
			t.Fatalf("FindAlert(%s) mismatch (-want +got):\n%s", al.ID, diff)
		}
	}
	got, err := db.FindAlert(ctx, a.ID, "alr_unknown")
	wantNotFound(t, "FindAlert(unknown)", got, err)

	list := listAlerts(t, db, a.ID, occsimore.AlertFilter{})
	if diff := gocmp.Diff(newestFirst([]*occsimore.Alert{full, assigned, bare}), list); diff != "" {
		t.Fatalf("ListAlerts mismatch (-want +got):\n%s", diff)
	}
	if err := db.CreateAlerts(ctx, a.ID, nil); err != nil {
		t.Fatalf("CreateAlerts(no alerts): %v", err)
	}
	none := listAlerts(t, db, createMember(t, db, "empty", false).ID, occsimore.AlertFilter{})
	if none == nil || len(none) != 0 {
		t.Fatalf("ListAlerts(empty member) = %#v, want an empty, non-nil slice", none)
	}
}

// testAlertCreateRejects checks that a batch with a bad alert stores none of
// its alerts and leaves the caller's structs as they were.
func testAlertCreateRejects(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	existing := newAlert("card.tx", occsimore.DecisionReview, 1, t0, map[string]string{"card": "c1"})
	existing.ID = "alr_existing"
	createAlerts(t, db, a.ID, existing)

	valid := func() *occsimore.Alert {
		return newAlert("card.tx", occsimore.DecisionBlock, 2, t0.Add(time.Hour), map[string]string{"card": "c2"})
	}
	for _, tc := range []struct {
		name   string
		bad    func(*occsimore.Alert)
		code   string
		field  string
		member string
	}{
		{"unknown decision", func(al *occsimore.Alert) { al.Decision = "deny" }, occsimore.EINVALID, "decision", a.ID},
		{"no decision", func(al *occsimore.Alert) { al.Decision = "" }, occsimore.EINVALID, "decision", a.ID},
		{"unknown label", func(al *occsimore.Alert) { al.Label = "spam" }, occsimore.EINVALID, "label", a.ID},
		{"labeler without label", func(al *occsimore.Alert) { al.LabeledBy = "usr_x" }, occsimore.EINVALID, "label", a.ID},
		{"NaN score", func(al *occsimore.Alert) { al.Score = math.NaN() }, occsimore.EINVALID, "score", a.ID},
		{"NaN model score", func(al *occsimore.Alert) { al.ShadowScore = math.NaN() }, occsimore.EINVALID, "model_score", a.ID},
		{"negative model version", func(al *occsimore.Alert) { al.ModelVersion = -1 }, occsimore.EINVALID, "model_version", a.ID},
		{"infinite amount", func(al *occsimore.Alert) { al.Amount = math.Inf(1) }, occsimore.EINVALID, "amount", a.ID},
		{"no event time", func(al *occsimore.Alert) { al.Time = time.Time{} }, occsimore.EINVALID, "time", a.ID},
		{"empty entity ID", func(al *occsimore.Alert) { al.Entities["customer"] = "" }, occsimore.EINVALID, "entities", a.ID},
		{"duplicate ID", func(al *occsimore.Alert) { al.ID = existing.ID }, occsimore.ECONFLICT, "", a.ID},
		{"unknown member", func(*occsimore.Alert) {}, occsimore.ENOTFOUND, "", "mem_unknown"},
	} {
		first, bad := valid(), valid()
		tc.bad(bad)
		badBefore := *bad
		err := db.CreateAlerts(ctx, tc.member, []*occsimore.Alert{first, bad})
		wantCode(t, "CreateAlerts("+tc.name+")", err, tc.code)
		if got := occsimore.ErrorField(err); got != tc.field {
			t.Fatalf("CreateAlerts(%s): error %v names field %q, want %q", tc.name, err, got, tc.field)
		}
		if first.ID != "" || first.MemberID != "" {
			t.Fatalf("CreateAlerts(%s) failed but set ID %q, MemberID %q", tc.name, first.ID, first.MemberID)
		}
		if diff := gocmp.Diff(&badBefore, bad, gocmp.Comparer(sameFloat)); diff != "" {
			t.Fatalf("CreateAlerts(%s) failed but changed the alert (-before +after):\n%s", tc.name, diff)
		}
	}
	if got, want := alertIDs(listAlerts(t, db, a.ID, occsimore.AlertFilter{})), []string{existing.ID}; !slices.Equal(got, want) {
		t.Fatalf("alerts after rejected batches = %v, want only %v", got, want)
	}
	if got, want := countRows(t, db, "alert_entities", a.ID), 1; got != want {
		t.Fatalf("alert entity rows after rejected batches = %d, want %d", got, want)
	}
	err := db.CreateAlerts(ctx, a.ID, []*occsimore.Alert{valid(), nil})
	wantCode(t, "CreateAlerts(nil alert)", err, occsimore.EINVALID)

	// A conflict late in a batch larger than one INSERT undoes the rows
	// already inserted.
	big := make([]*occsimore.Alert, 150)
	for i := range big {
		big[i] = valid()
	}
	big[149].ID = existing.ID
	wantCode(t, "CreateAlerts(large batch, conflict at the end)", db.CreateAlerts(ctx, a.ID, big), occsimore.ECONFLICT)
	if got, want := countRows(t, db, "alerts", a.ID), 1; got != want {
		t.Fatalf("alerts after a rejected large batch = %d, want %d", got, want)
	}

	// Two alerts with the same ID in one batch conflict with each other.
	x, y := valid(), valid()
	x.ID, y.ID = "alr_twin", "alr_twin"
	wantCode(t, "CreateAlerts(twins)", db.CreateAlerts(ctx, a.ID, []*occsimore.Alert{x, y}), occsimore.ECONFLICT)
	_, err = db.FindAlert(ctx, a.ID, "alr_twin")
	wantCode(t, "FindAlert(twin of a rejected batch)", err, occsimore.ENOTFOUND)
}

// sameFloat compares floats with NaN equal to itself.
func sameFloat(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }

// testAlertTimePrecision checks that every alert time comes back in UTC,
// truncated to the microsecond, equal to what CreateAlerts left in the
// caller's struct, and that order holds at that resolution.
func testAlertTimePrecision(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	for i, in := range []time.Time{
		time.Date(2026, 3, 1, 17, 30, 0, 123456789, zone),
		time.Date(2026, 3, 1, 12, 0, 0, 999, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
	} {
		want := in.Truncate(time.Microsecond).UTC()
		al := newAlert("card.tx", occsimore.DecisionReview, 1, in, nil)
		al.Time = in
		createAlerts(t, db, a.ID, al)
		labeled, err := db.LabelAlert(ctx, a.ID, al.ID, occsimore.LabelLegit, "usr_ana", in)
		if err != nil {
			t.Fatalf("LabelAlert: %v", err)
		}
		got, err := db.FindAlert(ctx, a.ID, al.ID)
		if err != nil {
			t.Fatalf("FindAlert: %v", err)
		}
		for name, pair := range map[string][2]time.Time{
			"Time (caller's struct)":      {al.Time, want},
			"CreatedAt (caller's struct)": {al.CreatedAt, want},
			"Time":                        {got.Time, want},
			"CreatedAt":                   {got.CreatedAt, want},
			"LabeledAt":                   {got.LabeledAt, want},
			"LabeledAt (LabelAlert)":      {labeled.LabeledAt, want},
		} {
			if got, want := pair[0], pair[1]; !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("%d: %s for %v = %v, want %v in UTC", i, name, in, got, want)
			}
		}
	}

	b := createMember(t, db, "bravo", false)
	late := newAlert("card.tx", occsimore.DecisionReview, 1, t0.Add(time.Microsecond), nil)
	late.ID = "alr_a_late" // sorts before alr_b_early: only the times can order them
	early := newAlert("card.tx", occsimore.DecisionReview, 1, t0, nil)
	early.ID = "alr_b_early"
	createAlerts(t, db, b.ID, early, late)
	if got, want := alertIDs(listAlerts(t, db, b.ID, occsimore.AlertFilter{})), []string{"alr_a_late", "alr_b_early"}; !slices.Equal(got, want) {
		t.Fatalf("alerts a microsecond apart listed %v, want %v", got, want)
	}
	since := listAlerts(t, db, b.ID, occsimore.AlertFilter{Since: t0.Add(time.Microsecond)})
	if got, want := alertIDs(since), []string{"alr_a_late"}; !slices.Equal(got, want) {
		t.Fatalf("Since a microsecond after t0: %v, want %v", got, want)
	}
}

// alertFixture is a member's alerts varied along every filterable field.
type alertFixture struct {
	member *occsimore.Member
	all    []*occsimore.Alert
}

func newAlertFixture(t *testing.T, db *sqlstore.DB, slug string) alertFixture {
	t.Helper()
	m := createMember(t, db, slug, false)
	kinds := []string{"card.tx", "auth.login", "custom.kind"}
	decisions := []occsimore.Decision{occsimore.DecisionReview, occsimore.DecisionBlock, occsimore.DecisionAllow}
	var all []*occsimore.Alert
	for i := range 30 {
		entities := map[string]string{"card": []string{"c1", "c2", "c3"}[i%3]}
		if i%4 == 0 {
			entities["customer"] = "c1" // same ID, another role
		}
		if i%5 == 0 {
			entities["ip"] = "192.0.2.1"
		}
		al := newAlert(kinds[i%3], decisions[(i/3)%3], float64(i)/10, t0.Add(time.Duration(i)*time.Minute), entities)
		if i%7 == 0 {
			al.Label, al.LabeledBy, al.LabeledAt = occsimore.LabelLegit, "usr_import", t0
		}
		all = append(all, al)
	}
	createAlerts(t, db, m.ID, all...)
	// Labels set later, by an analyst, filter like labels set at creation.
	for _, al := range all[1:6] {
		got, err := db.LabelAlert(t.Context(), m.ID, al.ID, occsimore.LabelFraud, "usr_ana", t0.Add(time.Hour))
		if err != nil {
			t.Fatalf("LabelAlert: %v", err)
		}
		*al = *got
	}
	return alertFixture{member: m, all: all}
}

func testAlertFilters(t *testing.T, db *sqlstore.DB) {
	fx := newAlertFixture(t, db, "alpha")
	// Another member's alerts share kinds, entity IDs and times, and must
	// never match.
	newAlertFixture(t, db, "bravo")

	has := func(role, id string) func(*occsimore.Alert) bool {
		return func(a *occsimore.Alert) bool { return a.Entities[role] == id }
	}
	since, until := t0.Add(10*time.Minute), t0.Add(20*time.Minute)
	for _, tc := range []struct {
		name   string
		filter occsimore.AlertFilter
		match  func(*occsimore.Alert) bool
	}{
		{"kind", occsimore.AlertFilter{Kind: "auth.login"}, func(a *occsimore.Alert) bool { return a.Kind == "auth.login" }},
		{"decision", occsimore.AlertFilter{Decision: occsimore.DecisionBlock},
			func(a *occsimore.Alert) bool { return a.Decision == occsimore.DecisionBlock }},
		{"label fraud", occsimore.AlertFilter{Label: occsimore.LabelFraud},
			func(a *occsimore.Alert) bool { return a.Label == occsimore.LabelFraud }},
		{"label legit", occsimore.AlertFilter{Label: occsimore.LabelLegit},
			func(a *occsimore.Alert) bool { return a.Label == occsimore.LabelLegit }},
		{"unlabeled", occsimore.AlertFilter{Unlabeled: true},
			func(a *occsimore.Alert) bool { return a.Label == occsimore.LabelNone }},
		{"entity", occsimore.AlertFilter{EntityRole: "card", EntityID: "c1"}, has("card", "c1")},
		{"entity in another role", occsimore.AlertFilter{EntityRole: "customer", EntityID: "c1"}, has("customer", "c1")},
		{"entity of an extra role", occsimore.AlertFilter{EntityRole: "ip", EntityID: "192.0.2.1"}, has("ip", "192.0.2.1")},
		{"since", occsimore.AlertFilter{Since: since}, func(a *occsimore.Alert) bool { return !a.CreatedAt.Before(since) }},
		{"until", occsimore.AlertFilter{Until: until}, func(a *occsimore.Alert) bool { return a.CreatedAt.Before(until) }},
		{"since and until", occsimore.AlertFilter{Since: since, Until: until},
			func(a *occsimore.Alert) bool { return !a.CreatedAt.Before(since) && a.CreatedAt.Before(until) }},
		{"min score", occsimore.AlertFilter{MinScore: 1.5}, func(a *occsimore.Alert) bool { return a.Score >= 1.5 }},
		{"all at once", occsimore.AlertFilter{Kind: "card.tx", Decision: occsimore.DecisionReview, Unlabeled: true,
			EntityRole: "card", EntityID: "c1", Since: t0, Until: until, MinScore: 0.3},
			func(a *occsimore.Alert) bool {
				return a.Kind == "card.tx" && a.Decision == occsimore.DecisionReview && a.Label == "" &&
					a.Entities["card"] == "c1" && a.CreatedAt.Before(until) && a.Score >= 0.3
			}},
		{"entity and label", occsimore.AlertFilter{EntityRole: "card", EntityID: "c2", Label: occsimore.LabelFraud},
			func(a *occsimore.Alert) bool { return a.Entities["card"] == "c2" && a.Label == occsimore.LabelFraud }},
		{"unknown entity", occsimore.AlertFilter{EntityRole: "card", EntityID: "c9"}, has("card", "c9")},
		{"empty window", occsimore.AlertFilter{Since: t0.Add(time.Hour)}, func(*occsimore.Alert) bool { return false }},
	} {
		want := []*occsimore.Alert{}
		for _, a := range newestFirst(fx.all) {
			if tc.match(a) {
				want = append(want, a)
			}
		}
		// A filter that matches everything would prove nothing.
		if len(want) == len(fx.all) {
			t.Fatalf("%s: the fixture has no alert the filter excludes", tc.name)
		}
		got := listAlerts(t, db, fx.member.ID, tc.filter)
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Fatalf("ListAlerts(%s) mismatch (-want +got):\n%s", tc.name, diff)
		}
	}
}

func testAlertFilterInvalid(t *testing.T, db *sqlstore.DB) {
	fx := newAlertFixture(t, db, "alpha")
	for _, tc := range []struct {
		name   string
		filter occsimore.AlertFilter
		field  string
	}{
		{"unknown decision", occsimore.AlertFilter{Decision: "deny"}, "decision"},
		{"unknown label", occsimore.AlertFilter{Label: "spam"}, "label"},
		{"label and unlabeled", occsimore.AlertFilter{Label: occsimore.LabelFraud, Unlabeled: true}, "label"},
		{"limit over 500", occsimore.AlertFilter{Limit: 501}, "limit"},
		{"negative limit", occsimore.AlertFilter{Limit: -1}, "limit"},
		{"entity ID without role", occsimore.AlertFilter{EntityID: "c1"}, "entity_role"},
		{"entity role without ID", occsimore.AlertFilter{EntityRole: "card"}, "entity_id"},
		{"until before since", occsimore.AlertFilter{Since: t0.Add(time.Hour), Until: t0}, "until"},
		{"NaN min score", occsimore.AlertFilter{MinScore: math.NaN()}, "min_score"},
		{"unknown cursor", occsimore.AlertFilter{Before: "alr_unknown"}, "before"},
	} {
		got, err := db.ListAlerts(t.Context(), fx.member.ID, tc.filter)
		wantField(t, "ListAlerts("+tc.name+")", err, tc.field)
		if got != nil {
			t.Fatalf("ListAlerts(%s) returned %d alerts with its error", tc.name, len(got))
		}
	}
}

// testAlertPagination pages through alerts with many equal CreatedAt, so
// that the cursor must break ties by ID, and checks that the pages add up to
// the whole list, even while new alerts arrive.
func testAlertPagination(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	var all []*occsimore.Alert
	for i := range 137 {
		// Five alerts per instant; IDs are assigned, so random.
		created := t0.Add(time.Duration(i/5) * time.Second)
		card := "c-odd"
		if i%2 == 0 {
			card = "c-even"
		}
		d := occsimore.DecisionReview
		if i%3 == 0 {
			d = occsimore.DecisionBlock
		}
		all = append(all, newAlert("card.tx", d, 1, created, map[string]string{"card": card}))
	}
	createAlerts(t, db, a.ID, all...)

	for _, tc := range []struct {
		name   string
		filter occsimore.AlertFilter
		match  func(*occsimore.Alert) bool
	}{
		{"all", occsimore.AlertFilter{Limit: 10}, func(*occsimore.Alert) bool { return true }},
		{"entity", occsimore.AlertFilter{Limit: 7, EntityRole: "card", EntityID: "c-even"},
			func(a *occsimore.Alert) bool { return a.Entities["card"] == "c-even" }},
		{"decision", occsimore.AlertFilter{Limit: 4, Decision: occsimore.DecisionBlock},
			func(a *occsimore.Alert) bool { return a.Decision == occsimore.DecisionBlock }},
		{"one per page", occsimore.AlertFilter{Limit: 1, Since: t0.Add(20 * time.Second)},
			func(a *occsimore.Alert) bool { return !a.CreatedAt.Before(t0.Add(20 * time.Second)) }},
	} {
		var want []string
		for _, al := range newestFirst(all) {
			if tc.match(al) {
				want = append(want, al.ID)
			}
		}
		var got []string
		var added []*occsimore.Alert
		f := tc.filter
		for page := 0; ; page++ {
			if page > len(all) {
				t.Fatalf("%s: pagination does not end", tc.name)
			}
			list := listAlerts(t, db, a.ID, f)
			if len(list) > f.Limit {
				t.Fatalf("%s: page %d has %d alerts, over the limit %d", tc.name, page, len(list), f.Limit)
			}
			if len(list) == 0 {
				break
			}
			got = append(got, alertIDs(list)...)
			f.Before = list[len(list)-1].ID
			if page == 1 {
				// An alert arriving mid-way, newer than every alert so far,
				// neither shows up in later pages nor shifts them.
				newest := t0.Add(time.Hour + time.Duration(len(all))*time.Second)
				late := newAlert("card.tx", occsimore.DecisionBlock, 1, newest, map[string]string{"card": "c-even"})
				createAlerts(t, db, a.ID, late)
				added = append(added, late)
			}
		}
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Fatalf("%s: pages joined mismatch (-want +got):\n%s", tc.name, diff)
		}
		all = append(all, added...) // the next listings include it
	}
}

func testAlertLimit(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	var all []*occsimore.Alert
	for i := range 520 {
		all = append(all, newAlert("card.tx", occsimore.DecisionReview, 1, t0.Add(time.Duration(i)*time.Millisecond), nil))
	}
	createAlerts(t, db, a.ID, all...)
	sorted := newestFirst(all)
	for _, tc := range []struct{ limit, want int }{
		{0, sqlstore.DefaultAlertLimit},
		{1, 1},
		{sqlstore.MaxAlertLimit, sqlstore.MaxAlertLimit},
	} {
		got := listAlerts(t, db, a.ID, occsimore.AlertFilter{Limit: tc.limit})
		if got, want := len(got), tc.want; got != want {
			t.Fatalf("Limit %d: %d alerts, want %d", tc.limit, got, want)
		}
		if got, want := alertIDs(got), alertIDs(sorted[:tc.want]); !slices.Equal(got, want) {
			t.Fatalf("Limit %d: not the newest alerts in order", tc.limit)
		}
	}
}

func testAlertLabel(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	now := time.Date(2026, 4, 1, 8, 0, 0, 987654321, time.UTC)
	db.Now = func() time.Time { return now }
	a := createMember(t, db, "alpha", false)
	al := newAlert("card.tx", occsimore.DecisionReview, 4.2, t0, map[string]string{"card": "c1"})
	other := newAlert("card.tx", occsimore.DecisionReview, 4.2, t0, map[string]string{"card": "c1"})
	createAlerts(t, db, a.ID, al, other)

	at1 := t0.Add(time.Hour)
	got, err := db.LabelAlert(ctx, a.ID, al.ID, occsimore.LabelFraud, "usr_ana", at1)
	if err != nil {
		t.Fatalf("LabelAlert: %v", err)
	}
	want := *al
	want.Label, want.LabeledBy, want.LabeledAt = occsimore.LabelFraud, "usr_ana", at1
	if diff := gocmp.Diff(&want, got); diff != "" {
		t.Fatalf("LabelAlert result mismatch (-want +got):\n%s", diff)
	}
	found, err := db.FindAlert(ctx, a.ID, al.ID)
	if err != nil {
		t.Fatalf("FindAlert: %v", err)
	}
	if diff := gocmp.Diff(got, found); diff != "" {
		t.Fatalf("FindAlert after LabelAlert mismatch (-returned +found):\n%s", diff)
	}

	// An analyst corrects a mistake: the new label replaces the old one,
	// with its author and time.
	at2 := t0.Add(2 * time.Hour)
	got, err = db.LabelAlert(ctx, a.ID, al.ID, occsimore.LabelLegit, "usr_bob", at2)
	if err != nil {
		t.Fatalf("LabelAlert again: %v", err)
	}
	want.Label, want.LabeledBy, want.LabeledAt = occsimore.LabelLegit, "usr_bob", at2
	if diff := gocmp.Diff(&want, got); diff != "" {
		t.Fatalf("relabel result mismatch (-want +got):\n%s", diff)
	}
	if got, want := alertIDs(listAlerts(t, db, a.ID, occsimore.AlertFilter{Label: occsimore.LabelFraud})), []string{}; !slices.Equal(got, want) {
		t.Fatalf("fraud alerts after relabel = %v, want none", got)
	}
	if got, want := alertIDs(listAlerts(t, db, a.ID, occsimore.AlertFilter{Unlabeled: true})), []string{other.ID}; !slices.Equal(got, want) {
		t.Fatalf("unlabeled alerts = %v, want %v", got, want)
	}

	// A zero time means now, from the store's clock.
	got, err = db.LabelAlert(ctx, a.ID, other.ID, occsimore.LabelFraud, "usr_ana", time.Time{})
	if err != nil {
		t.Fatalf("LabelAlert(zero time): %v", err)
	}
	if got, want := got.LabeledAt, now.Truncate(time.Microsecond); !got.Equal(want) {
		t.Fatalf("LabeledAt with a zero time = %v, want %v from DB.Now", got, want)
	}

	for _, bad := range []occsimore.Label{occsimore.LabelNone, "spam", "FRAUD"} {
		got, err := db.LabelAlert(ctx, a.ID, al.ID, bad, "usr_eve", at2.Add(time.Hour))
		wantField(t, "LabelAlert("+string(bad)+")", err, "label")
		if got != nil {
			t.Fatalf("LabelAlert(%q) returned an alert with its error", bad)
		}
	}
	got, err = db.LabelAlert(ctx, a.ID, "alr_unknown", occsimore.LabelFraud, "usr_ana", at2)
	wantNotFound(t, "LabelAlert(unknown)", got, err)
	found, err = db.FindAlert(ctx, a.ID, al.ID)
	if err != nil {
		t.Fatalf("FindAlert: %v", err)
	}
	if diff := gocmp.Diff(&want, found); diff != "" {
		t.Fatalf("rejected labels changed the alert (-want +got):\n%s", diff)
	}
}

// testAlertCrossMember checks that another member's alert is missing to
// every method, cannot be labeled, and is no valid cursor.
func testAlertCrossMember(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	b := createMember(t, db, "bravo", false)
	op := createMember(t, db, "ops", true)
	// The same entity and the same instant in both members.
	alA := newAlert("card.tx", occsimore.DecisionBlock, 5, t0, map[string]string{"card": "shared"})
	alB := newAlert("card.tx", occsimore.DecisionBlock, 5, t0, map[string]string{"card": "shared"})
	alB2 := newAlert("card.tx", occsimore.DecisionBlock, 5, t0.Add(-time.Minute), map[string]string{"card": "shared"})
	createAlerts(t, db, a.ID, alA)
	createAlerts(t, db, b.ID, alB, alB2)

	for _, asking := range []*occsimore.Member{a, op} {
		got, err := db.FindAlert(ctx, asking.ID, alB.ID)
		wantNotFound(t, "FindAlert(other member's alert) by "+asking.Slug, got, err)
		got, err = db.LabelAlert(ctx, asking.ID, alB.ID, occsimore.LabelLegit, "usr_eve", t0)
		wantNotFound(t, "LabelAlert(other member's alert) by "+asking.Slug, got, err)
		_, err = db.ListAlerts(ctx, asking.ID, occsimore.AlertFilter{Before: alB.ID})
		wantField(t, "ListAlerts(other member's cursor) by "+asking.Slug, err, "before")
		_, err = db.ListAlerts(ctx, asking.ID, occsimore.AlertFilter{Before: alB.ID, EntityRole: "card", EntityID: "shared"})
		wantField(t, "ListAlerts(other member's cursor, entity) by "+asking.Slug, err, "before")
	}
	got, err := db.FindAlert(ctx, b.ID, alB.ID)
	if err != nil {
		t.Fatalf("FindAlert by owner: %v", err)
	}
	if diff := gocmp.Diff(alB, got); diff != "" {
		t.Fatalf("alert changed by another member (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		member *occsimore.Member
		want   []string
	}{
		{a, []string{alA.ID}},
		{b, []string{alB.ID, alB2.ID}},
		{op, []string{}},
	} {
		for _, f := range []occsimore.AlertFilter{
			{},
			{EntityRole: "card", EntityID: "shared"},
			{Kind: "card.tx", Decision: occsimore.DecisionBlock, Unlabeled: true, Since: t0.Add(-time.Hour)},
		} {
			if got := alertIDs(listAlerts(t, db, tc.member.ID, f)); !slices.Equal(got, tc.want) {
				t.Fatalf("ListAlerts(%s, %+v) = %v, want %v", tc.member.Slug, f, got, tc.want)
			}
		}
	}
}

// wantNotFound fails the test unless a call returned ENOTFOUND and no alert.
func wantNotFound(t *testing.T, what string, a *occsimore.Alert, err error) {
	t.Helper()
	wantCode(t, what, err, occsimore.ENOTFOUND)
	if a != nil {
		t.Fatalf("%s: returned alert %s with its error", what, a.ID)
	}
}

func testAlertCascadeDelete(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	a := createMember(t, db, "alpha", false)
	b := createMember(t, db, "bravo", false)
	alA := newAlert("card.tx", occsimore.DecisionReview, 1, t0, map[string]string{"card": "c1", "ip": "192.0.2.1"})
	alB := newAlert("card.tx", occsimore.DecisionReview, 1, t0, map[string]string{"card": "c1"})
	createAlerts(t, db, a.ID, alA)
	createAlerts(t, db, b.ID, alB)
	if got, want := countRows(t, db, "alert_entities", a.ID), 2; got != want {
		t.Fatalf("entity rows of alpha = %d, want %d", got, want)
	}

	if _, err := db.SQL().ExecContext(ctx, db.Rebind(`DELETE FROM members WHERE id = ?`), a.ID); err != nil {
		t.Fatalf("delete member: %v", err)
	}
	for _, table := range []string{"alerts", "alert_entities"} {
		if got := countRows(t, db, table, a.ID); got != 0 {
			t.Fatalf("%s rows of a deleted member = %d, want 0", table, got)
		}
	}
	if _, err := db.FindAlert(ctx, b.ID, alB.ID); err != nil {
		t.Fatalf("other member's alert after delete: %v", err)
	}
	if got, want := countRows(t, db, "alert_entities", b.ID), 1; got != want {
		t.Fatalf("entity rows of bravo = %d, want %d", got, want)
	}
}

func testAlertContextCanceled(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	al := newAlert("card.tx", occsimore.DecisionReview, 1, t0, nil)
	createAlerts(t, db, a.ID, al)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"CreateAlerts": func() error {
			return db.CreateAlerts(ctx, a.ID, []*occsimore.Alert{newAlert("card.tx", occsimore.DecisionBlock, 1, t0, nil)})
		},
		"FindAlert":  func() error { _, err := db.FindAlert(ctx, a.ID, al.ID); return err },
		"ListAlerts": func() error { _, err := db.ListAlerts(ctx, a.ID, occsimore.AlertFilter{}); return err },
		"ListAlerts(cursor)": func() error {
			_, err := db.ListAlerts(ctx, a.ID, occsimore.AlertFilter{Before: al.ID})
			return err
		},
		"LabelAlert": func() error {
			_, err := db.LabelAlert(ctx, a.ID, al.ID, occsimore.LabelFraud, "usr_ana", t0)
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: error %v, want context.Canceled", name, err)
		}
	}
	got, err := db.FindAlert(t.Context(), a.ID, al.ID)
	if err != nil {
		t.Fatalf("FindAlert: %v", err)
	}
	if diff := gocmp.Diff(al, got); diff != "" {
		t.Fatalf("alert changed despite canceled context (-want +got):\n%s", diff)
	}
	if got, want := len(listAlerts(t, db, a.ID, occsimore.AlertFilter{})), 1; got != want {
		t.Fatalf("alerts after canceled CreateAlerts = %d, want %d", got, want)
	}
}
