package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/BurntSushi/toml"
	"github.com/occsimore/occsimore/behavior"
)

// Specs is the content of an engine.specs_file: the profiled kinds with
// their features and thresholds, and thresholds for particular members.
type Specs struct {
	Specs   []behavior.Spec    `toml:"spec"`
	Members []MemberThresholds `toml:"member"`
}

// MemberThresholds overrides a kind's thresholds for one member, named by
// its slug; an empty Kind applies to every kind.
type MemberThresholds struct {
	Slug   string  `toml:"slug"`
	Kind   string  `toml:"kind"`
	Review float64 `toml:"review"`
	Block  float64 `toml:"block"`
}

// LoadSpecs reads a specs file. Errors name the file, the line where
// possible, and the key; unknown keys are errors.
func LoadSpecs(path string) (Specs, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Specs{}, fmt.Errorf("config: read specs %s: %w", path, err)
	}
	return ParseSpecs(path, b)
}

// ParseSpecs decodes and validates the TOML text of a specs file.
func ParseSpecs(name string, b []byte) (Specs, error) {
	var s Specs
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&s)
	if err != nil {
		if pe, ok := errors.AsType[toml.ParseError](err); ok {
			return s, &Error{Key: pe.LastKey, Source: fmt.Sprintf("%s:%d", name, pe.Position.Line), Msg: pe.Message}
		}
		return s, &Error{Source: name, Msg: tomlMessage(err)}
	}
	if und := md.Undecoded(); len(und) > 0 {
		return s, &Error{Key: und[0].String(), Source: name, Msg: "unknown key"}
	}
	if len(s.Specs) == 0 {
		return s, &Error{Key: "spec", Source: name, Msg: "no [[spec]] table: a specs file replaces the built-in specs, so it must define at least one kind"}
	}
	kinds := map[string]bool{}
	for i := range s.Specs {
		sp := &s.Specs[i]
		if err := sp.Validate(); err != nil {
			return s, &Error{Key: fmt.Sprintf("spec[%d] (%s)", i, sp.Kind), Source: name, Msg: err.Error()}
		}
		kinds[sp.Kind] = true
	}
	for i, m := range s.Members {
		key := fmt.Sprintf("member[%d]", i)
		switch {
		case m.Slug == "":
			return s, &Error{Key: key + ".slug", Source: name, Msg: "slug is required"}
		case m.Kind != "" && !kinds[m.Kind]:
			return s, &Error{Key: key + ".kind", Source: name, Msg: fmt.Sprintf("kind %q has no [[spec]]", m.Kind)}
		case !(m.Review > 0 && m.Block > m.Review):
			return s, &Error{Key: key, Source: name, Msg: fmt.Sprintf("thresholds need 0 < review (%g) < block (%g)", m.Review, m.Block)}
		}
	}
	return s, nil
}

// EncodeSpecs writes specs as a specs file, to start one from the defaults.
func EncodeSpecs(s Specs) ([]byte, error) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(s); err != nil {
		return nil, fmt.Errorf("config: encode specs: %w", err)
	}
	return buf.Bytes(), nil
}
