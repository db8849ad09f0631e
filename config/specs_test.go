package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore/behavior"
)

func TestSpecsRoundTripDefaults(t *testing.T) {
	t.Parallel()
	b, err := EncodeSpecs(Specs{Specs: behavior.DefaultSpecs()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSpecs("defaults.toml", b)
	if err != nil {
		t.Fatalf("the encoded defaults do not parse back: %v\n%s", err, b)
	}
	if d := cmp.Diff(behavior.DefaultSpecs(), got.Specs); d != "" {
		t.Fatalf("defaults changed in a round trip (-want +got):\n%s", d)
	}
}

func TestSpecsErrors(t *testing.T) {
	t.Parallel()
	defaults, _ := EncodeSpecs(Specs{Specs: behavior.DefaultSpecs()})
	for _, tc := range []struct{ name, toml, want string }{
		{"empty", "", "no [[spec]]"},
		{"unknown key", string(defaults) + "\n[[member]]\nslug = \"bank\"\nreveiw = 3\n", "key member.reveiw: unknown key"},
		{"member kind without spec", string(defaults) + "\n[[member]]\nslug = \"bank\"\nkind = \"wire.tx\"\nreview = 5\nblock = 9\n", "member[0].kind"},
		{"inverted thresholds", string(defaults) + "\n[[member]]\nslug = \"bank\"\nreview = 9\nblock = 5\n", "0 < review"},
		{"syntax", "[[spec]\nkind = 1\n", "specs.toml:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSpecs("specs.toml", []byte(tc.toml))
			if _, ok := errors.AsType[*Error](err); !ok || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a config error containing %q", err, tc.want)
			}
		})
	}
}

func FuzzParseSpecs(f *testing.F) {
	defaults, _ := EncodeSpecs(Specs{Specs: behavior.DefaultSpecs()})
	f.Add(defaults)
	f.Add([]byte("[[spec]]\nkind = \"x.y\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSpecs("fuzz.toml", b)
		if err != nil {
			return
		}
		if _, err := behavior.NewEngine(behavior.Config{Specs: s.Specs}); err != nil {
			t.Fatalf("ParseSpecs accepted specs the engine refuses: %v", err)
		}
	})
}
