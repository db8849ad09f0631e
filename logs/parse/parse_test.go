package parse

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrorMessage(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte("Mar  3 10:15:01 host sshd[1]: Server listening on :: port 22."), Hint{Year: 2026})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"sshd: " + errSSHUnknown.Error(), "auth: " + errAuthUnknown.Error()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestParseForcedParser(t *testing.T) {
	t.Parallel()
	access := `192.0.2.1 - - [27/Nov/2026:10:15:01 +0000] "GET / HTTP/1.1" 200 1 "-" "curl"`
	nginxErr := `2021/09/30 09:23:53 [error] 1#1: *17 user "foo": password mismatch, client: 192.0.2.2, server: _, request: "GET / HTTP/1.1", host: "h"`
	tests := []struct {
		parser, line, kind, source string
		hint                       *JSONMapping
	}{
		{ParserAccess, access, KindHTTPAccess, ParserAccess, nil},
		{ParserNginxError, nginxErr, KindHTTPAuthFailure, ParserNginxError, nil},
		{ParserCloudTrail, ctDenied, KindCloudTrail, ParserCloudTrail, nil},
		{ParserJSON, `{"ip":"192.0.2.3"}`, KindJSON, ParserJSON, &JSONMapping{IP: "ip"}},
		{ParserAuth, "FAILED SU (to root) bob on pts/1", KindAuthFailure, ParserAuth, nil},
		{ParserSyslog, "Mar  3 10:15:01 host sshd[1]: Invalid user x from 192.0.2.4", KindSSHInvalidUser, ParserSSHD, nil},
	}
	for _, tc := range tests {
		e, err := Parse([]byte(tc.line), Hint{Parser: tc.parser, JSON: tc.hint, Year: 2026})
		if err != nil {
			t.Errorf("%s: %v", tc.parser, err)
			continue
		}
		if e.Kind != tc.kind || e.Source != tc.source {
			t.Errorf("%s: Kind, Source = %q, %q; want %q, %q", tc.parser, e.Kind, e.Source, tc.kind, tc.source)
		}
	}
	// A forced parser does not fall back to others.
	for _, h := range []Hint{{Parser: ParserAccess}, {Parser: ParserJSON}, {Parser: "nope"}, {Parser: ParserSSHD}} {
		_, err := Parse([]byte(ctDenied), h)
		var pe *ParseError
		if !errors.As(err, &pe) || len(pe.Tried) != 1 {
			t.Errorf("%q: err = %v, want one parser tried", h.Parser, err)
		}
	}
}
