package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/occsimore/occsimore/taxii"
)

func runTAXII(t *testing.T, open Open) {
	contract{
		{"TAXIICollections", testTAXIICollections},
		{"TAXIIVersions", testTAXIIVersions},
		{"TAXIIFilters", testTAXIIFilters},
		{"TAXIISpecVersions", testTAXIISpecVersions},
		{"TAXIIPaging", testTAXIIPaging},
		{"TAXIIConcurrentWriters", testTAXIIConcurrentWriters},
		{"TAXIIRights", testTAXIIRights},
		{"TAXIIDelete", testTAXIIDelete},
		{"TAXIIStatus", testTAXIIStatus},
		{"TAXIISync", testTAXIISync},
	}.run(t, open)
}

// stixObject returns a parsed STIX object of type typ, number n, at version v.
func stixObject(t *testing.T, typ string, n int, spec string, v time.Time) taxii.Object {
	t.Helper()
	id := fmt.Sprintf("%s--00000000-0000-4000-8000-%012d", typ, n)
	sv := ""
	if spec != "" {
		sv = `"spec_version":"` + spec + `",`
	}
	raw := fmt.Sprintf(`{"type":%q,"id":%q,%s"created":"2020-01-01T00:00:00.000Z","modified":%q,"name":"n%d"}`,
		typ, id, sv, v.UTC().Format(time.RFC3339Nano), n)
	o, err := taxii.ParseObject([]byte(raw))
	if err != nil {
		t.Fatalf("ParseObject(%s): %v", raw, err)
	}
	return o
}

// collection creates a collection and grants each member its rights.
func collection(t *testing.T, db *sqlstore.DB, title string, rights map[string][2]bool) *taxii.Collection {
	t.Helper()
	c := &taxii.Collection{Title: title}
	if err := db.CreateCollection(t.Context(), c); err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	for m, rw := range rights {
		if err := db.Grant(t.Context(), c.ID, m, rw[0], rw[1]); err != nil {
			t.Fatalf("Grant: %v", err)
		}
	}
	return c
}

func addObjects(t *testing.T, db *sqlstore.DB, memberID, colID string, now time.Time, objs ...taxii.Object) []taxii.Outcome {
	t.Helper()
	out, err := db.AddObjects(t.Context(), memberID, colID, objs, now)
	if err != nil {
		t.Fatalf("AddObjects: %v", err)
	}
	for _, o := range out {
		if o.Err != nil {
			t.Fatalf("AddObjects: %s: %v", o.ID, o.Err)
		}
	}
	return out
}

func query(t *testing.T, db *sqlstore.DB, memberID, colID string, q taxii.Query) *taxii.Page {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	p, err := db.QueryObjects(t.Context(), memberID, colID, q)
	if err != nil {
		t.Fatalf("QueryObjects: %v", err)
	}
	return p
}

// versions lists a page as "id@version" strings.
func versions(p *taxii.Page) []string {
	out := []string{}
	for _, r := range p.Records {
		out = append(out, fmt.Sprintf("%s@%s", r.ID[len(r.ID)-2:], r.Version.Format("2006-01-02")))
	}
	return out
}

func testTAXIICollections(t *testing.T, db *sqlstore.DB) {
	a, b := createMember(t, db, "alpha", false), createMember(t, db, "beta", false)
	c1 := collection(t, db, "banking group", map[string][2]bool{a.ID: {true, true}, b.ID: {true, false}})
	c2 := collection(t, db, "pharma group", map[string][2]bool{a.ID: {false, true}})
	if !taxii.ValidUUID(c1.ID) || c1.ID == c2.ID {
		t.Fatalf("collection ids %q, %q", c1.ID, c2.ID)
	}
	list, err := db.ListCollections(t.Context(), a.ID)
	if err != nil || len(list) != 2 || list[0].ID != c1.ID || !list[0].CanRead || !list[0].CanWrite || list[1].CanRead || !list[1].CanWrite {
		t.Fatalf("ListCollections(a) = %+v, %v", list, err)
	}
	list, err = db.ListCollections(t.Context(), b.ID)
	if err != nil || len(list) != 1 || list[0].ID != c1.ID || !list[0].CanRead || list[0].CanWrite {
		t.Fatalf("ListCollections(b) = %+v, %v", list, err)
	}
	_, err = db.FindCollection(t.Context(), b.ID, c2.ID)
	wantCode(t, "FindCollection of an ungranted collection", err, occsimore.ENOTFOUND)
	got, err := db.FindCollection(t.Context(), a.ID, c2.ID)
	if err != nil || got.Title != "pharma group" || len(got.MediaTypes) == 0 {
		t.Fatalf("FindCollection = %+v, %v", got, err)
	}
	// Revoking removes the collection from the member's view.
	if err := db.Grant(t.Context(), c1.ID, b.ID, false, false); err != nil {
		t.Fatal(err)
	}
	if list, _ := db.ListCollections(t.Context(), b.ID); len(list) != 0 {
		t.Fatalf("after revoke, b lists %+v", list)
	}
	wantCode(t, "Grant on a missing collection", db.Grant(t.Context(), taxii.NewUUID(), a.ID, true, true), occsimore.ENOTFOUND)
	wantCode(t, "duplicate collection", db.CreateCollection(t.Context(), &taxii.Collection{ID: c1.ID, Title: "x"}), occsimore.ECONFLICT)
	wantCode(t, "collection without title", db.CreateCollection(t.Context(), &taxii.Collection{}), occsimore.EINVALID)
}

func testTAXIIVersions(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	c := collection(t, db, "g", map[string][2]bool{a.ID: {true, true}})
	d := func(day int) time.Time { return time.Date(2020, 1, day, 0, 0, 0, 0, time.UTC) }
	// Versions arrive out of order: first/last follow the versions, not
	// the order of arrival.
	addObjects(t, db, a.ID, c.ID, t0, stixObject(t, "indicator", 1, "2.1", d(5)))
	addObjects(t, db, a.ID, c.ID, t0.Add(time.Second), stixObject(t, "indicator", 1, "2.1", d(9)), stixObject(t, "malware", 2, "2.1", d(3)))
	addObjects(t, db, a.ID, c.ID, t0.Add(2*time.Second), stixObject(t, "indicator", 1, "2.1", d(2)))
	// The same version again is a success and stores nothing.
	out := addObjects(t, db, a.ID, c.ID, t0.Add(3*time.Second), stixObject(t, "indicator", 1, "2.1", d(9)))
	if !out[0].Version.Equal(d(9)) || !out[0].Held {
		t.Fatalf("outcome version %v", out[0].Version)
	}
	for _, tc := range []struct {
		vm   taxii.VersionMatch
		want []string
	}{
		{taxii.VersionMatch{Last: true}, []string{"01@2020-01-09", "02@2020-01-03"}},
		{taxii.VersionMatch{First: true}, []string{"02@2020-01-03", "01@2020-01-02"}},
		{taxii.VersionMatch{All: true}, []string{"01@2020-01-05", "01@2020-01-09", "02@2020-01-03", "01@2020-01-02"}},
		{taxii.VersionMatch{First: true, Last: true}, []string{"01@2020-01-09", "02@2020-01-03", "01@2020-01-02"}},
		{taxii.VersionMatch{Times: []time.Time{d(5)}}, []string{"01@2020-01-05"}},
		{taxii.VersionMatch{Last: true, Times: []time.Time{d(5)}}, []string{"01@2020-01-05", "01@2020-01-09", "02@2020-01-03"}},
	} {
		p := query(t, db, a.ID, c.ID, taxii.Query{Filter: taxii.Filter{Versions: tc.vm}})
		if got := versions(p); !slices.Equal(got, tc.want) {
			t.Errorf("versions %+v = %v, want %v", tc.vm, got, tc.want)
		}
	}
	// Records carry the raw object and their date_added.
	p := query(t, db, a.ID, c.ID, taxii.Query{Filter: taxii.Filter{Versions: taxii.VersionMatch{Last: true}}})
	if r := p.Records[0]; r.DateAdded.Equal(t0) || !r.DateAdded.Equal(t0.Add(time.Second)) || len(r.Raw) == 0 || r.Type != "indicator" || r.SpecVersion != "2.1" {
		t.Fatalf("record = %+v", r)
	}
	p = query(t, db, a.ID, c.ID, taxii.Query{Filter: taxii.Filter{Versions: taxii.VersionMatch{All: true}}, NoRaw: true})
	if len(p.Records) != 4 || len(p.Records[0].Raw) != 0 {
		t.Fatalf("NoRaw query = %+v", p.Records)
	}
	// One batch holding a new object twice at the same version and once at
	// another: the repeat is held, and the marks see both versions.
	out = addObjects(t, db, a.ID, c.ID, t0.Add(4*time.Second), stixObject(t, "tool", 3, "2.1", d(7)),
		stixObject(t, "tool", 3, "2.1", d(7)), stixObject(t, "tool", 3, "2.1", d(6)))
	if out[0].Held || !out[1].Held || out[2].Held {
		t.Fatalf("outcomes of a batch with a repeat = %+v", out)
	}
	f := taxii.Filter{Types: []string{"tool"}}
	for _, tc := range []struct {
		vm   taxii.VersionMatch
		want string
	}{{taxii.VersionMatch{First: true}, "03@2020-01-06"}, {taxii.VersionMatch{Last: true}, "03@2020-01-07"}} {
		vm, want := tc.vm, tc.want
		f.Versions = vm
		if got := versions(query(t, db, a.ID, c.ID, taxii.Query{Filter: f})); len(got) != 1 || got[0] != want {
			t.Errorf("tool %+v = %v, want %s", vm, got, want)
		}
	}
}

func testTAXIIFilters(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	c := collection(t, db, "g", map[string][2]bool{a.ID: {true, true}})
	v := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	addObjects(t, db, a.ID, c.ID, t0, stixObject(t, "indicator", 1, "2.1", v), stixObject(t, "malware", 2, "", v))
	addObjects(t, db, a.ID, c.ID, t0.Add(time.Hour), stixObject(t, "indicator", 3, "2.1", v), stixObject(t, "relationship", 4, "2.1", v))
	last := taxii.VersionMatch{Last: true}
	for name, tc := range map[string]struct {
		f    taxii.Filter
		want []string
	}{
		"type":         {taxii.Filter{Types: []string{"indicator", "relationship"}}, []string{"01", "03", "04"}},
		"id":           {taxii.Filter{IDs: []string{stixObject(t, "malware", 2, "", v).ID}}, []string{"02"}},
		"spec 2.0":     {taxii.Filter{SpecVersions: []string{"2.0"}}, []string{"02"}},
		"spec 2.1":     {taxii.Filter{SpecVersions: []string{"2.1"}}, []string{"01", "03", "04"}},
		"added_after":  {taxii.Filter{AddedAfter: t0}, []string{"03", "04"}},
		"after later":  {taxii.Filter{AddedAfter: t0.Add(time.Hour)}, []string{}},
		"combined":     {taxii.Filter{AddedAfter: t0.Add(-time.Second), Types: []string{"indicator"}, SpecVersions: []string{"2.1"}}, []string{"01", "03"}},
		"missing type": {taxii.Filter{Types: []string{"campaign"}}, []string{}},
	} {
		tc.f.Versions = last
		p := query(t, db, a.ID, c.ID, taxii.Query{Filter: tc.f})
		got := []string{}
		for _, r := range p.Records {
			got = append(got, r.ID[len(r.ID)-2:])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}

func testTAXIIPaging(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	c := collection(t, db, "g", map[string][2]bool{a.ID: {true, true}})
	v := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	var objs []taxii.Object
	for i := range 25 {
		objs = append(objs, stixObject(t, "indicator", i, "2.1", v))
	}
	// Two batches at the same instant: the sequence breaks the tie.
	addObjects(t, db, a.ID, c.ID, t0, objs[:10]...)
	addObjects(t, db, a.ID, c.ID, t0, objs[10:]...)
	var seen []string
	var after *taxii.Position
	pages := 0
	for {
		p := query(t, db, a.ID, c.ID, taxii.Query{Filter: taxii.Filter{Versions: taxii.VersionMatch{Last: true}}, Limit: 7, After: after})
		pages++
		for _, r := range p.Records {
			seen = append(seen, r.ID)
		}
		if !p.More {
			if len(p.Records) != 25-7*(pages-1) {
				t.Fatalf("last page has %d records", len(p.Records))
			}
			break
		}
		if len(p.Records) != 7 {
			t.Fatalf("page %d has %d records, more = true", pages, len(p.Records))
		}
		r := p.Records[len(p.Records)-1]
		after = &taxii.Position{DateAdded: r.DateAdded, Seq: r.Seq}
	}
	want := make([]string, len(objs))
	for i, o := range objs {
		want[i] = o.ID
	}
	if pages != 4 || !slices.Equal(seen, want) {
		t.Fatalf("%d pages, saw %v, want %v", pages, seen, want)
	}
	if _, err := db.QueryObjects(t.Context(), a.ID, c.ID, taxii.Query{}); occsimore.ErrorCode(err) != occsimore.EINVALID {
		t.Fatalf("limit 0: %v", err)
	}
}

func testTAXIIRights(t *testing.T, db *sqlstore.DB) {
	a, b, x := createMember(t, db, "alpha", false), createMember(t, db, "beta", false), createMember(t, db, "xeno", false)
	w := createMember(t, db, "writer", false)
	c := collection(t, db, "g", map[string][2]bool{a.ID: {true, true}, b.ID: {true, false}, w.ID: {false, true}})
	v := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	addObjects(t, db, a.ID, c.ID, t0, stixObject(t, "indicator", 1, "2.1", v))
	// A writer without read may add but not read back.
	addObjects(t, db, w.ID, c.ID, t0, stixObject(t, "indicator", 2, "2.1", v))
	if p := query(t, db, b.ID, c.ID, taxii.Query{Filter: taxii.Filter{Versions: taxii.VersionMatch{Last: true}}}); len(p.Records) != 2 {
		t.Fatalf("reader sees %d objects, want 2", len(p.Records))
	}
	for name, m := range map[string]string{"write-only": w.ID, "ungranted": x.ID} {
		if p := query(t, db, m, c.ID, taxii.Query{Filter: taxii.Filter{Versions: taxii.VersionMatch{All: true}}}); len(p.Records) != 0 {
			t.Fatalf("%s member reads %d objects", name, len(p.Records))
		}
	}
	_, err := db.AddObjects(t.Context(), b.ID, c.ID, []taxii.Object{stixObject(t, "indicator", 3, "2.1", v)}, t0)
	wantCode(t, "AddObjects by a reader", err, occsimore.EFORBIDDEN)
	_, err = db.AddObjects(t.Context(), x.ID, c.ID, []taxii.Object{stixObject(t, "indicator", 3, "2.1", v)}, t0)
	wantCode(t, "AddObjects by an ungranted member", err, occsimore.ENOTFOUND)
	if p := query(t, db, a.ID, c.ID, taxii.Query{Filter: taxii.Filter{Versions: taxii.VersionMatch{All: true}}}); len(p.Records) != 2 {
		t.Fatalf("refused writes stored something: %d objects", len(p.Records))
	}
}

func testTAXIIDelete(t *testing.T, db *sqlstore.DB) {
	a, b := createMember(t, db, "alpha", false), createMember(t, db, "beta", false)
	c := collection(t, db, "g", map[string][2]bool{a.ID: {true, true}, b.ID: {true, true}})
	d := func(day int) time.Time { return time.Date(2020, 1, day, 0, 0, 0, 0, time.UTC) }
	addObjects(t, db, a.ID, c.ID, t0, stixObject(t, "indicator", 1, "2.1", d(1)), stixObject(t, "indicator", 1, "2.1", d(2)))
	addObjects(t, db, b.ID, c.ID, t0, stixObject(t, "indicator", 1, "2.1", d(3)))
	id := stixObject(t, "indicator", 1, "2.1", d(1)).ID
	// b may delete only its own version: the newest, so the last mark moves.
	n, err := db.DeleteObject(t.Context(), b.ID, c.ID, id, taxii.Filter{Versions: taxii.VersionMatch{All: true}})
	if err != nil || n != 1 {
		t.Fatalf("DeleteObject by b = %d, %v; want 1", n, err)
	}
	last := query(t, db, a.ID, c.ID, taxii.Query{Filter: taxii.Filter{Versions: taxii.VersionMatch{Last: true}}})
	if got := versions(last); !slices.Equal(got, []string{"01@2020-01-02"}) {
		t.Fatalf("last after delete = %v", got)
	}
	// a deletes its first version only.
	n, err = db.DeleteObject(t.Context(), a.ID, c.ID, id, taxii.Filter{Versions: taxii.VersionMatch{First: true}})
	if err != nil || n != 1 {
		t.Fatalf("DeleteObject first = %d, %v", n, err)
	}
	first := query(t, db, a.ID, c.ID, taxii.Query{Filter: taxii.Filter{Versions: taxii.VersionMatch{First: true}}})
	if got := versions(first); !slices.Equal(got, []string{"01@2020-01-02"}) {
		t.Fatalf("first after delete = %v", got)
	}
	if err := db.Grant(t.Context(), c.ID, b.ID, true, false); err != nil {
		t.Fatal(err)
	}
	_, err = db.DeleteObject(t.Context(), b.ID, c.ID, id, taxii.Filter{Versions: taxii.VersionMatch{All: true}})
	wantCode(t, "DeleteObject by a reader", err, occsimore.EFORBIDDEN)
}

func testTAXIIStatus(t *testing.T, db *sqlstore.DB) {
	a, b := createMember(t, db, "alpha", false), createMember(t, db, "beta", false)
	c := collection(t, db, "g", map[string][2]bool{a.ID: {true, true}, b.ID: {true, true}})
	s := &taxii.Status{Status: taxii.StatusComplete, TotalCount: 2, SuccessCount: 1, FailureCount: 1,
		Failures: []taxii.StatusDetail{{ID: "indicator--x", Version: "v", Message: "bad"}}}
	if err := db.CreateStatus(t.Context(), a.ID, c.ID, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindStatus(t.Context(), a.ID, s.ID)
	if err != nil || got.ID != s.ID || got.FailureCount != 1 || got.Failures[0].Message != "bad" {
		t.Fatalf("FindStatus = %+v, %v", got, err)
	}
	_, err = db.FindStatus(t.Context(), b.ID, s.ID)
	wantCode(t, "FindStatus of another member's status", err, occsimore.ENOTFOUND)
}

func testTAXIISync(t *testing.T, db *sqlstore.DB) {
	a, b := createMember(t, db, "alpha", false), createMember(t, db, "beta", false)
	s, err := db.SyncState(t.Context(), a.ID, "peer")
	if err != nil || !s.AddedAfter.IsZero() || s.Pulled != 0 {
		t.Fatalf("fresh SyncState = %+v, %v", s, err)
	}
	s.AddedAfter, s.Pulled, s.Next, s.LastAdded = t0.Add(123456789*time.Nanosecond), 42, "cursor", t0.Add(time.Hour)
	if err := db.SaveSyncState(t.Context(), a.ID, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.SyncState(t.Context(), a.ID, "peer")
	if err != nil || !got.AddedAfter.Equal(t0.Add(123456*time.Microsecond)) || got.Pulled != 42 || got.Next != "cursor" || !got.LastAdded.Equal(t0.Add(time.Hour)) {
		t.Fatalf("SyncState = %+v, %v", got, err)
	}
	if other, _ := db.SyncState(t.Context(), b.ID, "peer"); other.Pulled != 0 {
		t.Fatalf("b sees a's sync state: %+v", other)
	}
}

// testTAXIISpecVersions: an object with versions in STIX 2.0 and 2.1 is
// answered in its latest spec version unless match[spec_version] says
// otherwise, and first/last are taken among the versions asked for.
func testTAXIISpecVersions(t *testing.T, db *sqlstore.DB) {
	a := createMember(t, db, "alpha", false)
	c := collection(t, db, "g", map[string][2]bool{a.ID: {true, true}})
	d := func(day int) time.Time { return time.Date(2020, 1, day, 0, 0, 0, 0, time.UTC) }
	addObjects(t, db, a.ID, c.ID, t0, stixObject(t, "malware", 1, "", d(1)), stixObject(t, "malware", 1, "2.1", d(2)),
		stixObject(t, "malware", 2, "", d(4)))
	addObjects(t, db, a.ID, c.ID, t0.Add(time.Second), stixObject(t, "malware", 1, "", d(3)), stixObject(t, "malware", 1, "2.1", d(5)))
	// Object 1: 2.0 on days 1 and 3, 2.1 on days 2 and 5. Object 2: 2.0 only.
	for _, tc := range []struct {
		specs []string
		vm    taxii.VersionMatch
		want  []string
	}{
		{nil, taxii.VersionMatch{Last: true}, []string{"02@2020-01-04", "01@2020-01-05"}},
		{nil, taxii.VersionMatch{First: true}, []string{"01@2020-01-02", "02@2020-01-04"}},
		{nil, taxii.VersionMatch{All: true}, []string{"01@2020-01-02", "02@2020-01-04", "01@2020-01-05"}},
		{[]string{"2.0"}, taxii.VersionMatch{Last: true}, []string{"02@2020-01-04", "01@2020-01-03"}},
		{[]string{"2.0"}, taxii.VersionMatch{First: true}, []string{"01@2020-01-01", "02@2020-01-04"}},
		{[]string{"2.0", "2.1"}, taxii.VersionMatch{First: true}, []string{"01@2020-01-01", "02@2020-01-04"}},
		{[]string{"2.0", "2.1"}, taxii.VersionMatch{Last: true}, []string{"02@2020-01-04", "01@2020-01-05"}},
		{[]string{"2.0", "2.1"}, taxii.VersionMatch{All: true}, []string{"01@2020-01-01", "01@2020-01-02", "02@2020-01-04", "01@2020-01-03", "01@2020-01-05"}},
	} {
		p := query(t, db, a.ID, c.ID, taxii.Query{Filter: taxii.Filter{SpecVersions: tc.specs, Versions: tc.vm}})
		if got := versions(p); !slices.Equal(got, tc.want) {
			t.Errorf("spec %v, versions %+v = %v, want %v", tc.specs, tc.vm, got, tc.want)
		}
	}
	// Deleting the 2.1 versions makes 2.0 the latest spec version again.
	id := stixObject(t, "malware", 1, "", d(1)).ID
	if n, err := db.DeleteObject(t.Context(), a.ID, c.ID, id, taxii.Filter{SpecVersions: []string{"2.1"}, Versions: taxii.VersionMatch{All: true}}); err != nil || n != 2 {
		t.Fatalf("DeleteObject 2.1 = %d, %v; want 2", n, err)
	}
	p := query(t, db, a.ID, c.ID, taxii.Query{Filter: taxii.Filter{Versions: taxii.VersionMatch{Last: true}}})
	if got := versions(p); !slices.Equal(got, []string{"02@2020-01-04", "01@2020-01-03"}) {
		t.Fatalf("last after deleting the 2.1 versions = %v", got)
	}
}

// testTAXIIConcurrentWriters: members writing versions of the same objects
// at once all succeed, every version is stored once, and each object still
// has exactly one first and one last version.
func testTAXIIConcurrentWriters(t *testing.T, db *sqlstore.DB) {
	a, b := createMember(t, db, "alpha", false), createMember(t, db, "beta", false)
	c := collection(t, db, "g", map[string][2]bool{a.ID: {true, true}, b.ID: {true, true}})
	const writers, objects, versions = 4, 20, 3
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		m := a.ID
		if w%2 == 1 {
			m = b.ID
		}
		wg.Go(func() {
			// Each writer sends every version of every object, in its own
			// order, so that they race on the same rows.
			var objs []taxii.Object
			for v := range versions {
				for n := range objects {
					vv := (v + w) % versions
					objs = append(objs, stixObject(t, "indicator", n, "2.1", time.Date(2020, 1, 1+vv, 0, 0, 0, 0, time.UTC)))
				}
			}
			for i := 0; i < len(objs); i += 7 {
				if _, err := db.AddObjects(context.Background(), m, c.ID, objs[i:min(i+7, len(objs))], t0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent AddObjects: %v", err)
	}
	all := query(t, db, a.ID, c.ID, taxii.Query{Filter: taxii.Filter{Versions: taxii.VersionMatch{All: true}}})
	if len(all.Records) != objects*versions {
		t.Fatalf("%d versions stored, want %d", len(all.Records), objects*versions)
	}
	for _, vm := range []taxii.VersionMatch{{First: true}, {Last: true}} {
		p := query(t, db, a.ID, c.ID, taxii.Query{Filter: taxii.Filter{Versions: vm}})
		if len(p.Records) != objects {
			t.Fatalf("%+v: %d records, want one per object (%d)", vm, len(p.Records), objects)
		}
		want := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		if vm.Last {
			want = time.Date(2020, 1, versions, 0, 0, 0, 0, time.UTC)
		}
		for _, r := range p.Records {
			if !r.Version.Equal(want) {
				t.Fatalf("%+v of %s = %s, want %s", vm, r.ID, r.Version, want)
			}
		}
	}
}
