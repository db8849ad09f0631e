// Package taxii is the TAXII 2.1 protocol without I/O: its resources, media
// types and content negotiation, the object filters (added_after, limit,
// next, match[...]), the opaque paging cursor, and the store interface the
// HTTP endpoints and the sync client use. STIX objects are handled
// generically: the raw JSON plus the few properties TAXII reads (id, type,
// spec_version, created, modified).
//
// The HTTP adapter is in package http (the endpoints) and in client.go (the
// client side of a sync).
package taxii
