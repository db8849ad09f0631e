package http_test

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	occhttp "github.com/occsimore/occsimore/http"
)

// The isolation suite attacks member B with a member A's admin token through
// every /v1 route (and the CrowdSec-compatible /crowdsec/v1 ones). The route table below must cover every such route the
// server registers: a new route without a case fails TestIsolationCoversEveryRoute.

type isolationKind int

const (
	objectRoute isolationKind = iota // takes B's object ID: 404, alike to a missing ID
	listRoute                        // lists: 200, and no B object in the body
	createRoute                      // creates within the caller's member: 201, nothing of B
	deniedRoute                      // refused outright to a non-operator: 403
	ingestRoute                      // ingests into the caller's member: 200, nothing of B
)

type isolationCase struct {
	pattern string
	kind    isolationKind
	// target returns the path for B's object, or the route's path.
	target func(b *victim) string
	// absent returns the same path for an ID that exists nowhere.
	absent func() string
	// absentFor, if set, replaces absent for IDs whose form depends on B's
	// (numbers of the same length).
	absentFor func(b *victim) string
	body      string
	// bodyFor, if set, builds the body from B's objects.
	bodyFor func(b *victim) string
	// operatorSees marks routes whose results an operator may see across
	// members, by design (the member directory); the operator pass skips them.
	operatorSees bool
}

// victim is member B and its objects.
type victim struct {
	member *occsimore.Member
	tokens []*occsimore.Token
	users  []*occsimore.User
	alerts []*occsimore.Alert
	card   string // an entity with a profile

	attacks   []*occsimore.Attack
	decisions []*occsimore.Remediation
	models    []*occsimore.ModelVersion
	admin     string // bearer
}

func (v *victim) ids() []string {
	ids := []string{v.member.ID, v.member.Slug}
	for _, t := range v.tokens {
		ids = append(ids, t.ID)
	}
	for _, u := range v.users {
		ids = append(ids, u.ID, u.Email)
	}
	for _, a := range v.alerts {
		ids = append(ids, a.ID, a.EventID)
	}
	for _, a := range v.attacks {
		ids = append(ids, a.ID, a.Source)
	}
	for _, d := range v.decisions {
		ids = append(ids, d.Value)
	}
	for _, m := range v.models {
		ids = append(ids, m.ID)
	}
	return ids
}

func fixed(path string) func(*victim) string { return func(*victim) string { return path } }

// absentAt returns a path under base with a fresh ID in the form of the
// route's objects, so that it matches no object of anyone.
func absentAt(base, prefix, suffix string) func() string {
	return func() string { return base + occsimore.NewID(prefix) + suffix }
}

var isolationCases = []isolationCase{
	{pattern: "GET /v1/me", kind: listRoute, target: fixed("/v1/me")},

	{pattern: "GET /v1/members", kind: listRoute, target: fixed("/v1/members"), operatorSees: true},
	{pattern: "GET /v1/members/{id}", kind: objectRoute, operatorSees: true,
		target: func(b *victim) string { return "/v1/members/" + b.member.ID }, absent: absentAt("/v1/members/", "mem", "")},
	{pattern: "POST /v1/members", kind: deniedRoute, target: fixed("/v1/members"), operatorSees: true,
		body: `{"slug":"pharma-2","name":"Pharma","sector":"pharma","admin_token":true}`},

	{pattern: "GET /v1/tokens", kind: listRoute, target: fixed("/v1/tokens")},
	{pattern: "POST /v1/tokens", kind: createRoute, target: fixed("/v1/tokens"), body: `{"name":"probe","role":"admin"}`},
	{pattern: "GET /v1/tokens/{id}", kind: objectRoute,
		target: func(b *victim) string { return "/v1/tokens/" + b.tokens[0].ID }, absent: absentAt("/v1/tokens/", "tok", "")},
	{pattern: "DELETE /v1/tokens/{id}", kind: objectRoute,
		target: func(b *victim) string { return "/v1/tokens/" + b.tokens[0].ID }, absent: absentAt("/v1/tokens/", "tok", "")},

	{pattern: "GET /v1/users", kind: listRoute, target: fixed("/v1/users")},
	{pattern: "POST /v1/users", kind: createRoute, target: fixed("/v1/users"),
		body: `{"email":"probe-%s@bank.example","name":"Probe","role":"admin","password":"probe-password-1"}`},
	{pattern: "GET /v1/users/{id}", kind: objectRoute,
		target: func(b *victim) string { return "/v1/users/" + b.users[0].ID }, absent: absentAt("/v1/users/", "usr", "")},
	{pattern: "PUT /v1/users/{id}/password", kind: objectRoute, body: `{"password":"taken-over-password"}`,
		target: func(b *victim) string { return "/v1/users/" + b.users[0].ID + "/password" }, absent: absentAt("/v1/users/", "usr", "/password")},

	// Before the ingest cases, which give the attacker a card of the same ID.
	{pattern: "GET /v1/entities/{role}/{id}", kind: objectRoute,
		target: func(b *victim) string { return "/v1/entities/card/" + b.card }, absent: absentAt("/v1/entities/card/", "card", "")},

	// Events name entities by the caller's IDs: the same card ID under A is
	// A's card, and B's profile of it must not move.
	{pattern: "POST /v1/events", kind: ingestRoute, target: fixed("/v1/events"), bodyFor: func(b *victim) string {
		return `{"kind":"card.tx","time":"2026-11-27T09:59:00Z","card":"` + b.card + `","amount":9999,"country":"BR"}`
	}},
	{pattern: "POST /v1/events:batch", kind: ingestRoute, target: fixed("/v1/events:batch"), bodyFor: func(b *victim) string {
		return `{"kind":"card.tx","time":"2026-11-27T09:59:30Z","card":"` + b.card + `","amount":9999,"country":"BR"}` + "\n"
	}},
	{pattern: "GET /v1/alerts", kind: listRoute, target: fixed("/v1/alerts")},
	{pattern: "GET /v1/alerts/{id}", kind: objectRoute,
		target: func(b *victim) string { return "/v1/alerts/" + b.alerts[0].ID }, absent: absentAt("/v1/alerts/", "alr", "")},
	{pattern: "POST /v1/alerts/{id}/label", kind: objectRoute, body: `{"label":"legit"}`,
		target: func(b *victim) string { return "/v1/alerts/" + b.alerts[0].ID + "/label" }, absent: absentAt("/v1/alerts/", "alr", "/label")},

	{pattern: "GET /v1/attacks", kind: listRoute, target: fixed("/v1/attacks")},
	{pattern: "GET /v1/attacks/daily", kind: listRoute, target: fixed("/v1/attacks/daily?since=2026-11-01")},
	// A creates a decision of its own, on another address than B's.
	{pattern: "POST /v1/decisions", kind: createRoute, target: fixed("/v1/decisions"),
		body: `{"action":"ban","scope":"ip","value":"198.51.100.1","duration":"1h"}`},
	{pattern: "GET /v1/decisions", kind: listRoute, target: fixed("/v1/decisions")},
	{pattern: "GET /v1/decisions/stream", kind: listRoute, target: fixed("/v1/decisions/stream?startup=true")},
	{pattern: "GET /v1/decisions/export", kind: listRoute, target: fixed("/v1/decisions/export?format=json")},
	{pattern: "GET /crowdsec/v1/decisions/stream", kind: listRoute, target: fixed("/crowdsec/v1/decisions/stream?startup=true")},
	{pattern: "GET /crowdsec/v1/decisions", kind: listRoute, target: fixed("/crowdsec/v1/decisions")},
	{pattern: "DELETE /v1/decisions/{id}", kind: objectRoute,
		target:    func(b *victim) string { return "/v1/decisions/" + strconv.FormatInt(b.decisions[0].ID, 10) },
		absentFor: func(b *victim) string { return "/v1/decisions/" + nines(b.decisions[0].ID) }},
	{pattern: "GET /v1/models", kind: listRoute, target: fixed("/v1/models")},
	{pattern: "GET /v1/models/{id}", kind: objectRoute,
		target: func(b *victim) string { return "/v1/models/" + b.models[0].ID }, absent: absentAt("/v1/models/", "mdl", "")},
	{pattern: "POST /v1/models/{id}/status", kind: objectRoute, body: `{"status":"promoted"}`,
		target: func(b *victim) string { return "/v1/models/" + b.models[0].ID + "/status" }, absent: absentAt("/v1/models/", "mdl", "/status")},
	{pattern: "GET /v1/logs/stats", kind: listRoute, target: fixed("/v1/logs/stats")},
	{pattern: "POST /v1/logs", kind: ingestRoute, target: fixed("/v1/logs?host=web-1"), bodyFor: func(b *victim) string {
		return "Failed password for root from " + b.attacks[0].Source + " port 22 ssh2\n"
	}},
}

// nines returns a decision ID of id's length that no decision has: IDs count
// from 1 in the test's fresh store, and far fewer than 9 are created.
func nines(id int64) string {
	return strings.Repeat("9", len(strconv.FormatInt(id, 10)))
}

// seedVictimAttacks gives B an attack and decisions in force.
func seedVictimAttacks(t *testing.T, e *env, b *victim) {
	t.Helper()
	now := e.clock.Now()
	at := &occsimore.Attack{Scenario: "ssh-bf", Scope: occsimore.ScopeIP, Source: "203.0.113.66",
		Start: now.Add(-time.Minute), End: now, Events: 6, Message: "ssh-bf: 6 failed logins"}
	if err := e.db.CreateAttacks(t.Context(), b.member.ID, []*occsimore.Attack{at}); err != nil {
		t.Fatal(err)
	}
	rs := []*occsimore.Remediation{
		{Action: occsimore.ActionBan, Scope: occsimore.ScopeIP, Value: "203.0.113.77", Scenario: "ssh-bf",
			Origin: "logs", AttackID: at.ID, Until: now.Add(4 * time.Hour)},
		{Action: occsimore.ActionBan, Scope: occsimore.ScopeRange, Value: "203.0.113.128/25", Scenario: "ssh-bf",
			Origin: "logs", Until: now.Add(4 * time.Hour)},
	}
	if err := e.db.CreateRemediations(t.Context(), b.member.ID, rs); err != nil {
		t.Fatal(err)
	}
	if id := strconv.FormatInt(rs[0].ID, 10); id == nines(rs[0].ID) {
		t.Fatalf("B's decision ID %s is the absent one", id)
	}
	b.attacks, b.decisions = append(b.attacks, at), append(b.decisions, rs...)
}

// seedVictimModels gives B a candidate model.
func seedVictimModels(t *testing.T, e *env, b *victim) {
	t.Helper()
	m := &occsimore.ModelVersion{Kind: "card.tx", Algorithm: "gbdt", FeatureNames: []string{"score"},
		Review: 0.5, Block: 0.9, Source: "alerts", Data: []byte("model bytes")}
	if err := e.db.CreateModel(t.Context(), b.member.ID, m); err != nil {
		t.Fatal(err)
	}
	b.models = append(b.models, m)
}

// withLogs gives the server a fake log ingester, enabling POST /v1/logs.
func withLogs(ing *fakeIngester) func(*occhttp.Server) {
	return func(s *occhttp.Server) { s.Logs = ing }
}

func TestIsolationCoversEveryRoute(t *testing.T) {
	e := newEnv(t, nil, withLogs(&fakeIngester{}))
	var registered, covered []string
	for _, rt := range e.srv.Routes() {
		if strings.Contains(rt.Pattern, " /v1/") || strings.Contains(rt.Pattern, " /crowdsec/v1/") {
			registered = append(registered, rt.Pattern)
		}
	}
	for _, c := range isolationCases {
		covered = append(covered, c.pattern)
	}
	slices.Sort(covered)
	if !slices.Equal(registered, covered) {
		t.Fatalf("isolation cases cover\n%v\nbut the server registers\n%v\nadd a case for every new /v1 route", covered, registered)
	}
	if len(registered) == 0 {
		t.Fatal("no /v1 routes registered")
	}
}

// snapshot is everything the store and the engine hold about a member.
type snapshot struct {
	member  *occsimore.Member
	tokens  []*occsimore.Token
	users   []*occsimore.User
	alerts  []*occsimore.Alert
	profile behavior.ProfileView

	attacks   []*occsimore.Attack
	decisions []*occsimore.Remediation
	models    []*occsimore.ModelVersion
}

func snapshotOf(t *testing.T, e *env, m *occsimore.Member) snapshot {
	t.Helper()
	ctx := context.Background()
	mm, err := e.db.FindMember(ctx, m, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := e.db.ListTokens(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	users, err := e.db.ListUsers(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users { // ListUsers need not return hashes; read each
		full, err := e.db.FindUser(ctx, m.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		*u = *full
	}
	alerts, err := e.db.ListAlerts(ctx, m.ID, occsimore.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	profile, _ := e.pl.Entity(m.ID, "card", victimCard)
	attacks, err := e.db.ListAttacks(ctx, m.ID, occsimore.AttackFilter{})
	if err != nil {
		t.Fatal(err)
	}
	decisions, err := e.db.ActiveRemediations(ctx, m.ID, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	models, err := e.db.ListModels(ctx, m.ID, occsimore.ModelFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{member: mm, tokens: tokens, users: users, alerts: alerts, profile: profile,
		attacks: attacks, decisions: decisions, models: models}
}

// victimCard is the card B has a profile of.
const victimCard = "card_49700001abcdefgh" // the shape of absentAt IDs, so lengths match

// seedVictimEvents gives B a card with a profile, through the pipeline, and
// an alert on it.
func seedVictimEvents(t *testing.T, e *env, b *victim) {
	t.Helper()
	b.card = victimCard
	evs := make([]occsimore.Event, 20)
	for i := range evs {
		evs[i] = occsimore.Event{Kind: "card.tx", Time: e.clock.Now().Add(time.Duration(i-40) * time.Hour),
			Card: b.card, Amount: 20, Country: "FR"}
	}
	if err := e.pl.Submit(t.Context(), b.member.ID, evs, make([]occsimore.Scored, len(evs))); err != nil {
		t.Fatal(err)
	}
	a := &occsimore.Alert{EventID: evs[19].ID, Kind: "card.tx", Time: evs[19].Time, Score: 12, Decision: occsimore.DecisionReview,
		Reasons:  []occsimore.Reason{{Code: "amount_high", Role: "card", Text: "amount 20.00 is high", Score: 12}},
		Entities: map[string]string{"card": b.card}}
	if err := e.db.CreateAlerts(t.Context(), b.member.ID, []*occsimore.Alert{a}); err != nil {
		t.Fatal(err)
	}
	b.alerts = append(b.alerts, a)
}

func TestIsolation(t *testing.T) {
	logs := &fakeIngester{}
	e := newEnv(t, nil, withLogs(logs))
	ops := e.member("ops", true)
	_, opsAdmin := e.token(ops, occsimore.RoleAdmin, 0)
	a := e.member("bank", false)
	_, aAdmin := e.token(a, occsimore.RoleAdmin, 0)
	e.user(a, "alice@bank.example", occsimore.RoleAdmin, "alice-password-1")

	b := &victim{member: e.member("pharma", false)}
	tok, bearer := e.token(b.member, occsimore.RoleAdmin, 0)
	b.tokens, b.admin = append(b.tokens, tok), bearer
	tok, _ = e.token(b.member, occsimore.RoleReader, 0)
	b.tokens = append(b.tokens, tok)
	b.users = append(b.users,
		e.user(b.member, "bob@pharma.example", occsimore.RoleAdmin, "bob-password-12"),
		e.user(b.member, "beth@pharma.example", occsimore.RoleReader, "beth-password-1"))
	seedVictimEvents(t, e, b)
	seedVictimAttacks(t, e, b)
	seedVictimModels(t, e, b)
	// B's own log lines, unparsed, would show in a leaked stats sample.
	logs.calls = append(logs.calls, ingestCall{memberID: b.member.ID, host: "db-1", lines: []string{"garbage from " + b.member.Slug}})
	before := snapshotOf(t, e, b.member)
	if before.profile.Events == 0 {
		t.Fatal("B's card has no profile: the entity case would prove nothing")
	}

	attackers := []struct {
		name, bearer string
		operator     bool
	}{
		{"member admin", aAdmin, false},
		{"operator admin", opsAdmin, true},
	}
	for _, at := range attackers {
		for i, c := range isolationCases {
			if at.operator && c.operatorSees {
				continue
			}
			t.Run(at.name+"/"+c.pattern, func(t *testing.T) {
				body := c.body
				if c.bodyFor != nil {
					body = c.bodyFor(b)
				}
				if strings.Contains(body, "%s") { // unique per request
					body = strings.ReplaceAll(body, "%s", strings.ToLower(strings.Fields(at.name)[0])+string(rune('a'+i)))
				}
				method, _, _ := strings.Cut(c.pattern, " ")
				path := c.target(b)
				r := e.do(t, method, path, at.bearer, body)
				switch c.kind {
				case objectRoute:
					if got, want := r.status, http.StatusNotFound; got != want {
						t.Fatalf("%s %s: status %d, want %d; body %s", method, path, got, want, r.body)
					}
					absent := c.absent
					if c.absentFor != nil {
						absent = func() string { return c.absentFor(b) }
					}
					assertAlike(t, r, e.do(t, method, absent(), at.bearer, body))
				case listRoute, createRoute:
					want := http.StatusOK
					if c.kind == createRoute {
						want = http.StatusCreated
					}
					if r.status != want {
						t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
					}
				case ingestRoute:
					if got, want := r.status, http.StatusOK; got != want {
						t.Fatalf("%s %s: status %d, want %d; body %s", method, path, got, want, r.body)
					}
				case deniedRoute:
					if got, want := r.status, http.StatusForbidden; got != want {
						t.Fatalf("%s %s: status %d, want %d; body %s", method, path, got, want, r.body)
					}
				}
				for _, id := range b.ids() {
					if strings.Contains(string(r.body), id) && !strings.Contains(path, id) {
						t.Errorf("%s %s: body reveals B's %s: %s", method, path, id, r.body)
					}
				}
			})
		}
	}

	for _, call := range logs.all()[1:] { // the first is B's own, seeded above
		if call.memberID == b.member.ID {
			t.Errorf("log lines were ingested into B: %+v", call)
		}
	}
	if after := snapshotOf(t, e, b.member); !reflect.DeepEqual(before, after) {
		t.Errorf("B's objects changed:\nbefore %+v\nafter  %+v", before, after)
	}
	if got, want := e.do(t, "GET", "/v1/me", b.admin, "").status, http.StatusOK; got != want {
		t.Errorf("B's admin token: status %d, want %d", got, want)
	}
}

// assertAlike checks that the answer about another member's object cannot be
// told from the answer about an absent one: same status and headers, and the
// same body once the IDs in the paths are blanked.
func assertAlike(t *testing.T, other, absent response) {
	t.Helper()
	if other.status != absent.status {
		t.Fatalf("status %d for another member's object, %d for an absent one", other.status, absent.status)
	}
	po, pa := other.problem(t), absent.problem(t)
	blank := func(r response, p occhttp.Problem) string {
		return strings.ReplaceAll(string(r.body), p.Instance, "{instance}")
	}
	if got, want := blank(other, po), blank(absent, pa); got != want {
		t.Errorf("bodies differ:\nother  %s\nabsent %s", got, want)
	}
	for k := range other.header {
		if k == "Date" || k == "X-Request-Id" {
			continue
		}
		if got, want := other.header.Values(k), absent.header.Values(k); !slices.Equal(got, want) {
			t.Errorf("header %s: %v for another member's object, %v for an absent one", k, got, want)
		}
	}
	if len(other.header) != len(absent.header) {
		t.Errorf("header sets differ: %v and %v", other.header, absent.header)
	}
}
