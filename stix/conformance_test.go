package stix

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stixData is the lab's research copy of the OASIS material
// (/work/shared/data/stix); OCCSIMORE_TEST_STIX_DIR points elsewhere (a worktree
// sits one level deeper than ../shared).
func stixData(t *testing.T) string {
	t.Helper()
	dir := cmp.Or(os.Getenv("OCCSIMORE_TEST_STIX_DIR"), "../../shared/data/stix")
	if _, err := os.Stat(filepath.Join(dir, "examples")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("STIX conformance data absent (%v): set OCCSIMORE_TEST_STIX_DIR to the folder of /work/shared/data/stix", err)
		}
		t.Skipf("SKIPPED: STIX conformance data absent (%v); set OCCSIMORE_TEST_STIX_DIR=/work/shared/data/stix (see its examples/README.md)", err)
	}
	return dir
}

// TestOASISExamplesImport: every official example bundle imports with no
// object rejected, by the schema of its type and by this package's rules.
func TestOASISExamplesImport(t *testing.T) {
	dir := filepath.Join(stixData(t), "examples")
	v := testValidator(t)
	var files, objects int
	decoded := map[string]int{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		var head struct{ Type string }
		json.Unmarshal(data, &head)
		if head.Type != "bundle" {
			// interop-objectmarking-test.json is a single object, not a bundle.
			if err := v.Validate(data); err != nil {
				t.Errorf("%s: %v", p, err)
			}
			objects++
			return nil
		}
		res, err := Import(data, v)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		for _, r := range res.Rejected {
			t.Errorf("%s: object %d (%s) rejected: %v", p, r.Index, r.ID, r.Err)
		}
		for _, o := range res.Objects {
			if o.Object != nil {
				decoded[o.Type]++
			}
		}
		objects += len(res.Objects)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 || objects < 100 {
		t.Errorf("only %d files and %d objects found under %s", files, objects, dir)
	}
	for _, typ := range []string{"indicator", "sighting", "identity", "marking-definition", "relationship", "attack-pattern", "report"} {
		if decoded[typ] == 0 {
			t.Errorf("the examples decoded no %s", typ)
		}
	}
	t.Logf("%d files, %d objects imported; decoded per type: %v", files, objects, decoded)
}

// TestTLPMarkingsMatchExtension: the five TLP 2.0 marking definitions this
// package writes are the ones fixed by the OASIS extension.
func TestTLPMarkingsMatchExtension(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(stixData(t), "examples/tlp-2.0/tlp2-all-markings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var b Bundle
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Objects) != 5 {
		t.Fatalf("%d markings in the example, want 5", len(b.Objects))
	}
	for i, raw := range b.Objects {
		tl := TLPClear + TLP(i)
		var want, got any
		json.Unmarshal(raw, &want)
		mine, err := Marshal(TLPMarking(tl))
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(mine, &got)
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		if !bytes.Equal(w, g) {
			t.Errorf("%v:\n got  %s\n want %s", tl, g, w)
		}
	}
}

// TestEmbeddedSchemasMatchShared: the embedded copy is the research copy.
func TestEmbeddedSchemasMatchShared(t *testing.T) {
	dir := filepath.Join(stixData(t), "schemas")
	n := 0
	err := fs.WalkDir(schemaFS, "schemas", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		mine, _ := schemaFS.ReadFile(p)
		theirs, err := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(p, "schemas/")))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		if !bytes.Equal(mine, theirs) {
			t.Errorf("%s differs from %s", p, dir)
		}
		n++
		return nil
	})
	if err != nil || n < 50 {
		t.Fatalf("compared %d schema files: %v", n, err)
	}
}
