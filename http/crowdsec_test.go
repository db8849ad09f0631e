package http_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"
)

// csDecision is a decision as CrowdSec's Local API writes it.
type csDecision struct {
	ID       int64  `json:"id"`
	Origin   string `json:"origin"`
	Type     string `json:"type"`
	Scope    string `json:"scope"`
	Value    string `json:"value"`
	Duration string `json:"duration"`
	Scenario string `json:"scenario"`
}

// apiKey sends a GET with the key in X-Api-Key, as CrowdSec bouncers do,
// and returns the status and body.
func (e *env) apiKey(t *testing.T, path, key string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Api-Key", key)
	r := e.roundTrip(t, req)
	return r.status, r.body
}

func csValues(ds []csDecision) []string {
	vs := []string{}
	for _, d := range ds {
		vs = append(vs, d.Scope+" "+d.Type+" "+d.Value)
	}
	slices.Sort(vs)
	return vs
}

// TestCrowdSecStream: the CrowdSec-shaped stream gives a bouncer the bans
// and captchas of IPs and ranges, in CrowdSec's spelling, then what was
// added and deleted since its last pull; its filters apply.
func TestCrowdSecStream(t *testing.T) {
	f := newFixture(t)
	ban := f.decide(t, `{"action":"ban","scope":"ip","value":"192.0.2.1","duration":"4h","scenario":"ssh-bf"}`)
	f.decide(t, `{"action":"captcha","scope":"range","value":"198.51.100.0/24","duration":"30m","scenario":"http-probing"}`)
	f.decide(t, `{"action":"alert","scope":"ip","value":"192.0.2.2","duration":"1h"}`)
	f.decide(t, `{"action":"ban","scope":"user","value":"alice","duration":"1h"}`)

	pull := func(path string) (s struct{ New, Deleted []csDecision }) {
		t.Helper()
		code, body := f.apiKey(t, path, f.bankReader)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		if err := json.Unmarshal(body, &s); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		return s
	}
	s := pull("/crowdsec/v1/decisions/stream?startup=true")
	if got, want := csValues(s.New), []string{"Ip ban 192.0.2.1", "Range captcha 198.51.100.0/24"}; !slices.Equal(got, want) {
		t.Fatalf("startup new = %v, want %v", got, want)
	}
	for _, d := range s.New {
		if d.Value == "192.0.2.1" && (d.ID != ban.ID || d.Origin != "cscli" || d.Duration != "4h0m0s" || d.Scenario != "ssh-bf") {
			t.Fatalf("ban as CrowdSec: %+v, want id %d, origin cscli, duration 4h0m0s, scenario ssh-bf", d, ban.ID)
		}
	}

	if r := f.do(t, "DELETE", "/v1/decisions/"+strconv.FormatInt(ban.ID, 10), f.bankAnalyst, ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	f.decide(t, `{"action":"ban","scope":"ip","value":"192.0.2.3","duration":"1h"}`)
	f.decide(t, `{"action":"ban","scope":"range","value":"203.0.113.0/24","duration":"1h"}`)
	s = pull("/crowdsec/v1/decisions/stream?scopes=ip&origins=cscli,crowdsec")
	if got, want := csValues(s.New), []string{"Ip ban 192.0.2.3"}; !slices.Equal(got, want) {
		t.Fatalf("new since, scopes=ip = %v, want %v", got, want)
	}
	if got, want := csValues(s.Deleted), []string{"Ip ban 192.0.2.1"}; !slices.Equal(got, want) {
		t.Fatalf("deleted since = %v, want %v", got, want)
	}
	if s := pull("/crowdsec/v1/decisions/stream"); len(s.New)+len(s.Deleted) != 0 {
		t.Fatalf("a pull with nothing new gave %+v", s)
	}
}

// TestCrowdSecLive: bouncers in live mode ask per address; a range covers
// its addresses, and nothing is a JSON null as the Local API answers.
func TestCrowdSecLive(t *testing.T) {
	f := newFixture(t)
	f.decide(t, `{"action":"ban","scope":"range","value":"198.51.100.0/24","duration":"1h"}`)
	f.decide(t, `{"action":"captcha","scope":"ip","value":"2001:db8::7","duration":"1h"}`)
	get := func(path string) []csDecision {
		t.Helper()
		code, body := f.apiKey(t, path, f.bankReader)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		var ds []csDecision
		if err := json.Unmarshal(body, &ds); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		if ds == nil && string(body) != "null\n" && string(body) != "null" {
			t.Fatalf("GET %s: empty answer %q, want null", path, body)
		}
		return ds
	}
	if got, want := csValues(get("/crowdsec/v1/decisions?ip=198.51.100.9")), []string{"Range ban 198.51.100.0/24"}; !slices.Equal(got, want) {
		t.Fatalf("ip in a banned range: %v, want %v", got, want)
	}
	if got := get("/crowdsec/v1/decisions?ip=198.51.101.9"); got != nil {
		t.Fatalf("ip outside: %v, want null", got)
	}
	if got, want := csValues(get("/crowdsec/v1/decisions?ip=2001:db8::7&type=captcha")), []string{"Ip captcha 2001:db8::7"}; !slices.Equal(got, want) {
		t.Fatalf("IPv6 captcha: %v, want %v", got, want)
	}
	if got := get("/crowdsec/v1/decisions?ip=2001:db8::7&type=ban"); got != nil {
		t.Fatalf("type=ban for a captcha: %v, want null", got)
	}

	code, body := f.apiKey(t, "/crowdsec/v1/decisions?ip=198.51.100.300", f.bankReader)
	var p struct{ Field string }
	if err := json.Unmarshal(body, &p); code != http.StatusBadRequest || err != nil || p.Field != "ip" {
		t.Fatalf("bad ip: %d %s, want 400 naming the field ip", code, body)
	}
	code, body = f.apiKey(t, "/crowdsec/v1/decisions?range=198.51.100.0/33", f.bankReader)
	p.Field = ""
	if err := json.Unmarshal(body, &p); code != http.StatusBadRequest || err != nil || p.Field != "range" {
		t.Fatalf("bad range: %d %s, want 400 naming the field range", code, body)
	}
	if code, _ := f.apiKey(t, "/crowdsec/v1/decisions", "not-a-key"); code != http.StatusUnauthorized {
		t.Fatalf("bad key: %d, want 401", code)
	}
	// X-Api-Key is taken only where CrowdSec bouncers call.
	if code, _ := f.apiKey(t, "/v1/decisions", f.bankReader); code != http.StatusUnauthorized {
		t.Fatalf("X-Api-Key on /v1/decisions: %d, want 401", code)
	}
}
