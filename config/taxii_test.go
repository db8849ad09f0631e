package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestTAXIIKeys(t *testing.T) {
	const col = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"
	pull := []string{"OCCSIMORE_TAXII_PULL_URL=https://peer.example/taxii2/lab/", "OCCSIMORE_TAXII_PULL_COLLECTION=" + col,
		"OCCSIMORE_TAXII_PULL_INTO=" + col, "OCCSIMORE_TAXII_PULL_MEMBER=bank"}
	c, err := Load("", append(pull, "OCCSIMORE_TAXII_PULL_EVERY=30s", "OCCSIMORE_TAXII_MAX_PAGE_SIZE=500"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.TAXII.Enabled || c.TAXII.Root != "lab" || c.TAXII.MaxPageSize != 500 || c.TAXII.PullEvery.D().Seconds() != 30 || c.TAXII.PullMember != "bank" {
		t.Fatalf("taxii = %+v", c.TAXII)
	}
	// The cursor key is a secret: its _FILE variant works.
	key := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := Load("", []string{"OCCSIMORE_TAXII_CURSOR_KEY_FILE=" + key}); err != nil || c.TAXII.CursorKey != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("cursor key from file: %q, %v", c.TAXII.CursorKey, err)
	}
	for _, tc := range []struct {
		env []string
		key string
	}{
		{[]string{"OCCSIMORE_TAXII_ROOT=a/b"}, "taxii.root"},
		{[]string{"OCCSIMORE_TAXII_CURSOR_KEY=short"}, "taxii.cursor_key"},
		{[]string{"OCCSIMORE_TAXII_MAX_PAGE_SIZE=0"}, "taxii.max_page_size"},
		{[]string{"OCCSIMORE_TAXII_MAX_CONCURRENT=0"}, "taxii.max_concurrent"},
		{[]string{"OCCSIMORE_TAXII_MAX_CONTENT_LENGTH=10"}, "taxii.max_content_length"},
		{[]string{"OCCSIMORE_TAXII_PULL_URL=ftp://peer/"}, "taxii.pull_url"},
		{append(pull[:1:1], "OCCSIMORE_TAXII_PULL_INTO="+col, "OCCSIMORE_TAXII_PULL_MEMBER=bank"), "taxii.pull_collection"},
		{append(pull[:2:2], "OCCSIMORE_TAXII_PULL_MEMBER=bank"), "taxii.pull_into"},
		{pull[:3], "taxii.pull_member"},
		{append(pull[:4:4], "OCCSIMORE_TAXII_PULL_EVERY=1s"), "taxii.pull_every"},
	} {
		_, err := Load("", tc.env)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("Load(%v) = %v, want an error about %s", tc.env, err, tc.key)
		}
	}
}
