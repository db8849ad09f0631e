package geoip_test

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/geoip"
)

// dbDir returns the directory of the fetched databases, skipping the test
// when they are missing, except in CI, where a missing database must fail
// the build.
func dbDir(t testing.TB) string {
	t.Helper()
	dir := envDir()
	for _, name := range []string{geoip.CountryFile, geoip.ASNv4File, geoip.ASNv6File} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			msg := "GeoIP databases not found in " + dir + "; fetch them with: bash scripts/geoip.sh"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg + " (CI=true: GeoIP tests must not be skipped)")
			}
			t.Skip(msg)
		}
	}
	return dir
}

// sharedDB opens the databases once for all tests: loading the ASN ranges
// takes most of a second, and much longer under the race detector.
var sharedDB = sync.OnceValues(func() (*geoip.DB, error) { return geoip.Open(envDir()) })

// envDir is OCCSIMORE_GEOIP_DIR, or the directory scripts/geoip.sh fills.
func envDir() string {
	if dir := os.Getenv("OCCSIMORE_GEOIP_DIR"); dir != "" {
		return dir
	}
	return filepath.Join("..", geoip.DefaultDir)
}

func openDB(t testing.TB) *geoip.DB {
	t.Helper()
	dbDir(t)
	db, err := sharedDB()
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestLookup(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	for _, tc := range []struct {
		addr string
		want geoip.Info
	}{
		{"8.8.8.8", geoip.Info{Country: "US", ASN: 15169, ASOrg: "Google LLC"}},
		{"::ffff:8.8.8.8", geoip.Info{Country: "US", ASN: 15169, ASOrg: "Google LLC"}},
		{"1.1.1.1", geoip.Info{Country: "AU", ASN: 13335, ASOrg: "Cloudflare, Inc."}},
		// The edges of a range: 1.1.1.0-1.1.1.255 is Cloudflare.
		{"1.1.1.0", geoip.Info{Country: "AU", ASN: 13335, ASOrg: "Cloudflare, Inc."}},
		{"1.1.1.255", geoip.Info{Country: "AU", ASN: 13335, ASOrg: "Cloudflare, Inc."}},
		{"2001:4860:4860::8888", geoip.Info{Country: "US", ASN: 15169, ASOrg: "Google LLC"}},
		{"2a00:1450::1", geoip.Info{Country: "IE"}},
		{"81.2.69.142", geoip.Info{Country: "GB"}},
		{"10.0.0.1", geoip.Info{}},
		{"127.0.0.1", geoip.Info{}},
		{"fe80::1%eth0", geoip.Info{}},
	} {
		got, err := db.Lookup(netip.MustParseAddr(tc.addr))
		if err != nil {
			t.Fatalf("Lookup(%s): %v", tc.addr, err)
		}
		// Only the country is asserted where the ASN owner may change hands.
		if tc.want.ASN == 0 && tc.want.Country != "" {
			got.ASN, got.ASOrg = 0, ""
		}
		if got != tc.want {
			t.Errorf("Lookup(%s) = %+v, want %+v", tc.addr, got, tc.want)
		}
	}
}

func TestLookupInvalid(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	_, err := db.Lookup(netip.Addr{})
	if got, want := occsimore.ErrorCode(err), occsimore.EINVALID; got != want {
		t.Fatalf("Lookup(invalid) code = %q, want %q (err %v)", got, want, err)
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	db := openDB(t)
	addrs := []netip.Addr{
		netip.MustParseAddr("8.8.8.8"),
		netip.MustParseAddr("2001:4860:4860::8888"),
		netip.MustParseAddr("10.1.2.3"),
	}
	for _, a := range addrs { // first sight of each country record decodes it
		if _, err := db.Lookup(a); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, a := range addrs {
			if _, err := db.Lookup(a); err != nil {
				t.Fatal(err)
			}
		}
	})
	if got, want := allocs, 0.0; got != want {
		t.Fatalf("Lookup allocates %v times per run, want %v", got, want)
	}
}

func TestOpenMissing(t *testing.T) {
	t.Parallel()
	_, err := geoip.Open(t.TempDir())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open(empty dir) = %v, want an error wrapping fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), "scripts/geoip.sh") {
		t.Fatalf("Open(empty dir) error %q does not point to scripts/geoip.sh", err)
	}
}

// TestMissingDatabase runs this test binary again on an empty directory: the
// database tests must skip with a hint, except under CI=true, where they
// must fail.
func TestMissingDatabase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ci       string
		wantFail bool
	}{
		{"", false},
		{"true", true},
	} {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestLookup$", "-test.v")
		cmd.Env = append(os.Environ(), "OCCSIMORE_GEOIP_DIR="+t.TempDir(), "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if got := err != nil; got != tc.wantFail {
			t.Fatalf("CI=%q: failed = %v, want %v; output:\n%s", tc.ci, got, tc.wantFail, out)
		}
		if !strings.Contains(string(out), "scripts/geoip.sh") {
			t.Fatalf("CI=%q: output does not point to scripts/geoip.sh:\n%s", tc.ci, out)
		}
		if !tc.wantFail && !strings.Contains(string(out), "--- SKIP: TestLookup") {
			t.Fatalf("CI unset: TestLookup did not skip:\n%s", out)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	db := openDB(b)
	addrs := []netip.Addr{
		netip.MustParseAddr("8.8.8.8"),
		netip.MustParseAddr("1.1.1.1"),
		netip.MustParseAddr("81.2.69.142"),
		netip.MustParseAddr("203.0.113.9"),
		netip.MustParseAddr("2001:4860:4860::8888"),
		netip.MustParseAddr("2a00:1450::1"),
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := db.Lookup(addrs[i%len(addrs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkOpen(b *testing.B) {
	dir := dbDir(b)
	for b.Loop() {
		db, err := geoip.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}
