package http_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"
	occhttp "github.com/occsimore/occsimore/http"
	"github.com/occsimore/occsimore/internal/apitest"
	"github.com/occsimore/occsimore/taxii"
	"go.yaml.in/yaml/v3"
)

// loadContract loads and validates the embedded document once per test
// binary; every test server validates its exchanges against it, and
// TestMain reads from it which documented operations no test exercised.
var loadContract = sync.OnceValues(func() (*apitest.Contract, error) {
	return apitest.Load(occhttp.OpenAPIYAML())
})

// conforming wraps the handler of srv so that every exchange is validated
// against the OpenAPI document (apitest.Contract.Handler): a response that
// does not conform, or a 2xx or 3xx answer to a request that does not,
// fails t. Benchmarks get the bare handler: they measure the server, not
// the validator.
func conforming(t testing.TB, srv *occhttp.Server) http.Handler {
	t.Helper()
	next := srv.Handler()
	if _, ok := t.(*testing.B); ok {
		return next
	}
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return c.Handler(t, next)
}

// TestOpenAPIDocumentValidates loads the document as a client generator
// would and validates it against OpenAPI 3.1.
func TestOpenAPIDocumentValidates(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Doc().OpenAPI; !strings.HasPrefix(got, "3.1.") {
		t.Fatalf("openapi = %q, want 3.1.x", got)
	}
	if !c.Doc().IsOpenAPI31OrLater() {
		t.Fatal("the loader does not take the document for OpenAPI 3.1")
	}
	// Every operation answers errors in a documented form.
	for path, item := range c.Doc().Paths.Map() {
		for method, op := range item.Operations() {
			if op.Responses.Status(400) == nil && op.Responses.Default() == nil && path != "/healthz" && path != "/readyz" {
				t.Errorf("%s %s documents no 4XX response", method, path)
			}
		}
	}
}

// serverPatterns returns every pattern a fully configured server serves
// (every optional service on), plus the routes main registers on it, found
// in cmd/occsimore's source: occhttp.Route literals and AddRoute calls.
// Subtree patterns (ending in a slash without {$}) are catch-alls that only
// answer 404; they cannot be OpenAPI paths and are left out.
func serverPatterns(t *testing.T) []string {
	t.Helper()
	e := newEnv(t, nil, func(s *occhttp.Server) {
		s.Logs = &fakeIngester{}
		s.TAXII = &occhttp.TAXIIConfig{Cursors: taxii.NewCursors([]byte("test cursor key, 32 bytes long!!"))}
	})
	var patterns []string
	for _, rt := range e.srv.Routes() {
		patterns = append(patterns, rt.Pattern)
	}
	patterns = append(patterns, occhttp.PublicPatterns(e.srv)...)
	patterns = append(patterns, mainPatterns(t, "../cmd/occsimore")...)
	var out []string
	for _, p := range patterns {
		if strings.HasSuffix(p, "/") {
			continue // a catch-all: GET /taxii2/ and the like
		}
		out = append(out, p)
	}
	return out
}

// mainPatterns parses the Go files of dir and returns the Pattern of every
// occhttp.Route literal and the first argument of every AddRoute call,
// resolving the package's string constants.
func mainPatterns(t *testing.T, dir string) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	var parsed []*ast.File
	consts := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				for i, id := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[id.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
			return true
		})
	}
	value := func(x ast.Expr) string {
		switch x := x.(type) {
		case *ast.BasicLit:
			s, _ := strconv.Unquote(x.Value)
			return s
		case *ast.Ident:
			if s, ok := consts[x.Name]; ok {
				return s
			}
		}
		t.Errorf("%s: a route pattern that is not a string constant; the OpenAPI test cannot read it", fset.Position(x.Pos()))
		return ""
	}
	var out []string
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Route" {
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Pattern" {
								out = append(out, value(kv.Value))
							}
						}
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "AddRoute" && len(n.Args) > 0 {
					out = append(out, value(n.Args[0]))
				}
			}
			return true
		})
	}
	return out
}

// TestOpenAPICoversEveryRoute fails when a route the server serves is
// missing from the document, or the document has an operation the server
// does not serve.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, p := range serverPatterns(t) {
		served[strings.TrimSuffix(p, "{$}")] = true
	}
	if !served["POST /v1/admin/backup"] {
		t.Error("the route main registers (POST /v1/admin/backup) was not found in cmd/occsimore")
	}
	documented := map[string]bool{}
	for path, item := range c.Doc().Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for p := range served {
		if !documented[p] {
			t.Errorf("route %q is served but missing from openapi.yaml", p)
		}
	}
	for p := range documented {
		if !served[p] {
			t.Errorf("openapi.yaml has %q, which the server does not serve", p)
		}
	}
	if len(served) < 50 {
		t.Errorf("only %d routes found: the walk of the server's routes is broken", len(served))
	}
}

// TestOpenAPIServed fetches the document as a client generator would: with
// no credential, as JSON equal to the maintained YAML, cacheable and
// revalidated by its ETag.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t, nil, nil)
	r := e.do(t, "GET", "/v1/openapi.json", "", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	var served map[string]any
	r.decode(t, &served)
	var written map[string]any
	if err := yaml.Unmarshal(occhttp.OpenAPIYAML(), &written); err != nil {
		t.Fatal(err)
	}
	// Through JSON, so that both sides have JSON's types.
	b, err := json.Marshal(written)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, served); diff != "" {
		t.Errorf("served document differs from openapi.yaml (-want +got):\n%s", diff)
	}
	// The JSON form is itself a valid document, anchors expanded.
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(r.body)
	if err != nil {
		t.Fatalf("load the served document: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Errorf("the served document does not validate: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.Paths.Find("/debug/pprof/trace") == nil {
		t.Errorf("the served document is not the 3.1 one with every path (openapi %q)", doc.OpenAPI)
	}
	if got := r.header.Get("Cache-Control"); got != "public, max-age=3600" {
		t.Errorf("Cache-Control = %q", got)
	}
	etag := r.header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}

	for _, inm := range []string{etag, `"other", ` + etag, "W/" + etag, "*"} {
		req, err := http.NewRequestWithContext(t.Context(), "GET", e.ts.URL+"/v1/openapi.json", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("If-None-Match", inm)
		if got := e.roundTrip(t, req); got.status != http.StatusNotModified || len(got.body) != 0 {
			t.Errorf("If-None-Match %s: status %d, %d bytes; want 304, none", inm, got.status, len(got.body))
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), "GET", e.ts.URL+"/v1/openapi.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("If-None-Match", `"stale"`)
	if got := e.roundTrip(t, req); got.status != http.StatusOK || !bytes.Equal(got.body, r.body) {
		t.Errorf("a stale ETag: status %d, want 200 and the document", got.status)
	}
	// Read-only: another method is a 405 problem.
	if got := e.do(t, "POST", "/v1/openapi.json", "", `{}`); got.status != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", got.status)
	}
}

// TestConformanceCheckFails shows that the check run on every exchange
// refuses what does not conform: a response body, status or content type
// the document does not give, and a request the document refuses that the
// server would have accepted.
func TestConformanceCheckFails(t *testing.T) {
	// A contract of its own: these made-up exchanges must not count as
	// exercising the operations for TestMain.
	c, err := apitest.Load(occhttp.OpenAPIYAML())
	if err != nil {
		t.Fatal(err)
	}
	member := `{"id":"mem_1","slug":"bank","name":"Bank","sector":"banking","operator":false,"created_at":"2026-11-27T10:00:00Z"}`
	me := `{"member":` + member + `,"role":"reader","token_id":"tok_1"}`
	jsonHeader := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}
	problem := http.Header{"Content-Type": {"application/problem+json"}}
	notModified := http.Header{"Cache-Control": {"public, max-age=3600"}, "Etag": {`"0123abcd"`}}
	unauthorized := http.Header{"Content-Type": {"application/problem+json"}, "Www-Authenticate": {`Bearer realm="occsimore"`}}
	cases := []struct {
		name, method, path, authz, reqBody string
		status                             int
		header                             http.Header
		body                               string
		ok                                 bool
	}{
		{"conforming", "GET", "/v1/me", "Bearer x", "", 200, jsonHeader, me, true},
		{"missing field", "GET", "/v1/me", "Bearer x", "", 200, jsonHeader, `{"role":"reader"}`, false},
		{"unknown field", "GET", "/v1/me", "Bearer x", "", 200, jsonHeader, strings.Replace(me, `"role"`, `"extra":1,"role"`, 1), false},
		{"bad enum", "GET", "/v1/me", "Bearer x", "", 200, jsonHeader, strings.Replace(me, `"reader"`, `"root"`, 1), false},
		{"cacheable", "GET", "/v1/me", "Bearer x", "", 200, http.Header{"Content-Type": {"application/json"}}, me, false},
		{"undocumented status", "GET", "/v1/me", "Bearer x", "", 302, jsonHeader, me, false},
		{"wrong content type", "GET", "/v1/me", "Bearer x", "", 200, http.Header{"Content-Type": {"text/html"}}, me, false},
		{"error that is not a problem", "GET", "/v1/me", "Bearer x", "", 404, jsonHeader, `{"error":"no"}`, false},
		{"problem", "GET", "/v1/me", "", "", 401, unauthorized, `{"type":"about:blank","title":"Unauthorized","status":401,"code":"unauthorized"}`, true},
		{"401 without WWW-Authenticate", "GET", "/v1/me", "", "", 401, problem, `{"type":"about:blank","title":"Unauthorized","status":401,"code":"unauthorized"}`, false},
		{"accepted without credential", "GET", "/v1/me", "", "", 200, jsonHeader, me, false},
		{"accepted out of range", "GET", "/v1/alerts?limit=501", "Bearer x", "", 200, jsonHeader, `{"alerts":[]}`, false},
		{"refused out of range", "GET", "/v1/alerts?limit=501", "Bearer x", "", 400, problem, `{"type":"about:blank","title":"Bad Request","status":400,"code":"invalid","field":"limit"}`, true},
		{"accepted bad body", "POST", "/v1/tokens", "Bearer x", `{"name":"ci","role":"god"}`, 201, jsonHeader, `{}`, false},
		{"unknown path, not a problem", "GET", "/v1/nothing", "", "", 404, jsonHeader, `{}`, false},
		{"unknown path, problem", "GET", "/v1/nothing", "", "", 404, problem, `{"type":"about:blank","title":"Not Found","status":404,"code":"not_found"}`, true},
		{"HEAD", "HEAD", "/v1/me", "Bearer x", "", 200, jsonHeader, "", true},
		{"HEAD of another content type", "HEAD", "/v1/me", "Bearer x", "", 200, http.Header{"Content-Type": {"text/html"}, "Cache-Control": {"no-store"}}, "", false},
		{"HEAD cacheable", "HEAD", "/v1/me", "Bearer x", "", 200, http.Header{"Content-Type": {"application/json"}}, "", false},
		{"HEAD undocumented status", "HEAD", "/v1/me", "Bearer x", "", 302, jsonHeader, "", false},
		{"HEAD refused without WWW-Authenticate", "HEAD", "/v1/me", "", "", 401, problem, "", false},
		{"304", "GET", "/v1/openapi.json", "", "", 304, notModified, "", true},
		{"304 without ETag", "GET", "/v1/openapi.json", "", "", 304, http.Header{"Cache-Control": {"public, max-age=3600"}}, "", false},
		{"304 with a body", "GET", "/v1/openapi.json", "", "", 304, notModified, "{}", false},
		{"304 undocumented", "GET", "/v1/me", "Bearer x", "", 304, jsonHeader, "", false},
		{"TAXII error as a problem", "GET", "/taxii2/nothing/", "Bearer x", "", 404, problem, `{"type":"about:blank","title":"Not Found","status":404}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.reqBody))
			if tc.authz != "" {
				req.Header.Set("Authorization", tc.authz)
			}
			if tc.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res := &http.Response{StatusCode: tc.status, Header: tc.header}
			msg := c.Check(req, []byte(tc.reqBody), nil, res, []byte(tc.body))
			if tc.ok && msg != "" {
				t.Errorf("refused: %s", msg)
			}
			if !tc.ok && msg == "" {
				t.Error("passed, want refused")
			}
		})
	}
}
