package apitest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/occsimore/occsimore/internal/apitest"
)

// document is a small contract of its own, so that these tests do not
// depend on the server's.
const document = `
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /items/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string, pattern: "^it_[a-z]+$"}}
      responses:
        "200":
          description: An item.
          headers:
            ETag: {required: true, schema: {type: string}}
          content:
            application/json:
              schema:
                type: object
                additionalProperties: false
                required: [id]
                properties: {id: {type: string}}
        "304": {description: Unchanged.}
        4XX:
          description: A problem.
          content:
            application/problem+json:
              schema: {$ref: "#/components/schemas/Problem"}
  /items:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, additionalProperties: false, required: [name], properties: {name: {type: string}}}
      responses:
        "201": {description: Created.}
        4XX:
          description: A problem.
          content:
            application/problem+json:
              schema: {$ref: "#/components/schemas/Problem"}
  /lines:
    post:
      requestBody:
        required: true
        content:
          application/x-ndjson:
            schema: {type: array, items: {type: object, required: [n], properties: {n: {type: integer}, at: {type: string, format: date-time}}}}
      responses:
        "204": {description: Taken.}
components:
  schemas:
    Problem:
      type: object
      required: [status]
      properties: {status: {type: integer}}
`

// reports collects what the checks report.
type reports struct {
	mu   sync.Mutex
	msgs []string
}

func (r *reports) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *reports) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.msgs
	r.msgs = nil
	return out
}

// fake answers as told: body and content type by path.
func fake(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/items/it_good":
		w.Header().Set("ETag", `"1"`)
		if r.Header.Get("If-None-Match") == `"1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"it_good"}`)
	case "/items/it_extra":
		w.Header().Set("ETag", `"1"`)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"it_extra","secret":1}`)
	case "/items/it_noetag":
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("If-None-Match") != "" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, `{"id":"it_noetag"}`)
	case "/items/it_html":
		w.Header().Set("ETag", `"1"`)
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<p>`)
	case "/items":
		w.WriteHeader(http.StatusCreated)
	default:
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "no")
	}
}

func load(t *testing.T) *apitest.Contract {
	t.Helper()
	c, err := apitest.Load([]byte(document))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHandlerAndTransport sends the same exchanges through the handler
// wrapper and through the transport: both report exactly the ones that do
// not conform.
func TestHandlerAndTransport(t *testing.T) {
	cases := []struct {
		method, path, inm, body string
		bad                     bool
	}{
		{"GET", "/items/it_good", "", "", false},
		{"GET", "/items/it_good", `"1"`, "", false},        // 304 with its ETag
		{"HEAD", "/items/it_good", "", "", false},          // HEAD as the GET
		{"GET", "/items/it_extra", "", "", true},           // a field the document does not have
		{"HEAD", "/items/it_html", "", "", true},           // HEAD of a content type the GET does not have
		{"GET", "/items/it_noetag", "", "", true},          // 200 without its required ETag
		{"GET", "/items/it_noetag", `"1"`, "", true},       // 304 without the ETag the 200 carries
		{"GET", "/items/IT", "", "", true},                 // a refused request may get any 4XX, but as a problem, not text
		{"POST", "/items", "", `{"name":"a"}`, false},      // conforming body
		{"POST", "/items", "", `{"name":"a","x":1}`, true}, // accepted a body the document refuses
		{"GET", "/elsewhere", "", "", false},               // not the API's: not checked
		{"DELETE", "/items/it_good", "", "", false},        // no such operation, answered 404 as text: checked only under the API's prefixes
	}
	for _, via := range []string{"handler", "transport"} {
		t.Run(via, func(t *testing.T) {
			c := load(t)
			var got reports
			var ts *httptest.Server
			client := http.DefaultClient
			if via == "handler" {
				ts = httptest.NewServer(c.Handler(&got, http.HandlerFunc(fake)))
			} else {
				ts = httptest.NewServer(http.HandlerFunc(fake))
				client = &http.Client{Transport: c.Transport(&got, nil)}
			}
			defer ts.Close()
			for _, tc := range cases {
				req, err := http.NewRequest(tc.method, ts.URL+tc.path, strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				if tc.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				if tc.inm != "" {
					req.Header.Set("If-None-Match", tc.inm)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				msgs := got.take()
				if tc.bad && len(msgs) == 0 {
					t.Errorf("%s %s (If-None-Match %q, body %s): passed, want reported", tc.method, tc.path, tc.inm, tc.body)
				}
				if !tc.bad && len(msgs) > 0 {
					t.Errorf("%s %s (If-None-Match %q, body %s): reported %q", tc.method, tc.path, tc.inm, tc.body, msgs)
				}
			}
			// Operations reached with an answer below 400 are exercised;
			// the GET was, the POST too.
			if un := c.Unexercised(); !slices.Equal(un, []string{"POST /lines"}) {
				t.Errorf("Unexercised = %q, want the one operation not sent", un)
			}
			if n := c.Answered("GET /items/{id}"); n < 5 {
				t.Errorf("Answered(GET /items/{id}) = %d, want at least 5", n)
			}
		})
	}
}

// TestUnexercised: a fresh contract has every operation unexercised; one
// reached only with refusals says so.
func TestUnexercised(t *testing.T) {
	c := load(t)
	if got, want := c.Unexercised(), []string{"GET /items/{id}", "POST /items", "POST /lines"}; !slices.Equal(got, want) {
		t.Fatalf("Unexercised = %q, want %q", got, want)
	}
	var got reports
	ts := httptest.NewServer(c.Handler(&got, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"status":400}`)
	})))
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/items", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if msgs := got.take(); len(msgs) > 0 {
		t.Fatalf("a refused bad request reported: %q", msgs)
	}
	if got, want := c.Unexercised(), []string{"GET /items/{id}", "POST /items (only 1 refused)", "POST /lines"}; !slices.Equal(got, want) {
		t.Fatalf("Unexercised = %q, want %q", got, want)
	}
}

// TestRequests checks a client's requests against the document, whatever a
// fake answers.
func TestRequests(t *testing.T) {
	c := load(t)
	var got reports
	ts := httptest.NewServer(c.Requests(&got, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body) // the fake still gets the body
		if len(b) == 0 && r.Method == "POST" {
			t.Error("the fake got no body")
		}
		w.WriteHeader(http.StatusTeapot)
	})))
	defer ts.Close()
	for _, tc := range []struct {
		method, path, body string
		bad                bool
	}{
		{"POST", "/lines", "{\"n\":1}\n\n{\"n\":2,\"at\":\"2026-12-07T07:00:00Z\"}\n", false},
		{"POST", "/lines", "{\"n\":1}\n{\"m\":2}\n", true},           // a line without n
		{"POST", "/lines", "{\"n\":1,\"at\":\"yesterday\"}\n", true}, // a format asserted
		{"POST", "/lines", "{\"n\":1}\n{\"n\":\n", true},             // a line that is not JSON
		{"POST", "/items", `{"name":"a"}`, false},
		{"POST", "/items", `{"nom":"a"}`, true},
		{"GET", "/items/it_x", "", false},
		{"GET", "/items/X", "", true},
		{"GET", "/nothing", "", true},
	} {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		if tc.path == "/lines" {
			req.Header.Set("Content-Type", "application/x-ndjson")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if msgs := got.take(); tc.bad != (len(msgs) > 0) {
			t.Errorf("%s %s %s: reported %q, want bad=%v", tc.method, tc.path, tc.body, msgs, tc.bad)
		}
	}
}

// TestLoadRefusesInvalid: a document that does not validate is an error.
func TestLoadRefusesInvalid(t *testing.T) {
	bad := strings.Replace(document, `$ref: "#/components/schemas/Problem"`, `$ref: "#/components/schemas/Nothing"`, 1)
	if _, err := apitest.Load([]byte(bad)); err == nil {
		t.Fatal("a dangling $ref loaded")
	}
}
