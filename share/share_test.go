package share

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/occsimore/occsimore/stix"
)

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func secret(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func testRing(t testing.TB) *Keyring {
	t.Helper()
	r, err := NewKeyring(24*time.Hour,
		Key{ID: "k1", Secret: secret(1), NotBefore: now.Add(-30 * 24 * time.Hour)},
		Key{ID: "k2", Secret: secret(2), NotBefore: now.Add(10 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var (
	oprfOnce   sync.Once
	oprfServer *OPRFServer
)

func testOPRF(t testing.TB) (*OPRFServer, *OPRFClient) {
	t.Helper()
	oprfOnce.Do(func() {
		var err error
		oprfServer, err = NewOPRFServer("o1", secret(9))
		if err != nil {
			panic(err)
		}
	})
	c, err := NewOPRFClient(oprfServer.KeyID(), oprfServer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return oprfServer, c
}

func TestKeyringRotation(t *testing.T) {
	r := testRing(t)
	a, err := r.Token(KindTerminal, "TERM-0042", now)
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID != "k1" || !r.Accepts(a, now) {
		t.Fatalf("token %v before rotation: want key k1, accepted", a)
	}
	again, _ := r.Token(KindTerminal, " TERM-0042 ", now)
	if again != a {
		t.Error("the same terminal gave two tokens")
	}
	if m, _ := r.Token(KindMerchant, "TERM-0042", now); m.MAC == a.MAC {
		t.Error("a merchant and a terminal with the same id share a token: the kind is not bound")
	}
	c1, _ := r.Token(KindCard, "4111 1111 1111 1111", now)
	c2, _ := r.Token(KindCard, "4111-1111-1111-1111", now)
	if c1 != c2 {
		t.Error("card spellings not normalised")
	}
	if _, err := r.Token(KindIP, "1.2.3.4", now); err == nil {
		t.Error("tokenised an IP, which travels in clear")
	}

	during := now.Add(10*24*time.Hour + time.Hour) // k2 in force, k1 within overlap
	b, _ := r.Token(KindTerminal, "TERM-0042", during)
	if b.KeyID != "k2" || b.MAC == a.MAC {
		t.Fatalf("token after rotation = %v, want a different MAC under k2", b)
	}
	if !r.Accepts(a, during) || !r.Accepts(b, during) {
		t.Error("during the overlap both keys must be accepted")
	}
	toks, _ := r.Tokens(KindTerminal, "TERM-0042", during)
	if len(toks) != 2 || toks[0] != b || toks[1] != a {
		t.Errorf("Tokens during overlap = %v, want [k2, k1]", toks)
	}
	after := now.Add(12 * 24 * time.Hour)
	if r.Accepts(a, after) {
		t.Error("k1 still accepted after the overlap")
	}
	if toks, _ := r.Tokens(KindTerminal, "TERM-0042", after); len(toks) != 1 || toks[0].KeyID != "k2" {
		t.Errorf("Tokens after overlap = %v", toks)
	}
	if _, err := r.Token(KindTerminal, "x", now.Add(-365*24*time.Hour)); err == nil {
		t.Error("token made before any key was in force")
	}
	parsed, err := ParseToken(a.String())
	if err != nil || parsed != a {
		t.Errorf("ParseToken(%s) = %v, %v", a, parsed, err)
	}
	for _, bad := range []string{"", "ht1:k1", "ht1::" + strings.Repeat("A", 43), "xx1:k1:" + strings.Repeat("A", 43), "ht1:k1:" + strings.Repeat("A", 42), "ht1:k 1:" + strings.Repeat("A", 43)} {
		if IsToken(bad) {
			t.Errorf("IsToken(%q) = true", bad)
		}
	}
	if _, err := NewKeyring(0, Key{ID: "short", Secret: []byte("0123456789")}); err == nil {
		t.Error("a 10-byte key was accepted")
	}
	if _, err := NewKeyring(0, Key{ID: "a", Secret: secret(1)}, Key{ID: "a", Secret: secret(2)}); err == nil {
		t.Error("duplicate key ids accepted")
	}
}

func TestOPRF(t *testing.T) {
	srv, c := testOPRF(t)
	tok := OPRFTokenizer{Client: c, Server: srv}
	toks, err := tok.Tokens(KindCard, []string{"4111111111111111", "4111 1111 1111 1111", "5500000000000004"})
	if err != nil {
		t.Fatal(err)
	}
	if toks[0] != toks[1] || toks[0] == toks[2] || toks[0].Scheme != SchemeOPRF || toks[0].KeyID != "o1" {
		t.Errorf("OPRF tokens = %v: want equal for one card, different for another, scheme op1 key o1", toks)
	}
	// Another client (another member) gets the same token for the same card:
	// the server key, not the client, fixes the output.
	_, c2 := testOPRF(t)
	other, err := OPRFTokenizer{Client: c2, Server: srv}.Token(KindCard, "4111111111111111", now)
	if err != nil || other != toks[0] {
		t.Errorf("second member's token = %v, %v; want %v", other, err, toks[0])
	}
	// The request hides the input: two blinds of the same card differ and
	// contain no form of it.
	_, r1, _ := c.Blind(KindCard, []string{"4111111111111111"})
	_, r2, _ := c.Blind(KindCard, []string{"4111111111111111"})
	if bytes.Equal(r1, r2) || bytes.Contains(r1, []byte("4111111111111111")) {
		t.Error("blinded requests are deterministic or carry the card")
	}
	// A server with another key cannot pass its evaluation off as the published key's.
	evil, _ := NewOPRFServer("o1", secret(8))
	if _, err := (OPRFTokenizer{Client: c, Server: evil}).Token(KindCard, "4111111111111111", now); err == nil {
		t.Error("an evaluation under another key verified")
	}
	// Ring HMAC and OPRF outputs differ.
	h, _ := testRing(t).Token(KindCard, "4111111111111111", now)
	if h.MAC == toks[0].MAC {
		t.Error("OPRF output equals the HMAC token")
	}
	for _, bad := range [][]byte{nil, {1, 0, 0}, {2, 0, 1}, append([]byte{1, 0, 1}, make([]byte, 33)...), append([]byte{1, 0, 2}, make([]byte, 33)...)} {
		if _, err := srv.Evaluate(bad); err == nil {
			t.Errorf("Evaluate(%x) accepted a malformed request", bad)
		}
	}
	if _, _, err := c.Blind(KindIP, []string{"1.2.3.4"}); err == nil {
		t.Error("blinded an IP, which travels in clear")
	}
}

func TestOPRFLimiter(t *testing.T) {
	l := NewOPRFLimiter(10, 100)
	if ok, _ := l.Allow("a", 100, now); !ok {
		t.Fatal("the burst was refused")
	}
	ok, wait := l.Allow("a", 5, now)
	if ok || wait < 400*time.Millisecond || wait > 600*time.Millisecond {
		t.Errorf("after the burst: ok=%v wait=%v, want refused for ~500ms", ok, wait)
	}
	if ok, _ := l.Allow("b", 50, now); !ok {
		t.Error("member b pays for member a's flood")
	}
	if ok, _ := l.Allow("a", 5, now.Add(600*time.Millisecond)); !ok {
		t.Error("refill after 600ms refused")
	}
	if ok, _ := l.Allow("a", 101, now.Add(time.Hour)); ok {
		t.Error("a request larger than the burst was allowed")
	}
}

func TestPolicyDecide(t *testing.T) {
	p := &Policy{
		Source: Source{Member: "mem_a", Name: "Bank A", Sector: "banking"},
		Rules: []Rule{
			{Origins: []Origin{OriginAttack}, Scenarios: []string{"ssh-bf"}, TLP: stix.TLPGreen},
			{Origins: []Origin{OriginLabel}, Kinds: []Kind{KindTerminal}, TLP: stix.TLPAmber, Review: true},
			{Origins: []Origin{OriginDecision}, MinConfidence: 70, TLP: stix.TLPClear, Delay: time.Hour},
			{Origins: []Origin{OriginLabel}, Kinds: []Kind{KindCard}, TLP: stix.TLPRed},
		},
	}
	at := now.Add(-10 * time.Minute)
	for _, c := range []struct {
		name string
		c    Candidate
		want Action
		tlp  stix.TLP
	}{
		{"ssh brute force", Candidate{Origin: OriginAttack, Scenario: "ssh-bf", Kind: KindIP, At: at}, ActionPublish, stix.TLPGreen},
		{"other attack", Candidate{Origin: OriginAttack, Scenario: "http-probing", Kind: KindIP, At: at}, ActionDrop, 0},
		{"labelled terminal", Candidate{Origin: OriginLabel, Kind: KindTerminal, At: at}, ActionReview, stix.TLPAmber},
		{"decision, delayed", Candidate{Origin: OriginDecision, Kind: KindIP, Confidence: 90, At: at}, ActionHold, stix.TLPClear},
		{"decision, delay over", Candidate{Origin: OriginDecision, Kind: KindIP, Confidence: 90, At: now.Add(-2 * time.Hour)}, ActionPublish, stix.TLPClear},
		{"decision, low confidence", Candidate{Origin: OriginDecision, Kind: KindIP, Confidence: 50, At: at}, ActionDrop, 0},
		{"red card", Candidate{Origin: OriginLabel, Kind: KindCard, At: at}, ActionDrop, stix.TLPRed},
	} {
		d := p.Decide(&c.c, now)
		if d.Action != c.want || (c.tlp != 0 && d.TLP != c.tlp) {
			t.Errorf("%s: %+v, want %s at %v", c.name, d, c.want, c.tlp)
		}
		if d.Action == ActionHold && !d.PublishAt.Equal(at.Add(time.Hour)) {
			t.Errorf("%s: publish at %v, want %v", c.name, d.PublishAt, at.Add(time.Hour))
		}
	}
}

func TestPolicyBuild(t *testing.T) {
	p := &Policy{
		Source:      Source{Member: "mem_a", Name: "Bank A", Sector: "banking", Anonymous: true},
		Granularity: GranularityHour,
		ShareWith:   []string{"mem_b"},
		Rules:       []Rule{{TLP: stix.TLPAmber, Validity: 6 * time.Hour}},
	}
	c := &Candidate{Origin: OriginLabel, Scenario: "compromised-terminal", Kind: KindTerminal, Value: "TERM-0042", Confidence: 85,
		At: time.Date(2026, 12, 7, 11, 47, 12, 0, time.UTC), Count: 7, First: time.Date(2026, 12, 7, 9, 5, 0, 0, time.UTC),
		Attack: &AttackPattern{Name: "Compromised terminal", Scenario: "compromised-terminal"}}
	d := p.Decide(c, now)
	ind, err := p.Build(c, d, testRing(t), now)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := testRing(t).Token(KindTerminal, "TERM-0042", now)
	if ind.Value != want.String() {
		t.Errorf("value = %s, want the terminal's token %s", ind.Value, want)
	}
	if ind.Source.Member != "" || ind.Source.Name != "" || ind.Source.Label() != "sector:banking" {
		t.Errorf("anonymous source leaks the member: %+v", ind.Source)
	}
	s := ind.Sightings[0]
	if s.By != "sector:banking" || s.Count != 7 || !s.First.Equal(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)) || !s.Last.Equal(time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("sighting = %+v, want by sector, 7, 09:00..11:00 (hour granularity)", s)
	}
	if !ind.ValidFrom.Equal(time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)) || ind.ValidUntil.Sub(ind.ValidFrom) != 6*time.Hour {
		t.Errorf("validity %v..%v", ind.ValidFrom, ind.ValidUntil)
	}
	if len(ind.ShareWith) != 1 || ind.ShareWith[0] != "mem_b" || ind.TLP != stix.TLPAmber {
		t.Errorf("TLP %v share with %v", ind.TLP, ind.ShareWith)
	}
	if _, err := p.Build(c, d, nil, now); err == nil {
		t.Error("a terminal indicator was built without a tokenizer")
	}
}

func TestMayExport(t *testing.T) {
	src := Source{Member: "mem_a", Name: "Bank A", Organization: "Group A", Sector: "banking"}
	sibling := Recipient{Member: "mem_a2", Organization: "Group A", Consortium: true}
	named := Recipient{Member: "mem_b", Organization: "Group B", Consortium: true}
	member := Recipient{Member: "mem_c", Organization: "Group C", Consortium: true}
	outside := Recipient{}
	self := Recipient{Member: "mem_a", Organization: "Group A", Consortium: true}
	for _, c := range []struct {
		tlp  stix.TLP
		anon bool
		to   Recipient
		want bool
	}{
		{stix.TLPRed, false, sibling, false}, {stix.TLPRed, false, named, false}, {stix.TLPRed, false, outside, false},
		{stix.TLPAmberStrict, false, sibling, true}, {stix.TLPAmberStrict, false, named, false}, {stix.TLPAmberStrict, false, member, false},
		{stix.TLPAmberStrict, true, sibling, false},
		{stix.TLPAmber, false, sibling, true}, {stix.TLPAmber, false, named, true}, {stix.TLPAmber, false, member, false}, {stix.TLPAmber, false, outside, false},
		{stix.TLPAmber, true, sibling, false}, {stix.TLPAmber, true, named, true},
		{stix.TLPGreen, false, member, true}, {stix.TLPGreen, false, outside, false},
		{stix.TLPClear, false, member, true}, {stix.TLPClear, false, outside, true},
		{stix.TLPUnknown, false, member, false},
		{stix.TLPClear, false, self, false},
	} {
		s := src
		if c.anon {
			s = Source{Anonymous: true, Sector: "banking"}
		}
		ind := &Indicator{Kind: KindIP, Value: "198.51.100.7", TLP: c.tlp, Source: s, ShareWith: []string{"mem_b"}}
		if got, why := MayExport(ind, c.to); got != c.want {
			t.Errorf("%v anonymous=%v to %+v: %v (%s), want %v", c.tlp, c.anon, c.to, got, why, c.want)
		}
	}
	inds := []Indicator{
		{ID: "a", Kind: KindIP, Value: "198.51.100.7", TLP: stix.TLPGreen, Source: src, ValidFrom: now},
		{ID: "b", Kind: KindIP, Value: "198.51.100.8", TLP: stix.TLPRed, Source: src, ValidFrom: now},
		{ID: "c", Kind: KindCard, Value: "4111111111111111", TLP: stix.TLPGreen, Source: src, ValidFrom: now},
	}
	out, refused := FilterExport(inds, member)
	if len(out) != 1 || out[0].ID != "a" || len(refused) != 2 {
		t.Errorf("FilterExport kept %v, refused %v", out, refused)
	}
}

// allKinds builds one indicator of every kind through the policy, as a
// member would, from clear values.
func allKinds(t testing.TB, tok Tokenizer) ([]Indicator, map[Kind]string) {
	t.Helper()
	p := &Policy{Source: Source{Member: "mem_a", Name: "Bank A", Sector: "banking"}, Granularity: GranularityDay,
		Rules: []Rule{{TLP: stix.TLPGreen}}}
	clear := map[Kind]string{
		KindIP: "198.51.100.7", KindCIDR: "203.0.113.0/24", KindDomain: "evil.example", KindURL: "http://evil.example/login.php?x=1",
		KindFileHash: strings.Repeat("ab", 32), KindEmail: "phish@evil.example", KindUserAgent: "sqlmap/1.7.2#stable",
		KindCardBIN: "412345", KindBehaviour: "card-testing",
		KindCard: "4929123456781234", KindAccount: "FR7630006000011234567890189", KindCustomer: "CUST-778812",
		KindTerminal: "TERM-90311", KindMerchant: "MERCH-55120", KindDevice: "dev-9f8e7d6c5b4a",
	}
	var out []Indicator
	for _, k := range Kinds {
		c := &Candidate{Origin: OriginLabel, Scenario: "s", Kind: k, Value: clear[k], Confidence: 80, At: now.Add(-time.Hour), Count: 3,
			Attack: &AttackPattern{Name: "Card testing", Scenario: "card-testing", ExternalID: "CAPEC-112", Source: "capec"}}
		if k == KindFileHash {
			c.HashAlgo = "SHA-256"
		}
		if k == KindBehaviour {
			c.Params = [][2]string{{"min_attempts", "20"}}
		}
		ind, err := p.Build(c, p.Decide(c, now), tok, now)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out = append(out, ind)
	}
	return out, clear
}

func bundleBytes(t testing.TB, inds []Indicator) []byte {
	t.Helper()
	objs, err := ToSTIX(inds)
	if err != nil {
		t.Fatal(err)
	}
	b, err := stix.NewBundle(objs...)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestSTIXRoundTripAndConformance: every kind converts to STIX objects that
// validate against the OASIS schemas, and back to the same indicator.
func TestSTIXRoundTripAndConformance(t *testing.T) {
	inds, _ := allKinds(t, testRing(t))
	raw := bundleBytes(t, inds)
	v, err := stix.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	res, err := stix.Import(raw, v)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rejected {
		t.Errorf("produced object rejected: %v", r.Err)
	}
	types := map[string]bool{}
	var objs []stix.Object
	for _, o := range res.Objects {
		types[o.Type] = true
		objs = append(objs, o.Object)
	}
	for _, typ := range []string{"identity", "indicator", "sighting", "attack-pattern", "relationship", "marking-definition"} {
		if !types[typ] {
			t.Errorf("no %s produced", typ)
		}
	}
	back, refused := FromSTIX(objs, Source{Member: "peer"})
	if len(refused) != 0 {
		t.Errorf("refused on the way back: %v", refused)
	}
	if len(back) != len(inds) {
		t.Fatalf("%d indicators back, want %d", len(back), len(inds))
	}
	for i, want := range inds {
		got := back[i]
		if got.Kind != want.Kind || got.Value != want.Value || got.TLP != want.TLP || got.Confidence != want.Confidence ||
			!got.ValidFrom.Equal(want.ValidFrom) || !got.ValidUntil.Equal(want.ValidUntil) || got.ID != want.ID {
			t.Errorf("%s: got %+v\nwant %+v", want.Kind, got, want)
		}
		if got.Source.Name != "Bank A" || got.Source.Sector != "banking" {
			t.Errorf("%s: source %+v", want.Kind, got.Source)
		}
		if len(got.Sightings) != 1 || got.Sightings[0].Count != 3 || !got.Sightings[0].First.Equal(want.Sightings[0].First) {
			t.Errorf("%s: sightings %+v, want %+v", want.Kind, got.Sightings, want.Sightings)
		}
		if len(got.AttackPatterns) != 1 || got.AttackPatterns[0].ExternalID != "CAPEC-112" || got.AttackPatterns[0].Scenario != "card-testing" {
			t.Errorf("%s: attack patterns %+v", want.Kind, got.AttackPatterns)
		}
		if want.Kind == KindBehaviour && (len(got.Params) != 1 || got.Params[0] != [2]string{"min_attempts", "20"}) {
			t.Errorf("behaviour params %v", got.Params)
		}
		if want.Kind == KindFileHash && got.HashAlgo != "SHA-256" {
			t.Errorf("hash algo %q", got.HashAlgo)
		}
	}
}

// leaks returns the forms in which a customer-linked identifier appears in
// raw: in clear, normalised, lower-cased, hex, base64, its SHA-256, or the
// UUIDv5 ids a careless producer would derive from it, or its last 8
// characters.
func leaks(raw []byte, k Kind, v string) []string {
	var found []string
	norm, _ := NormalizeValue(k, v)
	sum := sha256.Sum256([]byte(norm))
	low := bytes.ToLower(raw)
	for _, form := range []string{v, norm, strings.ToLower(norm), hex.EncodeToString([]byte(norm)),
		base64.StdEncoding.EncodeToString([]byte(norm)), base64.RawURLEncoding.EncodeToString([]byte(norm)),
		hex.EncodeToString(sum[:]), stix.SCOID("x-occsimore-token", map[string]string{"value": norm}),
		strings.TrimPrefix(stix.DerivedID("indicator", "Bank A", string(k), "", norm), "indicator--")} {
		if bytes.Contains(low, bytes.ToLower([]byte(form))) {
			found = append(found, form)
		}
	}
	if len(norm) >= 8 && bytes.Contains(raw, []byte(norm[len(norm)-8:])) {
		found = append(found, "…"+norm[len(norm)-8:])
	}
	return found
}

// TestNoCustomerIdentifierInClearInSTIX: whatever route builds them (HMAC
// keyring or OPRF), no customer-linked identifier appears in any byte of the
// STIX produced, in any encoding a careless producer might use; and a clear
// identifier handed to the export path directly is refused.
func TestNoCustomerIdentifierInClearInSTIX(t *testing.T) {
	srv, c := testOPRF(t)
	for name, tok := range map[string]Tokenizer{"hmac": testRing(t), "oprf": OPRFTokenizer{Client: c, Server: srv}} {
		inds, clear := allKinds(t, tok)
		raw := bundleBytes(t, inds)
		for _, k := range Kinds {
			v := clear[k]
			if !k.CustomerLinked() {
				// Attacker values travel in clear: the search would be blind if they did not show.
				if !bytes.Contains(raw, []byte(v)) && k != KindURL && k != KindUserAgent {
					t.Errorf("%s: clear %s value %q missing from the STIX: the leak check below proves nothing", name, k, v)
				}
				continue
			}
			if found := leaks(raw, k, v); len(found) > 0 {
				t.Errorf("%s: %s identifier leaks in clear as %q", name, k, found)
			}
			// Positive control: the same export with the identifier slipped
			// into a free-text field is caught.
			planted := slices.Clone(inds)
			planted[0].Description = "seen with " + v
			if found := leaks(bundleBytes(t, planted), k, v); len(found) == 0 {
				t.Errorf("%s: a %s identifier planted in a description was not found: the search is blind", name, k)
			}
		}
	}
	for _, k := range Kinds {
		if !k.CustomerLinked() {
			continue
		}
		ind := Indicator{ID: stix.NewID("indicator"), Kind: k, Value: "4929123456781234", Confidence: 50, ValidFrom: now, TLP: stix.TLPClear,
			Source: Source{Member: "mem_a"}}
		if _, err := ToSTIX([]Indicator{ind}); !errors.Is(err, ErrClearIdentifier) {
			t.Errorf("ToSTIX of a clear %s = %v, want ErrClearIdentifier", k, err)
		}
		if _, err := PatternFor(&ind); !errors.Is(err, ErrClearIdentifier) {
			t.Errorf("PatternFor a clear %s = %v", k, err)
		}
	}
	red, _ := allKinds(t, testRing(t))
	red[0].TLP = stix.TLPRed
	if _, err := ToSTIX(red[:1]); err == nil {
		t.Error("ToSTIX converted a TLP:RED indicator")
	}
}

func TestFromSTIXForeignPatterns(t *testing.T) {
	mk := func(p string) *stix.Indicator {
		x := &stix.Indicator{Common: stix.NewCommon("indicator", stix.NewID("indicator"), now), Pattern: p, PatternType: "stix", ValidFrom: stix.TS(now)}
		x.ObjectMarkingRefs = []string{stix.TLPGreen.MarkingRef()}
		return x
	}
	objs := []stix.Object{
		mk(`[ipv4-addr:value = '198.51.100.1/32']`),
		mk(`[ipv4-addr:value = '198.51.100.0/24']`),
		mk(`[file:hashes.MD5 = 'CEAD3F77F6CDA6EC00F57D76C9A6879F']`),
		mk(`[url:value = 'http://x.example/a'] FOLLOWEDBY [url:value = 'http://x.example/b']`),
		mk(`[x-occsimore-token:kind = 'card' AND x-occsimore-token:value = '4111111111111111']`),
	}
	unmarked := mk(`[domain-name:value = 'evil.example']`)
	unmarked.ObjectMarkingRefs = nil
	objs = append(objs, unmarked)
	got, refused := FromSTIX(objs, Source{Member: "taxii:peer-b", Name: "peer B"})
	if len(got) != 4 || len(refused) != 2 {
		t.Fatalf("got %+v refused %+v", got, refused)
	}
	if got[0].Kind != KindIP || got[0].Value != "198.51.100.1" || got[1].Kind != KindCIDR || got[2].HashAlgo != "MD5" || got[2].Value != strings.ToLower("CEAD3F77F6CDA6EC00F57D76C9A6879F") {
		t.Errorf("recognised %+v", got[:3])
	}
	if got[3].TLP != stix.TLPAmberStrict {
		t.Errorf("unmarked indicator TLP = %v, want AMBER+STRICT", got[3].TLP)
	}
	if !strings.Contains(refused[1].Reason, "token invalid") {
		t.Errorf("a clear card in a token pattern: %v", refused[1])
	}
}

func TestIndex(t *testing.T) {
	ring := testRing(t)
	inds, clear := allKinds(t, ring)
	// The same IP from a second member merges into one match.
	second := inds[0]
	second.Source = Source{Anonymous: true, Sector: "insurance"}
	second.ID = IndicatorID(&second)
	second.Sightings = []Sighting{{By: "sector:insurance", Count: 4, Last: now}}
	expired := inds[0]
	expired.Value = "198.51.100.99"
	expired.ValidUntil = now.Add(-time.Minute)
	expired.ValidFrom = now.Add(-time.Hour)
	narrow := Indicator{ID: "n", Kind: KindCIDR, Value: "203.0.113.128/25", Confidence: 99, ValidFrom: now.Add(-time.Hour), TLP: stix.TLPGreen, Source: Source{Member: "mem_z"}}
	v6 := Indicator{ID: "v6", Kind: KindIP, Value: "2001:DB8::7", Confidence: 70, ValidFrom: now.Add(-time.Hour), TLP: stix.TLPGreen, Source: Source{Member: "mem_z"}}
	v6net := Indicator{ID: "v6net", Kind: KindCIDR, Value: "2001:db8:1::/48", Confidence: 71, ValidFrom: now.Add(-time.Hour), TLP: stix.TLPGreen, Source: Source{Member: "mem_z"}}
	x := NewIndex(append(inds, second, expired, narrow, v6, v6net), now)
	if m, ok := x.LookupIP(netip.MustParseAddr("2001:db8::7")); !ok || m.Confidence != 70 {
		t.Errorf("IPv6 address lookup = %+v, %v", m, ok)
	}
	if m, ok := x.LookupIP(netip.MustParseAddr("2001:db8:1:ffff::1")); !ok || m.Confidence != 71 {
		t.Errorf("IPv6 network lookup = %+v, %v", m, ok)
	}
	if _, ok := x.LookupIP(netip.MustParseAddr("2001:db8:2::1")); ok {
		t.Error("IPv6 outside the network matched")
	}
	if m, ok := x.LookupIP(netip.MustParseAddr("::ffff:203.0.113.5")); !ok || m.Kind != KindCIDR {
		t.Errorf("IPv4-mapped address not matched as IPv4: %+v, %v", m, ok)
	}

	m, ok := x.LookupIP(netip.MustParseAddr(clear[KindIP]))
	if !ok || len(m.Sources) != 2 || m.Sightings != 7 || len(m.Indicators) != 2 {
		t.Errorf("IP match = %+v, %v; want 2 sources, 7 sightings", m, ok)
	}
	if _, ok := x.LookupIP(netip.MustParseAddr("198.51.100.99")); ok {
		t.Error("expired indicator matched")
	}
	if m, ok := x.LookupIP(netip.MustParseAddr("203.0.113.200")); !ok || m.Confidence != 99 {
		t.Errorf("203.0.113.200 = %+v, %v; want the /25", m, ok)
	}
	if m, ok := x.LookupIP(netip.MustParseAddr("203.0.113.5")); !ok || m.Kind != KindCIDR || m.Confidence != 80 {
		t.Errorf("203.0.113.5 = %+v, %v; want the /24", m, ok)
	}
	if _, ok := x.LookupIP(netip.MustParseAddr("192.0.2.1")); ok {
		t.Error("unlisted address matched")
	}
	// A member holding the terminal id in clear finds it by its own token.
	tk, _ := ring.Token(KindTerminal, clear[KindTerminal], now)
	if m, ok := x.LookupToken(&tk.MAC); !ok || m.Kind != KindTerminal {
		t.Errorf("terminal token lookup = %+v, %v", m, ok)
	}
	other, _ := ring.Token(KindTerminal, "TERM-00000", now)
	if _, ok := x.LookupToken(&other.MAC); ok {
		t.Error("another terminal matched")
	}
	if _, ok := x.LookupValue(KindDomain, "evil.example"); !ok {
		t.Error("domain not found")
	}
	a := netip.MustParseAddr(clear[KindIP])
	if n := testing.AllocsPerRun(1000, func() { x.LookupIP(a); x.LookupToken(&tk.MAC); x.LookupValue(KindDomain, "evil.example") }); n != 0 {
		t.Errorf("lookups allocate %v times", n)
	}
}

func TestHasherMatchesTokens(t *testing.T) {
	ring := testRing(t)
	during := now.Add(10*24*time.Hour + time.Hour)
	h := ring.NewHasher(during)
	if h.Keys() != 2 {
		t.Fatalf("hasher has %d keys during the overlap, want 2", h.Keys())
	}
	want, _ := ring.Tokens(KindTerminal, "TERM-0042", during)
	var mac [TokenLen]byte
	for i := range want {
		if !h.MAC(i, KindTerminal, []byte("TERM-0042"), &mac) || mac != want[i].MAC {
			t.Errorf("key %d: hasher MAC differs from the keyring's token", i)
		}
	}
	if h.MAC(0, KindIP, []byte("1.2.3.4"), &mac) || h.MAC(2, KindTerminal, []byte("x"), &mac) {
		t.Error("hasher made a MAC for an IP or a missing key")
	}
	v := []byte("TERM-0042")
	if n := testing.AllocsPerRun(1000, func() { h.MAC(0, KindTerminal, v, &mac) }); n != 0 {
		t.Errorf("Hasher.MAC allocates %v times", n)
	}
}

func FuzzParseToken(f *testing.F) {
	tk, _ := testRing(f).Token(KindCard, "4111111111111111", now)
	f.Add(tk.String())
	f.Add("op1:o1:" + strings.Repeat("_", 43))
	f.Add("ht1:k1:")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			return
		}
		if got := tok.String(); got != s {
			t.Fatalf("ParseToken(%q).String() = %q", s, got)
		}
	})
}

func FuzzOPRFEvaluate(f *testing.F) {
	srv, c := testOPRF(f)
	_, req, _ := c.Blind(KindCard, []string{"4111111111111111", "5500000000000004"})
	f.Add(req)
	f.Add([]byte{1, 0, 1})
	f.Fuzz(func(t *testing.T, req []byte) {
		resp, err := srv.Evaluate(req)
		if err != nil {
			return
		}
		n, _ := OPRFRequestCount(req)
		if len(resp) != 3+n*oprfElementLen+oprfProofLen {
			t.Fatalf("response of %d bytes for %d elements", len(resp), n)
		}
	})
}

func TestPolicyValidate(t *testing.T) {
	ok := Policy{Source: Source{Member: "mem_a"}, Rules: []Rule{{TLP: stix.TLPGreen, Kinds: []Kind{KindIP}, Origins: []Origin{OriginAttack}}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid policy refused: %v", err)
	}
	for _, c := range []struct {
		name   string
		mutate func(*Policy)
		want   string
	}{
		{"no member", func(p *Policy) { p.Source.Member = "" }, "source member"},
		{"anonymous without sector", func(p *Policy) { p.Source.Anonymous = true }, "sector"},
		{"granularity", func(p *Policy) { p.Granularity = "minute" }, "granularity"},
		{"no TLP", func(p *Policy) { p.Rules[0].TLP = stix.TLPUnknown }, "rule 0: TLP is unset"},
		{"red", func(p *Policy) { p.Rules[0].TLP = stix.TLPRed }, "RED never leaves"},
		{"negative delay", func(p *Policy) { p.Rules[0].Delay = -time.Hour }, "negative"},
		{"confidence", func(p *Policy) { p.Rules[0].MinConfidence = 120 }, "confidence"},
		{"kind", func(p *Policy) { p.Rules[0].Kinds = []Kind{"iban"} }, "kind \"iban\""},
		{"origin", func(p *Policy) { p.Rules[0].Origins = []Origin{"rumour"} }, "origin"},
	} {
		p := ok
		p.Rules = slices.Clone(ok.Rules)
		c.mutate(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate() = %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
