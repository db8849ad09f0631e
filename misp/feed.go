package misp

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/occsimore/occsimore/share"
)

// FileWriter is where a feed goes: a directory (the CLI writes each file
// next to its final name and renames it), a zip or tar writer, or a map in
// tests. Names are flat: "manifest.json", "hashes.csv", "<uuid>.json".
type FileWriter interface {
	WriteFile(name string, data []byte) error
}

// WriteFileFunc adapts a function to FileWriter.
type WriteFileFunc func(name string, data []byte) error

func (f WriteFileFunc) WriteFile(name string, data []byte) error { return f(name, data) }

// ManifestEntry is an event's line in manifest.json: what a MISP instance
// reads to decide whether to fetch the event file.
type ManifestEntry struct {
	Info          string `json:"info"`
	Date          string `json:"date"`
	Analysis      string `json:"analysis"`
	ThreatLevelID string `json:"threat_level_id"`
	Timestamp     string `json:"timestamp"`
	Orgc          *Org   `json:"Orgc,omitempty"`
	Tag           []Tag  `json:"Tag,omitempty"`
}

// Refusal is an indicator or event left out of a feed, and why.
type Refusal struct {
	Event  string // the event's info
	ID     string // the indicator's id; empty when the whole event was left out
	Reason string
}

// FeedResult says what WriteFeed wrote and left out.
type FeedResult struct {
	Events     int
	Attributes int
	Refused    []Refusal
}

// WriteFeed writes a MISP feed for one recipient: share.FilterExport
// decides, indicator by indicator, what the recipient may receive (TLP:RED
// never; AMBER+STRICT and AMBER by organisation and named members; GREEN to
// the consortium; tokens only for customer-linked kinds); each group left
// with indicators becomes a MISP event file <uuid>.json; then hashes.csv
// (md5 of each attribute value, the event uuid) and manifest.json are
// written last, so a consumer that reads the manifest finds every file it
// lists. A group ToEvent refuses is reported in Refused and the others are
// written; the error is the writer's.
func WriteFeed(dst FileWriter, groups []EventInput, to share.Recipient, opt ExportOptions) (*FeedResult, error) {
	res := &FeedResult{}
	manifest := map[string]ManifestEntry{}
	var hashes strings.Builder
	for _, g := range groups {
		kept, refused := share.FilterExport(g.Indicators, to)
		for _, r := range refused {
			res.Refused = append(res.Refused, Refusal{Event: g.Info, ID: r.ID, Reason: r.Reason})
		}
		if len(kept) == 0 {
			res.Refused = append(res.Refused, Refusal{Event: g.Info, Reason: "no indicator of the event may go to this recipient"})
			continue
		}
		g.Indicators = kept
		ev, err := ToEvent(g, opt)
		if err != nil {
			// The group is malformed (mixed sources, a repeated indicator…):
			// the other events still go out.
			res.Refused = append(res.Refused, Refusal{Event: g.Info, Reason: err.Error()})
			continue
		}
		if _, dup := manifest[ev.UUID]; dup {
			res.Refused = append(res.Refused, Refusal{Event: g.Info, Reason: "uuid " + ev.UUID + " is used by another event of the feed"})
			continue
		}
		raw, err := MarshalEvent(ev)
		if err != nil {
			return res, fmt.Errorf("event %q: %w", g.Info, err)
		}
		if err := dst.WriteFile(ev.UUID+".json", raw); err != nil {
			return res, fmt.Errorf("event %s: %w", ev.UUID, err)
		}
		manifest[ev.UUID] = ManifestEntry{Info: ev.Info, Date: ev.Date, Analysis: ev.Analysis, ThreatLevelID: ev.ThreatLevelID,
			Timestamp: ev.Timestamp, Orgc: ev.Orgc, Tag: ev.Tag}
		for _, a := range ev.Attribute {
			writeHashLines(&hashes, a, ev.UUID)
		}
		res.Events++
		res.Attributes += len(ev.Attribute)
	}
	if err := dst.WriteFile("hashes.csv", []byte(hashes.String())); err != nil {
		return res, fmt.Errorf("hashes.csv: %w", err)
	}
	raw, err := marshal(manifest) // encoding/json sorts the map's keys: the same feed gives the same bytes
	if err != nil {
		return res, fmt.Errorf("manifest.json: %w", err)
	}
	if err := dst.WriteFile("manifest.json", raw); err != nil {
		return res, fmt.Errorf("manifest.json: %w", err)
	}
	return res, nil
}

// writeHashLines appends the hashes.csv lines of an attribute: the md5 of
// its value and the event uuid; a composite value (type a|b) gives a line
// per part, as MISP's feed generator does.
func writeHashLines(b *strings.Builder, a Attribute, event string) {
	parts := []string{a.Value}
	if strings.Contains(a.Type, "|") {
		parts = strings.Split(a.Value, "|")
	}
	for _, p := range parts {
		sum := md5.Sum([]byte(p))
		b.WriteString(hex.EncodeToString(sum[:]))
		b.WriteByte(',')
		b.WriteString(event)
		b.WriteByte('\n')
	}
}

// FeedHashes parses hashes.csv: each line's value md5 and event uuid.
func FeedHashes(data []byte) ([][2]string, error) {
	var out [][2]string
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		h, ev, ok := strings.Cut(strings.TrimSuffix(line, "\r"), ",")
		if !ok || len(h) != 32 || !isHex(h) || !validUUID(ev) {
			return nil, fmt.Errorf("hashes.csv line %d: want <md5>,<event uuid>, got %q", i+1, line)
		}
		out = append(out, [2]string{h, ev})
	}
	return out, nil
}

func isHex(s string) bool {
	return !slices.ContainsFunc([]byte(s), func(c byte) bool {
		return !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
	})
}

// FeedMetadata is a feed's entry in MISP's feed list (the format of MISP's
// app/files/feed-metadata/defaults.json): what a MISP administrator imports
// to subscribe to an occsimore feed.
type FeedMetadata struct {
	Name     string // e.g. "occsimore consortium: banking"
	Provider string // the member or lab publishing the feed
	URL      string // where manifest.json is served, without the file name
}

// MarshalFeedMetadata writes the list MISP imports ([{"Feed": {...}}]):
// MISP format over the network; disabled, not published and with
// distribution "your organisation only" until the administrator decides
// otherwise, since the feed's events carry their own TLP and distribution.
func MarshalFeedMetadata(feeds ...FeedMetadata) ([]byte, error) {
	type feed struct {
		Name            string `json:"name"`
		Provider        string `json:"provider"`
		URL             string `json:"url"`
		Rules           string `json:"rules"`
		Enabled         bool   `json:"enabled"`
		Distribution    string `json:"distribution"`
		Default         bool   `json:"default"`
		SourceFormat    string `json:"source_format"`
		FixedEvent      bool   `json:"fixed_event"`
		DeltaMerge      bool   `json:"delta_merge"`
		Publish         bool   `json:"publish"`
		OverrideIDs     bool   `json:"override_ids"`
		Settings        string `json:"settings"`
		InputSource     string `json:"input_source"`
		DeleteLocalFile bool   `json:"delete_local_file"`
		LookupVisible   bool   `json:"lookup_visible"`
	}
	type entry struct {
		Feed feed `json:"Feed"`
	}
	out := make([]entry, 0, len(feeds))
	for _, f := range feeds {
		if f.Name == "" || f.Provider == "" || f.URL == "" {
			return nil, fmt.Errorf("feed metadata needs a name, a provider and a URL (got %+v)", f)
		}
		out = append(out, entry{feed{Name: f.Name, Provider: f.Provider, URL: f.URL,
			Rules:        `{"tags":{"OR":[],"NOT":[]},"orgs":{"OR":[],"NOT":[]}}`,
			Distribution: "0", SourceFormat: "misp", InputSource: "network",
			Settings: `{"csv":{"value":"","delimiter":""},"common":{"excluderegex":""}}`}})
	}
	return marshal(out)
}
