package http

import (
	"strings"
	"testing"
)

func TestETagMatch(t *testing.T) {
	const etag = `"abc"`
	for header, want := range map[string]bool{
		``:                  false,
		`"abc"`:             true,
		`W/"abc"`:           true,
		`*`:                 true,
		` "x" ,  "abc" `:    true,
		`"abcd"`:            false,
		`"ab", "c"`:         false,
		`abc`:               false,
		`"x", W/"y", "abc"`: true,
	} {
		if got := etagMatch(header, etag); got != want {
			t.Errorf("etagMatch(%q) = %v, want %v", header, got, want)
		}
	}
}

// FuzzETagMatch: the tag listed anywhere matches, and a header that holds
// neither the tag nor "*" never does.
func FuzzETagMatch(f *testing.F) {
	for _, s := range []string{"", `"abc"`, `*`, `W/"x", "y"`, `,,,`, "\t\"q\"\t,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		const etag = `"0123abcd"`
		if !etagMatch(header+", "+etag, etag) || !etagMatch(etag+","+header, etag) {
			t.Fatalf("%q with the tag listed does not match", header)
		}
		if !strings.Contains(header, "*") && !strings.Contains(header, etag) && etagMatch(header, etag) {
			t.Fatalf("%q matches without the tag", header)
		}
	})
}
