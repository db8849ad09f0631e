// Package ingest turns bytes into occsimore.Events: strict JSON for one event,
// NDJSON and CSV streams for batches, and labelled files for training. (The
// compact binary form the journal stores is the journal's own codec.)
//
// The package is pure: it reads only the []byte or io.Reader it is given.
// Decoders reuse the slices and maps of the event they decode into, so the
// hot ingest path allocates little more than the event's own strings.
package ingest
