package taxii

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// VersionMatch is match[version]: any of first, last and given versions,
// or all of them.
type VersionMatch struct {
	All, First, Last bool
	Times            []time.Time
}

// Filter selects object versions of a collection.
type Filter struct {
	AddedAfter   time.Time // exclusive; zero: from the start
	IDs          []string
	Types        []string
	SpecVersions []string // empty: each object's latest spec version
	Versions     VersionMatch
}

// Position is where a page ended, in the collection's order: date_added,
// then the store's insertion sequence.
type Position struct {
	DateAdded time.Time
	Seq       int64
}

// Query is a filter with paging.
type Query struct {
	Filter
	Limit int       // at least 1
	After *Position // from a next cursor; nil on the first page
	// NoRaw leaves Record.Raw empty, for answers that do not carry objects
	// (manifest, versions).
	NoRaw bool
}

// Endpoint names what a query is for; each endpoint accepts its own filters.
type Endpoint int

const (
	EndpointObjects  Endpoint = iota // GET objects/, GET manifest/
	EndpointObject                   // GET objects/{id}/
	EndpointVersions                 // GET objects/{id}/versions/
	EndpointDelete                   // DELETE objects/{id}/
)

// Limits of a query's parameters, so that a URL cannot make the store build
// an unbounded statement.
const (
	maxMatchValues = 100
	maxParamBytes  = 8 << 10
)

// ParseFilter reads the filter parameters of an endpoint from a query
// string. Unknown match[...] fields and filters the endpoint does not take
// are errors; other parameters are ignored, as TAXII asks. limit and next
// are read by ParseQuery.
func ParseFilter(v url.Values, ep Endpoint) (Filter, error) {
	var f Filter
	for key, vals := range v {
		if len(vals) > 1 {
			return f, fmt.Errorf("parameter %s is given %d times", key, len(vals))
		}
		if len(vals[0]) > maxParamBytes {
			return f, fmt.Errorf("parameter %s is over %d bytes", key, maxParamBytes)
		}
		allowed := true
		switch key {
		case "added_after":
			allowed = ep != EndpointDelete
			t, err := ParseTime(vals[0])
			if err != nil {
				return f, fmt.Errorf("added_after: %w", err)
			}
			f.AddedAfter = t
		case "limit", "next":
			allowed = ep != EndpointDelete
		case "match[id]":
			allowed = ep == EndpointObjects
			ids, err := splitList(key, vals[0])
			if err != nil {
				return f, err
			}
			for _, id := range ids {
				if !ValidID(id) {
					return f, fmt.Errorf("match[id]: %q is not a STIX id", id)
				}
			}
			f.IDs = ids
		case "match[type]":
			allowed = ep == EndpointObjects
			types, err := splitList(key, vals[0])
			if err != nil {
				return f, err
			}
			for _, t := range types {
				if !ValidType(t) {
					return f, fmt.Errorf("match[type]: %q is not a STIX type", t)
				}
			}
			f.Types = types
		case "match[version]":
			allowed = ep != EndpointVersions
			vm, err := parseVersions(vals[0])
			if err != nil {
				return f, err
			}
			f.Versions = vm
		case "match[spec_version]":
			svs, err := splitList(key, vals[0])
			if err != nil {
				return f, err
			}
			for _, sv := range svs {
				if sv != "2.0" && sv != "2.1" {
					return f, fmt.Errorf("match[spec_version]: %q is neither 2.0 nor 2.1", sv)
				}
			}
			f.SpecVersions = svs
		default:
			if strings.HasPrefix(key, "match[") {
				return f, fmt.Errorf("filter %s is not supported", key)
			}
		}
		if !allowed {
			return f, fmt.Errorf("filter %s does not apply to this endpoint", key)
		}
	}
	if _, ok := v["match[version]"]; !ok {
		// TAXII's defaults: the latest version, except when listing versions
		// or deleting, which take every version.
		switch ep {
		case EndpointVersions, EndpointDelete:
			f.Versions.All = true
		default:
			f.Versions.Last = true
		}
	}
	return f, nil
}

func splitList(key, s string) ([]string, error) {
	parts := strings.Split(s, ",")
	if len(parts) > maxMatchValues {
		return nil, fmt.Errorf("%s: more than %d values", key, maxMatchValues)
	}
	out := parts[:0]
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("%s: empty value", key)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

func parseVersions(s string) (VersionMatch, error) {
	var vm VersionMatch
	parts, err := splitList("match[version]", s)
	if err != nil {
		return vm, err
	}
	for _, p := range parts {
		switch p {
		case "all":
			vm.All = true
		case "first":
			vm.First = true
		case "last":
			vm.Last = true
		default:
			t, err := ParseTime(p)
			if err != nil {
				return vm, fmt.Errorf("match[version]: %q is not first, last, all or a timestamp", p)
			}
			vm.Times = append(vm.Times, t)
		}
	}
	if vm.All { // all includes every other choice
		vm = VersionMatch{All: true}
	}
	return vm, nil
}

// ParseQuery reads an endpoint's filter, limit and next. A limit over
// maxLimit is lowered to it; no limit means maxLimit. The cursor must have
// been issued by cursors for the same scope and filter.
func ParseQuery(v url.Values, ep Endpoint, maxLimit int, cursors *Cursors, scope string) (Query, error) {
	f, err := ParseFilter(v, ep)
	if err != nil {
		return Query{}, err
	}
	q := Query{Filter: f, Limit: maxLimit}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return Query{}, fmt.Errorf("limit %q is not a positive integer", s)
		}
		q.Limit = min(n, maxLimit)
	}
	if s := v.Get("next"); s != "" {
		p, err := cursors.Decode(scope, f, s)
		if err != nil {
			return Query{}, err
		}
		q.After = &p
	}
	return q, nil
}

// canonical writes f in one form whatever the order of the query string, so
// that a cursor binds to the filter it was issued for.
func (f Filter) canonical() string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(f.AddedAfter.UnixMicro(), 10))
	for _, l := range [][]string{f.IDs, f.Types, f.SpecVersions} {
		s := slices.Clone(l)
		slices.Sort(s)
		b.WriteByte('|')
		b.WriteString(strings.Join(s, ","))
	}
	fmt.Fprintf(&b, "|%t%t%t", f.Versions.All, f.Versions.First, f.Versions.Last)
	ts := make([]int64, len(f.Versions.Times))
	for i, t := range f.Versions.Times {
		ts[i] = t.UnixMicro()
	}
	slices.Sort(ts)
	for _, t := range ts {
		b.WriteByte(',')
		b.WriteString(strconv.FormatInt(t, 10))
	}
	return b.String()
}
