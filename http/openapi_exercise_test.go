package http_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// answered returns how many exchanges of operation the package's contract
// has seen answered below 400.
func answered(t *testing.T, operation string) int {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return c.Answered(operation)
}

// TestEveryProfileConforms fetches every profile pprof serves, binary and
// as text, through the OpenAPI check.
func TestEveryProfileConforms(t *testing.T) {
	e := newEnv(t, nil, nil)
	ops := e.member("ops", true)
	_, admin := e.token(ops, occsimore.RoleAdmin, 0)
	for _, path := range []string{
		"/debug/pprof/profile?seconds=1", "/debug/pprof/trace?seconds=1",
		"/debug/pprof/heap", "/debug/pprof/heap?gc=1", "/debug/pprof/goroutine?debug=1", "/debug/pprof/goroutine?debug=2",
		"/debug/pprof/allocs", "/debug/pprof/block?debug=1", "/debug/pprof/mutex",
	} {
		op := "GET " + path[:len(path)-len(queryOf(path))]
		before := answered(t, op)
		r := e.do(t, "GET", path, admin, "")
		if r.status != http.StatusOK || len(r.body) == 0 {
			t.Errorf("GET %s: status %d, %d bytes; want 200 and a profile", path, r.status, len(r.body))
		}
		if got := answered(t, op); got <= before {
			t.Errorf("GET %s: the OpenAPI check did not see it (%s answered %d times, before %d)", path, op, got, before)
		}
	}
}

// queryOf returns the query of path with its "?", or "".
func queryOf(path string) string {
	for i := range path {
		if path[i] == '?' {
			return path[i:]
		}
	}
	return ""
}

// TestAlertAndEntityRead reads one alert and one entity's habits, objects
// the isolation tests only ask for across members.
func TestAlertAndEntityRead(t *testing.T) {
	e := newEnv(t, nil, nil)
	m := e.member("bank", false)
	_, ingest := e.token(m, occsimore.RoleIngest, 0)
	_, reader := e.token(m, occsimore.RoleReader, 0)
	a := &occsimore.Alert{EventID: "evt_1", Kind: "card.tx", Time: e.clock.Now().Add(-time.Minute), Score: 12,
		Decision: occsimore.DecisionReview, Entities: map[string]string{"card": "c1"}}
	if err := e.db.CreateAlerts(t.Context(), m.ID, []*occsimore.Alert{a}); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, "GET", "/v1/alerts/"+a.ID, reader, "")
	var got occsimore.Alert
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != http.StatusOK || got.ID != a.ID || got.EventID != "evt_1" {
		t.Fatalf("GET alert: status %d, body %s", r.status, r.body)
	}

	for _, at := range []string{"2026-11-27T09:00:00Z", "2026-11-27T09:05:00Z"} {
		if r := e.do(t, "POST", "/v1/events", ingest, `{"kind":"card.tx","time":"`+at+`","card":"c1","terminal":"t1","amount":12.5,"country":"FR"}`); r.status != http.StatusOK {
			t.Fatalf("POST event: status %d, body %s", r.status, r.body)
		}
	}
	r = e.do(t, "GET", "/v1/entities/card/c1", reader, "")
	var view map[string]any
	if err := json.Unmarshal(r.body, &view); err != nil || r.status != http.StatusOK {
		t.Fatalf("GET entity: status %d, body %s", r.status, r.body)
	}
	if answered(t, "GET /v1/alerts/{id}") == 0 || answered(t, "GET /v1/entities/{role}/{id}") == 0 {
		t.Error("the OpenAPI check did not see the reads answered")
	}
}

// TestHEADConforms asks for routes with HEAD: the answer has the GET's
// status and headers, and conforms as the GET's would
// (apitest checks HEAD answers, which openapi3filter passes unchecked).
func TestHEADConforms(t *testing.T) {
	e := newEnv(t, nil, nil)
	m := e.member("bank", false)
	_, reader := e.token(m, occsimore.RoleReader, 0)
	for _, tc := range []struct {
		path, bearer string
		status       int
	}{
		{"/healthz", "", http.StatusOK},
		{"/readyz", "", http.StatusOK},
		{"/v1/openapi.json", "", http.StatusOK},
		{"/v1/me", reader, http.StatusOK},
		{"/v1/alerts?limit=5", reader, http.StatusOK},
		{"/v1/me", "", http.StatusUnauthorized},
		{"/v1/alerts?limit=0", reader, http.StatusBadRequest},
		{"/v1/nothing", reader, http.StatusNotFound},
	} {
		get := e.do(t, "GET", tc.path, tc.bearer, "")
		head := e.do(t, "HEAD", tc.path, tc.bearer, "")
		if head.status != tc.status || get.status != tc.status {
			t.Errorf("%s: HEAD %d, GET %d; want %d", tc.path, head.status, get.status, tc.status)
		}
		for _, h := range []string{"Content-Type", "Cache-Control"} {
			if head.header.Get(h) != get.header.Get(h) {
				t.Errorf("%s: HEAD %s %q, GET %q", tc.path, h, head.header.Get(h), get.header.Get(h))
			}
		}
	}
}

// TestNotModifiedConforms revalidates the document with its ETag, with GET
// and HEAD: 304s without a body, carrying the ETag and Cache-Control of the
// 200, through the OpenAPI check (which checks 304s itself: openapi3filter
// passes them unchecked).
func TestNotModifiedConforms(t *testing.T) {
	e := newEnv(t, nil, nil)
	first := e.do(t, "GET", "/v1/openapi.json", "", "")
	etag := first.header.Get("ETag")
	if first.status != http.StatusOK || etag == "" {
		t.Fatalf("status %d, ETag %q", first.status, etag)
	}
	for _, method := range []string{"GET", "HEAD"} {
		before := answered(t, "GET /v1/openapi.json")
		req, err := http.NewRequestWithContext(t.Context(), method, e.ts.URL+"/v1/openapi.json", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("If-None-Match", etag)
		r := e.roundTrip(t, req)
		if r.status != http.StatusNotModified || len(r.body) != 0 {
			t.Errorf("%s: status %d, %d bytes; want 304 and none", method, r.status, len(r.body))
		}
		if r.header.Get("ETag") != etag || r.header.Get("Cache-Control") != first.header.Get("Cache-Control") {
			t.Errorf("%s 304: ETag %q, Cache-Control %q; want those of the 200", method, r.header.Get("ETag"), r.header.Get("Cache-Control"))
		}
		if got := answered(t, "GET /v1/openapi.json"); got <= before {
			t.Errorf("%s 304: the OpenAPI check did not see it", method)
		}
	}
}
