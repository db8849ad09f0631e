package http_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/occsimore/occsimore"
	occhttp "github.com/occsimore/occsimore/http"
)

func TestErrorStatuses(t *testing.T) {
	cases := []struct {
		err    error
		status int
	}{
		{occsimore.FieldErrorf("name", "name is required"), http.StatusBadRequest},
		{occsimore.Errorf(occsimore.EUNAUTHORIZED, "no"), http.StatusUnauthorized},
		{occsimore.Errorf(occsimore.EFORBIDDEN, "no"), http.StatusForbidden},
		{fmt.Errorf("find: %w", occsimore.Errorf(occsimore.ENOTFOUND, "gone")), http.StatusNotFound},
		{occsimore.Errorf(occsimore.ECONFLICT, "dup"), http.StatusConflict},
		{occsimore.Errorf(occsimore.ETOOLARGE, "big"), http.StatusRequestEntityTooLarge},
		{occsimore.Errorf(occsimore.ERATELIMIT, "slow down"), http.StatusTooManyRequests},
		{occsimore.Errorf(occsimore.EUNAVAILABLE, "later"), http.StatusServiceUnavailable},
		{occsimore.Errorf(occsimore.EINTERNAL, "bug"), http.StatusInternalServerError},
		{errors.New("disk on fire at /var/lib/x"), http.StatusInternalServerError},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		occhttp.Error(w, httptest.NewRequest("GET", "/v1/things/1", nil), nil, c.err)
		if got, want := w.Code, c.status; got != want {
			t.Errorf("%v: status %d, want %d", c.err, got, want)
		}
		if got, want := w.Header().Get("Content-Type"), "application/problem+json"; got != want {
			t.Errorf("%v: Content-Type %q, want %q", c.err, got, want)
		}
		var p occhttp.Problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatalf("%v: %v", c.err, err)
		}
		want := occhttp.Problem{
			Type: "about:blank", Title: http.StatusText(c.status), Status: c.status,
			Detail: occsimore.ErrorMessage(c.err), Instance: "/v1/things/1",
			Code: occsimore.ErrorCode(c.err), Field: occsimore.ErrorField(c.err),
		}
		if p != want {
			t.Errorf("%v: problem %+v, want %+v", c.err, p, want)
		}
	}
}

func TestErrorHidesInternalDetail(t *testing.T) {
	w := httptest.NewRecorder()
	occhttp.Error(w, httptest.NewRequest("GET", "/", nil), nil, errors.New("password=hunter2"))
	var p occhttp.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if got, want := p.Detail, "internal error"; got != want {
		t.Fatalf("detail = %q, want %q", got, want)
	}
}
