// Package geoip tells the country and the autonomous system of an IP
// address, from two free databases published on npm by the ip-location-db
// project and fetched by scripts/geoip.sh (never committed):
//
//   - @ip-location-db/geo-whois-asn-country-mmdb (CC0): country, as a MaxMind
//     DB file read with maxminddb-golang;
//   - @ip-location-db/asn (CC BY 4.0: RouteViews, DB-IP, NRO; credit them
//     where the ASN is shown): AS number and organisation, as CSV ranges,
//     loaded into memory. The project's MaxMind-format ASN package
//     (asn-mmdb) is no longer published on npm.
//
// Open takes the directory that holds the three files under the names
// CountryFile, ASNv4File and ASNv6File.
package geoip

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"

	"github.com/occsimore/occsimore"
	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// File names inside the database directory, as scripts/geoip.sh lays them out.
const (
	CountryFile = "geo-whois-asn-country.mmdb"
	ASNv4File   = "asn-ipv4.csv"
	ASNv6File   = "asn-ipv6.csv"
)

// DefaultDir is where scripts/geoip.sh puts the files, relative to the
// repository root.
const DefaultDir = "data/geoip"

// Info is what the databases know about an address. The zero Info means
// nothing is known, as for private and reserved ranges.
type Info struct {
	Country string // ISO 3166-1 alpha-2 code, e.g. "FR"; "" when unknown
	ASN     uint32 // 0 when unknown
	ASOrg   string // organisation holding ASN
}

// DB answers lookups. It is safe for concurrent use.
type DB struct {
	country *maxminddb.Reader
	asn     *asnTable

	// Countries by data-record offset: the country database holds a few
	// hundred distinct records, so each is decoded once.
	mu        sync.RWMutex
	countries map[uintptr]string
}

// Open loads the databases in dir. A missing file gives an error that wraps
// fs.ErrNotExist and names scripts/geoip.sh.
func Open(dir string) (*DB, error) {
	for _, name := range []string{CountryFile, ASNv4File, ASNv6File} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return nil, fmt.Errorf("geoip: %w (fetch the databases with scripts/geoip.sh)", err)
		}
	}
	asn, err := loadASN(filepath.Join(dir, ASNv4File), filepath.Join(dir, ASNv6File))
	if err != nil {
		return nil, fmt.Errorf("geoip: %w", err)
	}
	country, err := maxminddb.Open(filepath.Join(dir, CountryFile))
	if err != nil {
		return nil, fmt.Errorf("geoip: open %s: %w", CountryFile, err)
	}
	return &DB{country: country, asn: asn, countries: make(map[uintptr]string)}, nil
}

// Close releases the country database.
func (db *DB) Close() error {
	if err := db.country.Close(); err != nil {
		return fmt.Errorf("geoip: close: %w", err)
	}
	return nil
}

// Lookup returns what is known about addr. An IPv4-mapped IPv6 address is
// looked up as IPv4. An address in neither database gives the zero Info and
// no error; an invalid address gives an EINVALID error. Lookup does not
// allocate once the address's country record has been seen.
func (db *DB) Lookup(addr netip.Addr) (Info, error) {
	if !addr.IsValid() {
		return Info{}, occsimore.Errorf(occsimore.EINVALID, "invalid IP address")
	}
	addr = addr.Unmap().WithZone("")
	var info Info
	info.ASN, info.ASOrg = db.asn.lookup(addr)
	res := db.country.Lookup(addr)
	if err := res.Err(); err != nil {
		return Info{}, fmt.Errorf("geoip: lookup %s: %w", addr, err)
	}
	if !res.Found() {
		return info, nil
	}
	off := res.Offset()
	db.mu.RLock()
	cc, ok := db.countries[off]
	db.mu.RUnlock()
	if !ok {
		var rec countryRecord
		if err := res.Decode(&rec); err != nil {
			return Info{}, fmt.Errorf("geoip: decode country of %s: %w", addr, err)
		}
		cc = rec.code
		db.mu.Lock()
		db.countries[off] = cc
		db.mu.Unlock()
	}
	info.Country = cc
	return info, nil
}

// countryRecord decodes {"country_code": "FR"} without reflection.
type countryRecord struct{ code string }

func (c *countryRecord) UnmarshalMaxMindDBCursor(cur mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	entries, err := cur.Map()
	if err != nil {
		return mmdbdata.Cursor{}, mmdbdata.NormalizeUnmarshalError[countryRecord](err)
	}
	var next mmdbdata.Cursor
	for {
		key, value, ok := entries.Next(next)
		if !ok {
			break
		}
		if string(key) == "country_code" {
			// Two letters; the bound keeps a corrupt file from costing much.
			c.code, next, err = value.ReadStringMaxSize(8)
		} else {
			next, err = value.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	end, err := entries.End()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	if c.code == "" {
		return mmdbdata.Cursor{}, errors.New("record without country_code")
	}
	return end, nil
}
