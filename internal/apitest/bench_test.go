package apitest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/internal/apitest"
)

// BenchmarkCheckEvent measures the check of one POST /v1/events exchange
// against the server's document: what every checked request costs the
// tests that send hundreds (bench http, the backup under load).
func BenchmarkCheckEvent(b *testing.B) {
	c, err := apitest.Load(occhttp.OpenAPIYAML())
	if err != nil {
		b.Fatal(err)
	}
	body := `{"kind":"card.tx","time":"2026-11-27T09:00:00Z","card":"c1","terminal":"t1","amount":12.5,"country":"FR"}`
	resp := []byte(`{"event_id":"evt_abc","score":1.5,"decision":"allow","reasons":[]}`)
	h := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}
	for b.Loop() {
		r := httptest.NewRequest("POST", "/v1/events", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer x")
		r.Header.Set("Content-Type", "application/json")
		if msg := c.Check(r, []byte(body), nil, &http.Response{StatusCode: 200, Header: h}, resp); msg != "" {
			b.Fatal(msg)
		}
	}
}
