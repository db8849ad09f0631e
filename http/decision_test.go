package http_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	occhttp "github.com/occsimore/occsimore/http"
)

type decisionList struct {
	Decisions []*occsimore.Remediation `json:"decisions"`
}

type stream struct {
	New     []*occsimore.Remediation `json:"new"`
	Deleted []*occsimore.Remediation `json:"deleted"`
}

// values returns the values of rs, in order.
func values(rs []*occsimore.Remediation) []string {
	vs := []string{}
	for _, r := range rs {
		vs = append(vs, r.Value)
	}
	return vs
}

// decide creates a decision through the API and returns it.
func (f *fixture) decide(t *testing.T, body string) *occsimore.Remediation {
	t.Helper()
	r := f.do(t, "POST", "/v1/decisions", f.bankAnalyst, body)
	if r.status != http.StatusCreated {
		t.Fatalf("POST /v1/decisions %s: status %d, body %s", body, r.status, r.body)
	}
	var rem occsimore.Remediation
	r.decode(t, &rem)
	return &rem
}

func TestCreateDecision(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	rem := f.decide(t, `{"action":"ban","scope":"ip","value":"2001:DB8::1","duration":"4h"}`)
	want := occsimore.Remediation{ID: rem.ID, MemberID: f.bank.ID, Action: occsimore.ActionBan, Scope: occsimore.ScopeIP,
		Value: "2001:db8::1", Scenario: "manual", Origin: "manual", Until: now.Add(4 * time.Hour), CreatedAt: now}
	if rem.ID <= 0 || !rem.Until.Equal(want.Until) || !rem.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("created %+v, want %+v", rem, want)
	}
	rem.Until, rem.CreatedAt = want.Until, want.CreatedAt
	if *rem != want {
		t.Fatalf("created %+v, want %+v", rem, want)
	}
	f.decide(t, `{"action":"captcha","scope":"range","value":"192.0.2.0/24","duration":"30m","scenario":"http-probing"}`)

	body := func(action, scope, value, duration string) string {
		return `{"action":"` + action + `","scope":"` + scope + `","value":"` + value + `","duration":"` + duration + `"}`
	}
	f.run([]scenario{
		{name: "reader may not decide", method: "POST", path: "/v1/decisions", bearer: f.bankReader,
			body: body("ban", "ip", "192.0.2.1", "1h"), status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "ingest may not decide", method: "POST", path: "/v1/decisions", bearer: f.bankIngest,
			body: body("ban", "ip", "192.0.2.1", "1h"), status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "unknown action", method: "POST", path: "/v1/decisions", bearer: f.bankAdmin,
			body: body("drop", "ip", "192.0.2.1", "1h"), status: http.StatusBadRequest, field: "action"},
		{name: "unknown scope", method: "POST", path: "/v1/decisions", bearer: f.bankAdmin,
			body: body("ban", "asn", "64500", "1h"), status: http.StatusBadRequest, field: "scope"},
		{name: "bad IP", method: "POST", path: "/v1/decisions", bearer: f.bankAdmin,
			body: body("ban", "ip", "192.0.2.256", "1h"), status: http.StatusBadRequest, field: "value"},
		{name: "range with host bits", method: "POST", path: "/v1/decisions", bearer: f.bankAdmin,
			body: body("ban", "range", "192.0.2.7/24", "1h"), status: http.StatusBadRequest, field: "value"},
		{name: "CIDR as an IP", method: "POST", path: "/v1/decisions", bearer: f.bankAdmin,
			body: body("ban", "ip", "192.0.2.0/24", "1h"), status: http.StatusBadRequest, field: "value"},
		{name: "analyst bans everyone", method: "POST", path: "/v1/decisions", bearer: f.bankAnalyst,
			body: body("ban", "range", "0.0.0.0/0", "1h"), status: http.StatusBadRequest, field: "value"},
		{name: "analyst bans every IPv6", method: "POST", path: "/v1/decisions", bearer: f.bankAnalyst,
			body: body("ban", "range", "::/0", "1h"), status: http.StatusBadRequest, field: "value"},
		{name: "admin without force", method: "POST", path: "/v1/decisions", bearer: f.bankAdmin,
			body: body("ban", "range", "10.0.0.0/8", "1h"), status: http.StatusBadRequest, field: "value"},
		{name: "analyst forces", method: "POST", path: "/v1/decisions", bearer: f.bankAnalyst,
			body:   `{"action":"ban","scope":"range","value":"10.0.0.0/15","duration":"1h","force":true}`,
			status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "IPv6 /31 without force", method: "POST", path: "/v1/decisions", bearer: f.bankAnalyst,
			body: body("ban", "range", "2001:db8::/31", "1h"), status: http.StatusBadRequest, field: "value"},
		{name: "no duration", method: "POST", path: "/v1/decisions", bearer: f.bankAdmin,
			body: body("ban", "ip", "192.0.2.1", ""), status: http.StatusBadRequest, field: "duration"},
		{name: "negative duration", method: "POST", path: "/v1/decisions", bearer: f.bankAdmin,
			body: body("ban", "ip", "192.0.2.1", "-1h"), status: http.StatusBadRequest, field: "duration"},
		{name: "duration over a year", method: "POST", path: "/v1/decisions", bearer: f.bankAdmin,
			body: body("ban", "ip", "192.0.2.1", "8761h"), status: http.StatusBadRequest, field: "duration"},
		{name: "long scenario", method: "POST", path: "/v1/decisions", bearer: f.bankAdmin,
			body:   `{"action":"ban","scope":"user","value":"bob","duration":"1h","scenario":"` + strings.Repeat("s", 129) + `"}`,
			status: http.StatusBadRequest, field: "scenario"},
		{name: "unknown field", method: "POST", path: "/v1/decisions", bearer: f.bankAdmin,
			body: `{"action":"ban","scope":"ip","value":"192.0.2.1","duration":"1h","until":"x"}`, status: http.StatusBadRequest, field: "until"},
		{name: "list in force", method: "GET", path: "/v1/decisions", bearer: f.bankReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var l decisionList
				r.decode(t, &l)
				if got, want := values(l.Decisions), []string{"2001:db8::1", "192.0.2.0/24"}; !slices.Equal(got, want) {
					t.Fatalf("decisions %v, want %v", got, want)
				}
			}},
		{name: "list ranges", method: "GET", path: "/v1/decisions?scope=range", bearer: f.bankReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var l decisionList
				r.decode(t, &l)
				if got, want := values(l.Decisions), []string{"192.0.2.0/24"}; !slices.Equal(got, want) {
					t.Fatalf("decisions %v, want %v", got, want)
				}
			}},
		{name: "list bad filter", method: "GET", path: "/v1/decisions?action=drop", bearer: f.bankReader,
			status: http.StatusBadRequest, field: "action"},
		{name: "list unknown parameter", method: "GET", path: "/v1/decisions?value=x", bearer: f.bankReader,
			status: http.StatusBadRequest, field: "value"},
		{name: "delete by reader", method: "DELETE", path: "/v1/decisions/" + strconv.FormatInt(rem.ID, 10), bearer: f.bankReader,
			status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
		{name: "delete", method: "DELETE", path: "/v1/decisions/" + strconv.FormatInt(rem.ID, 10), bearer: f.bankAnalyst,
			status: http.StatusNoContent},
		{name: "delete again", method: "DELETE", path: "/v1/decisions/" + strconv.FormatInt(rem.ID, 10), bearer: f.bankAnalyst,
			status: http.StatusNoContent},
		{name: "delete unknown", method: "DELETE", path: "/v1/decisions/424242", bearer: f.bankAnalyst,
			status: http.StatusNotFound, code: occsimore.ENOTFOUND},
		{name: "delete non-number", method: "DELETE", path: "/v1/decisions/abc", bearer: f.bankAnalyst,
			status: http.StatusNotFound, code: occsimore.ENOTFOUND},
		{name: "other member deletes", method: "DELETE", path: "/v1/decisions/" + strconv.FormatInt(rem.ID+1, 10), bearer: f.pharmaAdmin,
			status: http.StatusNotFound, code: occsimore.ENOTFOUND},
		{name: "list after delete", method: "GET", path: "/v1/decisions", bearer: f.bankReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var l decisionList
				r.decode(t, &l)
				if got, want := values(l.Decisions), []string{"192.0.2.0/24"}; !slices.Equal(got, want) {
					t.Fatalf("decisions %v, want %v", got, want)
				}
			}},
	})
}

// TestWideRangeNeedsForce: an analyst cannot ban 0.0.0.0/0 or ::/0, and a
// wide range reaches the nftables export only when an admin forced it.
func TestWideRangeNeedsForce(t *testing.T) {
	f := newFixture(t)
	analyst := func(body string) response {
		return f.do(t, "POST", "/v1/decisions", f.bankAnalyst, body)
	}
	if r := analyst(`{"action":"ban","scope":"range","value":"198.51.0.0/16","duration":"1h"}`); r.status != http.StatusCreated {
		t.Fatalf("a /16 by an analyst: status %d %s", r.status, r.body)
	}
	if r := analyst(`{"action":"ban","scope":"range","value":"2001:db8::/32","duration":"1h"}`); r.status != http.StatusCreated {
		t.Fatalf("an IPv6 /32 by an analyst: status %d %s", r.status, r.body)
	}
	for _, v := range []string{"0.0.0.0/0", "::/0"} {
		if r := analyst(`{"action":"ban","scope":"range","value":"` + v + `","duration":"1h"}`); r.status != http.StatusBadRequest {
			t.Fatalf("%s by an analyst: status %d %s", v, r.status, r.body)
		}
	}
	r := f.do(t, "POST", "/v1/decisions", f.bankAdmin, `{"action":"ban","scope":"range","value":"10.0.0.0/8","duration":"1h","force":true}`)
	if r.status != http.StatusCreated {
		t.Fatalf("a forced /8 by an admin: status %d %s", r.status, r.body)
	}
	var rem occsimore.Remediation
	r.decode(t, &rem)
	if rem.Origin != "forced" {
		t.Fatalf("a forced decision's origin is %q, want forced", rem.Origin)
	}
	// A /0 that arrived another way (an older server, a shared indicator)
	// stays out of the firewall.
	for _, v := range []string{"0.0.0.0/0", "::/0"} {
		if err := f.db.CreateRemediations(t.Context(), f.bank.ID, []*occsimore.Remediation{{Action: occsimore.ActionBan,
			Scope: occsimore.ScopeRange, Value: v, Scenario: "shared", Origin: "consortium", Until: f.clock.Now().Add(time.Hour)}}); err != nil {
			t.Fatal(err)
		}
	}
	r = f.do(t, "GET", "/v1/decisions/export?format=nftables", f.bankReader, "")
	if r.status != http.StatusOK {
		t.Fatalf("export: status %d %s", r.status, r.body)
	}
	body := string(r.body)
	for _, v := range []string{"0.0.0.0/0", "::/0"} {
		if strings.Contains(body, v) {
			t.Errorf("the nftables export carries %s:\n%s", v, body)
		}
	}
	for _, v := range []string{"10.0.0.0/8", "198.51.0.0/16", "2001:db8::/32"} {
		if !strings.Contains(body, v) {
			t.Errorf("the nftables export lacks %s:\n%s", v, body)
		}
	}
}

// TestDecisionStream drives a bouncer through startup, a new ban, a manual
// delete and an expiry, checking each pull exactly, then restarts the
// server on the same store and checks the bouncer continues where it was.
func TestDecisionStream(t *testing.T) {
	f := newFixture(t)
	_, bouncer := f.token(f.bank, occsimore.RoleReader, 0)
	_, other := f.token(f.bank, occsimore.RoleReader, 0)
	pull := func(t *testing.T, e *env, bearer, query string, wantNew, wantDeleted []string) {
		t.Helper()
		r := e.do(t, "GET", "/v1/decisions/stream"+query, bearer, "")
		if r.status != http.StatusOK {
			t.Fatalf("pull: status %d, body %s", r.status, r.body)
		}
		var s stream
		r.decode(t, &s)
		if got := values(s.New); !slices.Equal(got, wantNew) {
			t.Fatalf("pull %s: new %v, want %v", query, got, wantNew)
		}
		if got := values(s.Deleted); !slices.Equal(got, wantDeleted) {
			t.Fatalf("pull %s: deleted %v, want %v", query, got, wantDeleted)
		}
		if s.New == nil || s.Deleted == nil {
			t.Fatalf("pull %s: null list in %s", query, r.body)
		}
	}
	none := []string{}

	f.decide(t, `{"action":"ban","scope":"ip","value":"192.0.2.1","duration":"10m"}`)
	kept := f.decide(t, `{"action":"ban","scope":"range","value":"198.51.100.0/24","duration":"4h"}`)
	pull(t, f.env, bouncer, "?startup=true", []string{"192.0.2.1", "198.51.100.0/24"}, none)
	pull(t, f.env, bouncer, "", none, none)

	// A new ban.
	f.clock.Advance(time.Minute)
	f.decide(t, `{"action":"ban","scope":"ip","value":"203.0.113.5","duration":"1h"}`)
	pull(t, f.env, bouncer, "", []string{"203.0.113.5"}, none)

	// A manual delete, and a decision created and deleted between two pulls.
	f.clock.Advance(time.Minute)
	if r := f.do(t, "DELETE", "/v1/decisions/"+strconv.FormatInt(kept.ID, 10), f.bankAnalyst, ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: status %d", r.status)
	}
	brief := f.decide(t, `{"action":"ban","scope":"ip","value":"203.0.113.6","duration":"1h"}`)
	if r := f.do(t, "DELETE", "/v1/decisions/"+strconv.FormatInt(brief.ID, 10), f.bankAnalyst, ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: status %d", r.status)
	}
	pull(t, f.env, bouncer, "", none, []string{"198.51.100.0/24"})

	// An expiry.
	f.clock.Advance(10 * time.Minute)
	pull(t, f.env, bouncer, "", none, []string{"192.0.2.1"})
	pull(t, f.env, bouncer, "", none, none)

	// Another bouncer's first pull, without startup, is one.
	pull(t, f.env, other, "", []string{"203.0.113.5"}, none)

	// A restarted server (a new one on the same store) continues the stream.
	srv := occhttp.NewServer(occhttp.DefaultConfig(), slog.New(slog.NewTextHandler(t.Output(), nil)))
	srv.Members, srv.Tokens, srv.Users, srv.Attacks = f.db, f.db, f.db, f.db
	srv.Now = f.clock.Now
	ts := httptest.NewServer(conforming(t, srv))
	defer ts.Close()
	restarted := &env{t: t, db: f.db, clock: f.clock, srv: srv, ts: ts}
	f.clock.Advance(time.Hour)
	pull(t, restarted, bouncer, "", none, []string{"203.0.113.5"})
	pull(t, restarted, bouncer, "?startup=true", none, none)

	f.run([]scenario{
		{name: "bad startup", method: "GET", path: "/v1/decisions/stream?startup=maybe", bearer: bouncer,
			status: http.StatusBadRequest, field: "startup"},
		{name: "unknown parameter", method: "GET", path: "/v1/decisions/stream?scopes=ip", bearer: bouncer,
			status: http.StatusBadRequest, field: "scopes"},
		{name: "ingest token may not pull", method: "GET", path: "/v1/decisions/stream", bearer: f.bankIngest,
			status: http.StatusForbidden, code: occsimore.EFORBIDDEN},
	})
}

func TestExportDecisions(t *testing.T) {
	f := newFixture(t)
	f.decide(t, `{"action":"ban","scope":"ip","value":"192.0.2.7","duration":"1h"}`)
	f.decide(t, `{"action":"ban","scope":"range","value":"2001:db8::/32","duration":"2h"}`)
	f.decide(t, `{"action":"ban","scope":"user","value":"root","duration":"1h"}`)
	f.decide(t, `{"action":"captcha","scope":"ip","value":"192.0.2.8","duration":"1h"}`)
	now := f.clock.Now().UTC().Format(time.RFC3339)

	text := func(want string) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			if got, want := r.header.Get("Content-Type"), "text/plain; charset=utf-8"; got != want {
				t.Fatalf("Content-Type = %q, want %q", got, want)
			}
			if got := string(r.body); got != want {
				t.Fatalf("export:\n%s\nwant:\n%s", got, want)
			}
		}
	}
	f.run([]scenario{
		{name: "text, bans by default", method: "GET", path: "/v1/decisions/export", bearer: f.bankReader, status: http.StatusOK,
			check: text("192.0.2.7\n2001:db8::/32\nroot\n")},
		{name: "text, captchas on addresses", method: "GET", path: "/v1/decisions/export?format=text&action=captcha&scope=ip",
			bearer: f.bankReader, status: http.StatusOK, check: text("192.0.2.8\n")},
		{name: "nftables", method: "GET", path: "/v1/decisions/export?format=nftables&table=edge", bearer: f.bankReader,
			status: http.StatusOK, check: text("#!/usr/sbin/nft -f\n" +
				"# occsimore decisions in force at " + now + ": 1 IPv4 and 1 IPv6 elements.\n" +
				"table inet edge {\n\tset blocklist4 {\n\t\ttype ipv4_addr\n\t\tflags interval, timeout\n\t}\n" +
				"\tset blocklist6 {\n\t\ttype ipv6_addr\n\t\tflags interval, timeout\n\t}\n}\n" +
				"flush set inet edge blocklist4\nflush set inet edge blocklist6\n" +
				"add element inet edge blocklist4 { 192.0.2.7 timeout 3600s }\n" +
				"add element inet edge blocklist6 { 2001:db8::/32 timeout 7200s }\n")},
		{name: "json", method: "GET", path: "/v1/decisions/export?format=json&scope=ip", bearer: f.bankReader, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var rs []*occsimore.Remediation
				r.decode(t, &rs)
				if got, want := values(rs), []string{"192.0.2.7"}; !slices.Equal(got, want) {
					t.Fatalf("json export %v, want %v", got, want)
				}
			}},
		{name: "unknown format", method: "GET", path: "/v1/decisions/export?format=iptables", bearer: f.bankReader,
			status: http.StatusBadRequest, field: "format"},
		{name: "bad table name", method: "GET", path: "/v1/decisions/export?format=nftables&table=a-b", bearer: f.bankReader,
			status: http.StatusBadRequest, field: "table"},
		{name: "other member exports nothing of bank", method: "GET", path: "/v1/decisions/export", bearer: f.pharmaAdmin,
			status: http.StatusOK, check: text("")},
	})
}
