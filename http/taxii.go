package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/taxii"
)

// TAXIIConfig enables and sets up the TAXII 2.1 endpoints. The server has
// one API root, /taxii2/{Root}/, whose collections are the store's.
type TAXIIConfig struct {
	Store   taxii.Store
	Cursors *taxii.Cursors
	// Title, Description and Contact describe the server in discovery.
	Title, Description, Contact string
	// Root is the API root's name; "" means "lab".
	Root string
	// PublicURL, if set, is the base of the URLs discovery lists (e.g.
	// https://lab.example); otherwise they are built from the request.
	PublicURL string
	// MaxPageSize bounds limit; zero means 1000.
	MaxPageSize int
	// MaxContentLength bounds a POST body (and is announced in the API
	// root); zero means 10 MiB.
	MaxContentLength int64
	// MaxConcurrent bounds one member's TAXII requests in progress; more
	// are refused with 429. Zero means 4.
	MaxConcurrent int
	// Check, if set, validates a POST's objects (the STIX codec, wired in
	// main) and returns the reason each refused object is refused, by its
	// index in the envelope. The others are stored.
	Check func(objects []json.RawMessage) map[int]string
}

func (c *TAXIIConfig) root() string {
	if c.Root == "" {
		return "lab"
	}
	return c.Root
}

func (c *TAXIIConfig) maxPage() int {
	if c.MaxPageSize <= 0 {
		return 1000
	}
	return c.MaxPageSize
}

func (c *TAXIIConfig) maxContent() int64 {
	if c.MaxContentLength <= 0 {
		return 10 << 20
	}
	return c.MaxContentLength
}

// taxiiRoutes returns the TAXII endpoints. TAXII has its own error body and
// media types, so every route writes its errors with writeTAXIIError.
func (s *Server) taxiiRoutes() []Route {
	const col = "/taxii2/{root}/collections/{id}/"
	s.taxiiLimit.max = s.TAXII.MaxConcurrent
	if s.taxiiLimit.max <= 0 {
		s.taxiiLimit.max = 4
	}
	rt := func(pattern string, perm occsimore.Permission, fn func(http.ResponseWriter, *http.Request, *occsimore.Principal) error) Route {
		return Route{Pattern: pattern, Handler: s.taxiiHandle(fn), Perm: perm, WriteError: writeTAXIIError,
			MaxBodyBytes: s.TAXII.maxContent()}
	}
	return []Route{
		rt("GET /taxii2/{$}", occsimore.PermRead, s.handleTAXIIDiscovery),
		rt("GET /taxii2/{root}/{$}", occsimore.PermRead, s.handleTAXIIRoot),
		rt("GET /taxii2/{root}/status/{id}/{$}", Authenticated, s.handleTAXIIStatus),
		rt("GET /taxii2/{root}/collections/{$}", occsimore.PermRead, s.handleTAXIICollections),
		rt("GET "+col+"{$}", occsimore.PermRead, s.handleTAXIICollection),
		rt("GET "+col+"manifest/{$}", occsimore.PermRead, s.handleTAXIIManifest),
		rt("GET "+col+"objects/{$}", occsimore.PermRead, s.handleTAXIIGetObjects),
		rt("POST "+col+"objects/{$}", occsimore.PermIngest, s.handleTAXIIAddObjects),
		rt("GET "+col+"objects/{oid}/{$}", occsimore.PermRead, s.handleTAXIIGetObject),
		rt("DELETE "+col+"objects/{oid}/{$}", occsimore.PermIngest, s.handleTAXIIDeleteObject),
		rt("GET "+col+"objects/{oid}/versions/{$}", occsimore.PermRead, s.handleTAXIIVersions),
		// Any other path under /taxii2/ is a TAXII 404, not the console's.
		rt("GET /taxii2/", Authenticated, s.handleTAXIINotFound),
		rt("POST /taxii2/", Authenticated, s.handleTAXIINotFound),
		rt("DELETE /taxii2/", Authenticated, s.handleTAXIINotFound),
	}
}

func (s *Server) handleTAXIINotFound(http.ResponseWriter, *http.Request, *occsimore.Principal) error {
	return occsimore.Errorf(occsimore.ENOTFOUND, "no TAXII resource at this path")
}

// taxiiHandle checks the Accept header and the API root, bounds the
// member's concurrent requests, and writes fn's error as a TAXII error.
func (s *Server) taxiiHandle(fn func(http.ResponseWriter, *http.Request, *occsimore.Principal) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := occsimore.PrincipalFromContext(r.Context())
		err := func() error {
			if !taxii.Acceptable(r.Header.Get("Accept")) {
				return errNotAcceptable
			}
			if root := r.PathValue("root"); root != "" && root != s.TAXII.root() {
				return occsimore.Errorf(occsimore.ENOTFOUND, "API root %q not found", root)
			}
			if !s.taxiiLimit.acquire(p.Member.ID) {
				return occsimore.Errorf(occsimore.ERATELIMIT, "over %d TAXII requests in progress for this member", s.taxiiLimit.max)
			}
			defer s.taxiiLimit.release(p.Member.ID)
			return fn(w, r, p)
		}()
		if err != nil {
			writeTAXIIError(w, r, s.logger, err)
		}
	})
}

// Errors that have no application code: content negotiation.
var (
	errNotAcceptable      = errors.New("the Accept header does not allow " + taxii.MediaTAXII)
	errUnsupportedContent = errors.New("the Content-Type must be " + taxii.MediaTAXII)
)

// writeTAXIIError writes err as a TAXII error message.
func writeTAXIIError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var status int
	var desc string
	switch {
	case errors.Is(err, errNotAcceptable):
		status, desc = http.StatusNotAcceptable, err.Error()
	case errors.Is(err, errUnsupportedContent):
		status, desc = http.StatusUnsupportedMediaType, err.Error()
	default:
		code := occsimore.ErrorCode(err)
		status, desc = occsimore.HTTPStatus(code), occsimore.ErrorMessage(err)
		if code == occsimore.EINTERNAL && logger != nil {
			logger.ErrorContext(r.Context(), "internal error", "err", err, "method", r.Method, "path", r.URL.Path,
				"request_id", RequestIDFromContext(r.Context()))
		}
	}
	h := w.Header()
	h.Set("Content-Type", taxii.MediaTAXII)
	h.Del("Content-Length")
	switch status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="occsimore"`)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if h.Get("Retry-After") == "" {
			h.Set("Retry-After", "1")
		}
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(taxii.Error{
		Title:       http.StatusText(status),
		Description: desc,
		ErrorID:     RequestIDFromContext(r.Context()),
		HTTPStatus:  strconv.Itoa(status),
	})
}

// writeTAXII writes a TAXII resource.
func writeTAXII(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", taxii.MediaTAXII)
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}

// invalid turns a parse error into a 400.
func invalid(err error) error {
	return &occsimore.Error{Code: occsimore.EINVALID, Message: err.Error()}
}

func (s *Server) baseURL(r *http.Request) string {
	if s.TAXII.PublicURL != "" {
		return s.TAXII.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) handleTAXIIDiscovery(w http.ResponseWriter, r *http.Request, _ *occsimore.Principal) error {
	root := s.baseURL(r) + "/taxii2/" + s.TAXII.root() + "/"
	return writeTAXII(w, http.StatusOK, taxii.Discovery{
		Title: s.TAXII.Title, Description: s.TAXII.Description, Contact: s.TAXII.Contact,
		Default: root, APIRoots: []string{root},
	})
}

func (s *Server) handleTAXIIRoot(w http.ResponseWriter, r *http.Request, _ *occsimore.Principal) error {
	return writeTAXII(w, http.StatusOK, taxii.APIRoot{
		Title: s.TAXII.Title, Description: s.TAXII.Description,
		Versions: []string{taxii.MediaTAXII}, MaxContentLength: s.TAXII.maxContent(),
	})
}

func (s *Server) handleTAXIIStatus(w http.ResponseWriter, r *http.Request, p *occsimore.Principal) error {
	st, err := s.TAXII.Store.FindStatus(r.Context(), p.Member.ID, r.PathValue("id"))
	if err != nil {
		return hideNotFound(err, "status")
	}
	return writeTAXII(w, http.StatusOK, st)
}

func (s *Server) handleTAXIICollections(w http.ResponseWriter, r *http.Request, p *occsimore.Principal) error {
	cs, err := s.TAXII.Store.ListCollections(r.Context(), p.Member.ID)
	if err != nil {
		return err
	}
	return writeTAXII(w, http.StatusOK, taxii.Collections{Collections: cs})
}

// collection returns the collection of the path that the member sees, and
// checks the right the request needs.
func (s *Server) collection(r *http.Request, p *occsimore.Principal, read, write bool) (*taxii.Collection, error) {
	c, err := s.TAXII.Store.FindCollection(r.Context(), p.Member.ID, r.PathValue("id"))
	if err != nil {
		return nil, hideNotFound(err, "collection")
	}
	if read && !c.CanRead {
		return nil, occsimore.Errorf(occsimore.EFORBIDDEN, "this member may not read the collection")
	}
	if write && !c.CanWrite {
		return nil, occsimore.Errorf(occsimore.EFORBIDDEN, "this member may not write to the collection")
	}
	return c, nil
}

func (s *Server) handleTAXIICollection(w http.ResponseWriter, r *http.Request, p *occsimore.Principal) error {
	c, err := s.collection(r, p, false, false)
	if err != nil {
		return err
	}
	return writeTAXII(w, http.StatusOK, c)
}

// page runs a query of endpoint ep on the path's collection: the cursor is
// bound to the member, the collection and the endpoint.
func (s *Server) page(r *http.Request, p *occsimore.Principal, ep taxii.Endpoint, name string, noRaw bool, objectID string) (*taxii.Page, string, error) {
	c, err := s.collection(r, p, true, false)
	if err != nil {
		return nil, "", err
	}
	v := r.URL.Query()
	scope := p.Member.ID + "/" + c.ID + "/" + name + "/" + objectID
	q, err := taxii.ParseQuery(v, ep, s.TAXII.maxPage(), s.TAXII.Cursors, scope)
	if err != nil {
		return nil, "", invalid(err)
	}
	if objectID != "" {
		q.IDs = []string{objectID}
	}
	q.NoRaw = noRaw
	pg, err := s.TAXII.Store.QueryObjects(r.Context(), p.Member.ID, c.ID, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if pg.More {
		last := pg.Records[len(pg.Records)-1]
		next = s.TAXII.Cursors.Encode(scope, q.Filter, taxii.Position{DateAdded: last.DateAdded, Seq: last.Seq})
	}
	return pg, next, nil
}

// setDateAdded sets the headers of the first and last date_added of a page.
func setDateAdded(w http.ResponseWriter, pg *taxii.Page) {
	if len(pg.Records) == 0 {
		return
	}
	w.Header().Set("X-TAXII-Date-Added-First", taxii.FormatTime(pg.Records[0].DateAdded))
	w.Header().Set("X-TAXII-Date-Added-Last", taxii.FormatTime(pg.Records[len(pg.Records)-1].DateAdded))
}

// writeEnvelope writes a page of objects as an envelope. The objects are
// copied as stored (compact JSON, checked when they came in): json.Marshal
// would parse every one of them again, which cost a page of 1,000 more than
// reading it from the store.
func writeEnvelope(w http.ResponseWriter, pg *taxii.Page, next string) error {
	n := 64 + len(next)
	for i := range pg.Records {
		n += len(pg.Records[i].Raw) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	if pg.More {
		b = append(b, `"more":true,"next":`...)
		b = strconv.AppendQuote(b, next) // base64url: no character needs escaping
		b = append(b, ',')
	}
	if len(pg.Records) > 0 {
		b = append(b, `"objects":[`...)
		for i := range pg.Records {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, pg.Records[i].Raw...)
		}
		b = append(b, ']')
	} else if pg.More {
		b = b[:len(b)-1] // no trailing comma
	}
	b = append(b, '}')
	w.Header().Set("Content-Type", taxii.MediaTAXII)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}

func (s *Server) handleTAXIIGetObjects(w http.ResponseWriter, r *http.Request, p *occsimore.Principal) error {
	pg, next, err := s.page(r, p, taxii.EndpointObjects, "objects", false, "")
	if err != nil {
		return err
	}
	setDateAdded(w, pg)
	return writeEnvelope(w, pg, next)
}

func (s *Server) handleTAXIIManifest(w http.ResponseWriter, r *http.Request, p *occsimore.Principal) error {
	pg, next, err := s.page(r, p, taxii.EndpointObjects, "manifest", true, "")
	if err != nil {
		return err
	}
	m := taxii.Manifest{More: pg.More, Next: next}
	for i := range pg.Records {
		rec := &pg.Records[i]
		m.Objects = append(m.Objects, taxii.ManifestRecord{ID: rec.ID, DateAdded: taxii.FormatTime(rec.DateAdded),
			Version: taxii.FormatTime(rec.Version), MediaType: rec.MediaType()})
	}
	setDateAdded(w, pg)
	return writeTAXII(w, http.StatusOK, m)
}

// objectID returns the object ID of the path; an ID that is not a STIX ID
// names no object.
func objectID(r *http.Request) (string, error) {
	id := r.PathValue("oid")
	if !taxii.ValidID(id) {
		return "", occsimore.Errorf(occsimore.ENOTFOUND, "object not found")
	}
	return id, nil
}

func (s *Server) handleTAXIIGetObject(w http.ResponseWriter, r *http.Request, p *occsimore.Principal) error {
	id, err := objectID(r)
	if err != nil {
		return err
	}
	pg, next, err := s.page(r, p, taxii.EndpointObject, "object", false, id)
	if err != nil {
		return err
	}
	if len(pg.Records) == 0 && r.URL.Query().Get("next") == "" {
		return occsimore.Errorf(occsimore.ENOTFOUND, "object not found")
	}
	setDateAdded(w, pg)
	return writeEnvelope(w, pg, next)
}

func (s *Server) handleTAXIIVersions(w http.ResponseWriter, r *http.Request, p *occsimore.Principal) error {
	id, err := objectID(r)
	if err != nil {
		return err
	}
	pg, next, err := s.page(r, p, taxii.EndpointVersions, "versions", true, id)
	if err != nil {
		return err
	}
	if len(pg.Records) == 0 && r.URL.Query().Get("next") == "" {
		return occsimore.Errorf(occsimore.ENOTFOUND, "object not found")
	}
	vs := taxii.Versions{More: pg.More, Next: next}
	for i := range pg.Records {
		vs.Versions = append(vs.Versions, taxii.FormatTime(pg.Records[i].Version))
	}
	setDateAdded(w, pg)
	return writeTAXII(w, http.StatusOK, vs)
}

func (s *Server) handleTAXIIDeleteObject(w http.ResponseWriter, r *http.Request, p *occsimore.Principal) error {
	id, err := objectID(r)
	if err != nil {
		return err
	}
	c, err := s.collection(r, p, true, true)
	if err != nil {
		return err
	}
	f, err := taxii.ParseFilter(r.URL.Query(), taxii.EndpointDelete)
	if err != nil {
		return invalid(err)
	}
	n, err := s.TAXII.Store.DeleteObject(r.Context(), p.Member.ID, c.ID, id, f)
	if err != nil {
		return err
	}
	if n == 0 {
		return occsimore.Errorf(occsimore.ENOTFOUND, "object not found among the versions this member added")
	}
	w.Header().Set("Content-Type", taxii.MediaTAXII)
	w.WriteHeader(http.StatusOK)
	return nil
}

// handleTAXIIAddObjects stores an envelope's objects. Each object is parsed
// on its own: a bad one becomes a failure in the status with its reason,
// and the others are kept. The store works synchronously, so the status is
// complete when the 202 is sent.
func (s *Server) handleTAXIIAddObjects(w http.ResponseWriter, r *http.Request, p *occsimore.Principal) error {
	if !taxii.ContentTypeOK(r.Header.Get("Content-Type")) {
		return errUnsupportedContent
	}
	c, err := s.collection(r, p, false, true)
	if err != nil {
		return err
	}
	var env struct {
		Objects []json.RawMessage `json:"objects"`
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&env); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return occsimore.Errorf(occsimore.ETOOLARGE, "the envelope is over %d bytes", s.TAXII.maxContent())
		}
		return occsimore.Errorf(occsimore.EINVALID, "the body is not a TAXII envelope: %v", err)
	}
	if dec.More() {
		return occsimore.Errorf(occsimore.EINVALID, "the body holds more than one JSON value")
	}
	now := s.Now()
	st := &taxii.Status{ID: taxii.NewUUID(), Status: taxii.StatusComplete, RequestTimestamp: taxii.FormatTime(now),
		TotalCount: len(env.Objects)}
	var refused map[int]string
	if s.TAXII.Check != nil && len(env.Objects) > 0 {
		refused = s.TAXII.Check(env.Objects)
	}
	objs := make([]taxii.Object, 0, len(env.Objects))
	for i, raw := range env.Objects {
		if reason, ok := refused[i]; ok {
			st.Failures = append(st.Failures, taxii.StatusDetail{ID: bestID(raw), Message: reason})
			continue
		}
		o, err := taxii.ParseObject(raw)
		if err != nil {
			st.Failures = append(st.Failures, taxii.StatusDetail{ID: bestID(raw), Version: "",
				Message: fmt.Sprintf("objects[%d]: %v", i, err)})
			continue
		}
		objs = append(objs, o)
	}
	if len(objs) > 0 {
		outs, err := s.TAXII.Store.AddObjects(r.Context(), p.Member.ID, c.ID, objs, now)
		if err != nil {
			return err
		}
		for _, o := range outs {
			d := taxii.StatusDetail{ID: o.ID, Version: taxii.FormatTime(o.Version)}
			if o.Err != nil {
				d.Message = occsimore.ErrorMessage(o.Err)
				st.Failures = append(st.Failures, d)
			} else {
				st.Successes = append(st.Successes, d)
			}
		}
	}
	st.SuccessCount, st.FailureCount = len(st.Successes), len(st.Failures)
	if err := s.TAXII.Store.CreateStatus(r.Context(), p.Member.ID, c.ID, st); err != nil {
		return err
	}
	return writeTAXII(w, http.StatusAccepted, st)
}

// bestID returns the id property of a rejected object if it has a short
// string one, so that the status can name it.
func bestID(raw json.RawMessage) string {
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil || len(v.ID) > 300 {
		return ""
	}
	return v.ID
}

// memberLimit bounds each member's requests in progress.
type memberLimit struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

func (l *memberLimit) acquire(member string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = make(map[string]int)
	}
	if l.n[member] >= l.max {
		return false
	}
	l.n[member]++
	return true
}

func (l *memberLimit) release(member string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[member]--; l.n[member] <= 0 {
		delete(l.n, member)
	}
}
