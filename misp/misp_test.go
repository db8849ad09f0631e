package misp

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore/share"
	"github.com/occsimore/occsimore/stix"
)

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func testRing(t testing.TB) *share.Keyring {
	t.Helper()
	r, err := share.NewKeyring(24*time.Hour, share.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32), NotBefore: now.Add(-30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testOPRF(t testing.TB) share.Tokenizer {
	t.Helper()
	srv, err := share.NewOPRFServer("o1", bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	c, err := share.NewOPRFClient(srv.KeyID(), srv.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return share.OPRFTokenizer{Client: c, Server: srv}
}

// clearValues are one clear value per kind, as a member holds them.
var clearValues = map[share.Kind]string{
	share.KindIP: "198.51.100.7", share.KindCIDR: "203.0.113.0/24", share.KindDomain: "evil.example",
	share.KindURL: "http://evil.example/login.php?x=1&y=2", share.KindFileHash: strings.Repeat("ab", 32),
	share.KindEmail: "phish@evil.example", share.KindUserAgent: "sqlmap/1.7.2#stable", share.KindCardBIN: "412345",
	share.KindBehaviour: "card-testing",
	share.KindCard:      "4929123456781234", share.KindAccount: "FR7630006000011234567890189", share.KindCustomer: "CUST-778812",
	share.KindTerminal: "TERM-90311", share.KindMerchant: "MERCH-55120", share.KindDevice: "dev-9f8e7d6c5b4a",
}

// allKinds builds one indicator of every kind through member A's policy
// (so customer-linked values are tokenised the way production does it).
func allKinds(t testing.TB, tok share.Tokenizer, tlp stix.TLP) []share.Indicator {
	t.Helper()
	p := &share.Policy{Source: share.Source{Member: "mem_a", Name: "Bank A", Organization: "org_a", Sector: "banking"},
		Granularity: share.GranularityHour, ShareWith: []string{"mem_b"}, Rules: []share.Rule{{TLP: tlp}}}
	var out []share.Indicator
	for i, k := range share.Kinds {
		c := &share.Candidate{Origin: share.OriginLabel, Scenario: "s", Kind: k, Value: clearValues[k], Confidence: 60 + i,
			At: now.Add(-time.Duration(i+1) * time.Hour), Count: 3, First: now.Add(-48 * time.Hour), Last: now.Add(-2 * time.Hour),
			Attack: &share.AttackPattern{Name: "Card testing", Scenario: "card-testing", ExternalID: "CAPEC-112", Source: "capec"}}
		switch k {
		case share.KindFileHash:
			c.HashAlgo = "SHA-256"
		case share.KindBehaviour:
			c.Params = [][2]string{{"min_attempts", "20"}, {"window", "10m"}, {"label", `say "hi" \ bye`}}
		case share.KindIP:
			c.Attack = &share.AttackPattern{Name: "Brute Force", Scenario: "ssh-bf", ExternalID: "T1110", Source: "mitre-attack"}
		}
		ind, err := p.Build(c, p.Decide(c, now), tok, now)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		ind.Description = "seen at Bank A"
		out = append(out, ind)
	}
	return out
}

// memFS is a FileWriter into memory.
type memFS map[string][]byte

func (m memFS) WriteFile(name string, data []byte) error {
	if _, ok := m[name]; ok {
		return errors.New(name + " written twice")
	}
	m[name] = bytes.Clone(data)
	return nil
}

func (m memFS) all() []byte {
	var b []byte
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = append(b, m[k]...)
	}
	return b
}

var consortium = share.Recipient{Member: "mem_b", Organization: "org_b", Consortium: true}

func writeFeed(t testing.TB, groups []EventInput, to share.Recipient, opt ExportOptions) (memFS, *FeedResult) {
	t.Helper()
	fs := memFS{}
	res, err := WriteFeed(fs, groups, to, opt)
	if err != nil {
		t.Fatal(err)
	}
	return fs, res
}

func eventFiles(fs memFS) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range fs {
		if k != "manifest.json" && k != "hashes.csv" {
			out[k] = v
		}
	}
	return out
}

// TestRoundTrip: every kind exported to a feed and imported back gives the
// same indicators: value, kind, hash algorithm, parameters, confidence,
// validity, TLP, source, sightings, attack patterns and id.
func TestRoundTrip(t *testing.T) {
	for _, tlp := range []stix.TLP{stix.TLPGreen, stix.TLPAmber, stix.TLPClear} {
		inds := allKinds(t, testRing(t), tlp)
		fs, res := writeFeed(t, []EventInput{{Info: "all kinds", Indicators: inds}}, consortium, ExportOptions{Sightings: true})
		if res.Events != 1 || res.Attributes != len(inds) || len(res.Refused) != 0 {
			t.Fatalf("%v: feed %+v", tlp, res)
		}
		files := eventFiles(fs)
		if len(files) != 1 {
			t.Fatalf("%d event files", len(files))
		}
		for _, raw := range files {
			got, err := Import(raw, share.Source{Member: "peer", Name: "peer"})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Rejected) != 0 || len(got.Unsupported) != 0 {
				t.Fatalf("rejected %v, unsupported %v", got.Rejected, got.Unsupported)
			}
			if len(got.Indicators) != len(inds) {
				t.Fatalf("%d indicators back, want %d", len(got.Indicators), len(inds))
			}
			for i, want := range inds {
				g := got.Indicators[i]
				if g.ID != want.ID || g.Kind != want.Kind || g.Value != want.Value || g.HashAlgo != want.HashAlgo ||
					!slices.Equal(g.Params, want.Params) || g.Confidence != want.Confidence || !g.ValidFrom.Equal(want.ValidFrom) ||
					!g.ValidUntil.Equal(want.ValidUntil) || g.TLP != want.TLP || g.Description != want.Description ||
					g.Source.Label() != want.Source.Label() {
					t.Errorf("%v %s:\n got  %+v\n want %+v", tlp, want.Kind, g, want)
				}
				if !slices.Equal(g.AttackPatterns, want.AttackPatterns) {
					t.Errorf("%s attack patterns %+v, want %+v", want.Kind, g.AttackPatterns, want.AttackPatterns)
				}
				// The member's own sightings come back under the imported source's id.
				ws := want.Sightings[0]
				if len(g.Sightings) != 1 || g.Sightings[0].By != g.Source.Member || g.Sightings[0].Count != ws.Count ||
					!g.Sightings[0].First.Equal(ws.First) || !g.Sightings[0].Last.Equal(ws.Last) {
					t.Errorf("%s sightings %+v, want %+v", want.Kind, g.Sightings, want.Sightings)
				}
			}
		}
	}
}

// TestExportTLP: TLP is enforced per recipient before anything is written;
// TLP:RED never appears in any byte of any feed, whoever the recipient.
func TestExportTLP(t *testing.T) {
	red := allKinds(t, testRing(t), stix.TLPGreen)
	for i := range red {
		red[i].TLP = stix.TLPRed
		red[i].Value = strings.Replace(red[i].Value, "evil", "redvalue", 1)
	}
	green := allKinds(t, testRing(t), stix.TLPGreen)
	amber := allKinds(t, testRing(t), stix.TLPAmber) // ShareWith mem_b
	strict := allKinds(t, testRing(t), stix.TLPAmberStrict)
	for i := range strict {
		strict[i].Value = strings.Replace(strict[i].Value, "evil", "strictvalue", 1)
	}
	groups := []EventInput{
		{Info: "red", Indicators: red},
		{Info: "mixed", Indicators: append(slices.Clone(green[:3]), red[3], amber[4], strict[5])},
		{Info: "amber", Indicators: amber},
		{Info: "strict", Indicators: strict},
	}
	cases := []struct {
		name       string
		to         share.Recipient
		wantEvents int
		wantAttrs  int
	}{
		{"named member", consortium, 2, 3 + 1 + len(amber)},
		{"other member", share.Recipient{Member: "mem_c", Organization: "org_c", Consortium: true}, 1, 3},
		{"own organisation", share.Recipient{Member: "mem_a2", Organization: "org_a", Consortium: true}, 3, 3 + 2 + 2*len(amber)},
		{"public", share.Recipient{}, 0, 0},
	}
	for _, c := range cases {
		fs, res := writeFeed(t, groups, c.to, ExportOptions{Sightings: true})
		if res.Events != c.wantEvents || res.Attributes != c.wantAttrs {
			t.Errorf("%s: %d events, %d attributes; want %d, %d (refused %v)", c.name, res.Events, res.Attributes, c.wantEvents, c.wantAttrs, res.Refused)
		}
		all := fs.all()
		if bytes.Contains(all, []byte("redvalue")) || bytes.Contains(all, []byte("tlp:red")) {
			t.Errorf("%s: a TLP:RED value or tag is in the feed", c.name)
		}
		if c.to.Organization != "org_a" && bytes.Contains(all, []byte("strictvalue")) {
			t.Errorf("%s: a TLP:AMBER+STRICT value left the organisation", c.name)
		}
		if _, ok := fs["manifest.json"]; !ok {
			t.Errorf("%s: no manifest.json", c.name)
		}
		nred := 0
		for _, r := range res.Refused {
			if strings.Contains(r.Reason, "RED") {
				nred++
			}
		}
		if nred != len(red)+1 {
			t.Errorf("%s: %d RED refusals, want %d", c.name, nred, len(red)+1)
		}
	}
	// Positive control: the markers are found when they are exported.
	fs, _ := writeFeed(t, []EventInput{{Info: "strict", Indicators: strict}}, share.Recipient{Member: "mem_a2", Organization: "org_a", Consortium: true}, ExportOptions{})
	if !bytes.Contains(fs.all(), []byte("strictvalue")) {
		t.Error("the AMBER+STRICT marker is not found even when exported: the search is blind")
	}
	// The conversion refuses RED on its own, whatever the caller filtered.
	if _, err := ToEvent(EventInput{Indicators: red[:1]}, ExportOptions{}); !errors.Is(err, ErrRed) {
		t.Errorf("ToEvent of a RED indicator: %v", err)
	}
}

// leaks returns the forms in which a customer-linked identifier appears in
// raw: in clear, normalised, lower-cased, hex, base64, its MD5 (what
// hashes.csv would hold) or SHA-256, the UUIDs a careless producer would
// derive from it, or its last 8 characters.
func leaks(raw []byte, k share.Kind, v string) []string {
	var found []string
	norm, _ := share.NormalizeValue(k, v)
	sum := sha256.Sum256([]byte(norm))
	m5 := md5.Sum([]byte(norm))
	low := bytes.ToLower(raw)
	for _, form := range []string{v, norm, hex.EncodeToString([]byte(norm)),
		base64.StdEncoding.EncodeToString([]byte(norm)), base64.RawURLEncoding.EncodeToString([]byte(norm)),
		hex.EncodeToString(sum[:]), hex.EncodeToString(m5[:]), DerivedUUID("attribute", norm),
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

// TestNoCustomerIdentifierInClear: whatever tokenizer built them, no
// customer-linked identifier appears in any byte of any file of the feed
// (event files, hashes.csv, manifest.json); a clear identifier handed to
// the export is refused; one arriving in an import is rejected without
// being echoed in the reason.
func TestNoCustomerIdentifierInClear(t *testing.T) {
	for name, tok := range map[string]share.Tokenizer{"hmac": testRing(t), "oprf": testOPRF(t)} {
		inds := allKinds(t, tok, stix.TLPGreen)
		fs, _ := writeFeed(t, []EventInput{{Info: "all kinds", Indicators: inds}}, consortium, ExportOptions{Sightings: true})
		all := fs.all()
		for _, k := range share.Kinds {
			v := clearValues[k]
			if !k.CustomerLinked() {
				if !bytes.Contains(all, []byte(v)) {
					t.Errorf("%s: clear %s value %q missing from the feed: the leak check proves nothing", name, k, v)
				}
				continue
			}
			if found := leaks(all, k, v); len(found) > 0 {
				t.Errorf("%s: %s identifier leaks as %q", name, k, found)
			}
			planted := slices.Clone(inds)
			planted[0].Description = "seen with " + v
			pfs, _ := writeFeed(t, []EventInput{{Info: "all kinds", Indicators: planted}}, consortium, ExportOptions{})
			if found := leaks(pfs.all(), k, v); len(found) == 0 {
				t.Errorf("%s: a %s identifier planted in a comment was not found: the search is blind", name, k)
			}
		}
	}
	for _, k := range share.Kinds {
		if !k.CustomerLinked() {
			continue
		}
		ind := share.Indicator{ID: stix.NewID("indicator"), Kind: k, Value: clearValues[k], Confidence: 50, ValidFrom: now,
			TLP: stix.TLPClear, Source: share.Source{Member: "mem_a"}}
		if _, err := ToEvent(EventInput{Indicators: []share.Indicator{ind}}, ExportOptions{}); !errors.Is(err, share.ErrClearIdentifier) {
			t.Errorf("ToEvent of a clear %s = %v, want ErrClearIdentifier", k, err)
		}
		fs, res := writeFeed(t, []EventInput{{Info: "clear", Indicators: []share.Indicator{ind}}}, share.Recipient{}, ExportOptions{})
		if res.Events != 0 || len(leaks(fs.all(), k, clearValues[k])) > 0 {
			t.Errorf("WriteFeed wrote a clear %s", k)
		}
		doc := `{"Event":{"uuid":"` + DerivedUUID("t") + `","timestamp":"1765000000","Attribute":[{"type":"text","category":"Other","to_ids":true,"value":"` +
			clearValues[k] + `","Tag":[{"name":"occsimore:kind=\"` + string(k) + `\""}]}]}}`
		got, err := Import([]byte(doc), share.Source{Member: "peer"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Indicators) != 0 || len(got.Rejected) != 1 || got.Rejected[0].Path != "/Event/Attribute/0/value" {
			t.Errorf("import of a clear %s: %+v", k, got)
		} else if strings.Contains(got.Rejected[0].Reason, clearValues[k]) {
			t.Errorf("the rejection echoes the clear %s: %s", k, got.Rejected[0].Reason)
		}
	}
}

// TestFeedFiles: hashes.csv holds md5(value),event uuid for every
// attribute; manifest.json lists every event file with its info, date,
// timestamp, creator and TLP tag; a re-export gives the same bytes.
func TestFeedFiles(t *testing.T) {
	inds := allKinds(t, testRing(t), stix.TLPGreen)
	groups := []EventInput{{Info: "first", Indicators: inds[:5]}, {Info: "second", Indicators: inds[5:]}}
	fs, res := writeFeed(t, groups, consortium, ExportOptions{})
	if res.Events != 2 {
		t.Fatalf("%+v", res)
	}
	var manifest map[string]ManifestEntry
	if err := json.Unmarshal(fs["manifest.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	hashes, err := FeedHashes(fs["hashes.csv"])
	if err != nil {
		t.Fatal(err)
	}
	want := map[[2]string]bool{}
	for name, raw := range eventFiles(fs) {
		var w struct{ Event Event }
		if err := json.Unmarshal(raw, &w); err != nil {
			t.Fatal(err)
		}
		ev := w.Event
		if name != ev.UUID+".json" {
			t.Errorf("file %s holds event %s", name, ev.UUID)
		}
		m, ok := manifest[ev.UUID]
		if !ok || m.Info != ev.Info || m.Timestamp != ev.Timestamp || m.Date != ev.Date || m.Orgc == nil || m.Orgc.Name != "Bank A" ||
			len(m.Tag) != 1 || m.Tag[0].Name != "tlp:green" {
			t.Errorf("manifest entry %+v for event %s", m, ev.UUID)
		}
		for _, a := range ev.Attribute {
			sum := md5.Sum([]byte(a.Value))
			want[[2]string{hex.EncodeToString(sum[:]), ev.UUID}] = true
		}
	}
	if len(manifest) != 2 || len(hashes) != len(inds) || len(want) != len(inds) {
		t.Fatalf("%d manifest entries, %d hash lines, %d attributes", len(manifest), len(hashes), len(want))
	}
	for _, h := range hashes {
		if !want[h] {
			t.Errorf("hashes.csv line %v matches no attribute", h)
		}
	}
	again, _ := writeFeed(t, groups, consortium, ExportOptions{})
	for name, b := range fs {
		if !bytes.Equal(b, again[name]) {
			t.Errorf("%s differs between two exports of the same indicators", name)
		}
	}
	if _, err := FeedHashes([]byte("abc,def\n")); err == nil {
		t.Error("FeedHashes accepted a malformed line")
	}
}

// TestImportShapesAndRejections: the wrappers MISP produces all import; an
// invalid attribute is rejected with its JSON path and reason and the rest
// of the event kept; unknown types are reported, not fatal.
func TestImportShapesAndRejections(t *testing.T) {
	ev := `{"uuid":"5f1b2c3d-0000-4000-8000-000000000001","info":"t","date":"2026-12-01","timestamp":"1764547200",
	"Orgc":{"name":"CIRCL","uuid":"55f6ea5e-2c60-40e5-964f-47a8950d210f"},"Tag":[{"name":"tlp:white"}],
	"Attribute":[
	 {"type":"ip-dst","category":"Network activity","to_ids":true,"value":"192.0.2.1"},
	 {"type":"ip-src","category":"Network activity","to_ids":true,"value":"999.1.1.1"},
	 {"type":"md5","category":"Payload delivery","to_ids":"yes","value":"d41d8cd98f00b204e9800998ecf8427e"},
	 {"type":"sha1","category":"Payload delivery","to_ids":true,"value":"abc"},
	 {"type":"regkey","category":"Persistence mechanism","to_ids":true,"value":"HKLM\\Software\\x"},
	 {"type":"domain","category":"Network activity","to_ids":true,"value":"Bad.Example.","Tag":[{"name":"tlp:amber"}]},
	 {"type":"url","category":"Network activity","to_ids":false,"value":"http://bad.example/"},
	 {"type":"email-src","category":"Payload delivery","to_ids":true,"value":"a@b.example","Tag":[{"name":"occsimore:confidence=\"150\""}]},
	 {"type":"ip-src","category":"Network activity","to_ids":true,"value":"10.0.0.0/8"}
	],
	"Object":[{"name":"domain-ip","Attribute":[{"type":"ip-dst","object_relation":"ip","to_ids":true,"value":"2001:db8::1"}]}]}`
	type want struct {
		path string
		has  string
	}
	rejections := []want{{"/Attribute/1/value", "not an IP"}, {"/Attribute/2/to_ids", "want bool"},
		{"/Attribute/3/value", "SHA-1 digest"}, {"/Attribute/7/Tag/0/name", "confidence"}}
	check := func(name, doc, base string, events int) {
		res, err := Import([]byte(doc), share.Source{Member: "peer", Name: "peer"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Events != events {
			t.Errorf("%s: %d events", name, res.Events)
		}
		var vals []string
		for _, ind := range res.Indicators {
			vals = append(vals, string(ind.Kind)+" "+ind.Value+" "+ind.TLP.String())
			if ind.Source.Name != "CIRCL" {
				t.Errorf("%s: source %+v", name, ind.Source)
			}
		}
		wantVals := []string{"ip 192.0.2.1 TLP:CLEAR", "domain bad.example TLP:AMBER", "cidr 10.0.0.0/8 TLP:CLEAR", "ip 2001:db8::1 TLP:CLEAR"}
		if len(vals) != len(wantVals)*events {
			t.Errorf("%s: indicators %q, want %q per event", name, vals, wantVals)
		} else if !slices.Equal(vals[:len(wantVals)], wantVals) {
			t.Errorf("%s: indicators %q, want %q", name, vals, wantVals)
		}
		if len(res.Rejected) != len(rejections)*events {
			t.Fatalf("%s: rejected %v", name, res.Rejected)
		}
		for i, w := range rejections {
			r := res.Rejected[i]
			if r.Path != base+w.path || !strings.Contains(r.Reason, w.has) {
				t.Errorf("%s: rejection %d = %s, want %s… %s", name, i, r, base+w.path, w.has)
			}
		}
		if len(res.Unsupported) != 2*events || res.Unsupported[0].Type != "regkey" || res.Unsupported[1].Path != base+"/Attribute/6/to_ids" {
			t.Errorf("%s: unsupported %v", name, res.Unsupported)
		}
	}
	check("wrapped", `{"Event":`+ev+`}`, "/Event", 1)
	check("bare", ev, "", 1)
	check("list", `[{"Event":`+ev+`},{"Event":`+ev+`}]`, "/0/Event", 2)
	check("restSearch", `{"response":[{"Event":`+ev+`}]}`, "/response/0/Event", 1)
	for _, bad := range []string{``, `nope`, `42`, `{"foo":1}`, `[1]`, `{"Event":`} {
		if _, err := Import([]byte(bad), share.Source{}); err == nil {
			t.Errorf("Import(%q) succeeded", bad)
		}
	}
	// An event whose own fields are of the wrong type is rejected alone.
	res, err := Import([]byte(`[{"Event":{"info":7,"Attribute":[]}},{"Event":`+ev+`}]`), share.Source{Member: "p"})
	if err != nil || len(res.Rejected) == 0 || res.Rejected[0].Path != "/0/Event/info" || len(res.Indicators) != 4 {
		t.Errorf("bad event among good: %v %+v", err, res)
	}
	// Unmarked counts as AMBER+STRICT: passed on to nobody outside the source's organisation.
	res, _ = Import([]byte(`{"Event":{"timestamp":"1764547200","Attribute":[{"type":"domain","value":"x.example","to_ids":true}]}}`), share.Source{Member: "p"})
	if len(res.Indicators) != 1 || res.Indicators[0].TLP != stix.TLPAmberStrict || res.Indicators[0].Source.Member != "p" {
		t.Errorf("unmarked: %+v", res)
	}
	// TLP: the attribute's own tag wins over the event's; tlp values TLP 2.0
	// does not name count as AMBER+STRICT; RED is kept as RED (it never leaves again).
	res, _ = Import([]byte(`{"Event":{"timestamp":"1764547200","Tag":[{"name":"TLP:EX:CHR"}],"Attribute":[
		{"type":"domain","value":"a.example"},
		{"type":"domain","value":"b.example","Tag":[{"name":"tlp:clear"}]},
		{"type":"domain","value":"c.example","Tag":[{"name":"tlp:red"},{"name":"tlp:green"}]}]}}`), share.Source{Member: "p"})
	var tlps []stix.TLP
	for _, ind := range res.Indicators {
		tlps = append(tlps, ind.TLP)
	}
	if !slices.Equal(tlps, []stix.TLP{stix.TLPAmberStrict, stix.TLPClear, stix.TLPRed}) {
		t.Errorf("TLPs %v", tlps)
	}
	if fs, _ := writeFeed(t, []EventInput{{Info: "again", Indicators: res.Indicators}}, share.Recipient{Member: "x", Consortium: true}, ExportOptions{}); bytes.Contains(fs.all(), []byte("c.example")) {
		t.Error("an imported TLP:RED indicator was exported again")
	}
}

// TestFeedMalformedGroups: a group ToEvent refuses (mixed sources, an
// indicator twice, an event uuid already used) is reported and the other
// events of the feed are written.
func TestFeedMalformedGroups(t *testing.T) {
	inds := allKinds(t, testRing(t), stix.TLPGreen)
	other := slices.Clone(inds[:2])
	for i := range other {
		other[i].Source = share.Source{Member: "mem_c", Name: "Bank C", Organization: "org_c"}
	}
	groups := []EventInput{
		{Info: "mixed", Indicators: []share.Indicator{inds[0], other[1]}},
		{Info: "twice", Indicators: []share.Indicator{inds[0], inds[1], inds[0]}},
		{Info: "good", Indicators: inds[2:4]},
		{Info: "same uuid", UUID: DerivedUUID("event", "Bank A", "good"), Indicators: inds[4:6]},
	}
	fs, res := writeFeed(t, groups, consortium, ExportOptions{})
	if res.Events != 1 || len(eventFiles(fs)) != 1 || len(res.Refused) != 3 {
		t.Fatalf("%d events, refused %v", res.Events, res.Refused)
	}
	for i, want := range []string{"differs from the event's", "appears twice", "used by another event"} {
		if !strings.Contains(res.Refused[i].Reason, want) {
			t.Errorf("refusal %d: %q, want %q", i, res.Refused[i].Reason, want)
		}
	}
	if _, err := FeedHashes(fs["hashes.csv"]); err != nil || bytes.Count(fs["hashes.csv"], []byte("\n")) != 2 {
		t.Errorf("hashes.csv %q: %v", fs["hashes.csv"], err)
	}
}
