// Package occsimore holds the shared domain types and the service interfaces
// that adapters implement. It imports nothing outside the standard library.
//
// Every store method that touches a member's objects takes the member ID as an
// explicit argument, so that tenant isolation is enforced by the store's own
// queries and no caller can forget it.
package occsimore

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

// BuildInfo is what the go tool stamped into the binary: the module version
// (a pseudo-version for a build in a git checkout, "dev" when none) and the
// VCS commit, its time and whether the tree had local changes.
type BuildInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Time     string `json:"time,omitempty"` // of the commit
	Modified bool   `json:"modified,omitempty"`
	Date     string `json:"date,omitempty"` // of the build, RFC 3339, when scripts/build stamped it
	Go       string `json:"go"`
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a random identifier with a readable prefix, such as "mem_…".
// 80 random bits make collisions negligible and IDs unguessable.
func NewID(prefix string) string {
	var b [10]byte
	rand.Read(b[:]) // never returns an error (crypto/rand, Go 1.24+)
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// NewSecret returns n random bytes encoded in lowercase base32.
func NewSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return idEncoding.EncodeToString(b)
}

// ValidSlug reports whether s is a lowercase slug: letters, digits and
// hyphens, 2 to 40 characters, starting with a letter.
func ValidSlug(s string) bool {
	if len(s) < 2 || len(s) > 40 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}

// Now is a clock. Services take one so that tests control time.
type Now func() time.Time
