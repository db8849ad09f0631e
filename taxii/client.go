package taxii

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client is the HTTP side of a TAXII 2.1 client: it reads one API root of
// a remote server. It is the only part of the package that does I/O.
type Client struct {
	HTTP *http.Client // nil: http.DefaultClient
	// Root is the API root's URL, e.g. https://peer.example/taxii2/lab/.
	Root string
	// Token is an occsimore bearer token; User and Password are HTTP basic
	// credentials, for servers such as medallion. Set one or the other.
	Token          string
	User, Password string
	// MaxBytes bounds a response body; zero means 64 MiB.
	MaxBytes int64
}

// RemoteError is a non-2xx answer of a TAXII server.
type RemoteError struct {
	Status int
	Body   Error
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("taxii server answered %d: %s %s", e.Status, e.Body.Title, e.Body.Description)
}

// ObjectsPage is what one GET objects answered.
type ObjectsPage struct {
	Envelope
	// DateAddedFirst and DateAddedLast are the X-TAXII-Date-Added headers,
	// zero when absent.
	DateAddedFirst, DateAddedLast time.Time
}

// Objects reads one page of a remote collection's objects.
func (c *Client) Objects(ctx context.Context, collection string, addedAfter time.Time, next string, limit int) (*ObjectsPage, error) {
	q := url.Values{}
	if !addedAfter.IsZero() {
		q.Set("added_after", FormatTime(addedAfter))
	}
	if next != "" {
		q.Set("next", next)
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	u := strings.TrimSuffix(c.Root, "/") + "/collections/" + url.PathEscape(collection) + "/objects/"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var p ObjectsPage
	h, err := c.get(ctx, u, &p.Envelope)
	if err != nil {
		return nil, err
	}
	for _, x := range []struct {
		name string
		t    *time.Time
	}{{"X-TAXII-Date-Added-First", &p.DateAddedFirst}, {"X-TAXII-Date-Added-Last", &p.DateAddedLast}} {
		if v := h.Get(x.name); v != "" {
			t, err := ParseTime(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", x.name, err)
			}
			*x.t = t
		}
	}
	return &p, nil
}

// Collections lists the remote API root's collections.
func (c *Client) Collections(ctx context.Context) ([]*Collection, error) {
	var cs Collections
	if _, err := c.get(ctx, strings.TrimSuffix(c.Root, "/")+"/collections/", &cs); err != nil {
		return nil, err
	}
	return cs.Collections, nil
}

func (c *Client) get(ctx context.Context, u string, v any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("taxii get: %w", err)
	}
	req.Header.Set("Accept", MediaTAXII)
	switch {
	case c.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.Token)
	case c.User != "":
		req.SetBasicAuth(c.User, c.Password)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("taxii get: %w", err)
	}
	defer resp.Body.Close()
	limit := c.MaxBytes
	if limit <= 0 {
		limit = 64 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("taxii get %s: %w", u, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("taxii get %s: response over %d bytes", u, limit)
	}
	if resp.StatusCode/100 != 2 {
		re := &RemoteError{Status: resp.StatusCode}
		_ = json.Unmarshal(body, &re.Body) // a body that is no TAXII error leaves it empty
		return nil, re
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, fmt.Errorf("taxii get %s: %w", u, err)
	}
	return resp.Header, nil
}

// Sync pulls a remote collection into a local one, on behalf of a member.
type Sync struct {
	Client *Client
	Remote string // the remote collection's ID
	Store  Store
	Member string // the local member that pulls
	Local  string // the local collection written to
	Name   string // names the sync state; unique within the member
	Limit  int    // page size asked; zero means 1000
	Now    func() time.Time
	Logger *slog.Logger
	// Check, if set, validates each page's objects as the local server's
	// POST does (the STIX codec): it returns the reason each refused object
	// is refused, by index. Refused objects are counted and not stored.
	Check func(objects []json.RawMessage) map[int]string
}

// Result counts one run's work.
type Result struct {
	Pages    int `json:"pages"`
	Objects  int `json:"objects"`  // versions stored
	Held     int `json:"held"`     // versions received that were already held
	Rejected int `json:"rejected"` // objects refused (not STIX, or by the store)
}

// Run pulls until the remote has nothing more, saving where it stands after
// every page, so that an interrupted run resumes after the last page
// stored. Versions already held are not stored again.
func (s *Sync) Run(ctx context.Context) (Result, error) {
	var res Result
	st, err := s.Store.SyncState(ctx, s.Member, s.Name)
	if err != nil {
		return res, err
	}
	limit := s.Limit
	if limit <= 0 {
		limit = 1000
	}
	for {
		p, err := s.Client.Objects(ctx, s.Remote, st.AddedAfter, st.Next, limit)
		if re, ok := errors.AsType[*RemoteError](err); ok && re.Status == http.StatusBadRequest && st.Next != "" {
			// The remote no longer takes the cursor (a new key, say):
			// restart the query from the newest object taken, a
			// microsecond early, since objects added in the same instant
			// may not all have been read; duplicates are not stored twice.
			s.log(ctx, "cursor refused, resuming from the last date_added", "err", err)
			st.Next, st.AddedAfter = "", st.LastAdded.Add(-time.Microsecond)
			if st.LastAdded.IsZero() {
				st.AddedAfter = time.Time{}
			}
			continue
		}
		if err != nil {
			return res, fmt.Errorf("sync %s: %w", s.Name, err)
		}
		res.Pages++
		var refused map[int]string
		if s.Check != nil && len(p.Objects) > 0 {
			refused = s.Check(p.Objects)
		}
		objs := make([]Object, 0, len(p.Objects))
		for i, raw := range p.Objects {
			if reason, ok := refused[i]; ok {
				res.Rejected++
				s.log(ctx, "remote object refused", "index", i, "reason", reason)
				continue
			}
			o, err := ParseObject(raw)
			if err != nil {
				res.Rejected++
				s.log(ctx, "remote object rejected", "index", i, "err", err)
				continue
			}
			objs = append(objs, o)
		}
		if len(objs) > 0 {
			outs, err := s.Store.AddObjects(ctx, s.Member, s.Local, objs, s.Now())
			if err != nil {
				return res, fmt.Errorf("sync %s: %w", s.Name, err)
			}
			for _, o := range outs {
				switch {
				case o.Err != nil:
					res.Rejected++
				case o.Held:
					res.Held++
				default:
					res.Objects++
				}
			}
		}
		st.Pulled += int64(len(objs))
		if p.DateAddedLast.After(st.LastAdded) {
			st.LastAdded = p.DateAddedLast
		}
		if p.More && p.Next != "" {
			st.Next = p.Next
		} else {
			// The query is done: the next run asks what came after the
			// newest object taken.
			st.Next = ""
			if !st.LastAdded.IsZero() {
				st.AddedAfter = st.LastAdded.Add(-time.Microsecond)
			}
		}
		if err := s.Store.SaveSyncState(ctx, s.Member, st); err != nil {
			return res, fmt.Errorf("sync %s: %w", s.Name, err)
		}
		if st.Next == "" {
			return res, nil
		}
	}
}

// Loop runs the sync every interval until ctx ends. A failed run is retried
// sooner, after a backoff that doubles from a second up to the interval,
// with jitter so that members do not retry in step.
func (s *Sync) Loop(ctx context.Context, interval time.Duration) error {
	backoff := time.Second
	for {
		res, err := s.Run(ctx)
		wait := interval
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			wait = min(backoff, interval)
			wait = wait/2 + rand.N(wait/2+1)
			backoff = min(2*backoff, interval)
			s.log(ctx, "sync failed", "err", err, "retry_in", wait)
		} else {
			backoff = time.Second
			if s.Logger != nil {
				s.Logger.InfoContext(ctx, "taxii sync", "name", s.Name, "pages", res.Pages, "objects", res.Objects, "held", res.Held, "rejected", res.Rejected)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (s *Sync) log(ctx context.Context, msg string, args ...any) {
	if s.Logger != nil {
		s.Logger.WarnContext(ctx, msg, append([]any{"name", s.Name}, args...)...)
	}
}
