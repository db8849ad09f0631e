package occsimore_test

import (
	"testing"

	"github.com/occsimore/occsimore"
)

func TestParseModelRef(t *testing.T) {
	for _, c := range []struct {
		ref     string
		version int
		id      string
		ok      bool
	}{
		{"3", 3, "", true}, {"v12", 12, "", true}, {"mdl_abc", 0, "mdl_abc", true},
		{"0", 0, "", false}, {"v", 0, "", false}, {"three", 0, "", false}, {"-1", 0, "", false},
	} {
		v, id, err := occsimore.ParseModelRef(c.ref)
		if (err == nil) != c.ok || v != c.version || id != c.id {
			t.Errorf("ParseModelRef(%q) = %d, %q, %v", c.ref, v, id, err)
		}
		if err != nil && occsimore.ErrorField(err) != "version" {
			t.Errorf("ParseModelRef(%q) error %v does not name the version", c.ref, err)
		}
	}
}

func FuzzParseModelRef(f *testing.F) {
	for _, s := range []string{"3", "v12", "mdl_abc", "", "v", "-1", "V007"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		v, id, err := occsimore.ParseModelRef(ref)
		switch {
		case err != nil:
			if v != 0 || id != "" || occsimore.ErrorCode(err) != occsimore.EINVALID {
				t.Fatalf("ParseModelRef(%q) = %d, %q, %v", ref, v, id, err)
			}
		case id != "":
			if id != ref || v != 0 {
				t.Fatalf("ParseModelRef(%q) = %d, %q", ref, v, id)
			}
		case v < 1:
			t.Fatalf("ParseModelRef(%q) accepted version %d", ref, v)
		}
	})
}
