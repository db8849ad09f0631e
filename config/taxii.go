package config

import (
	"net/url"
	"time"

	"github.com/occsimore/occsimore/taxii"
)

// TAXII configures the TAXII 2.1 endpoints under /taxii2/ and the scheduled
// pull from a peer's collection.
type TAXII struct {
	// Enabled serves the endpoints (they need a member token like /v1).
	Enabled bool `toml:"enabled"`
	// Root names the API root: /taxii2/<root>/.
	Root        string `toml:"root"`
	Title       string `toml:"title"`
	Description string `toml:"description"`
	Contact     string `toml:"contact"`
	// PublicURL is the base of the URLs discovery lists, e.g.
	// https://lab.example; empty builds them from the request's Host.
	PublicURL string `toml:"public_url"`
	// CursorKey signs next cursors (at least 32 characters; use the _FILE
	// variable). Nodes behind one address need the same key. Empty: a
	// random key per process, so cursors do not survive a restart and
	// clients resume from added_after.
	CursorKey        string `toml:"cursor_key"`
	MaxPageSize      int    `toml:"max_page_size"`
	MaxContentLength int64  `toml:"max_content_length"`
	// MaxConcurrent bounds one member's TAXII requests in progress.
	MaxConcurrent int `toml:"max_concurrent"`

	// A scheduled pull: every PullEvery, the server pulls the collection
	// PullCollection of the API root PullURL into its collection PullInto,
	// on behalf of the member PullMember (slug), authenticating with
	// PullToken (an occsimore token of the peer) or PullUser and
	// PullPassword (HTTP basic). Empty PullURL: no scheduled pull.
	PullURL        string   `toml:"pull_url"`
	PullCollection string   `toml:"pull_collection"`
	PullInto       string   `toml:"pull_into"`
	PullMember     string   `toml:"pull_member"`
	PullToken      string   `toml:"pull_token"`
	PullUser       string   `toml:"pull_user"`
	PullPassword   string   `toml:"pull_password"`
	PullEvery      Duration `toml:"pull_every"`
}

// defaultTAXII is the TAXII part of DefaultConfig.
func defaultTAXII() TAXII {
	return TAXII{Enabled: true, Root: "lab", Title: "occsimore", MaxPageSize: 1000, MaxContentLength: 10 << 20,
		MaxConcurrent: 4, PullEvery: Duration(5 * time.Minute)}
}

func (t *TAXII) validate(bad func(key, format string, args ...any) error) error {
	switch {
	case t.Root == "" || len(t.Root) > 64 || url.PathEscape(t.Root) != t.Root:
		return bad("taxii.root", "%q must be a non-empty path segment of at most 64 characters", t.Root)
	case t.CursorKey != "" && len(t.CursorKey) < 32:
		return bad("taxii.cursor_key", "must be at least 32 characters (or empty for a random key per process)")
	case t.MaxPageSize < 1 || t.MaxPageSize > 10_000:
		return bad("taxii.max_page_size", "%d must be between 1 and 10000", t.MaxPageSize)
	case t.MaxContentLength < 1024 || t.MaxContentLength > 1<<30:
		return bad("taxii.max_content_length", "%d must be between 1024 and 1073741824", t.MaxContentLength)
	case t.MaxConcurrent < 1 || t.MaxConcurrent > 1000:
		return bad("taxii.max_concurrent", "%d must be between 1 and 1000", t.MaxConcurrent)
	}
	if t.PullURL == "" {
		return nil
	}
	switch u, err := url.Parse(t.PullURL); {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return bad("taxii.pull_url", "%q must be the http(s) URL of an API root", t.PullURL)
	case !taxii.ValidUUID(t.PullCollection):
		return bad("taxii.pull_collection", "%q must be the remote collection's id (a UUID)", t.PullCollection)
	case !taxii.ValidUUID(t.PullInto):
		return bad("taxii.pull_into", "%q must be a local collection's id (a UUID)", t.PullInto)
	case t.PullMember == "":
		return bad("taxii.pull_member", "must name the member (slug) that pulls")
	case t.PullEvery.D() < 10*time.Second:
		return bad("taxii.pull_every", "%s must be at least 10s", t.PullEvery.D())
	}
	return nil
}
