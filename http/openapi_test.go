package http_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	occhttp "github.com/occsimore/occsimore/http"
)

// contract is the loaded OpenAPI document and a router over its operations.
// The router is a net/http ServeMux holding one pattern per operation, so
// that a request finds its operation by the very rules that route it in the
// server.
type contract struct {
	doc *openapi3.T
	mux *http.ServeMux
	ops map[string]*routers.Route // by ServeMux pattern
}

// loadContract loads and validates the embedded document once per test
// binary; every test server validates its exchanges against it.
var loadContract = sync.OnceValues(func() (*contract, error) {
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", ndjsonDecoder)
	ctx := context.Background()
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromData(occhttp.OpenAPIYAML())
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("validate openapi.yaml: %w", err)
	}
	c := &contract{doc: doc, mux: http.NewServeMux(), ops: map[string]*routers.Route{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			pattern := muxPattern(method, path)
			c.ops[pattern] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
			c.mux.Handle(pattern, http.NotFoundHandler())
		}
	}
	return c, nil
})

// muxPattern is the ServeMux pattern of an OpenAPI path: the same syntax,
// except that a path ending in a slash is exact in OpenAPI and a subtree in
// a ServeMux unless it ends in {$}.
func muxPattern(method, path string) string {
	if strings.HasSuffix(path, "/") {
		path += "{$}"
	}
	return method + " " + path
}

// ndjsonDecoder reads an NDJSON body as the array of its lines' values, so
// that a schema can describe each line.
func ndjsonDecoder(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	var lines []any
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", len(lines)+1, err)
		}
		lines = append(lines, v)
	}
	return lines, sc.Err()
}

// find returns the operation of r, and its path parameters, or nil.
func (c *contract) find(r *http.Request) (*routers.Route, map[string]string) {
	_, pattern := c.mux.Handler(r)
	route := c.ops[pattern]
	if route == nil {
		return nil, nil
	}
	params := map[string]string{}
	want := strings.Split(route.Path, "/")
	got := strings.Split(r.URL.EscapedPath(), "/")
	for i, seg := range want {
		if name, ok := strings.CutPrefix(seg, "{"); ok && i < len(got) {
			v, err := url.PathUnescape(got[i])
			if err != nil {
				v = got[i]
			}
			params[strings.TrimSuffix(name, "}")] = v
		}
	}
	return route, params
}

// checkCredentials stands in for authentication in request validation: a
// request conforms if it carries the scheme's header in the scheme's form.
// Whether the credential is valid is the server's business.
func checkCredentials(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header
	switch s := in.SecurityScheme; {
	case s.Type == "http" && s.Scheme == "bearer":
		scheme, cred, ok := strings.Cut(h.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(cred) == "" {
			return errors.New("no bearer token in Authorization")
		}
	case s.Type == "apiKey" && s.In == "header":
		if h.Get(s.Name) == "" {
			return fmt.Errorf("no %s header", s.Name)
		}
	default:
		return fmt.Errorf("security scheme %s/%s unknown to the test", s.Type, s.Scheme)
	}
	return nil
}

// conforming wraps the handler of srv so that every exchange is validated
// against the OpenAPI document: a response that does not conform, or a 2xx
// or 3xx answer to a request that does not, fails t. A request the document
// refuses may get any 4xx: tests send such requests on purpose. Routes the
// document does not hold (those a test registers on srv for itself, and the
// 404s and 405s of unknown paths) must still answer errors with a problem
// (or a TAXII error under /taxii2/).
//
// The request body is read whole before the handler runs, and the response
// is buffered until it has been checked, so that the check can still fail
// the test that is waiting for it.
func conforming(t testing.TB, srv *occhttp.Server) http.Handler {
	t.Helper()
	next := srv.Handler()
	if _, ok := t.(*testing.B); ok {
		return next // a benchmark measures the server, not the validator
	}
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		var bodyErr error
		if r.Body != nil {
			body, bodyErr = io.ReadAll(r.Body)
			r.Body = &replayBody{data: body, err: bodyErr}
		}
		rec := &recorder{w: w, header: http.Header{}}
		defer func() {
			// A handler that panics after its header was sent aborts the
			// connection: pass on what it wrote, then abort as it did. Its
			// response is cut short, so there is nothing to check.
			if v := recover(); v != nil {
				rec.send()
				panic(v)
			}
		}()
		next.ServeHTTP(rec, r)
		res := rec.result()
		if msg := c.check(r, body, bodyErr, res, rec.body.Bytes()); msg != "" {
			t.Errorf("OpenAPI: %s %s → %d: %s\nresponse: %.600s", r.Method, r.URL.RequestURI(), res.StatusCode, msg, rec.body.Bytes())
		}
		rec.send()
	})
}

// check returns why an exchange does not conform to the document, or "".
func (c *contract) check(r *http.Request, body []byte, bodyErr error, res *http.Response, respBody []byte) string {
	ctx := context.Background()
	route, params := c.find(r)
	if route == nil {
		if res.StatusCode < 400 {
			// A route of the test's own (TestAddRoute's echo, …): the
			// completeness test keeps the server's routes in the document.
			return ""
		}
		return c.checkError(r, res, respBody)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: checkCredentials, MultiError: true}
	req := r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	if bodyErr != nil {
		reqErr = errors.Join(reqErr, fmt.Errorf("the body could not be read: %w", bodyErr))
	}
	var msgs []string
	if reqErr != nil && res.StatusCode < 400 {
		msgs = append(msgs, "the server accepted a request the document refuses: "+reqErr.Error())
	}
	if r.Method == http.MethodHead {
		respBody = nil // no body, by definition; nothing to check
		if len(msgs) > 0 {
			return strings.Join(msgs, "; ")
		}
		return ""
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		msgs = append(msgs, "response: "+err.Error())
	}
	return strings.Join(msgs, "; ")
}

// checkError checks an error answered where the document has no operation:
// a problem, or a TAXII error under /taxii2/.
func (c *contract) checkError(r *http.Request, res *http.Response, body []byte) string {
	name, ctype := "Problem", "application/problem+json"
	if strings.HasPrefix(r.URL.Path, "/taxii2/") {
		name, ctype = "TAXIIError", "application/taxii+json;version=2.1"
	}
	if res.StatusCode == http.StatusNotModified {
		return ""
	}
	if got := res.Header.Get("Content-Type"); got != ctype {
		return fmt.Sprintf("an error of Content-Type %q, want %q", got, ctype)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return "an error body that is not JSON: " + err.Error()
	}
	if err := c.doc.Components.Schemas[name].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		return "an error body that is not a " + name + ": " + err.Error()
	}
	return ""
}

// replayBody gives the handler the body the wrapper read, then the error
// the read ended with, if any (a cut connection, a body over a limit).
type replayBody struct {
	data []byte
	err  error
}

func (b *replayBody) Read(p []byte) (int, error) {
	if len(b.data) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		return 0, io.EOF
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

func (b *replayBody) Close() error { return nil }

// recorder buffers a response until it has been checked, unless the
// handler flushes it: from then on it is passed on as it is written, and
// checked when it ends. The whole request body is read before the handler
// runs, so full duplex is already given.
type recorder struct {
	w       http.ResponseWriter
	header  http.Header // the handler's
	sent    http.Header // as at WriteHeader
	status  int
	body    bytes.Buffer
	flushed bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status, r.sent = code, r.header.Clone()
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	r.body.Write(b)
	if r.flushed {
		return r.w.Write(b)
	}
	return len(b), nil
}

func (r *recorder) Flush() {
	r.WriteHeader(http.StatusOK)
	r.send()
	_ = http.NewResponseController(r.w).Flush()
}

func (r *recorder) EnableFullDuplex() error { return nil }

// send passes on what was not passed on yet.
func (r *recorder) send() {
	if r.flushed {
		return
	}
	r.flushed = true
	r.WriteHeader(http.StatusOK)
	for k, vs := range r.sent {
		r.w.Header()[k] = vs
	}
	r.w.WriteHeader(r.status)
	_, _ = r.w.Write(r.body.Bytes())
}

func (r *recorder) result() *http.Response {
	r.WriteHeader(http.StatusOK)
	return &http.Response{StatusCode: r.status, Header: r.sent}
}

// TestOpenAPIDocumentValidates loads the document as a client generator
// would and validates it against OpenAPI 3.1.
func TestOpenAPIDocumentValidates(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.doc.OpenAPI; !strings.HasPrefix(got, "3.1.") {
		t.Fatalf("openapi = %q, want 3.1.x", got)
	}
	if !c.doc.IsOpenAPI31OrLater() {
		t.Fatal("the loader does not take the document for OpenAPI 3.1")
	}
	// Every operation answers errors in a documented form.
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Responses.Status(400) == nil && op.Responses.Default() == nil && path != "/healthz" && path != "/readyz" {
				t.Errorf("%s %s documents no 4XX response", method, path)
			}
		}
	}
}
