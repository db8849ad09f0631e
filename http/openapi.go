package http

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"go.yaml.in/yaml/v3"
)

// openAPIYAML is the server's OpenAPI 3.1 document, maintained by hand beside
// the handlers. openapi_test.go checks that it validates, that its paths are
// the server's routes, and that the tests' exchanges conform to it.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIYAML returns the OpenAPI document as written (YAML).
func OpenAPIYAML() []byte { return openAPIYAML }

// openAPIDoc is the document as served: JSON, with its entity tag.
type openAPIDoc struct {
	body []byte
	etag string
}

// newOpenAPIDoc converts the embedded YAML to JSON once, when the handler is
// built, so that a broken document is a build error and not a 500 later.
func newOpenAPIDoc() (*openAPIDoc, error) {
	var v any
	if err := yaml.Unmarshal(openAPIYAML, &v); err != nil {
		return nil, fmt.Errorf("http: openapi.yaml: %w", err)
	}
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("http: openapi.yaml as JSON: %w", err)
	}
	sum := sha256.Sum256(body)
	return &openAPIDoc{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}, nil
}

// ServeHTTP serves the document to anyone: it says nothing a client could
// not learn by trying the routes, and gateways and client generators fetch
// it without credentials. It changes only with the binary, so caches may
// keep it for an hour and revalidate it with its ETag.
func (d *openAPIDoc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", d.etag)
	if etagMatch(r.Header.Get("If-None-Match"), d.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(d.body)
	}
}

// etagMatch reports whether an If-None-Match header value names etag (RFC
// 9110 section 13.1.2: a list of tags, weak ones compared weakly, or "*").
func etagMatch(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		if tag = strings.TrimSpace(tag); tag == "*" || tag == etag || tag == "W/"+etag {
			return true
		}
	}
	return false
}
