package parse

import (
	"errors"
	"testing"
	"time"
)

// Records shaped after the examples in AWS's CloudTrail User Guide
// ("CloudTrail record contents"); account ids and addresses are documentation values.
const ctDenied = `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/Mateo","accountId":"111122223333","userName":"Mateo"},"eventTime":"2026-11-27T10:15:01Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.13.5","errorCode":"AccessDenied","errorMessage":"User is not authorized","requestParameters":null,"responseElements":null,"eventID":"e1","recipientAccountId":"111122223333"}`

const ctService = `{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},"eventTime":"2026-11-27T10:16:00.5Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"eu-west-1","sourceIPAddress":"ec2.amazonaws.com","userAgent":"ec2.amazonaws.com","eventID":"e2"}`

const ctConsole = `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/Ana","accountId":"111122223333","userName":"Ana"},"eventTime":"2026-11-27T10:17:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"2001:db8::7","userAgent":"Mozilla/5.0","errorMessage":"Failed authentication","responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"No"},"eventID":"e3"}`

func TestParseCloudTrail(t *testing.T) {
	t.Parallel()
	e, err := ParseCloudTrail([]byte(ctDenied))
	if err != nil {
		t.Fatal(err)
	}
	checkEntry(t, "denied", e, KindCloudTrail, "198.51.100.7", "Mateo")
	for k, want := range map[string]string{
		"eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "awsRegion": "us-east-1",
		"errorCode": "AccessDenied", "userIdentity.type": "IAMUser",
		"userIdentity.arn": "arn:aws:iam::111122223333:user/Mateo", "userIdentity.accountId": "111122223333",
	} {
		if got := e.Fields[k]; got != want {
			t.Errorf("Fields[%q] = %q, want %q", k, got, want)
		}
	}
	if got, want := e.Time, time.Date(2026, 11, 27, 10, 15, 1, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Time = %v, want %v", got, want)
	}
	if got, want := e.UserAgent, "aws-cli/2.13.5"; got != want {
		t.Errorf("UserAgent = %q, want %q", got, want)
	}

	e, err = ParseCloudTrail([]byte(ctService))
	if err != nil {
		t.Fatal(err)
	}
	if e.SourceIP.IsValid() {
		t.Errorf("service name parsed as IP %v", e.SourceIP)
	}
	if got, want := e.Fields["sourceIPAddress"], "ec2.amazonaws.com"; got != want {
		t.Errorf("Fields[sourceIPAddress] = %q, want %q", got, want)
	}

	// Through the dispatcher, and the ConsoleLogin outcome.
	e, err = Parse([]byte(ctConsole), Hint{})
	if err != nil {
		t.Fatal(err)
	}
	checkEntry(t, "console", e, KindCloudTrail, "2001:db8::7", "Ana")
	if got, want := e.Fields["consoleLogin"], "Failure"; got != want {
		t.Errorf("consoleLogin = %q, want %q", got, want)
	}

	for _, bad := range []string{`{}`, `{"eventSource":"x","eventName":"y","eventTime":"yesterday"}`, `[`, `null`} {
		if _, err := ParseCloudTrail([]byte(bad)); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

func TestParseCloudTrailFile(t *testing.T) {
	t.Parallel()
	es, err := ParseCloudTrailFile([]byte(`{"Records":[` + ctDenied + `,` + ctService + `,` + ctConsole + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(es), 3; got != want {
		t.Fatalf("records = %d, want %d", got, want)
	}
	if got, want := es[2].Fields["eventName"], "ConsoleLogin"; got != want {
		t.Errorf("record 2 eventName = %q, want %q", got, want)
	}
	if _, err := ParseCloudTrailFile([]byte(`{"Records":[` + ctDenied + `,{}]}`)); err == nil {
		t.Error("bad record: want an error")
	}
	if _, err := ParseCloudTrailFile([]byte(`{"Items":[]}`)); err == nil {
		t.Error("no Records: want an error")
	}
	_, err = Parse([]byte(`{"eventSource":"x"}`), Hint{})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Tried[0] != ParserCloudTrail {
		t.Errorf("err = %v, want cloudtrail tried first", err)
	}
}
