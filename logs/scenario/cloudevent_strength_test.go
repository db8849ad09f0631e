package scenario

import (
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/logs/parse"
)

// CloudTrail events at their edges (issue 13).

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 3, "abc"}, {"abcd", 3, "abc"}, {"", 0, ""},
		{"aé", 2, "a"}, // é is two bytes: cut before it, not inside
		{"aé", 3, "aé"}, {"é", 1, ""}, {"aéb", 3, "aé"},
	} {
		if got := clip(tc.s, tc.n); got != tc.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestCloudEventIDAndClips(t *testing.T) {
	e := &parse.Entry{Kind: parse.KindCloudTrail, Time: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), User: "u",
		Fields: map[string]string{"eventSource": "iam.amazonaws.com", "eventName": "X", "eventID": strings.Repeat("i", occsimore.MaxEventIDLen)}}
	var ev occsimore.Event
	if !CloudEvent(e, "mem_a", &ev) || ev.ID != strings.Repeat("i", occsimore.MaxEventIDLen) {
		t.Errorf("an event ID of %d bytes is not kept: %q", occsimore.MaxEventIDLen, ev.ID)
	}
	e.Fields["eventID"] += "i"
	if !CloudEvent(e, "mem_a", &ev) || ev.ID != "" {
		t.Errorf("an event ID over %d bytes is kept: %q", occsimore.MaxEventIDLen, ev.ID)
	}
	e.Fields["awsRegion"] = strings.Repeat("r", maxCloudText+1)
	e.Fields["errorCode"] = strings.Repeat("e", maxCloudText)
	if !CloudEvent(e, "mem_a", &ev) || len(ev.Attrs[CloudAttrRegion]) != maxCloudText || len(ev.Attrs[CloudAttrError]) != maxCloudText || ev.Success {
		t.Errorf("attributes %v, success %v", ev.Attrs, ev.Success)
	}
	if ev.Attrs[CloudAttrService] != "iam" || ev.Attrs[CloudAttrAPI] != "iam:X" {
		t.Errorf("service and api: %v", ev.Attrs)
	}
	delete(e.Fields, "errorCode")
	e.Fields["consoleLogin"] = "Failure"
	if !CloudEvent(e, "mem_a", &ev) || ev.Success {
		t.Errorf("a failed console login counts as success")
	}
	e.Fields["consoleLogin"] = "Success"
	if !CloudEvent(e, "mem_a", &ev) || !ev.Success || !ev.HasSuccess {
		t.Errorf("a successful call: success %v", ev.Success)
	}
}

func TestAgentFamilyEdges(t *testing.T) {
	for ua, want := range map[string]string{
		"aws-cli/2.13.5 Python/3.11.4":          "aws-cli/2",
		"APN/1.0 HashiCorp/1.0 Terraform/1.5.7": "Terraform/1",
		"[Boto3/1.28.0 Python/3.11]":            "Boto3/1",
		"console.amazonaws.com":                 "console.amazonaws.com",
		"tool/":                                 "tool",
		"/1.0 x":                                "/1.0 x",
		"APN/1.0":                               "APN/1.0",
		"  AWS Internal ":                       "AWS Internal",
	} {
		if got := agentFamily(ua); got != want {
			t.Errorf("agentFamily(%q) = %q, want %q", ua, got, want)
		}
	}
}
