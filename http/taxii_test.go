package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/taxii"
)

// taxiiEnv is a server with TAXII enabled over the real SQLite store, a
// collection shared by members a (read, write) and b (read), and member c
// outside it.
type taxiiEnv struct {
	*env
	col                    *taxii.Collection
	a, b, c                *occsimore.Member
	tokA, tokB, tokC, ingA string
}

func newTAXIIEnv(t *testing.T, cfg func(*occhttp.TAXIIConfig)) *taxiiEnv {
	t.Helper()
	var te taxiiEnv
	te.env = newEnv(t, nil, func(s *occhttp.Server) {
		tc := &occhttp.TAXIIConfig{Cursors: taxii.NewCursors([]byte("test cursor key, 32 bytes long!!")), Title: "lab"}
		if cfg != nil {
			cfg(tc)
		}
		s.TAXII = tc
	})
	if te.srv.TAXII.Store == nil {
		te.srv.TAXII.Store = te.db
	}
	te.a, te.b, te.c = te.member("alpha", false), te.member("beta", false), te.member("gamma", false)
	_, te.tokA = te.token(te.a, occsimore.RoleAdmin, 0)
	_, te.ingA = te.token(te.a, occsimore.RoleIngest, 0)
	_, te.tokB = te.token(te.b, occsimore.RoleAdmin, 0)
	_, te.tokC = te.token(te.c, occsimore.RoleAdmin, 0)
	te.col = &taxii.Collection{Title: "banking sharing group"}
	if err := te.db.CreateCollection(t.Context(), te.col); err != nil {
		t.Fatal(err)
	}
	for m, rw := range map[string][2]bool{te.a.ID: {true, true}, te.b.ID: {true, false}} {
		if err := te.db.Grant(t.Context(), te.col.ID, m, rw[0], rw[1]); err != nil {
			t.Fatal(err)
		}
	}
	return &te
}

// taxiiDo sends a TAXII request with the right media types unless the
// header map overrides them.
func (te *taxiiEnv) taxiiDo(t *testing.T, method, path, bearer, body string, hdr map[string]string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, te.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", taxii.MediaTAXII)
	if body != "" {
		req.Header.Set("Content-Type", taxii.MediaTAXII)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return te.roundTrip(t, req)
}

func (te *taxiiEnv) colPath() string { return "/taxii2/lab/collections/" + te.col.ID + "/" }

// wantTAXIIError checks a TAXII error answer.
func wantTAXIIError(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != taxii.MediaTAXII {
		t.Fatalf("%s: Content-Type %q, want %q", what, ct, taxii.MediaTAXII)
	}
	var e taxii.Error
	if err := json.Unmarshal(r.body, &e); err != nil || e.Title == "" || e.HTTPStatus != fmt.Sprint(status) {
		t.Fatalf("%s: not a TAXII error body: %s (%v)", what, r.body, err)
	}
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %T: %v; body %s", v, err, r.body)
	}
	return v
}

func indicator(n int, modified string) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d",`+
		`"created":"2026-01-01T00:00:00.000Z","modified":%q,"pattern":"[ipv4-addr:value = '203.0.113.%d']",`+
		`"pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, n, modified, n%250)
}

func envelopeOf(objs ...string) string { return `{"objects":[` + strings.Join(objs, ",") + `]}` }

func TestTAXIIDiscoveryAndCollections(t *testing.T) {
	te := newTAXIIEnv(t, nil)
	r := te.taxiiDo(t, "GET", "/taxii2/", te.tokA, "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != taxii.MediaTAXII {
		t.Fatalf("discovery: %d %s", r.status, r.body)
	}
	d := decode[taxii.Discovery](t, r)
	if len(d.APIRoots) != 1 || d.APIRoots[0] != te.ts.URL+"/taxii2/lab/" || d.Default != d.APIRoots[0] {
		t.Fatalf("discovery = %+v", d)
	}
	root := decode[taxii.APIRoot](t, te.taxiiDo(t, "GET", "/taxii2/lab/", te.tokA, "", nil))
	if len(root.Versions) != 1 || root.Versions[0] != taxii.MediaTAXII || root.MaxContentLength <= 0 {
		t.Fatalf("api root = %+v", root)
	}
	wantTAXIIError(t, "unknown API root", te.taxiiDo(t, "GET", "/taxii2/other/", te.tokA, "", nil), 404)
	for _, p := range []string{"/taxii2/lab/nothing/", "/taxii2/lab/status/x/y/", "/taxii2/lab/collections/x/objects/y/z/"} {
		wantTAXIIError(t, "GET "+p, te.taxiiDo(t, "GET", p, te.tokA, "", nil), 404)
	}
	wantTAXIIError(t, "POST to a collection", te.taxiiDo(t, "POST", te.colPath(), te.tokA, "{}", nil), 404)
	wantTAXIIError(t, "unknown path without a token", te.taxiiDo(t, "GET", "/taxii2/lab/nothing/", "", "", nil), 401)

	cols := decode[taxii.Collections](t, te.taxiiDo(t, "GET", "/taxii2/lab/collections/", te.tokB, "", nil))
	if len(cols.Collections) != 1 || cols.Collections[0].ID != te.col.ID || !cols.Collections[0].CanRead || cols.Collections[0].CanWrite {
		t.Fatalf("b's collections = %+v", cols)
	}
	if got := te.taxiiDo(t, "GET", "/taxii2/lab/collections/", te.tokC, "", nil); string(got.body) != "{}" {
		t.Fatalf("c's collections = %s, want {}", got.body)
	}
	c := decode[taxii.Collection](t, te.taxiiDo(t, "GET", te.colPath(), te.tokA, "", nil))
	if c.ID != te.col.ID || !c.CanWrite || len(c.MediaTypes) == 0 || c.MediaTypes[0] != taxii.MediaSTIX {
		t.Fatalf("collection = %+v", c)
	}
	// Outside the collection, it does not exist, whatever is asked.
	for _, p := range []string{"", "objects/", "manifest/", "objects/indicator--00000000-0000-4000-8000-000000000001/"} {
		wantTAXIIError(t, "c reads "+p, te.taxiiDo(t, "GET", te.colPath()+p, te.tokC, "", nil), 404)
	}
}

func TestTAXIIAuthAndMediaTypes(t *testing.T) {
	te := newTAXIIEnv(t, nil)
	wantTAXIIError(t, "no token", te.taxiiDo(t, "GET", "/taxii2/", "", "", nil), 401)
	wantTAXIIError(t, "bad token", te.taxiiDo(t, "GET", te.colPath()+"objects/", "tok_x.y", "", nil), 401)
	for _, accept := range []string{"application/json", "application/taxii+json;version=2.0", "text/html"} {
		wantTAXIIError(t, "Accept "+accept, te.taxiiDo(t, "GET", te.colPath()+"objects/", te.tokA, "", map[string]string{"Accept": accept}), 406)
	}
	for _, ct := range []string{"application/json", "application/stix+json;version=2.1", "application/taxii+json;version=2.0"} {
		r := te.taxiiDo(t, "POST", te.colPath()+"objects/", te.tokA, envelopeOf(indicator(1, "2026-01-01T00:00:00.000Z")),
			map[string]string{"Content-Type": ct})
		wantTAXIIError(t, "Content-Type "+ct, r, 415)
	}
	// Roles: a reader-only member and an ingest token cannot do the other's work.
	wantTAXIIError(t, "b posts", te.taxiiDo(t, "POST", te.colPath()+"objects/", te.tokB, envelopeOf(indicator(1, "2026-01-01T00:00:00.000Z")), nil), 403)
	wantTAXIIError(t, "ingest token reads", te.taxiiDo(t, "GET", te.colPath()+"objects/", te.ingA, "", nil), 403)
	if r := te.taxiiDo(t, "POST", te.colPath()+"objects/", te.ingA, envelopeOf(indicator(1, "2026-01-01T00:00:00.000Z")), nil); r.status != 202 {
		t.Fatalf("ingest token posts: %d %s", r.status, r.body)
	}
	// Bad filters are 400 with a TAXII error.
	for _, q := range []string{"limit=0", "added_after=yesterday", "match[version]=newest", "match[foo]=1", "next=AAAA"} {
		wantTAXIIError(t, q, te.taxiiDo(t, "GET", te.colPath()+"objects/?"+q, te.tokA, "", nil), 400)
	}
	wantTAXIIError(t, "malformed envelope", te.taxiiDo(t, "POST", te.colPath()+"objects/", te.tokA, `{"objects":`, nil), 400)
}

func TestTAXIIPostPartialSuccess(t *testing.T) {
	te := newTAXIIEnv(t, nil)
	body := envelopeOf(indicator(1, "2026-01-01T00:00:00.000Z"), `{"type":"indicator","id":"indicator--bad"}`,
		indicator(2, "2026-01-02T00:00:00.000Z"), `42`)
	r := te.taxiiDo(t, "POST", te.colPath()+"objects/", te.tokA, body, nil)
	if r.status != 202 {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	st := decode[taxii.Status](t, r)
	if st.Status != taxii.StatusComplete || st.TotalCount != 4 || st.SuccessCount != 2 || st.FailureCount != 2 ||
		st.Failures[0].ID != "indicator--bad" || !strings.Contains(st.Failures[0].Message, "objects[1]") ||
		!strings.Contains(st.Failures[1].Message, "objects[3]") {
		t.Fatalf("status = %+v", st)
	}
	got := decode[taxii.Status](t, te.taxiiDo(t, "GET", "/taxii2/lab/status/"+st.ID+"/", te.tokA, "", nil))
	if got.ID != st.ID || got.SuccessCount != 2 {
		t.Fatalf("GET status = %+v", got)
	}
	wantTAXIIError(t, "b reads a's status", te.taxiiDo(t, "GET", "/taxii2/lab/status/"+st.ID+"/", te.tokB, "", nil), 404)
	// The good objects are kept; b reads them.
	env := decode[taxii.Envelope](t, te.taxiiDo(t, "GET", te.colPath()+"objects/", te.tokB, "", nil))
	if len(env.Objects) != 2 || env.More {
		t.Fatalf("objects after a partial POST: %+v", env)
	}
	// The same POST again stores no duplicate.
	te.taxiiDo(t, "POST", te.colPath()+"objects/", te.tokA, body, nil)
	m := decode[taxii.Manifest](t, te.taxiiDo(t, "GET", te.colPath()+"manifest/?match[version]=all", te.tokA, "", nil))
	if len(m.Objects) != 2 {
		t.Fatalf("manifest after a repeated POST has %d records, want 2", len(m.Objects))
	}
}

func TestTAXIIPagingVersionsDelete(t *testing.T) {
	te := newTAXIIEnv(t, nil)
	var objs []string
	for i := range 5 {
		objs = append(objs, indicator(i, "2026-01-01T00:00:00.000Z"))
	}
	te.taxiiDo(t, "POST", te.colPath()+"objects/", te.tokA, envelopeOf(objs...), nil)
	te.clock.Advance(time.Minute)
	// A second version of object 0, added later.
	te.taxiiDo(t, "POST", te.colPath()+"objects/", te.tokA, envelopeOf(indicator(0, "2026-02-01T00:00:00.000Z")), nil)

	// Pages of 2: objects 1..4 then the new version of 0 (the last version
	// of each object, in date_added order).
	var ids []string
	next := ""
	for pages := 0; ; pages++ {
		q := url.Values{"limit": {"2"}}
		if next != "" {
			q.Set("next", next)
		}
		r := te.taxiiDo(t, "GET", te.colPath()+"objects/?"+q.Encode(), te.tokB, "", nil)
		env := decode[taxii.Envelope](t, r)
		if r.header.Get("X-TAXII-Date-Added-First") == "" || r.header.Get("X-TAXII-Date-Added-Last") == "" {
			t.Fatalf("page %d without X-TAXII-Date-Added headers", pages)
		}
		for _, o := range env.Objects {
			var v struct{ ID, Modified string }
			json.Unmarshal(o, &v)
			ids = append(ids, v.ID[len(v.ID)-1:]+"@"+v.Modified[:7])
		}
		if !env.More {
			if env.Next != "" {
				t.Fatal("next on the last page")
			}
			break
		}
		next = env.Next
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if got, want := strings.Join(ids, " "), "1@2026-01 2@2026-01 3@2026-01 4@2026-01 0@2026-02"; got != want {
		t.Fatalf("paged objects %q, want %q", got, want)
	}
	// A cursor is b's: a cannot use it, nor can it be reused with another filter.
	r := te.taxiiDo(t, "GET", te.colPath()+"objects/?limit=2", te.tokB, "", nil)
	cur := decode[taxii.Envelope](t, r).Next
	wantTAXIIError(t, "a uses b's cursor", te.taxiiDo(t, "GET", te.colPath()+"objects/?next="+cur, te.tokA, "", nil), 400)
	wantTAXIIError(t, "cursor with another filter", te.taxiiDo(t, "GET", te.colPath()+"objects/?match[type]=indicator&next="+cur, te.tokB, "", nil), 400)

	id := "indicator--00000000-0000-4000-8000-000000000000"
	vs := decode[taxii.Versions](t, te.taxiiDo(t, "GET", te.colPath()+"objects/"+id+"/versions/", te.tokB, "", nil))
	if len(vs.Versions) != 2 || vs.Versions[0] != "2026-01-01T00:00:00.000000Z" || vs.Versions[1] != "2026-02-01T00:00:00.000000Z" {
		t.Fatalf("versions = %+v", vs)
	}
	one := decode[taxii.Envelope](t, te.taxiiDo(t, "GET", te.colPath()+"objects/"+id+"/?match[version]=first", te.tokB, "", nil))
	if len(one.Objects) != 1 || !strings.Contains(string(one.Objects[0]), "2026-01-01") {
		t.Fatalf("first version = %s", one.Objects)
	}
	m := decode[taxii.Manifest](t, te.taxiiDo(t, "GET", te.colPath()+"manifest/?match[id]="+id+"&match[version]=all", te.tokB, "", nil))
	if len(m.Objects) != 2 || m.Objects[0].MediaType != taxii.MediaSTIX || m.Objects[1].Version != "2026-02-01T00:00:00.000000Z" {
		t.Fatalf("manifest = %+v", m)
	}
	wantTAXIIError(t, "missing object", te.taxiiDo(t, "GET", te.colPath()+"objects/indicator--00000000-0000-4000-8000-000000000099/", te.tokB, "", nil), 404)
	wantTAXIIError(t, "b deletes", te.taxiiDo(t, "DELETE", te.colPath()+"objects/"+id+"/", te.tokB, "", nil), 403)
	if r := te.taxiiDo(t, "DELETE", te.colPath()+"objects/"+id+"/?match[version]=last", te.tokA, "", nil); r.status != 200 {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	vs = decode[taxii.Versions](t, te.taxiiDo(t, "GET", te.colPath()+"objects/"+id+"/versions/", te.tokB, "", nil))
	if len(vs.Versions) != 1 || vs.Versions[0] != "2026-01-01T00:00:00.000000Z" {
		t.Fatalf("versions after delete = %+v", vs)
	}
}

// TestTAXIIPostCheck: objects the configured check refuses fail with its
// reason, and the rest are kept.
func TestTAXIIPostCheck(t *testing.T) {
	te := newTAXIIEnv(t, func(c *occhttp.TAXIIConfig) {
		c.Check = func(objs []json.RawMessage) map[int]string {
			out := map[int]string{}
			for i, o := range objs {
				if strings.Contains(string(o), "203.0.113.2'") {
					out[i] = fmt.Sprintf("/objects/%d/pattern: refused by the check", i)
				}
			}
			return out
		}
	})
	r := te.taxiiDo(t, "POST", te.colPath()+"objects/", te.tokA, envelopeOf(indicator(1, "2026-01-01T00:00:00.000Z"),
		indicator(2, "2026-01-01T00:00:00.000Z"), indicator(3, "2026-01-01T00:00:00.000Z")), nil)
	st := decode[taxii.Status](t, r)
	if st.SuccessCount != 2 || st.FailureCount != 1 || st.Failures[0].Message != "/objects/1/pattern: refused by the check" ||
		st.Failures[0].ID != "indicator--00000000-0000-4000-8000-000000000002" {
		t.Fatalf("status = %+v", st)
	}
	if env := decode[taxii.Envelope](t, te.taxiiDo(t, "GET", te.colPath()+"objects/", te.tokA, "", nil)); len(env.Objects) != 2 {
		t.Fatalf("%d objects stored, want 2", len(env.Objects))
	}
}

func TestTAXIIBodyLimit(t *testing.T) {
	te := newTAXIIEnv(t, func(c *occhttp.TAXIIConfig) { c.MaxContentLength = 2048 })
	var objs []string
	for i := range 20 {
		objs = append(objs, indicator(i, "2026-01-01T00:00:00.000Z"))
	}
	wantTAXIIError(t, "large envelope", te.taxiiDo(t, "POST", te.colPath()+"objects/", te.tokA, envelopeOf(objs...), nil), 413)
	if env := decode[taxii.Envelope](t, te.taxiiDo(t, "GET", te.colPath()+"objects/", te.tokA, "", nil)); len(env.Objects) != 0 {
		t.Fatalf("a refused envelope stored %d objects", len(env.Objects))
	}
}

// blockingStore holds QueryObjects until released, so that requests stay in
// progress.
type blockingStore struct {
	taxii.Store
	entered chan struct{}
	release chan struct{}
}

func (s *blockingStore) QueryObjects(ctx context.Context, memberID, colID string, q taxii.Query) (*taxii.Page, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.Store.QueryObjects(ctx, memberID, colID, q)
}

func TestTAXIIConcurrencyPerMember(t *testing.T) {
	bs := &blockingStore{entered: make(chan struct{}, 4), release: make(chan struct{})}
	te := newTAXIIEnv(t, func(c *occhttp.TAXIIConfig) { c.MaxConcurrent = 1; c.Store = bs })
	bs.Store = te.db
	var wg sync.WaitGroup
	var first response
	wg.Go(func() { first = te.taxiiDo(t, "GET", te.colPath()+"objects/", te.tokA, "", nil) })
	<-bs.entered
	// a's second request is refused while its first is in progress...
	wantTAXIIError(t, "a's second request", te.taxiiDo(t, "GET", te.colPath()+"objects/", te.tokA, "", nil), 429)
	// ...but b is not held back by a.
	wg.Go(func() {
		if r := te.taxiiDo(t, "GET", te.colPath()+"objects/", te.tokB, "", nil); r.status != 200 {
			t.Errorf("b while a is busy: %d %s", r.status, r.body)
		}
	})
	<-bs.entered
	close(bs.release)
	wg.Wait()
	if first.status != 200 {
		t.Fatalf("a's first request: %d", first.status)
	}
	// Once done, a may ask again.
	if r := te.taxiiDo(t, "GET", te.colPath()+"objects/", te.tokA, "", nil); r.status != 200 {
		t.Fatalf("a after its request ended: %d %s", r.status, r.body)
	}
}
