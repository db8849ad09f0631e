package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/occsimore/occsimore"
	occhttp "github.com/occsimore/occsimore/http"
)

func TestModelRoutes(t *testing.T) {
	var reloads atomic.Int32
	e := newEnv(t, nil, func(s *occhttp.Server) {
		s.ReloadModels = func(context.Context) error { reloads.Add(1); return nil }
	})
	bank := e.member("bank", false)
	_, admin := e.token(bank, occsimore.RoleAdmin, 0)
	_, reader := e.token(bank, occsimore.RoleReader, 0)
	m := &occsimore.ModelVersion{Kind: "card.tx", Algorithm: "gbdt", FeatureNames: []string{"score"},
		Review: 0.5, Block: 0.9, Source: "alerts", Data: []byte("model bytes")}
	if err := e.db.CreateModel(t.Context(), bank.ID, m); err != nil {
		t.Fatal(err)
	}

	r := e.do(t, "GET", "/v1/models?kind=card.tx", reader, "")
	if r.status != http.StatusOK {
		t.Fatalf("list: status %d, body %s", r.status, r.body)
	}
	var list struct {
		Models []occsimore.ModelVersion `json:"models"`
	}
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Models) != 1 || list.Models[0].ID != m.ID || list.Models[0].Status != occsimore.ModelCandidate {
		t.Fatalf("list = %+v, want the candidate", list.Models)
	}
	if strings.Contains(string(r.body), "model bytes") || strings.Contains(string(r.body), "bW9kZWwgYnl0ZXM") {
		t.Fatalf("the model's bytes were served: %s", r.body)
	}
	if r := e.do(t, "GET", "/v1/models?colour=red", reader, ""); r.status != http.StatusBadRequest {
		t.Fatalf("unknown parameter: status %d", r.status)
	}

	// Readers may not promote; admins may, and the pipeline is told at once.
	if r := e.do(t, "POST", "/v1/models/"+m.ID+"/status", reader, `{"status":"promoted"}`); r.status != http.StatusForbidden {
		t.Fatalf("reader promote: status %d, body %s", r.status, r.body)
	}
	if r := e.do(t, "POST", "/v1/models/"+m.ID+"/status", admin, `{"status":"live"}`); r.status != http.StatusBadRequest {
		t.Fatalf("status live: status %d, body %s", r.status, r.body)
	}
	if got := reloads.Load(); got != 0 {
		t.Fatalf("%d reloads before any change", got)
	}
	r = e.do(t, "POST", "/v1/models/"+m.ID+"/status", admin, `{"status":"promoted"}`)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"status":"promoted"`) {
		t.Fatalf("promote: status %d, body %s", r.status, r.body)
	}
	if got, want := reloads.Load(), int32(1); got != want {
		t.Fatalf("reloads after promote = %d, want %d", got, want)
	}
	r = e.do(t, "GET", "/v1/models/"+m.ID, reader, "")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"promoted_at"`) {
		t.Fatalf("get: status %d, body %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/v1/models/mdl_unknown", reader, ""); r.status != http.StatusNotFound {
		t.Fatalf("unknown model: status %d", r.status)
	}
}
