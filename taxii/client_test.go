package taxii_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/internal/apitest"
	"github.com/occsimore/occsimore/sqlite"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/occsimore/occsimore/taxii"
)

// loadContract loads the server's OpenAPI document once per test binary.
var loadContract = sync.OnceValues(func() (*apitest.Contract, error) {
	return apitest.Load(occhttp.OpenAPIYAML())
})

// peer is one occsimore server: a real SQLite store, a member with an admin
// token and a collection it may read and write, served over HTTP.
type peer struct {
	db     *sqlstore.DB
	member *occsimore.Member
	bearer string
	col    *taxii.Collection
	srv    *occhttp.Server
	ts     *httptest.Server
	// failNext makes the next GET objects request fail with 503.
	failAt atomic.Int64
	reqs   atomic.Int64
}

func newPeer(t *testing.T, slug string, key string) *peer {
	t.Helper()
	db, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := &peer{db: db}
	p.member = &occsimore.Member{Slug: slug, Name: slug, Sector: "banking"}
	if err := db.CreateMember(t.Context(), p.member); err != nil {
		t.Fatal(err)
	}
	tok, bearer := auth.NewToken(p.member.ID, "taxii", occsimore.RoleAdmin, time.Now(), 0)
	if err := db.CreateToken(t.Context(), p.member.ID, tok); err != nil {
		t.Fatal(err)
	}
	p.bearer = bearer
	p.col = &taxii.Collection{Title: "group of " + slug}
	if err := db.CreateCollection(t.Context(), p.col); err != nil {
		t.Fatal(err)
	}
	if err := db.Grant(t.Context(), p.col.ID, p.member.ID, true, true); err != nil {
		t.Fatal(err)
	}
	p.srv = occhttp.NewServer(occhttp.DefaultConfig(), slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	p.srv.Members, p.srv.Tokens, p.srv.Users = db, db, db
	p.srv.TAXII = &occhttp.TAXIIConfig{Store: db, Cursors: taxii.NewCursors([]byte(key))}
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	// Every exchange of the client with the real server is checked against
	// the OpenAPI document; the failures failAt injects are the network's.
	h := c.Handler(t, p.srv.Handler())
	p.failAt.Store(-1)
	p.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := p.reqs.Add(1); n == p.failAt.Load() {
			http.Error(w, "interrupted", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(p.ts.Close)
	return p
}

func obj(t *testing.T, n int, modified time.Time) taxii.Object {
	t.Helper()
	o, err := taxii.ParseObject(fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2026-01-01T00:00:00Z","modified":%q,"pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`,
		n, modified.Format(time.RFC3339Nano), n%250))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// countVersions returns how many versions the peer's collection holds.
func countVersions(t *testing.T, p *peer) int {
	t.Helper()
	var n int
	if err := p.db.SQL().QueryRowContext(t.Context(), `SELECT count(*) FROM taxii_objects WHERE collection_id = ?`, p.col.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSyncResumesWithoutDuplicates(t *testing.T) {
	a, b := newPeer(t, "alpha", "key of a, 32 bytes long........"), newPeer(t, "beta", "key of b, 32 bytes long........")
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	v1, v2 := t0, t0.Add(time.Hour)
	// 45 objects in batches that share a date_added, and a second version of
	// some of them added later.
	for batch := range 3 {
		var objs []taxii.Object
		for i := range 15 {
			objs = append(objs, obj(t, batch*15+i, v1))
		}
		if _, err := a.db.AddObjects(t.Context(), a.member.ID, a.col.ID, objs, t0.Add(time.Duration(batch)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	s := &taxii.Sync{
		Client: &taxii.Client{Root: a.ts.URL + "/taxii2/lab/", Token: a.bearer},
		Remote: a.col.ID, Store: b.db, Member: b.member.ID, Local: b.col.ID, Name: "from-alpha", Limit: 10,
		Now: time.Now, Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	// The third page fails: the run stops with an error, after two pages.
	a.failAt.Store(3)
	if _, err := s.Run(t.Context()); err == nil {
		t.Fatal("Run through an interrupted page succeeded")
	}
	if got := countVersions(t, b); got != 20 {
		t.Fatalf("after the interruption b holds %d versions, want 20 (two pages)", got)
	}
	st, _ := b.db.SyncState(t.Context(), b.member.ID, "from-alpha")
	if st.Next == "" || st.Pulled != 20 {
		t.Fatalf("saved state after the interruption = %+v", st)
	}
	// The rerun resumes at the saved cursor: three pages (20-29, 30-39, 40-44), not five.
	before := a.reqs.Load()
	res, err := s.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := a.reqs.Load() - before; got != 3 || res.Objects != 25 {
		t.Fatalf("resumed run made %d requests and took %d objects, want 3 and 25", got, res.Objects)
	}
	if got := countVersions(t, b); got != 45 {
		t.Fatalf("b holds %d versions, want 45", got)
	}

	// New versions at a: the next run starts after the newest date_added
	// b took and stores only what is new.
	var newer []taxii.Object
	for i := range 5 {
		newer = append(newer, obj(t, i, v2))
	}
	if _, err := a.db.AddObjects(t.Context(), a.member.ID, a.col.ID, newer, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	res, err = s.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Objects != 5 || countVersions(t, b) != 50 {
		t.Fatalf("incremental run took %d objects, b holds %d versions; want 5 and 50", res.Objects, countVersions(t, b))
	}
	// Nothing new: nothing stored twice.
	if res, err := s.Run(t.Context()); err != nil || res.Objects != 0 {
		t.Fatalf("a run with nothing new: %+v, %v", res, err)
	}
	if got := countVersions(t, b); got != 50 {
		t.Fatalf("a run with nothing new left %d versions, want 50", got)
	}
	// b's copy has both versions of object 0, and the newer is its last.
	p, err := b.db.QueryObjects(t.Context(), b.member.ID, b.col.ID, taxii.Query{Limit: 100,
		Filter: taxii.Filter{IDs: []string{obj(t, 0, v1).ID}, Versions: taxii.VersionMatch{Last: true}}})
	if err != nil || len(p.Records) != 1 || !p.Records[0].Version.Equal(v2) {
		t.Fatalf("last version of object 0 at b = %+v, %v", p, err)
	}
}

func TestSyncFallsBackWhenCursorRefused(t *testing.T) {
	a, b := newPeer(t, "alpha", "first key of a, 32 bytes long.."), newPeer(t, "beta", "key of b, 32 bytes long........")
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var objs []taxii.Object
	for i := range 30 {
		objs = append(objs, obj(t, i, t0))
	}
	for i := range 3 {
		if _, err := a.db.AddObjects(t.Context(), a.member.ID, a.col.ID, objs[i*10:(i+1)*10], t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	s := &taxii.Sync{Client: &taxii.Client{Root: a.ts.URL + "/taxii2/lab/", Token: a.bearer},
		Remote: a.col.ID, Store: b.db, Member: b.member.ID, Local: b.col.ID, Name: "n", Limit: 10, Now: time.Now}
	a.failAt.Store(2)
	if _, err := s.Run(t.Context()); err == nil {
		t.Fatal("interrupted run succeeded")
	}
	// a restarts with a new cursor key: b's saved cursor is refused (400)
	// and b resumes from the last date_added it took.
	a.srv.TAXII.Cursors = taxii.NewCursors([]byte("second key of a, 32 bytes long."))
	if _, err := s.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := countVersions(t, b); got != 30 {
		t.Fatalf("b holds %d versions, want 30", got)
	}
}

func TestClientRemoteError(t *testing.T) {
	a := newPeer(t, "alpha", "key of a, 32 bytes long........")
	c := &taxii.Client{Root: a.ts.URL + "/taxii2/lab/", Token: "tok_bad.secret"}
	_, err := c.Objects(t.Context(), a.col.ID, time.Time{}, "", 10)
	re, ok := err.(*taxii.RemoteError)
	if !ok || re.Status != 401 || re.Body.Title == "" {
		t.Fatalf("error = %#v", err)
	}
	c.Token = a.bearer
	cs, err := c.Collections(t.Context())
	if err != nil || len(cs) != 1 || cs[0].ID != a.col.ID {
		t.Fatalf("Collections = %+v, %v", cs, err)
	}
}
