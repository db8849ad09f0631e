package http_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/auth"
	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/sqlite"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/occsimore/occsimore/taxii"
)

// The TAXII page benchmark of issue 14: pages of 1,000 objects from a
// collection of 1M object versions in SQLite. The collection is built once
// through the store's AddObjects (batches of 5,000, each its own
// date_added; one object in ten gets a second version later) and kept in
// OCCSIMORE_TEST_TAXII_BENCH_DIR when set, so that reruns skip the build.
//
//	OCCSIMORE_TEST_TAXII_BENCH_DIR=/tmp/taxii-bench go test -run '^$' -bench TAXIIPage -benchtime 200x ./http/
//
// Each page starts at a random position (a next cursor taken from a random
// object), so that pages come from the whole collection, not a warm prefix.

const (
	benchVersions = 1_000_000
	benchBatch    = 5_000
)

type taxiiBench struct {
	db     *sqlstore.DB
	member *occsimore.Member
	bearer string
	colID  string
}

func benchObject(rng *rand.Rand, n int, modified time.Time) taxii.Object {
	raw := fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-%04x-4%03x-8%03x-%012x",`+
		`"created":"2026-01-01T00:00:00.000Z","modified":%q,"name":"scanner %d",`+
		`"pattern":"[ipv4-addr:value = '%d.%d.%d.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",`+
		`"confidence":%d,"labels":["brute-force","ssh"],"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}`,
		n, n%65536, n%4096, n%4096, n, modified.Format("2006-01-02T15:04:05.000Z"), n,
		rng.IntN(223)+1, rng.IntN(256), rng.IntN(256), rng.IntN(254)+1, rng.IntN(100))
	o, err := taxii.ParseObject(raw)
	if err != nil {
		panic(err)
	}
	return o
}

func openTAXIIBench(b *testing.B) *taxiiBench {
	b.Helper()
	dir := os.Getenv("OCCSIMORE_TEST_TAXII_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	tb := &taxiiBench{db: db}
	if m, err := db.FindMemberBySlug(ctx, "bench"); err == nil {
		tb.member = m
		cs, err := db.ListCollections(ctx, m.ID)
		if err != nil || len(cs) != 1 {
			b.Fatalf("bench store at %s: collections %v, %v", dir, cs, err)
		}
		tb.colID = cs[0].ID
	} else {
		tb.member = &occsimore.Member{Slug: "bench", Name: "bench", Sector: "banking"}
		if err := db.CreateMember(ctx, tb.member); err != nil {
			b.Fatal(err)
		}
		c := &taxii.Collection{Title: "bench"}
		if err := db.CreateCollection(ctx, c); err != nil {
			b.Fatal(err)
		}
		if err := db.Grant(ctx, c.ID, tb.member.ID, true, true); err != nil {
			b.Fatal(err)
		}
		tb.colID = c.ID
		rng := rand.New(rand.NewPCG(14, 2026))
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		start := time.Now()
		ids, versions := 0, 0
		for batch := 0; versions < benchVersions; batch++ {
			objs := make([]taxii.Object, 0, benchBatch)
			for len(objs) < benchBatch && versions < benchVersions {
				if ids > 1000 && rng.IntN(10) == 0 { // a new version of an earlier object
					// modified is unique to each version, so that every one is stored
					objs = append(objs, benchObject(rng, rng.IntN(ids), t0.Add(time.Hour+time.Duration(versions)*time.Millisecond)))
				} else {
					objs = append(objs, benchObject(rng, ids, t0))
					ids++
				}
				versions++
			}
			if _, err := db.AddObjects(ctx, tb.member.ID, tb.colID, objs, t0.Add(time.Duration(batch)*time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("built %d versions of %d objects in %s", versions, ids, time.Since(start).Round(time.Second))
	}
	tok, bearer := auth.NewToken(tb.member.ID, "bench", occsimore.RoleAdmin, time.Now(), 0)
	if err := db.CreateToken(ctx, tb.member.ID, tok); err != nil {
		b.Fatal(err)
	}
	tb.bearer = bearer
	return tb
}

// positions returns n random positions in the collection (the date_added
// and sequence of a random row), chosen before timing.
func (tb *taxiiBench) positions(b *testing.B, n int) []taxii.Position {
	var maxSeq int64
	if err := tb.db.SQL().QueryRow(`SELECT max(seq) FROM taxii_objects`).Scan(&maxSeq); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	out := make([]taxii.Position, n)
	for i := range out {
		var added int64
		seq := rng.Int64N(maxSeq-2000) + 1
		if err := tb.db.SQL().QueryRow(`SELECT date_added, seq FROM taxii_objects WHERE seq >= ? ORDER BY seq LIMIT 1`, seq).Scan(&added, &out[i].Seq); err != nil {
			b.Fatal(err)
		}
		out[i].DateAdded = time.UnixMicro(added).UTC()
	}
	return out
}

func BenchmarkTAXIIPage(b *testing.B) {
	tb := openTAXIIBench(b)
	ctx := context.Background()
	var total int
	tb.db.SQL().QueryRow(`SELECT count(*) FROM taxii_objects WHERE collection_id = ?`, tb.colID).Scan(&total)
	if total < benchVersions {
		b.Fatalf("collection holds %d versions, want %d", total, benchVersions)
	}
	pos := tb.positions(b, 512)
	last := taxii.Filter{Versions: taxii.VersionMatch{Last: true}}

	// The peer: a plain SELECT of the same page's rows (the raw JSON in
	// date_added order), without rights, version marks or decoding.
	b.Run("peer=plain-select", func(b *testing.B) {
		q := `SELECT seq, raw FROM taxii_objects WHERE collection_id = ? AND (date_added, seq) > (?, ?)
			ORDER BY date_added, seq LIMIT 1000`
		st, err := tb.db.SQL().Prepare(q)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		var bytes int64
		for i := 0; b.Loop(); i++ {
			p := pos[i%len(pos)]
			rows, err := st.QueryContext(ctx, tb.colID, p.DateAdded.UnixMicro(), p.Seq)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var seq int64
				var raw []byte
				if err := rows.Scan(&seq, &raw); err != nil {
					b.Fatal(err)
				}
				bytes += int64(len(raw))
				n++
			}
			rows.Close()
			if n != 1000 {
				b.Fatalf("plain select returned %d rows", n)
			}
		}
		b.ReportMetric(float64(bytes)/float64(b.N), "bytes/page")
	})

	b.Run("store=QueryObjects", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			p := pos[i%len(pos)]
			pg, err := tb.db.QueryObjects(ctx, tb.member.ID, tb.colID, taxii.Query{Filter: last, Limit: 1000, After: &p})
			if err != nil {
				b.Fatal(err)
			}
			if len(pg.Records) < 900 { // the last-version filter drops superseded rows
				b.Fatalf("page of %d records", len(pg.Records))
			}
		}
	})

	b.Run("http=GET-objects", func(b *testing.B) {
		cursors := taxii.NewCursors([]byte("bench cursor key, 32 bytes long."))
		srv := occhttp.NewServer(occhttp.DefaultConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))
		srv.Members, srv.Tokens, srv.Users = tb.db, tb.db, tb.db
		srv.TAXII = &occhttp.TAXIIConfig{Store: tb.db, Cursors: cursors}
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		scope := tb.member.ID + "/" + tb.colID + "/objects/"
		urls := make([]string, len(pos))
		for i, p := range pos {
			urls[i] = ts.URL + "/taxii2/lab/collections/" + tb.colID + "/objects/?limit=1000&next=" + url.QueryEscape(cursors.Encode(scope, last, p))
		}
		client := ts.Client()
		var bytes int64
		for i := 0; b.Loop(); i++ {
			req, _ := http.NewRequest("GET", urls[i%len(urls)], nil)
			req.Header.Set("Accept", taxii.MediaTAXII)
			req.Header.Set("Authorization", "Bearer "+tb.bearer)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
			bytes += n
		}
		b.ReportMetric(float64(bytes)/float64(b.N), "bytes/page")
	})
}
