package taxii

import (
	"mime"
	"strconv"
	"strings"
)

// Media types of TAXII 2.1 responses and of the STIX objects they carry.
const (
	MediaTAXII = "application/taxii+json;version=2.1"
	MediaSTIX  = "application/stix+json;version=2.1"
)

// Acceptable reports whether an Accept header allows a TAXII 2.1 response
// (application/taxii+json, version 2.1 or unversioned). An absent header
// accepts anything (RFC 9110 section 12.5.1); so do */* and application/*,
// which generic clients send. A type with q=0 is refused.
func Acceptable(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	for part := range strings.SplitSeq(accept, ",") {
		typ, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(q, 64); err != nil || v <= 0 {
				continue
			}
		}
		switch typ {
		case "*/*", "application/*":
			return true
		case "application/taxii+json":
			if v, ok := params["version"]; !ok || v == "2.1" {
				return true
			}
		}
	}
	return false
}

// ContentTypeOK reports whether a request's Content-Type is the TAXII 2.1
// envelope's: application/taxii+json with version 2.1 or no version.
func ContentTypeOK(ct string) bool {
	typ, params, err := mime.ParseMediaType(ct)
	if err != nil || typ != "application/taxii+json" {
		return false
	}
	v, ok := params["version"]
	return !ok || v == "2.1"
}
