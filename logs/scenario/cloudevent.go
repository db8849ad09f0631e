package scenario

import (
	"strings"
	"unicode/utf8"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/logs/parse"
)

// CloudEventKind is the behaviour-engine kind of a cloud API call; the
// engine's built-in spec for it profiles the calling identity and its
// source address.
const CloudEventKind = "cloud.api"

// Attributes CloudEvent sets in Event.Attrs.
const (
	CloudAttrAPI     = "api"     // "iam:CreateAccessKey": service, then eventName
	CloudAttrRegion  = "region"  // awsRegion: "eu-west-1"
	CloudAttrService = "service" // eventSource without ".amazonaws.com": "iam"
	CloudAttrError   = "error"   // errorCode, only when the call failed: "AccessDenied"
)

// CloudEvent maps a CloudTrail entry of memberID to a behaviour-engine event
// of kind CloudEventKind, overwriting ev:
//
//   - User is the identity's ARN (unique across accounts), else its
//     userName; IP is the source address when it is one. An AWS service
//     acting on its own has neither, and is not mapped.
//   - Attrs hold CloudAttrAPI, CloudAttrRegion, CloudAttrService and, for a
//     failed call, CloudAttrError.
//   - UserAgent is the client family, not the full string ("aws-cli/2",
//     "Boto3/1", "Terraform/1"): the AWS CLI writes the command it runs into
//     its user agent, which would make every new API a new client too.
//   - Success is true when the call returned no errorCode (and, for a
//     ConsoleLogin, did not fail).
//   - ID is the eventID and Time the eventTime.
//
// Country and ASN are left for the caller's GeoIP enrichment of IP.
// Strings longer than the event limits are cut, so that when CloudEvent
// returns true ev passes Validate. It returns false, leaving ev zero, for an
// entry that is not a CloudTrail record or names neither an identity nor an
// address, or whose time the engine cannot hold.
func CloudEvent(e *parse.Entry, memberID string, ev *occsimore.Event) bool {
	*ev = occsimore.Event{}
	if e == nil || e.Kind != parse.KindCloudTrail {
		return false
	}
	user := e.Fields["userIdentity.arn"]
	if user == "" {
		user = e.User
	}
	var ip string
	if e.SourceIP.IsValid() {
		ip = e.SourceIP.String()
	}
	if user == "" && ip == "" {
		return false
	}
	source := e.Fields["eventSource"]
	service := strings.TrimSuffix(source, ".amazonaws.com")
	errCode := e.Fields["errorCode"]
	attrs := map[string]string{
		CloudAttrAPI:     clip(service+":"+e.Fields["eventName"], maxCloudText),
		CloudAttrService: clip(service, maxCloudText),
	}
	if r := e.Fields["awsRegion"]; r != "" {
		attrs[CloudAttrRegion] = clip(r, maxCloudText)
	}
	if errCode != "" {
		attrs[CloudAttrError] = clip(errCode, maxCloudText)
	}
	*ev = occsimore.Event{
		MemberID:   memberID,
		Kind:       CloudEventKind,
		Time:       e.Time,
		User:       clip(user, occsimore.MaxEntityIDLen),
		IP:         ip,
		UserAgent:  clip(agentFamily(e.UserAgent), maxCloudText),
		Success:    errCode == "" && e.Fields["consoleLogin"] != "Failure",
		HasSuccess: true,
		Attrs:      attrs,
	}
	if id := e.Fields["eventID"]; len(id) <= occsimore.MaxEventIDLen {
		ev.ID = id
	}
	if ev.Validate() != nil {
		// Only the time can be out of range: every string is within bounds.
		*ev = occsimore.Event{}
		return false
	}
	return true
}

// maxCloudText is the longest attribute value an Event takes.
const maxCloudText = 512

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// agentFamily reduces a user agent to its first product and major version:
// "aws-cli/2.13.5 Python/3.11.4 ... command/iam.create-access-key" gives
// "aws-cli/2". Partner tags that Terraform and others put first ("APN/1.0
// HashiCorp/1.0 Terraform/1.5.7 ...") are skipped; an agent without a
// version ("console.amazonaws.com", "AWS Internal") is kept whole.
func agentFamily(ua string) string {
	ua = strings.TrimSpace(ua)
	rest := strings.Trim(ua, "[]")
	for rest != "" {
		var tok string
		tok, rest, _ = strings.Cut(rest, " ")
		tok = strings.Trim(tok, "[],")
		product, version, ok := strings.Cut(tok, "/")
		if !ok || product == "" {
			return ua
		}
		if product == "APN" || product == "HashiCorp" {
			continue
		}
		if major, _, _ := strings.Cut(version, "."); major != "" {
			return product + "/" + major
		}
		return product
	}
	return ua
}
