package parse

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// cloudTrailRecord holds the CloudTrail fields detection uses.
type cloudTrailRecord struct {
	EventTime       string `json:"eventTime"`
	EventSource     string `json:"eventSource"`
	EventName       string `json:"eventName"`
	EventType       string `json:"eventType"`
	EventID         string `json:"eventID"`
	AWSRegion       string `json:"awsRegion"`
	SourceIPAddress string `json:"sourceIPAddress"`
	UserAgent       string `json:"userAgent"`
	ErrorCode       string `json:"errorCode"`
	ErrorMessage    string `json:"errorMessage"`
	RecipientAcct   string `json:"recipientAccountId"`
	UserIdentity    struct {
		Type        string `json:"type"`
		PrincipalID string `json:"principalId"`
		ARN         string `json:"arn"`
		AccountID   string `json:"accountId"`
		UserName    string `json:"userName"`
		InvokedBy   string `json:"invokedBy"`
	} `json:"userIdentity"`
	ResponseElements json.RawMessage `json:"responseElements"`
}

// ParseCloudTrail parses one CloudTrail record (a single JSON object, as in
// CloudWatch Logs or an EventBridge detail). Kind is KindCloudTrail; the
// record's identity lands in User (userName, else the ARN) and its other
// fields in Fields under their CloudTrail names: eventSource, eventName,
// awsRegion, errorCode, errorMessage, userIdentity.type, userIdentity.arn,
// userIdentity.accountId, eventID, and consoleLogin ("Success"/"Failure") for
// ConsoleLogin events. sourceIPAddress is in SourceIP when it is an address,
// else (an AWS service name such as "ec2.amazonaws.com") in Fields.
func ParseCloudTrail(record []byte) (Entry, error) {
	var r cloudTrailRecord
	if err := json.Unmarshal(record, &r); err != nil {
		return Entry{}, fmt.Errorf("cloudtrail record: %w", err)
	}
	return cloudTrailEntry(&r)
}

// ParseCloudTrailFile parses the {"Records":[...]} form CloudTrail writes to
// S3. A record that fails stops parsing; its index is in the error.
func ParseCloudTrailFile(data []byte) ([]Entry, error) {
	var f struct {
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("cloudtrail file: %w", err)
	}
	if f.Records == nil {
		return nil, errors.New(`cloudtrail file: no "Records" array`)
	}
	out := make([]Entry, 0, len(f.Records))
	for i, raw := range f.Records {
		e, err := ParseCloudTrail(raw)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func cloudTrailEntry(r *cloudTrailRecord) (Entry, error) {
	if r.EventSource == "" || r.EventName == "" {
		return Entry{}, errors.New("cloudtrail record: missing eventSource or eventName")
	}
	t, err := time.Parse(time.RFC3339Nano, r.EventTime)
	if err != nil {
		return Entry{}, fmt.Errorf("cloudtrail record: bad eventTime: %w", err)
	}
	e := Entry{
		Time:      t,
		Program:   r.EventSource,
		Source:    ParserCloudTrail,
		Kind:      KindCloudTrail,
		Count:     1,
		UserAgent: r.UserAgent,
		User:      r.UserIdentity.UserName,
		Fields:    map[string]string{},
	}
	if e.User == "" {
		e.User = r.UserIdentity.ARN
	}
	if ip, ok := parseIP(r.SourceIPAddress); ok {
		e.SourceIP = ip
	} else if r.SourceIPAddress != "" {
		e.Fields["sourceIPAddress"] = r.SourceIPAddress
	}
	set := func(k, v string) {
		if v != "" {
			e.Fields[k] = v
		}
	}
	set("eventSource", r.EventSource)
	set("eventName", r.EventName)
	set("eventType", r.EventType)
	set("eventID", r.EventID)
	set("awsRegion", r.AWSRegion)
	set("errorCode", r.ErrorCode)
	set("errorMessage", r.ErrorMessage)
	set("recipientAccountId", r.RecipientAcct)
	set("userIdentity.type", r.UserIdentity.Type)
	set("userIdentity.arn", r.UserIdentity.ARN)
	set("userIdentity.accountId", r.UserIdentity.AccountID)
	set("userIdentity.principalId", r.UserIdentity.PrincipalID)
	set("userIdentity.invokedBy", r.UserIdentity.InvokedBy)
	if r.EventName == "ConsoleLogin" && len(r.ResponseElements) > 0 {
		var resp struct {
			ConsoleLogin string `json:"ConsoleLogin"`
		}
		// responseElements is null or an object; other shapes are ignored.
		if json.Unmarshal(r.ResponseElements, &resp) == nil {
			set("consoleLogin", resp.ConsoleLogin)
		}
	}
	return e, nil
}
