package taxii

import (
	"context"
	"encoding/json"
	"time"
)

// Record is one stored version of an object.
type Record struct {
	ID          string
	Type        string
	SpecVersion string
	Version     time.Time
	DateAdded   time.Time
	Seq         int64           // insertion order, the tie-break of paging
	Raw         json.RawMessage // empty when the query asked NoRaw
}

// MediaType is the STIX media type of the record's spec version.
func (r *Record) MediaType() string { return "application/stix+json;version=" + r.SpecVersion }

// Page is the result of a query: records in date_added order, and whether
// more match after them.
type Page struct {
	Records []Record
	More    bool
}

// Outcome is what became of one object of an AddObjects call. Err is nil
// when the version is stored, including when it was already there.
type Outcome struct {
	ID      string
	Version time.Time
	Held    bool // the collection already held this version
	Err     error
}

// SyncState is where a pull from a remote collection stands. A pull
// resumes with Next, a cursor of the remote's query that started at
// AddedAfter, while the remote accepts it; else from LastAdded, the newest
// date_added taken, as the remote reported it.
type SyncState struct {
	Name       string // the sync's name, unique within the member
	AddedAfter time.Time
	Next       string
	LastAdded  time.Time
	Pulled     int64 // objects taken so far
	UpdatedAt  time.Time
}

// Store keeps TAXII collections and their objects. Every method that reads
// or writes objects takes the calling member's ID and answers only within
// the collections that member may read (or write); another member's status
// or a collection it may not see is ENOTFOUND.
type Store interface {
	// CreateCollection creates a collection, with a new ID if c.ID is empty.
	// It grants nothing; Grant gives members their rights.
	CreateCollection(ctx context.Context, c *Collection) error
	// Grant sets a member's rights on a collection; both false revokes.
	Grant(ctx context.Context, collectionID, memberID string, read, write bool) error
	// ListCollections returns the collections the member may read or write.
	ListCollections(ctx context.Context, memberID string) ([]*Collection, error)
	// FindCollection returns one collection the member may read or write.
	FindCollection(ctx context.Context, memberID, collectionID string) (*Collection, error)
	// AddObjects stores object versions into a collection the member may
	// write, each with date_added now. A version already in the collection
	// (same id and version) is kept as it was and counts as a success. One
	// object's failure does not stop the others.
	AddObjects(ctx context.Context, memberID, collectionID string, objs []Object, now time.Time) ([]Outcome, error)
	// QueryObjects returns a page of the versions matching q in a collection
	// the member may read.
	QueryObjects(ctx context.Context, memberID, collectionID string, q Query) (*Page, error)
	// DeleteObject deletes the versions of object id matching f that the
	// member added, in a collection it may read and write, and returns how
	// many it deleted.
	DeleteObject(ctx context.Context, memberID, collectionID, id string, f Filter) (int, error)
	// CreateStatus stores the status of a member's POST to a collection,
	// with a new ID if s.ID is empty.
	CreateStatus(ctx context.Context, memberID, collectionID string, s *Status) error
	// FindStatus returns a status of the member.
	FindStatus(ctx context.Context, memberID, id string) (*Status, error)
	// SyncState returns a member's pull state by name, zero if none.
	SyncState(ctx context.Context, memberID, name string) (*SyncState, error)
	// SaveSyncState records where a member's pull stands.
	SaveSyncState(ctx context.Context, memberID string, s *SyncState) error
}
