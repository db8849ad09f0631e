package sharing_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/share"
	"github.com/occsimore/occsimore/sharing"
	"github.com/occsimore/occsimore/sqlite"
	"github.com/occsimore/occsimore/sqlstore"
	"github.com/occsimore/occsimore/stix"
	"github.com/occsimore/occsimore/taxii"
)

type selfFinder struct{ db *sqlstore.DB }

func (f selfFinder) Member(ctx context.Context, id string) (*occsimore.Member, error) {
	return f.db.FindMember(ctx, &occsimore.Member{ID: id}, id)
}

// fixture is one server's store with two tenants, alpha and beta, both
// reading and writing one sharing group's collection.
type fixture struct {
	db          *sqlstore.DB
	alpha, beta *occsimore.Member
	col         string
	kr          *share.Keyring
	prod        *sharing.Producer
	ant         *sharing.Anticipator
	now         time.Time
}

func newFixture(t testing.TB, tlp map[share.Kind]stix.TLP) *fixture {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{db: db, now: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	f.alpha = &occsimore.Member{Slug: "alpha", Name: "Alpha Bank", Sector: "banking"}
	f.beta = &occsimore.Member{Slug: "beta", Name: "Beta Bank", Sector: "banking"}
	for _, m := range []*occsimore.Member{f.alpha, f.beta} {
		if err := db.CreateMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	c := &taxii.Collection{Title: "banking"}
	if err := db.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	f.col = c.ID
	for _, m := range []*occsimore.Member{f.alpha, f.beta} {
		if err := db.Grant(ctx, c.ID, m.ID, true, true); err != nil {
			t.Fatal(err)
		}
	}
	f.kr, err = share.NewKeyring(time.Hour, share.Key{ID: "k1", Secret: []byte(strings.Repeat("s", 32))})
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return f.now }
	f.prod, err = sharing.NewProducer(sharing.Config{Keyring: f.kr, Collection: c.ID, TLP: tlp, Taxii: db, Members: selfFinder{db}, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	f.ant, err = sharing.NewAnticipator(sharing.AnticipatorConfig{Keyring: f.kr, Taxii: db, Members: db.AllMembers, Remediations: db, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestTwoTenantsOfOneServer: what alpha's logs detect and its analysts
// label, published into the shared collection, is matched at beta (by
// address, by terminal token), not at alpha itself; beta gets a ban of
// origin consortium; a RED kind never reaches the collection.
func TestTwoTenantsOfOneServer(t *testing.T) {
	tlp := sharing.DefaultTLP()
	tlp[share.KindMerchant] = stix.TLPRed
	tlp[share.KindCard] = stix.TLPGreen // refused by the producer all the same
	f := newFixture(t, tlp)
	ctx := t.Context()
	attack := &occsimore.Attack{Scenario: "ssh-bf", Scope: occsimore.ScopeIP, Source: "45.77.0.9", Start: f.now.Add(-time.Minute), End: f.now,
		Events: 8, Labels: map[string]string{"classification": "attack.T1110"}}
	n, err := f.prod.Publish(ctx, f.alpha.ID, sharing.AttackCandidates([]*occsimore.Attack{attack}))
	if err != nil || n != 1 {
		t.Fatalf("publish attack: %d, %v", n, err)
	}
	alert := &occsimore.Alert{Label: occsimore.LabelFraud, Time: f.now, Entities: map[string]string{"terminal": "T-1", "merchant": "M-1", "card": "4111 1111 1111 1111"}}
	if n, err := f.prod.Publish(ctx, f.alpha.ID, sharing.LabelCandidates(alert, f.now)); err != nil || n != 1 {
		t.Fatalf("publish label: %d indicators, %v; want the terminal only (merchant is RED, cards are not shared)", n, err)
	}
	page, err := f.db.QueryObjects(ctx, f.beta.ID, f.col, taxii.Query{Limit: 1000, Filter: taxii.Filter{Versions: taxii.VersionMatch{All: true}}})
	if err != nil || len(page.Records) < 3 {
		t.Fatalf("the collection as beta reads it: %d objects, %v", len(page.Records), err)
	}
	termTok, _ := f.kr.Token(share.KindTerminal, "T-1", f.now)
	var all strings.Builder
	merchTok, _ := f.kr.Token(share.KindMerchant, "M-1", f.now)
	for _, r := range page.Records {
		for _, s := range []string{"T-1", "M-1", "4111", merchTok.String()} {
			if strings.Contains(string(r.Raw), s) {
				t.Errorf("%s holds %q", r.ID, s)
			}
		}
		all.Write(r.Raw)
	}
	if !strings.Contains(all.String(), termTok.String()) || !strings.Contains(all.String(), "'45.77.0.9'") {
		t.Fatalf("the collection lacks the terminal's token or the address:\n%s", all.String())
	}

	if err := f.ant.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	match := func(m *occsimore.Member, ev occsimore.Event) (occsimore.Reason, bool) {
		ev.MemberID = m.ID
		return f.ant.Match(&ev)
	}
	r, ok := match(f.beta, occsimore.Event{Kind: "auth.login", IP: "45.77.0.9"})
	if !ok || r.Code != sharing.ReasonCode || !strings.Contains(r.Text, "seen at 1 member of banking (Alpha Bank)") || r.Role != "ip" {
		t.Fatalf("beta's login from the attacker: %+v, %v", r, ok)
	}
	if r, ok := match(f.alpha, occsimore.Event{Kind: "auth.login", IP: "45.77.0.9"}); ok {
		t.Errorf("alpha matched its own indicator: %+v", r)
	}
	if _, ok := match(f.beta, occsimore.Event{Kind: "auth.login", IP: "45.77.0.10"}); ok {
		t.Error("another address matched")
	}
	if r, ok := match(f.beta, occsimore.Event{Kind: "card.tx", Terminal: " T-1 "}); !ok || r.Role != "terminal" || strings.Contains(r.Text, "T-1") {
		t.Errorf("beta's payment at the terminal: %+v, %v", r, ok)
	}
	if r, ok := match(f.beta, occsimore.Event{Kind: "card.tx", Card: "4111-1111-1111-1111"}); ok {
		t.Errorf("the card was shared: %+v", r)
	}
	if r, ok := match(f.beta, occsimore.Event{Kind: "card.tx", Merchant: "M-1", Terminal: "T-2"}); ok {
		t.Errorf("the RED merchant matched: %+v", r)
	}

	// Beta's bouncers ban the address, once; alpha's do not.
	if err := f.ant.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*occsimore.Member{f.alpha, f.beta} {
		rs, err := f.db.ActiveRemediations(ctx, m.ID, f.now)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if m == f.beta {
			want = 1
		}
		if len(rs) != want || (want == 1 && (rs[0].Origin != "consortium" || rs[0].Value != "45.77.0.9" || rs[0].Scenario != "ssh-bf")) {
			t.Errorf("%s's decisions: %+v, want %d of origin consortium", m.Slug, rs, want)
		}
	}
}

// TestMatchDoesNotAllocate: the event path's lookup of an address and of a
// terminal token, matched or not, makes no garbage unless it matches.
func TestMatchDoesNotAllocate(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	attack := &occsimore.Attack{Scenario: "ssh-bf", Scope: occsimore.ScopeIP, Source: "45.77.0.9", End: f.now, Events: 8}
	if _, err := f.prod.Publish(ctx, f.alpha.ID, sharing.AttackCandidates([]*occsimore.Attack{attack})); err != nil {
		t.Fatal(err)
	}
	alert := &occsimore.Alert{Label: occsimore.LabelFraud, Time: f.now, Entities: map[string]string{"terminal": "T-1"}}
	if _, err := f.prod.Publish(ctx, f.alpha.ID, sharing.LabelCandidates(alert, f.now)); err != nil {
		t.Fatal(err)
	}
	if err := f.ant.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	ev := occsimore.Event{MemberID: f.beta.ID, Kind: "card.tx", IP: "198.51.100.4", Terminal: "T-2", Merchant: "M-9", Card: "5500000000000004"}
	if _, ok := f.ant.Match(&ev); ok {
		t.Fatal("an unshared event matched")
	}
	if n := testing.AllocsPerRun(100, func() { f.ant.Match(&ev) }); n != 0 {
		t.Errorf("Match allocates %.1f times per event", n)
	}
	// The pipeline's batch form, with one event that matches among them.
	evs := []occsimore.Event{ev, ev, {MemberID: f.beta.ID, Kind: "auth.login", IP: "45.77.0.9"}, ev}
	dst := make([]occsimore.Reason, len(evs))
	if n := f.ant.MatchBatch(f.beta.ID, evs, dst); n != 1 || dst[2].Code != sharing.ReasonCode || dst[0].Code != "" || dst[3].Code != "" {
		t.Fatalf("MatchBatch: %d matched, %+v", n, dst)
	}
	if n := testing.AllocsPerRun(100, func() { f.ant.MatchBatch(f.beta.ID, evs[:2], dst[:2]) }); n != 0 {
		t.Errorf("MatchBatch allocates %.1f times per batch without a match", n)
	}
}
