package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/occsimore/occsimore/share"
	"github.com/occsimore/occsimore/stix"
	"github.com/occsimore/occsimore/taxii"
)

// Sharing configures what this server's members share with the consortium
// and the anticipation of what the others shared (docs/sharing.md).
type Sharing struct {
	// Enabled publishes members' attacks and fraud labels into Collection
	// and matches events against the indicators of every collection a
	// member may read.
	Enabled bool `toml:"enabled"`
	// Collection is the sharing group's local collection (a UUID) members
	// publish into; empty publishes nothing (matching still runs).
	Collection string `toml:"collection"`
	// The consortium HMAC key (at least 32 characters; use the _FILE
	// variable), in force from KeySince; the previous key stays accepted
	// for KeyOverlap after that.
	KeyID         string   `toml:"key_id"`
	Key           string   `toml:"key"`
	KeySince      string   `toml:"key_since"` // RFC 3339; empty: always
	PreviousKeyID string   `toml:"previous_key_id"`
	PreviousKey   string   `toml:"previous_key"`
	KeyOverlap    Duration `toml:"key_overlap"`
	// Policy is the TLP per indicator kind, e.g. "ip=green,terminal=green";
	// a kind not named, or named red, is not shared.
	Policy      string   `toml:"policy"`
	Delay       Duration `toml:"delay"`
	Validity    Duration `toml:"validity"`
	Granularity string   `toml:"granularity"` // exact, hour or day
	Anonymous   bool     `toml:"anonymous"`
	// RefreshEvery is how often received objects are read into the
	// members' indexes; BanFor bounds a consortium ban; MaxObjects bounds
	// the objects kept per member.
	RefreshEvery Duration `toml:"refresh_every"`
	BanFor       Duration `toml:"ban_for"`
	MaxObjects   int      `toml:"max_objects"`
}

func defaultSharing() Sharing {
	return Sharing{KeyID: "k1", KeyOverlap: Duration(24 * time.Hour),
		Policy:   "ip=green,cidr=green,terminal=green,merchant=green,device=green",
		Validity: Duration(30 * 24 * time.Hour), Granularity: "day", RefreshEvery: Duration(30 * time.Second),
		BanFor: Duration(24 * time.Hour), MaxObjects: 200_000}
}

// Keyring is the consortium keyring the keys make.
func (s *Sharing) Keyring() (*share.Keyring, error) {
	var since time.Time
	if s.KeySince != "" {
		t, err := time.Parse(time.RFC3339, s.KeySince)
		if err != nil {
			return nil, fmt.Errorf("sharing.key_since: %q is not an RFC 3339 time", s.KeySince)
		}
		since = t
	}
	keys := []share.Key{{ID: s.KeyID, Secret: []byte(s.Key), NotBefore: since}}
	if s.PreviousKey != "" {
		if since.IsZero() {
			return nil, fmt.Errorf("sharing.key_since: required with a previous key")
		}
		keys = append(keys, share.Key{ID: s.PreviousKeyID, Secret: []byte(s.PreviousKey), NotBefore: time.Unix(0, 0).UTC()})
	}
	return share.NewKeyring(s.KeyOverlap.D(), keys...)
}

// TLPs reads the policy: the TLP of each shared kind (red ones included,
// which the member's policy then drops).
func (s *Sharing) TLPs() (map[share.Kind]stix.TLP, error) {
	out := map[share.Kind]stix.TLP{}
	for _, part := range strings.Split(s.Policy, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, t, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not kind=tlp", part)
		}
		kind := share.Kind(strings.TrimSpace(k))
		if !validKind(kind) {
			return nil, fmt.Errorf("kind %q is unknown", kind)
		}
		if kind == share.KindCard || kind == share.KindAccount || kind == share.KindCustomer {
			return nil, fmt.Errorf("%s values would travel as HMAC tokens, which any key holder can enumerate over so small a space; they are not shared (docs/sharing.md)", kind)
		}
		tlp, err := stix.ParseTLP(strings.TrimSpace(t))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		out[kind] = tlp
	}
	return out, nil
}

func validKind(k share.Kind) bool {
	for _, x := range share.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

func (s *Sharing) validate(bad func(key, format string, args ...any) error) error {
	if !s.Enabled {
		return nil
	}
	if _, err := s.TLPs(); err != nil {
		return bad("sharing.policy", "%v", err)
	}
	switch {
	case s.Collection != "" && !taxii.ValidUUID(s.Collection):
		return bad("sharing.collection", "%q must be a local collection's id (a UUID)", s.Collection)
	case len(s.Key) < share.MinSecret:
		return bad("sharing.key", "must be at least %d characters (use OCCSIMORE_SHARING_KEY_FILE)", share.MinSecret)
	case s.Granularity != "exact" && s.Granularity != "hour" && s.Granularity != "day":
		return bad("sharing.granularity", "%q must be exact, hour or day", s.Granularity)
	case s.Delay.D() < 0 || s.Validity.D() <= 0:
		return bad("sharing.validity", "delay must not be negative and validity must be positive")
	case s.RefreshEvery.D() < 100*time.Millisecond:
		return bad("sharing.refresh_every", "%s must be at least 100ms", s.RefreshEvery.D())
	case s.MaxObjects < 1:
		return bad("sharing.max_objects", "%d must be positive", s.MaxObjects)
	}
	if _, err := s.Keyring(); err != nil {
		return bad("sharing.key", "%v", err)
	}
	return nil
}
