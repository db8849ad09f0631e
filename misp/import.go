package misp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/occsimore/occsimore/share"
	"github.com/occsimore/occsimore/stix"
)

// Problem is an attribute or event Import did not turn into an indicator:
// where it is (a JSON Pointer into the document) and why.
type Problem struct {
	Path   string
	Type   string // the attribute's MISP type, when known
	Reason string
}

func (p Problem) String() string { return p.Path + ": " + p.Reason }

// ImportResult is what Import read from a document.
type ImportResult struct {
	Events     int               // events read (even those without an indicator)
	Indicators []share.Indicator // one per supported, valid attribute
	// Rejected lists the invalid attributes and events (a wrong JSON type,
	// a value that is not of its type, a malformed occsimore tag), each
	// with its path and reason; the rest of the document is kept.
	Rejected []Problem
	// Unsupported lists the attributes that are valid MISP but not
	// something occsimore matches (filename, regkey, link, free text…),
	// deleted ones, and those not meant for detection (to_ids false).
	Unsupported []Problem
}

type orgIn struct {
	Name string     `json:"name"`
	UUID flexString `json:"uuid"`
}

// eventHead is what an event says about all its attributes.
type eventHead struct {
	UUID      flexString `json:"uuid"`
	Info      string     `json:"info"`
	Date      string     `json:"date"`
	Timestamp flexString `json:"timestamp"`
	Orgc      *orgIn     `json:"Orgc"`
	Tag       []Tag      `json:"Tag"`
}

// eventIn keeps attributes raw, so that one of the wrong shape is rejected
// alone; eventFast decodes them in the same pass, which is the common case.
type eventIn struct {
	eventHead
	Attribute []json.RawMessage `json:"Attribute"`
	Object    []struct {
		Attribute []json.RawMessage `json:"Attribute"`
	} `json:"Object"`
}

type eventFast struct {
	eventHead
	Attribute []attrIn `json:"Attribute"`
	Object    []struct {
		Attribute []attrIn `json:"Attribute"`
	} `json:"Object"`
}

type attrIn struct {
	UUID      flexString `json:"uuid"`
	Type      string     `json:"type"`
	Category  string     `json:"category"`
	ToIDS     *bool      `json:"to_ids"`
	Timestamp flexString `json:"timestamp"`
	Comment   string     `json:"comment"`
	Value     string     `json:"value"`
	Deleted   bool       `json:"deleted"`
	Tag       []Tag      `json:"Tag"`
	Sighting  []struct {
		Type         flexString `json:"type"`
		DateSighting flexString `json:"date_sighting"`
		Source       string     `json:"source"`
		Organisation *orgIn     `json:"Organisation"`
	} `json:"Sighting"`
}

// Import reads MISP event JSON: one event wrapped as MISP writes it
// ({"Event": {...}}), a bare event object, a list of either, or a
// restSearch answer ({"response": [...]}). Each attribute of a supported
// type (ip-src, ip-dst, domain, hostname, url, md5, sha1, sha256, sha512,
// email-src, email, user-agent, bin, and text attributes occsimore tagged
// with their kind) becomes a share indicator with its TLP (the attribute's
// TLP tag, else the event's, else AMBER+STRICT: unmarked is passed on to
// nobody; a tlp: tag of another value, such as tlp:ex:chr, counts as
// AMBER+STRICT), source (the event's creator organisation, else peer),
// confidence, validity, sightings and attack patterns. An invalid attribute
// is rejected with its path and reason and the rest kept; an unsupported
// one is reported. The error is for a document that is not JSON or holds
// no event.
func Import(data []byte, peer share.Source) (*ImportResult, error) {
	events, err := splitEvents(data)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{}
	for _, e := range events {
		res.Events++
		importEvent(res, e.path, e.raw, peer)
	}
	return res, nil
}

type rawEvent struct {
	path string
	raw  json.RawMessage
}

func splitEvents(data []byte) ([]rawEvent, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("misp: empty document")
	}
	switch data[0] {
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("misp: malformed JSON: %w", err)
		}
		return unwrapList("", list)
	case '{':
	default:
		if !json.Valid(data) {
			return nil, errors.New("misp: malformed JSON")
		}
		return nil, errors.New("misp: a MISP document is a JSON object or list")
	}
	// One pass over the document: its members stay raw until used.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("misp: malformed JSON: %w", err)
	}
	if resp, ok := top["response"]; ok {
		var list []json.RawMessage
		if err := json.Unmarshal(resp, &list); err != nil {
			return nil, fmt.Errorf("misp: /response: want a list of events: %w", err)
		}
		return unwrapList("/response", list)
	}
	ev, err := unwrap("", data, top)
	if err != nil {
		return nil, err
	}
	return []rawEvent{ev}, nil
}

func unwrapList(base string, list []json.RawMessage) ([]rawEvent, error) {
	out := make([]rawEvent, 0, len(list))
	for i, item := range list {
		path := base + "/" + strconv.Itoa(i)
		var top map[string]json.RawMessage
		if err := json.Unmarshal(item, &top); err != nil {
			return nil, fmt.Errorf("misp: %s: want an event object: %w", path, err)
		}
		ev, err := unwrap(path, item, top)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	if len(out) == 0 {
		return nil, errors.New("misp: the list holds no event")
	}
	return out, nil
}

// unwrap finds the event of {"Event": {...}} or a bare event.
func unwrap(path string, item json.RawMessage, top map[string]json.RawMessage) (rawEvent, error) {
	if ev, ok := top["Event"]; ok {
		return rawEvent{path + "/Event", ev}, nil
	}
	for _, k := range []string{"Attribute", "uuid", "info", "Object"} {
		if _, ok := top[k]; ok {
			return rawEvent{path, item}, nil
		}
	}
	return rawEvent{}, fmt.Errorf("misp: %s: neither {\"Event\": …} nor an event (no uuid, info or Attribute)", cmpOr(path, "/"))
}

func importEvent(res *ImportResult, path string, raw json.RawMessage, peer share.Source) {
	if len(raw) == 0 || raw[0] != '{' {
		res.Rejected = append(res.Rejected, Problem{Path: cmpOr(path, "/"), Reason: "an event is a JSON object"})
		return
	}
	var fast eventFast
	if err := json.Unmarshal(raw, &fast); err == nil {
		ctx := eventContext(&fast.eventHead, peer)
		for i := range fast.Attribute {
			importDecoded(res, path+"/Attribute/"+strconv.Itoa(i), &fast.Attribute[i], &ctx)
		}
		for i, o := range fast.Object {
			for j := range o.Attribute {
				importDecoded(res, path+"/Object/"+strconv.Itoa(i)+"/Attribute/"+strconv.Itoa(j), &o.Attribute[j], &ctx)
			}
		}
		return
	}
	// Something is of the wrong type: decode attribute by attribute to
	// reject only what is wrong.
	var ev eventIn
	if err := json.Unmarshal(raw, &ev); err != nil {
		res.Rejected = append(res.Rejected, Problem{Path: errPath(path, err), Reason: jsonReason(err)})
		return
	}
	ctx := eventContext(&ev.eventHead, peer)
	for i, a := range ev.Attribute {
		importAttribute(res, path+"/Attribute/"+strconv.Itoa(i), a, &ctx)
	}
	for i, o := range ev.Object {
		for j, a := range o.Attribute {
			importAttribute(res, path+"/Object/"+strconv.Itoa(i)+"/Attribute/"+strconv.Itoa(j), a, &ctx)
		}
	}
}

func eventContext(ev *eventHead, peer share.Source) eventCtx {
	ctx := eventCtx{src: peer}
	if ev.Orgc != nil && (ev.Orgc.Name != "" || ev.Orgc.UUID != "") {
		ctx.src = sourceOfOrg(ev.Orgc)
	}
	for _, t := range ev.Tag {
		if tl, ok := tlpOfTag(t.Name); ok {
			ctx.tlp = max(ctx.tlp, tl)
		}
	}
	if sec, err := strconv.ParseInt(string(ev.Timestamp), 10, 64); err == nil && sec > 0 {
		ctx.at = time.Unix(sec, 0).UTC()
	} else if d, err := time.Parse(time.DateOnly, ev.Date); err == nil && d.Year() >= 1970 {
		ctx.at = d
	}
	return ctx
}

type eventCtx struct {
	src share.Source
	tlp stix.TLP
	at  time.Time
}

func sourceOfOrg(o *orgIn) share.Source {
	if sector, ok := strings.CutPrefix(o.Name, "sector:"); ok && sector != "" {
		return share.Source{Anonymous: true, Sector: sector}
	}
	return share.Source{Member: cmpOr(string(o.UUID), o.Name), Name: cmpOr(o.Name, string(o.UUID))}
}

// kindOfType maps a MISP attribute type to a share kind (text needs the
// occsimore:kind tag).
func kindOfType(typ string) (share.Kind, string, bool) {
	switch typ {
	case "ip-src", "ip-dst":
		return share.KindIP, "", true
	case "domain", "hostname":
		return share.KindDomain, "", true
	case "url":
		return share.KindURL, "", true
	case "md5":
		return share.KindFileHash, "MD5", true
	case "sha1":
		return share.KindFileHash, "SHA-1", true
	case "sha256":
		return share.KindFileHash, "SHA-256", true
	case "sha512":
		return share.KindFileHash, "SHA-512", true
	case "email-src", "email":
		return share.KindEmail, "", true
	case "user-agent":
		return share.KindUserAgent, "", true
	case "bin":
		return share.KindCardBIN, "", true
	}
	return "", "", false
}

var hashLen = map[string]int{"MD5": 32, "SHA-1": 40, "SHA-256": 64, "SHA-512": 128}

func importAttribute(res *ImportResult, path string, raw json.RawMessage, ctx *eventCtx) {
	var a attrIn
	if len(raw) == 0 || raw[0] != '{' {
		res.Rejected = append(res.Rejected, Problem{Path: path, Reason: "an attribute is a JSON object"})
		return
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		res.Rejected = append(res.Rejected, Problem{Path: errPath(path, err), Reason: jsonReason(err)})
		return
	}
	importDecoded(res, path, &a, ctx)
}

func importDecoded(res *ImportResult, path string, a *attrIn, ctx *eventCtx) {
	reject := func(r *rejection) {
		res.Rejected = append(res.Rejected, Problem{Path: path + r.path, Type: a.Type, Reason: r.reason})
	}
	if a.Type == "" {
		reject(&rejection{"/type", "is required"})
		return
	}
	ind := share.Indicator{Description: a.Comment, Confidence: 50, Source: ctx.src}
	kind, algo, ok := kindOfType(a.Type)
	kind, ok, tlp, r := readTags(a, &ind, kind, ok)
	if r != nil {
		reject(r)
		return
	}
	// An attack pattern named by both tags keeps the occsimore one.
	ind.AttackPatterns = dedupAttacks(ind.AttackPatterns)
	if !ok {
		res.Unsupported = append(res.Unsupported, Problem{Path: path, Type: a.Type, Reason: fmt.Sprintf("MISP type %q is not one occsimore matches", a.Type)})
		return
	}
	if a.Deleted {
		res.Unsupported = append(res.Unsupported, Problem{Path: path, Type: a.Type, Reason: "deleted"})
		return
	}
	if a.ToIDS != nil && !*a.ToIDS {
		res.Unsupported = append(res.Unsupported, Problem{Path: path + "/to_ids", Type: a.Type, Reason: "to_ids is false: context, not an indicator"})
		return
	}
	ind.Kind, ind.HashAlgo = kind, algo
	v, err := checkValue(kind, algo, a.Value)
	if err != nil {
		reject(&rejection{"/value", err.Error()})
		return
	}
	if kind == share.KindIP && strings.Contains(v, "/") {
		ind.Kind = share.KindCIDR
	}
	ind.Value = v
	ind.TLP = tlp
	if ind.TLP == stix.TLPUnknown {
		ind.TLP = ctx.tlp
	}
	if ind.TLP == stix.TLPUnknown {
		ind.TLP = stix.TLPAmberStrict
	}
	var modified time.Time
	if a.Timestamp != "" {
		sec, err := strconv.ParseInt(string(a.Timestamp), 10, 64)
		if err != nil || sec < 0 {
			reject(rejectf("/timestamp", "%q is not Unix seconds", a.Timestamp))
			return
		}
		modified = time.Unix(sec, 0).UTC()
	}
	if ind.ValidFrom.IsZero() {
		ind.ValidFrom = cmpTime(modified, ctx.at)
	}
	if ind.ValidFrom.IsZero() {
		reject(&rejection{"", "no time: neither the attribute nor the event has a timestamp or date"})
		return
	}
	ind.Created, ind.Modified = ind.ValidFrom, maxTime(ind.ValidFrom, modified)
	if r := readSightings(a, &ind); r != nil {
		reject(r)
		return
	}
	if u := strings.ToLower(string(a.UUID)); validUUID(u) {
		ind.ID = "indicator--" + u
	} else if a.UUID != "" {
		reject(rejectf("/uuid", "%q is not a UUID", a.UUID))
		return
	} else {
		ind.ID = share.IndicatorID(&ind)
	}
	if err := ind.Validate(); err != nil {
		reject(&rejection{"", err.Error()})
		return
	}
	res.Indicators = append(res.Indicators, ind)
}

// rejection is why an attribute is refused, and where below it.
type rejection struct{ path, reason string }

func rejectf(path, format string, args ...any) *rejection {
	return &rejection{path, fmt.Sprintf(format, args...)}
}

// readTags reads an attribute's tags into ind: TLP (the strictest wins),
// and occsimore's machine tags (kind of a text attribute, confidence,
// validity, behaviour parameters, attack patterns) and ATT&CK galaxy
// clusters. kind and ok are the attribute type's; a kind tag on a text
// attribute overrides them.
func readTags(a *attrIn, ind *share.Indicator, kind share.Kind, ok bool) (share.Kind, bool, stix.TLP, *rejection) {
	var tlp stix.TLP
	for i, t := range a.Tag {
		tp := "/Tag/" + strconv.Itoa(i) + "/name"
		if tl, isTLP := tlpOfTag(t.Name); isTLP {
			tlp = max(tlp, tl)
			continue
		}
		pred, val, isMachine := parseMachineTag(t.Name)
		if !isMachine {
			continue
		}
		switch pred {
		case tagKind:
			if a.Type == "text" {
				kind = share.Kind(val)
				if !kind.CustomerLinked() && kind != share.KindBehaviour {
					return kind, ok, tlp, rejectf(tp, "occsimore kind %q is not carried in a text attribute", val)
				}
				ok = true
			}
		case tagConfidence:
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || n > 100 {
				return kind, ok, tlp, rejectf(tp, "confidence %q is not an integer in 0..100", val)
			}
			ind.Confidence = n
		case tagValidFrom, tagValidUntil:
			tm, err := time.Parse(time.RFC3339Nano, val)
			if err != nil {
				return kind, ok, tlp, rejectf(tp, "%s %q is not an RFC 3339 time", pred, val)
			}
			if tm.Before(time.Unix(0, 0)) {
				// MISP timestamps are Unix seconds: an earlier time would not export again.
				return kind, ok, tlp, rejectf(tp, "%s %q is before 1970", pred, val)
			}
			if pred == tagValidFrom {
				ind.ValidFrom = tm.UTC()
			} else {
				ind.ValidUntil = tm.UTC()
			}
		case tagParam:
			k, v, found := strings.Cut(val, "=")
			if !found || k == "" {
				return kind, ok, tlp, rejectf(tp, "behaviour parameter %q is not name=value", val)
			}
			ind.Params = append(ind.Params, [2]string{k, v})
		case tagAttack:
			f := strings.Split(val, "|")
			if len(f) != 4 || (f[1] == "" && f[2] == "" && f[3] == "") {
				return kind, ok, tlp, rejectf(tp, "attack pattern %q is not source|external id|scenario|name", val)
			}
			ind.AttackPatterns = append(ind.AttackPatterns, share.AttackPattern{Source: f[0], ExternalID: f[1], Scenario: f[2], Name: f[3]})
		case tagATTACK:
			name, id, found := cutLast(val, " - ")
			if !found || id == "" {
				continue // a cluster named without its technique id: nothing to match on
			}
			dup := false
			for _, ap := range ind.AttackPatterns {
				dup = dup || ap.Source == "mitre-attack" && ap.ExternalID == id
			}
			if !dup {
				ind.AttackPatterns = append(ind.AttackPatterns, share.AttackPattern{Name: name, ExternalID: id, Source: "mitre-attack"})
			}
		}
	}
	return kind, ok, tlp, nil
}

// readSightings folds an attribute's sightings into one per source (count,
// first and last), the indicator's own source under its member name.
func readSightings(a *attrIn, ind *share.Indicator) *rejection {
	bySrc := map[string]int{}
	for i, s := range a.Sighting {
		if s.Type != "" && s.Type != "0" {
			continue // false positive or expiration: not a sighting
		}
		sec, err := strconv.ParseInt(string(s.DateSighting), 10, 64)
		if err != nil || sec <= 0 {
			return rejectf("/Sighting/"+strconv.Itoa(i)+"/date_sighting", "%q is not Unix seconds", s.DateSighting)
		}
		at := time.Unix(sec, 0).UTC()
		by := s.Source
		if by == "" && s.Organisation != nil {
			by = s.Organisation.Name
		}
		if by == ind.Source.Label() {
			by = ind.Source.Member
			if ind.Source.Anonymous {
				by = ind.Source.Label()
			}
		}
		j, seen := bySrc[by]
		if !seen {
			bySrc[by] = len(ind.Sightings)
			ind.Sightings = append(ind.Sightings, share.Sighting{By: by, Count: 1, First: at, Last: at})
			continue
		}
		sg := &ind.Sightings[j]
		sg.Count++
		if at.Before(sg.First) {
			sg.First = at
		}
		if at.After(sg.Last) {
			sg.Last = at
		}
	}
	return nil
}

func cmpTime(a, b time.Time) time.Time {
	if !a.IsZero() {
		return a
	}
	return b
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func dedupAttacks(aps []share.AttackPattern) []share.AttackPattern {
	var out []share.AttackPattern
	for _, ap := range aps {
		dup := false
		for _, o := range out {
			dup = dup || o.ExternalID != "" && o.ExternalID == ap.ExternalID && o.Source == ap.Source
		}
		if !dup {
			out = append(out, ap)
		}
	}
	return out
}

// checkValue validates and normalises an attribute's value for its kind.
func checkValue(k share.Kind, algo, v string) (string, error) {
	if v == "" {
		return "", errors.New("is empty")
	}
	if len(v) > 8192 {
		return "", fmt.Errorf("is %d bytes long (at most 8192)", len(v))
	}
	if strings.ContainsFunc(v, unicode.IsControl) {
		return "", errors.New("contains a control character")
	}
	switch k {
	case share.KindIP:
		if p, err := netip.ParsePrefix(v); err == nil {
			if p.Bits() == p.Addr().BitLen() {
				return p.Addr().Unmap().String(), nil
			}
			return p.Masked().String(), nil
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return "", fmt.Errorf("%q is not an IP address or network", v)
		}
		return a.Unmap().String(), nil
	case share.KindDomain:
		d := strings.TrimSuffix(strings.ToLower(v), ".")
		if !validDomain(d) {
			return "", fmt.Errorf("%q is not a domain name", v)
		}
		return d, nil
	case share.KindURL:
		u, err := url.Parse(v)
		if err != nil || strings.ContainsAny(v, " \t") || (u.Host == "" && u.Opaque == "" && u.Path == "") {
			return "", fmt.Errorf("%q is not a URL", v)
		}
		return v, nil
	case share.KindFileHash:
		if len(v) != hashLen[algo] || !isHex(v) {
			return "", fmt.Errorf("%q is not a %s digest (%d hex digits)", v, algo, hashLen[algo])
		}
		return strings.ToLower(v), nil
	case share.KindEmail:
		local, domain, ok := strings.Cut(v, "@")
		if !ok || local == "" || strings.Contains(domain, "@") || !validDomain(strings.ToLower(domain)) || strings.ContainsAny(v, " \t") {
			return "", fmt.Errorf("%q is not an e-mail address", v)
		}
		return share.NormalizeValue(share.KindEmail, v)
	case share.KindCardBIN:
		if len(v) < 6 || len(v) > 8 || strings.ContainsFunc(v, func(r rune) bool { return r < '0' || r > '9' }) {
			return "", fmt.Errorf("%q is not a card BIN (6 to 8 digits)", v)
		}
		return v, nil
	case share.KindBehaviour, share.KindUserAgent:
		if strings.TrimSpace(v) == "" {
			return "", errors.New("is blank")
		}
		return v, nil
	}
	if k.CustomerLinked() {
		if !share.IsToken(v) {
			// Do not echo the value: it may be the clear identifier.
			return "", fmt.Errorf("a %s is accepted only as an occsimore token (%v)", k, share.ErrClearIdentifier)
		}
		return v, nil
	}
	return "", fmt.Errorf("kind %q is not supported", k)
}

func validDomain(d string) bool {
	if len(d) == 0 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c >= 0x80) {
				return false
			}
		}
	}
	return true
}

// errPath turns a json type error into a JSON Pointer under base.
func errPath(base string, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		// encoding/json names the embedded struct a field came through.
		f := strings.ReplaceAll(te.Field, "eventHead.", "")
		return base + "/" + strings.ReplaceAll(f, ".", "/")
	}
	return cmpOr(base, "/")
}

func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("want %s, got a JSON %s", te.Type, te.Value)
	}
	return err.Error()
}
