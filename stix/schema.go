package stix

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed schemas/common/*.json schemas/sdos/*.json schemas/sros/*.json schemas/observables/*.json
var schemaFS embed.FS

// schemaBase is the prefix of the OASIS schemas' $id URLs: registering each
// embedded file under it lets the relative $refs resolve offline.
const schemaBase = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"

// Validator checks objects against the OASIS STIX 2.1 JSON schemas, each
// against the schema of its own type (§ "Validation" in REFERENCES.md): the
// bundle schema's oneOf over all types gives useless errors.
type Validator struct {
	byType map[string]*jsonschema.Schema
	core   *jsonschema.Schema // custom SDO/SRO types
	sco    *jsonschema.Schema // custom observable types
}

// NewValidator compiles the embedded schemas (tens of milliseconds: build
// one and share it; it is safe for concurrent use).
func NewValidator() (*Validator, error) {
	c := jsonschema.NewCompiler()
	files := map[string]string{} // type -> url
	err := fs.WalkDir(schemaFS, "schemas", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := schemaFS.ReadFile(p)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("schema %s: %w", p, err)
		}
		rel := strings.TrimPrefix(p, "schemas/")
		url := schemaBase + rel
		if err := c.AddResource(url, doc); err != nil {
			return fmt.Errorf("schema %s: %w", p, err)
		}
		dir, file := path.Split(rel)
		typ := strings.TrimSuffix(file, ".json")
		switch dir {
		case "sdos/", "sros/", "observables/":
			files[typ] = url
		case "common/":
			if typ == "marking-definition" || typ == "language-content" || typ == "extension-definition" || typ == "bundle" {
				files[typ] = url
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stix schemas: %w", err)
	}
	v := &Validator{byType: make(map[string]*jsonschema.Schema, len(files))}
	for typ, url := range files {
		s, err := c.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("stix schema %s: %w", typ, err)
		}
		v.byType[typ] = s
	}
	if v.core, err = c.Compile(schemaBase + "common/core.json"); err != nil {
		return nil, fmt.Errorf("stix schema core: %w", err)
	}
	if v.sco, err = c.Compile(schemaBase + "common/cyber-observable-core.json"); err != nil {
		return nil, fmt.Errorf("stix schema cyber-observable-core: %w", err)
	}
	return v, nil
}

// Types lists the object types the validator has a schema for.
func (v *Validator) Types() []string {
	out := make([]string, 0, len(v.byType))
	for t := range v.byType {
		out = append(out, t)
	}
	return out
}

// Validate checks one object's JSON against the schema of its type (custom
// types against the common core schemas). The error is an *Error naming the
// failing property's JSON Pointer and the schema's reason.
func (v *Validator) Validate(raw []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return errAt("", "malformed JSON: %v", err)
	}
	return v.ValidateValue(inst)
}

// ValidateValue is Validate on an already decoded value (from
// jsonschema.UnmarshalJSON, which keeps numbers exact).
func (v *Validator) ValidateValue(inst any) error {
	obj, ok := inst.(map[string]any)
	if !ok {
		return errAt("", "a STIX object must be a JSON object")
	}
	typ, _ := obj["type"].(string)
	if typ == "" {
		return errAt("/type", "is required")
	}
	s := v.byType[typ]
	if s == nil {
		// A custom object (§11.2): SDO-like when it has created, else an observable.
		s = v.sco
		if _, ok := obj["created"]; ok {
			s = v.core
		}
	}
	if err := s.Validate(inst); err != nil {
		return schemaError(typ, err)
	}
	return nil
}

// schemaError turns a jsonschema error into an *Error at the deepest failing
// instance location, with the reason of the keyword that failed there.
func schemaError(typ string, err error) error {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return errAt("", "schema %s: %v", typ, err)
	}
	leaf := deepestLeaf(ve)
	path := ""
	for _, t := range escapeTokens(leaf.InstanceLocation) {
		path += "/" + t
	}
	return &Error{
		Path:   path,
		Reason: fmt.Sprintf("%s (schema %s, keyword %s)", leaf.ErrorKind.LocalizedString(english), typ, "/"+strings.Join(leaf.ErrorKind.KeywordPath(), "/")),
	}
}

var english = message.NewPrinter(language.English)

func deepestLeaf(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return e
	}
	var best *jsonschema.ValidationError
	for _, c := range e.Causes {
		l := deepestLeaf(c)
		if best == nil || len(l.InstanceLocation) > len(best.InstanceLocation) {
			best = l
		}
	}
	return best
}

func escapeTokens(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
	}
	return out
}
