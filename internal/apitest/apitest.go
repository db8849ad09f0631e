// Package apitest checks HTTP exchanges with occsimore's server against its
// OpenAPI document, for the tests of every package that talks to the API:
// as a handler around the server (Handler), as a client's transport
// (Transport), or on a client's requests alone when the server is a fake
// (Requests). It counts the operations exchanges reached, so that a test
// binary can fail when a documented operation was exercised by none.
//
// The document comes from the caller (occhttp.OpenAPIYAML()): the front end
// http/ is wired by main only, so this package does not import it.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Contract is a loaded and validated OpenAPI document, a router over its
// operations, and the count of exchanges that reached each operation. The
// router is a net/http ServeMux holding one pattern per operation, so that a
// request finds its operation by the very rules that route it in the server.
type Contract struct {
	doc *openapi3.T
	mux *http.ServeMux
	ops map[string]*routers.Route // by ServeMux pattern

	// bodies validates JSON and NDJSON bodies with schemas compiled once;
	// see bodySchemas.
	bodies *bodySchemas

	mu       sync.Mutex
	answered map[string]int // operation ("GET /v1/me") → exchanges answered below 400
	refused  map[string]int // operation → exchanges answered 400 or above
}

// Load parses document (OpenAPI 3.1, YAML or JSON) and validates it.
func Load(document []byte) (*Contract, error) {
	ctx := context.Background()
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromData(document)
	if err != nil {
		return nil, fmt.Errorf("apitest: load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("apitest: validate the OpenAPI document: %w", err)
	}
	bodies, err := newBodySchemas(doc)
	if err != nil {
		return nil, err
	}
	c := &Contract{doc: doc, mux: http.NewServeMux(), ops: map[string]*routers.Route{}, bodies: bodies,
		answered: map[string]int{}, refused: map[string]int{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			pattern := muxPattern(method, path)
			c.ops[pattern] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
			c.mux.Handle(pattern, http.NotFoundHandler())
		}
	}
	return c, nil
}

// Doc returns the loaded document.
func (c *Contract) Doc() *openapi3.T { return c.doc }

// Operations returns every documented operation as "METHOD /path", sorted.
func (c *Contract) Operations() []string {
	var out []string
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// Answered returns how many checked exchanges of operation ("GET /v1/me")
// were answered with a status below 400.
func (c *Contract) Answered(operation string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered[operation]
}

// Unexercised returns the documented operations that no checked exchange
// reached with an answer below 400, sorted, each followed by how many
// exchanges it refused, if any: an operation seen only refusing requests
// was not exercised.
func (c *Contract) Unexercised() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, op := range c.Operations() {
		if c.answered[op] > 0 {
			continue
		}
		if n := c.refused[op]; n > 0 {
			op += fmt.Sprintf(" (only %d refused)", n)
		}
		out = append(out, op)
	}
	return out
}

// muxPattern is the ServeMux pattern of an OpenAPI path: the same syntax,
// except that a path ending in a slash is exact in OpenAPI and a subtree in
// a ServeMux unless it ends in {$}.
func muxPattern(method, path string) string {
	if strings.HasSuffix(path, "/") {
		path += "{$}"
	}
	return method + " " + path
}

// find returns the operation of r, and its path parameters, or nil. A HEAD
// request finds the GET operation of its path, as in the server's mux.
func (c *Contract) find(r *http.Request) (*routers.Route, map[string]string) {
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
		return fmt.Errorf("security scheme %s/%s unknown to apitest", s.Type, s.Scheme)
	}
	return nil
}

// apiPrefixes are the paths the API owns whole: an error answered under one
// of them where the document has no operation (an unknown path, a method not
// allowed) must still be a problem, or a TAXII error under /taxii2/. Other
// paths belong to the console.
var apiPrefixes = []string{"/v1/", "/taxii2/", "/crowdsec/", "/debug/"}

// Check returns why an exchange does not conform to the document, or "": a
// response the document does not give, or a request it refuses that the
// server answered below 400. A request the document refuses may get any
// 4xx: tests send such requests on purpose. Where the document has no
// operation, an answer below 400 is a route of the test's own and passes,
// and an error under the API's paths must be a problem (a TAXII error under
// /taxii2/). body and bodyErr are the request body as read and the error the
// read ended with. Check counts the exchange for Answered and Unexercised.
func (c *Contract) Check(r *http.Request, body []byte, bodyErr error, res *http.Response, respBody []byte) string {
	route, params := c.find(r)
	if route == nil {
		if res.StatusCode < 400 {
			return ""
		}
		return c.checkError(r, res, respBody)
	}
	c.count(route, res.StatusCode)
	in, reqErr := c.validateRequest(r, body, route, params)
	if bodyErr != nil {
		reqErr = errors.Join(reqErr, fmt.Errorf("the body could not be read: %w", bodyErr))
	}
	var msgs []string
	if reqErr != nil && res.StatusCode < 400 {
		msgs = append(msgs, "the server accepted a request the document refuses: "+reqErr.Error())
	}
	if msg := c.checkResponse(in, res, respBody); msg != "" {
		msgs = append(msgs, "response: "+msg)
	}
	return strings.Join(msgs, "; ")
}

// checkResponse checks a response against its operation. openapi3filter
// checks neither the answers to HEAD nor 304s (it passes them whatever they
// are), so both are checked here: a HEAD answer as the GET's, status,
// headers and Content-Type (its body, if the handler wrote one, net/http
// drops); a 304 as documented, without a
// body, and with the validators (ETag, Cache-Control…) the 200 would carry,
// as RFC 9110 section 15.4.5 asks.
func (c *Contract) checkResponse(in *openapi3filter.RequestValidationInput, res *http.Response, body []byte) string {
	route := in.Route
	if res.StatusCode == http.StatusNotModified {
		return checkNotModified(route, res, body)
	}
	// Status and headers by openapi3filter, the body below.
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: true}
	head := in.Request.Method == http.MethodHead
	if head {
		// What the handler writes for HEAD, net/http drops.
		get := *in
		get.Request = in.Request.Clone(in.Request.Context())
		get.Request.Method = http.MethodGet
		in = &get
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header, Options: opts}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return err.Error()
	}
	ref := route.Operation.Responses.Status(res.StatusCode)
	if ref == nil {
		ref = route.Operation.Responses.Default()
	}
	if ref == nil || ref.Value == nil || len(ref.Value.Content) == 0 {
		return ""
	}
	ct := res.Header.Get("Content-Type")
	mt := ref.Value.Content.Get(ct)
	switch {
	case mt == nil && head:
		return fmt.Sprintf("a HEAD answer of Content-Type %q, which the GET's %d does not have", ct, res.StatusCode)
	case mt == nil:
		return fmt.Sprintf("Content-Type %q, which the %d answer does not have", ct, res.StatusCode)
	case head || mt.Schema == nil:
		return ""
	}
	checked, err := c.bodies.validate(mt.Schema, ct, body)
	if !checked {
		opts.ExcludeResponseBody = false
		out.SetBodyBytes(body)
		err = openapi3filter.ValidateResponse(context.Background(), out)
	}
	if err != nil {
		return "body: " + err.Error()
	}
	return ""
}

// validators are the headers a 304 carries when the 200 would (RFC 9110
// section 15.4.5).
var validators = []string{"Cache-Control", "Content-Location", "Date", "ETag", "Expires", "Vary"}

func checkNotModified(route *routers.Route, res *http.Response, body []byte) string {
	if route.Operation.Responses.Status(http.StatusNotModified) == nil {
		return "status 304 is not documented for this operation"
	}
	if len(body) > 0 {
		return fmt.Sprintf("a 304 with a body of %d bytes", len(body))
	}
	ok := route.Operation.Responses.Status(http.StatusOK)
	if ok == nil || ok.Value == nil {
		return ""
	}
	var missing []string
	for _, name := range validators {
		if h, documented := ok.Value.Headers[name]; documented && h.Value != nil && h.Value.Required && res.Header.Get(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return "a 304 without " + strings.Join(missing, ", ") + ", which the 200 carries"
	}
	return ""
}

// CheckRequest returns why a client's request does not conform to the
// document, or "": for clients tested against a fake server, whose answers
// are the test's and not the server's.
func (c *Contract) CheckRequest(r *http.Request, body []byte) string {
	route, params := c.find(r)
	if route == nil {
		return "no operation of the document has this method and path"
	}
	if _, err := c.validateRequest(r, body, route, params); err != nil {
		return err.Error()
	}
	return ""
}

func (c *Contract) validateRequest(r *http.Request, body []byte, route *routers.Route, params map[string]string) (*openapi3filter.RequestValidationInput, error) {
	ctx := context.Background()
	opts := &openapi3filter.Options{AuthenticationFunc: checkCredentials, MultiError: true, ExcludeRequestBody: true}
	req := r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	err := openapi3filter.ValidateRequest(ctx, in)
	return in, errors.Join(err, c.validateRequestBody(in, body))
}

// validateRequestBody checks a request's body against its operation, as
// openapi3filter.ValidateRequestBody does, with the compiled schemas.
func (c *Contract) validateRequestBody(in *openapi3filter.RequestValidationInput, body []byte) error {
	rb := in.Route.Operation.RequestBody
	if rb == nil || rb.Value == nil {
		return nil
	}
	if len(body) == 0 {
		if rb.Value.Required {
			return errors.New("request body: a body is required")
		}
		return nil
	}
	ct := in.Request.Header.Get("Content-Type")
	mt := rb.Value.Content.Get(ct)
	if mt == nil {
		return fmt.Errorf("request body: Content-Type %q is not one the operation takes", ct)
	}
	if mt.Schema == nil {
		return nil
	}
	checked, err := c.bodies.validate(mt.Schema, ct, body)
	if !checked {
		in.Request.Body = io.NopCloser(bytes.NewReader(body))
		return openapi3filter.ValidateRequestBody(context.Background(), in, rb.Value)
	}
	if err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

func (c *Contract) count(route *routers.Route, status int) {
	op := route.Method + " " + route.Path
	c.mu.Lock()
	defer c.mu.Unlock()
	if status < 400 {
		c.answered[op]++
	} else {
		c.refused[op]++
	}
}

// checkError checks an error answered where the document has no operation.
func (c *Contract) checkError(r *http.Request, res *http.Response, body []byte) string {
	if !slices.ContainsFunc(apiPrefixes, func(p string) bool { return strings.HasPrefix(r.URL.Path, p) }) {
		return "" // the console's
	}
	name, ctype := "Problem", "application/problem+json"
	if strings.HasPrefix(r.URL.Path, "/taxii2/") {
		name, ctype = "TAXIIError", "application/taxii+json;version=2.1"
	}
	if got := res.Header.Get("Content-Type"); got != ctype {
		return fmt.Sprintf("an error of Content-Type %q, want %q", got, ctype)
	}
	if r.Method == http.MethodHead {
		return ""
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

// Handler wraps next so that every exchange is checked (Check): one that
// does not conform fails t. The request body is read whole before next
// runs, and the response is buffered until it has been checked, so that the
// check can still fail the test that is waiting for it; a response next
// flushes is passed on as it is written and checked when it ends.
func (c *Contract) Handler(t Reporter, next http.Handler) http.Handler {
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
		if msg := c.Check(r, body, bodyErr, res, rec.body.Bytes()); msg != "" {
			t.Errorf("OpenAPI: %s %s → %d: %s\nresponse: %.600s", r.Method, r.URL.RequestURI(), res.StatusCode, msg, rec.body.Bytes())
		}
		rec.send()
	})
}

// Transport wraps next (http.DefaultTransport if nil) so that every
// exchange of the client is checked (Check): one that does not conform fails
// t. The response body is read whole before it is checked and handed on;
// use it for servers in another process, and Handler otherwise.
func (c *Contract) Transport(t Reporter, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			var err error
			if body, err = io.ReadAll(r.Body); err != nil {
				return nil, err
			}
			r.Body.Close()
			r = r.Clone(r.Context())
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		res, err := next.RoundTrip(r)
		if err != nil {
			return res, err
		}
		respBody, err := io.ReadAll(res.Body)
		res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(respBody))
		if err != nil {
			return res, nil // cut short: the client sees the same cut below
		}
		if msg := c.Check(r, body, nil, res, respBody); msg != "" {
			t.Errorf("OpenAPI: %s %s → %d: %s\nresponse: %.600s", r.Method, r.URL.RequestURI(), res.StatusCode, msg, respBody)
		}
		return res, nil
	})
}

// Requests wraps next, a fake of the server, so that every request a
// client sends it is checked (CheckRequest): one that does not conform fails
// t. The fake's answers are not checked.
func (c *Contract) Requests(t Reporter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("OpenAPI: %s %s: the body could not be read: %v", r.Method, r.URL.RequestURI(), err)
		}
		if msg := c.CheckRequest(r, body); msg != "" {
			t.Errorf("OpenAPI: %s %s: the request does not conform: %s", r.Method, r.URL.RequestURI(), msg)
		}
		r.Body = &replayBody{data: body, err: err}
		next.ServeHTTP(w, r)
	})
}

// Reporter receives the exchanges that do not conform: a *testing.T, or,
// in a server run as a child process, a writer of lines its parent reads.
type Reporter interface {
	Errorf(format string, args ...any)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

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
