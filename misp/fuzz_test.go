package misp

import (
	"testing"

	"github.com/occsimore/occsimore/share"
	"github.com/occsimore/occsimore/stix"
)

// FuzzImport: Import never panics; every indicator it returns is valid,
// with a known TLP and customer-linked values as tokens only; and what it
// returns exports again (ToEvent) and re-imports to the same values.
func FuzzImport(f *testing.F) {
	inds := allKinds(f, testRing(f), stix.TLPGreen)
	fs := memFS{}
	if _, err := WriteFeed(fs, []EventInput{{Info: "seed", Indicators: inds}}, consortium, ExportOptions{Sightings: true}); err != nil {
		f.Fatal(err)
	}
	for _, raw := range eventFiles(fs) {
		f.Add(raw)
	}
	for _, s := range []string{
		`{"Event":{"uuid":"5f1b2c3d-0000-4000-8000-000000000001","timestamp":"1764547200","Tag":[{"name":"tlp:green"}],"Attribute":[{"type":"ip-src","to_ids":true,"value":"192.0.2.1/32"},{"type":"md5","value":"D41D8CD98F00B204E9800998ECF8427E"}]}}`,
		`[{"Event":{"info":"x","date":"2026-01-02","Orgc":{"name":"sector:banking","uuid":1},"Object":[{"Attribute":[{"type":"domain","value":"a.example."}]}]}}]`,
		`{"response":[{"Event":{"info":"x","timestamp":17,"Attribute":[{"type":"text","value":"card-testing","Tag":[{"name":"occsimore:kind=\"behaviour\""},{"name":"occsimore:param=\"a=b\""},{"name":"occsimore:attack-pattern=\"capec|CAPEC-1||n\""}]}]}}]}`,
		`{"uuid":"x","Attribute":[{"type":"url","value":"http://a/b","Sighting":[{"type":"0","date_sighting":"5","source":"s"}],"Tag":[{"name":"misp-galaxy:mitre-attack-pattern=\"Brute Force - T1110\""},{"name":"occsimore:valid-until=\"2001-01-01T00:00:00Z\""}]}]}`,
		`{"Event":{"Attribute":[{"type":"text","value":"ht1:k1:AAAA","Tag":[{"name":"occsimore:kind=\"card\""}]}]}}`,
		`{"Event":{"Attribute":[1,null,"x",{"type":7}]}}`,
		`{"Event":`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Import(data, share.Source{Member: "peer", Name: "peer"})
		if err != nil {
			if res != nil {
				t.Fatal("a result with an error")
			}
			return
		}
		bySource := map[string][]share.Indicator{}
		for _, ind := range res.Indicators {
			if err := ind.Validate(); err != nil {
				t.Fatalf("invalid indicator %+v: %v", ind, err)
			}
			if ind.Kind.CustomerLinked() && !share.IsToken(ind.Value) {
				t.Fatalf("a %s that is not a token: %q", ind.Kind, ind.Value)
			}
			if ind.TLP != stix.TLPRed {
				bySource[ind.Source.Label()] = append(bySource[ind.Source.Label()], ind)
			}
		}
		for label, group := range bySource {
			ev, err := ToEvent(EventInput{Info: "again", Indicators: group}, ExportOptions{})
			if err != nil {
				t.Fatalf("imported indicators of %q do not export: %v", label, err)
			}
			raw, err := MarshalEvent(ev)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Import(raw, share.Source{Member: "peer"})
			if err != nil || len(back.Rejected) != 0 || len(back.Indicators) != len(group) {
				t.Fatalf("re-import of %s: %v %+v", raw, err, back)
			}
			for i, ind := range back.Indicators {
				w := group[i]
				if ind.Kind != w.Kind || ind.Value != w.Value || ind.TLP != w.TLP || ind.Confidence != w.Confidence {
					t.Fatalf("re-import changed %+v into %+v", w, ind)
				}
			}
		}
	})
}
