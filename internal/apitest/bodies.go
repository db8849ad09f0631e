package apitest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// bodySchemas validates JSON and NDJSON bodies against their schemas,
// compiling each schema once. openapi3filter compiles the JSON Schema
// 2020-12 validator of an OpenAPI 3.1 schema again on every validation
// (about 5 ms a body here, 30 ms under the race detector), which the tests
// that send hundreds of requests (bench http, the backup under load) could
// not carry. The schemas are compiled as openapi3filter compiles them: the
// schema as kin-openapi marshals it, its $refs resolved against the
// document's components, draft 2020-12, formats asserted.
type bodySchemas struct {
	components any // the document's components, as JSON values

	mu       sync.Mutex
	compiled map[*openapi3.SchemaRef]*jsonschema.Schema
}

func newBodySchemas(doc *openapi3.T) (*bodySchemas, error) {
	b, err := json.Marshal(doc.Components)
	if err != nil {
		return nil, fmt.Errorf("apitest: the document's components as JSON: %w", err)
	}
	components, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("apitest: the document's components as JSON: %w", err)
	}
	return &bodySchemas{components: components, compiled: map[*openapi3.SchemaRef]*jsonschema.Schema{}}, nil
}

// schema returns the compiled form of ref.
func (s *bodySchemas) schema(ref *openapi3.SchemaRef) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.compiled[ref]; ok {
		return sch, nil
	}
	b, err := json.Marshal(ref)
	if err != nil {
		return nil, err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	// The schema, with the components beside it so that its references
	// ("#/components/schemas/…") resolve; "components" is no keyword of
	// JSON Schema, so it changes nothing else.
	root := map[string]any{"components": s.components}
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			root[k] = x
		}
	case bool:
		root["allOf"] = []any{v}
	default:
		return nil, fmt.Errorf("a schema that is neither an object nor a boolean: %T", v)
	}
	const url = "https://apitest.invalid/schema.json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(url, root); err != nil {
		return nil, err
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	s.compiled[ref] = sch
	return sch, nil
}

// validate checks body, of Content-Type ct, against ref. checked is false
// for a body that is neither JSON nor NDJSON, or that the schema takes as
// bytes (a string): the caller leaves those to openapi3filter, for which
// they are cheap.
func (s *bodySchemas) validate(ref *openapi3.SchemaRef, ct string, body []byte) (checked bool, err error) {
	if ref.Value != nil && ref.Value.Type.Is(openapi3.TypeString) {
		return false, nil // the body as bytes (format: binary), whatever its type
	}
	base, _, err := mime.ParseMediaType(ct)
	if err != nil {
		base = strings.ToLower(strings.TrimSpace(ct))
	}
	var v any
	switch {
	case base == "application/json" || strings.HasSuffix(base, "+json"):
		if v, err = jsonschema.UnmarshalJSON(bytes.NewReader(body)); err != nil {
			return true, fmt.Errorf("not JSON: %w", err)
		}
	case base == "application/x-ndjson" || base == "application/jsonl":
		// The array of its lines' values, so that a schema can describe
		// each line.
		var lines []any
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			line, err := jsonschema.UnmarshalJSON(bytes.NewReader(sc.Bytes()))
			if err != nil {
				return true, fmt.Errorf("line %d: not JSON: %w", len(lines)+1, err)
			}
			lines = append(lines, line)
		}
		if err := sc.Err(); err != nil {
			return true, err
		}
		if lines == nil {
			lines = []any{}
		}
		v = lines
	default:
		return false, nil
	}
	sch, err := s.schema(ref)
	if err != nil {
		return true, fmt.Errorf("apitest: the schema: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			// The detailed form names each failing keyword and location.
			return true, errors.New(strings.ReplaceAll(fmt.Sprintf("%#v", ve), "https://apitest.invalid/schema.json", "schema"))
		}
		return true, err
	}
	return true, nil
}
