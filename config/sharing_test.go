package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/occsimore/occsimore/share"
	"github.com/occsimore/occsimore/stix"
)

func TestSharingKeys(t *testing.T) {
	key := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	on := []string{"OCCSIMORE_SHARING_ENABLED=true", "OCCSIMORE_SHARING_KEY_FILE=" + key}
	c, err := Load("", append(on, "OCCSIMORE_SHARING_POLICY=ip=green, terminal=amber, merchant=red"))
	if err != nil {
		t.Fatal(err)
	}
	tlps, err := c.Sharing.TLPs()
	if err != nil || len(tlps) != 3 || tlps[share.KindIP] != stix.TLPGreen || tlps[share.KindTerminal] != stix.TLPAmber || tlps[share.KindMerchant] != stix.TLPRed {
		t.Fatalf("policy = %v, %v", tlps, err)
	}
	kr, err := c.Sharing.Keyring()
	if err != nil || kr.CurrentKeyID(time.Now()) != "k1" {
		t.Fatalf("keyring: %v", err)
	}
	for _, tc := range []struct {
		env []string
		key string
	}{
		{[]string{"OCCSIMORE_SHARING_ENABLED=true", "OCCSIMORE_SHARING_KEY=short"}, "sharing.key"},
		{append(on, "OCCSIMORE_SHARING_POLICY=card=green"), "sharing.policy"},
		{append(on, "OCCSIMORE_SHARING_POLICY=ip=purple"), "sharing.policy"},
		{append(on, "OCCSIMORE_SHARING_POLICY=planet=green"), "sharing.policy"},
		{append(on, "OCCSIMORE_SHARING_COLLECTION=not-a-uuid"), "sharing.collection"},
		{append(on, "OCCSIMORE_SHARING_PREVIOUS_KEY=0123456789abcdef0123456789abcdef", "OCCSIMORE_SHARING_PREVIOUS_KEY_ID=k0"), "sharing.key"},
	} {
		_, err := Load("", tc.env)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%v: %v, want an error about %s", tc.env, err, tc.key)
		}
	}
	// Sharing off, nothing is checked.
	if _, err := Load("", []string{"OCCSIMORE_SHARING_POLICY=card=green"}); err != nil {
		t.Errorf("sharing off: %v", err)
	}
}
