package scenario

import (
	"strings"
	"testing"
)

// The request helpers at their edges (issue 13).
func TestHelperEdges(t *testing.T) {
	long := strings.Repeat("a", 2000)
	for _, tc := range []struct {
		name string
		fn   func(string) bool
		in   string
		want bool
	}{
		{"static", isStatic, "font.woff2", true},     // a 5-byte extension
		{"static", isStatic, "x.WOFF2", true},        // upper case
		{"static", isStatic, "x.abcdef", false},      // 6 bytes: not looked up
		{"static", isStatic, "x.", false},            // empty extension
		{"static", isStatic, "a.b/c.Zs", false},      // Z lowercases to z: "zs" is no extension we know
		{"static", isStatic, "a@.png", true},         // only the extension matters
		{"static", isStatic, "x.[js", false},         // '[' is not a letter to lowercase
		{"sensitive", isSensitiveFile, ".env", true}, // the whole path is the suffix
		{"sensitive", isSensitiveFile, "env", false},
		{"sensitive", isSensitiveFile, "/a/.GIT//", true},
		{"sensitive", isSensitiveFile, "/x?.env", false}, // in the query only
		// Longer than the stack buffer, the needle at the very end.
		{"traversal", isPathTraversal, long + "/etc/passwd", true},
		{"traversal", isPathTraversal, long + "/etc/passw", false},
		// Three rounds of percent-encoding are undone, not four.
		{"traversal", isPathTraversal, "/%25252E%25252E%25252F", true},
		{"traversal", isPathTraversal, "/%2525252E%2525252E%2525252F", false},
		{"traversal", isPathTraversal, "/%zz/../", true}, // bad escapes: the raw text is searched
		{"login", isLoginURL, "/WP-LOGIN.PHP", true},
	} {
		if got := tc.fn(tc.in); got != tc.want {
			t.Errorf("%s(%.40q…) = %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
	if !hasPrefixFold("ABC", "ab") || hasPrefixFold("a", "ab") || !hasPrefixFold("ab", "AB") {
		t.Error("hasPrefixFold")
	}
	if !hasSuffixFold("xAB", "ab") || hasSuffixFold("b", "ab") || !hasSuffixFold("ab", "AB") {
		t.Error("hasSuffixFold")
	}
}
