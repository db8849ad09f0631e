package scenario

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/behavior"
	"github.com/occsimore/occsimore/logs/parse"
)

func TestCloudEvent(t *testing.T) {
	t.Parallel()
	e, err := parse.ParseCloudTrail([]byte(ctDenied))
	if err != nil {
		t.Fatal(err)
	}
	var ev occsimore.Event
	if !CloudEvent(&e, "bank", &ev) {
		t.Fatal("CloudEvent refused a CloudTrail entry")
	}
	if err := ev.Validate(); err != nil {
		t.Fatalf("mapped event does not validate: %v", err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"member", ev.MemberID, "bank"},
		{"kind", ev.Kind, CloudEventKind},
		{"id", ev.ID, "e1"},
		{"user", ev.User, "arn:aws:iam::111122223333:user/Mateo"},
		{"ip", ev.IP, "198.51.100.7"},
		{"user agent", ev.UserAgent, "aws-cli/2"},
		{"api", ev.Attrs[CloudAttrAPI], "iam:CreateUser"},
		{"service", ev.Attrs[CloudAttrService], "iam"},
		{"region", ev.Attrs[CloudAttrRegion], "us-east-1"},
		{"error", ev.Attrs[CloudAttrError], "AccessDenied"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if got, want := ev.Time, time.Date(2026, 11, 27, 10, 15, 1, 0, time.UTC); !got.Equal(want) {
		t.Errorf("time = %v, want %v", got, want)
	}
	if !ev.HasSuccess || ev.Success {
		t.Errorf("success = %v (has %v), want a failure", ev.Success, ev.HasSuccess)
	}

	// A failed console login has no errorCode, only its response.
	if e, err = parse.ParseCloudTrail([]byte(ctConsole)); err != nil {
		t.Fatal(err)
	}
	if !CloudEvent(&e, "bank", &ev) {
		t.Fatal("CloudEvent refused a console login")
	}
	if got, want := ev.Attrs[CloudAttrAPI], "signin:ConsoleLogin"; got != want {
		t.Errorf("api = %q, want %q", got, want)
	}
	if got, want := ev.IP, "2001:db8::7"; got != want {
		t.Errorf("ip = %q, want %q", got, want)
	}
	if !ev.HasSuccess || ev.Success {
		t.Error("a failed console login mapped as a success")
	}
	if _, ok := ev.Attrs[CloudAttrError]; ok {
		t.Error("error attribute set without an errorCode")
	}

	// A successful call in the ConsoleLogin-free form.
	ok := strings.Replace(ctDenied, `"errorCode":"AccessDenied",`, "", 1)
	if e, err = parse.ParseCloudTrail([]byte(ok)); err != nil {
		t.Fatal(err)
	}
	if !CloudEvent(&e, "bank", &ev) || !ev.Success {
		t.Errorf("call without errorCode: success = %v, want true", ev.Success)
	}

	// An AWS service acting on its own names no identity and no address.
	if e, err = parse.ParseCloudTrail([]byte(ctService)); err != nil {
		t.Fatal(err)
	}
	if CloudEvent(&e, "bank", &ev) {
		t.Errorf("service record mapped to %+v", ev)
	}
	if ev.Kind != "" || ev.Attrs != nil {
		t.Errorf("refused entry left ev = %+v, want zero", ev)
	}

	// Other entries are not cloud events.
	ssh, err := parse.Parse([]byte("Failed password for root from 192.0.2.1 port 22 ssh2"), parse.Hint{Parser: parse.ParserSSHD})
	if err != nil {
		t.Fatal(err)
	}
	if CloudEvent(&ssh, "bank", &ev) {
		t.Error("sshd entry mapped to a cloud event")
	}
	if CloudEvent(nil, "bank", &ev) {
		t.Error("nil entry mapped to a cloud event")
	}
}

func TestCloudEventLimits(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 200) // 400 bytes
	rec := strings.NewReplacer(
		"user/Mateo", "user/"+long,
		`"eventID":"e1"`, `"eventID":"`+strings.Repeat("x", 200)+`"`,
		`"aws-cli/2.13.5"`, `"`+strings.Repeat("y", 600)+`"`,
	).Replace(ctDenied)
	e, err := parse.ParseCloudTrail([]byte(rec))
	if err != nil {
		t.Fatal(err)
	}
	var ev occsimore.Event
	if !CloudEvent(&e, "bank", &ev) {
		t.Fatal("CloudEvent refused a record with long fields")
	}
	if err := ev.Validate(); err != nil {
		t.Fatalf("long fields not cut: %v", err)
	}
	// The ARN prefix has an odd length: the cut falls inside a rune and
	// backs off by one byte.
	if got, want := ev.User, e.Fields["userIdentity.arn"][:occsimore.MaxEntityIDLen-1]; got != want {
		t.Errorf("user cut to %q, want %q", got, want)
	}
	if ev.ID != "" {
		t.Errorf("over-long event id kept: %q", ev.ID)
	}

	// The engine holds times up to 2100 only.
	e.Time = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	if CloudEvent(&e, "bank", &ev) {
		t.Error("event in 2200 mapped")
	}
}

func TestAgentFamily(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ ua, want string }{
		{"aws-cli/2.13.5 Python/3.11.4 Linux/6.2.0 exe/x86_64.ubuntu.22 prompt/off command/iam.create-access-key", "aws-cli/2"},
		{"Boto3/1.28.57 md/Botocore#1.31.57 ua/2.0 os/linux#6.2.0 lang/python#3.11.4", "Boto3/1"},
		{"APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) terraform-provider-aws/5.17.0", "Terraform/1"},
		{"[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488]", "S3Console/0"},
		{"console.amazonaws.com", "console.amazonaws.com"},
		{"AWS Internal", "AWS Internal"},
		{"", ""},
		{"curl/", "curl"},
	} {
		if got := agentFamily(c.ua); got != c.want {
			t.Errorf("agentFamily(%q) = %q, want %q", c.ua, got, c.want)
		}
	}
}

// cloudCall is one API call in a simulated trail.
type cloudCall struct {
	at      time.Time
	arn     string
	idType  string
	ip      string
	region  string
	api     string // "s3:GetObject"
	agent   string
	errCode string
}

// record writes c as CloudTrail writes it.
func (c cloudCall) record(id int) string {
	service, name, _ := strings.Cut(c.api, ":")
	errField := ""
	if c.errCode != "" {
		errField = fmt.Sprintf(`"errorCode":%q,"errorMessage":"denied",`, c.errCode)
	}
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":%q,"arn":%q,"accountId":"111122223333"},`+
		`"eventTime":%q,"eventSource":"%s.amazonaws.com","eventName":%q,"awsRegion":%q,"sourceIPAddress":%q,`+
		`"userAgent":%q,%s"requestParameters":null,"responseElements":null,"eventID":"ev-%d","recipientAccountId":"111122223333"}`,
		c.idType, c.arn, c.at.UTC().Format(time.RFC3339), service, name, c.region, c.ip, c.agent, errField, id)
}

const (
	aliceARN = "arn:aws:iam::111122223333:user/alice"
	cliAgent = "aws-cli/2.13.5 Python/3.11.4 Linux/6.2.0 exe/x86_64.ubuntu.22 prompt/off command/"
)

// habitualTrail simulates six weeks of a member's trail from Monday
// 2026-10-05: alice, a developer calling a few APIs in eu-west-1 during
// office hours from the office address; bob, an analyst in eu-west-1 and
// eu-central-1; and a CI role deploying around the clock.
func habitualTrail(r *rand.Rand) []cloudCall {
	start := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	var calls []cloudCall
	aliceAPIs := []string{"s3:GetObject", "s3:GetObject", "s3:GetObject", "s3:PutObject", "s3:ListBuckets",
		"ec2:DescribeInstances", "ec2:DescribeInstances", "lambda:InvokeFunction", "logs:GetLogEvents"}
	bobAPIs := []string{"athena:StartQueryExecution", "athena:GetQueryResults", "glue:GetTable", "s3:GetObject"}
	ciAPIs := []string{"cloudformation:DescribeStacks", "cloudformation:UpdateStack", "ecr:GetAuthorizationToken", "ecs:UpdateService"}
	for day := range 42 {
		d := start.AddDate(0, 0, day)
		weekday := d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
		if weekday {
			// Alice: 15 to 30 calls between 08:30 and 17:30.
			for range 15 + r.IntN(16) {
				at := d.Add(8*time.Hour + 30*time.Minute + time.Duration(r.IntN(9*3600))*time.Second)
				api := pick(aliceAPIs)
				calls = append(calls, cloudCall{at: at, arn: aliceARN, idType: "IAMUser", ip: "203.0.113.10",
					region: "eu-west-1", api: api, agent: cliAgent + strings.ReplaceAll(strings.ToLower(api), ":", ".")})
			}
			for range 10 + r.IntN(10) {
				at := d.Add(9*time.Hour + time.Duration(r.IntN(8*3600))*time.Second)
				region := "eu-west-1"
				if r.IntN(3) == 0 {
					region = "eu-central-1"
				}
				calls = append(calls, cloudCall{at: at, arn: "arn:aws:iam::111122223333:user/bob", idType: "IAMUser",
					ip: "203.0.113.11", region: region, api: pick(bobAPIs), agent: "Boto3/1.28.57 md/Botocore#1.31.57 ua/2.0"})
			}
		}
		// The CI role deploys a few times a day, at any hour.
		for range 3 + r.IntN(4) {
			at := d.Add(time.Duration(r.IntN(86400)) * time.Second)
			for i := range 4 {
				calls = append(calls, cloudCall{at: at.Add(time.Duration(i) * 20 * time.Second),
					arn: "arn:aws:sts::111122223333:assumed-role/ci-deploy/runner", idType: "AssumedRole",
					ip: "192.0.2.50", region: "eu-west-1", api: ciAPIs[i], agent: "APN/1.0 HashiCorp/1.0 Terraform/1.5.7"})
			}
		}
	}
	return calls
}

// TestCloudHabitRupture replays a trail through the parser, CloudEvent and
// the behaviour engine's built-in "cloud.api" spec: alice's key, used at
// 3 a.m. from a new address to create an access key and start instances in
// a region she never used, must top the ranking with reasons that say so,
// while her habitual calls score low.
func TestCloudHabitRupture(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 5))
	calls := habitualTrail(r)
	slices.SortStableFunc(calls, func(a, b cloudCall) int { return a.at.Compare(b.at) })
	// Wednesday of the seventh week, 03:00 and 03:02.
	night := time.Date(2026, 11, 18, 3, 0, 0, 0, time.UTC)
	attack := []cloudCall{
		{at: night, arn: aliceARN, idType: "IAMUser", ip: "198.51.100.66", region: "us-east-1",
			api: "iam:CreateAccessKey", agent: cliAgent + "iam.create-access-key"},
		{at: night.Add(2 * time.Minute), arn: aliceARN, idType: "IAMUser", ip: "198.51.100.66", region: "ap-southeast-1",
			api: "ec2:RunInstances", agent: cliAgent + "ec2.run-instances"},
	}
	// The last habitual day, after the attack: Wednesday office hours.
	morning := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	after := []cloudCall{
		{at: morning, arn: aliceARN, idType: "IAMUser", ip: "203.0.113.10", region: "eu-west-1",
			api: "s3:GetObject", agent: cliAgent + "s3.get-object"},
	}

	// What a geoip.DB would say of each address.
	geo := map[string]struct {
		country string
		asn     uint32
	}{
		"203.0.113.10":  {"FR", 3215},
		"203.0.113.11":  {"FR", 3215},
		"192.0.2.50":    {"IE", 16509},
		"198.51.100.66": {"NL", 14061},
	}
	eng, err := behavior.NewEngine(behavior.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	type scored struct {
		call  cloudCall
		score float64
		res   behavior.Result
	}
	var ranked []scored
	evalFrom := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // the last two weeks: profiles are settled
	var ev occsimore.Event
	var res behavior.Result
	id := 0
	process := func(c cloudCall) {
		id++
		e, err := parse.Parse([]byte(c.record(id)), parse.Hint{})
		if err != nil {
			t.Fatalf("call %d: %v", id, err)
		}
		if !CloudEvent(&e, "bank", &ev) {
			t.Fatalf("call %d not mapped", id)
		}
		// The caller's GeoIP enrichment.
		g := geo[ev.IP]
		ev.Country, ev.ASN = g.country, g.asn
		if err := eng.Process(&ev, &res); err != nil {
			t.Fatalf("call %d: %v", id, err)
		}
		if !c.at.Before(evalFrom) {
			ranked = append(ranked, scored{c, res.Score, res})
		}
	}
	for _, c := range calls {
		process(c)
	}
	for _, c := range attack {
		process(c)
	}
	for _, c := range after {
		process(c)
	}

	// The two attack calls outrank every habitual call of the last two
	// weeks, and each would at least be reviewed.
	habitualMax := math.Inf(-1)
	var worst cloudCall
	for _, s := range ranked {
		if s.call.ip != "198.51.100.66" && s.score > habitualMax {
			habitualMax, worst = s.score, s.call
		}
	}
	review := behavior.DefaultSpecs()[2].Thresholds.Review
	for i, s := range ranked[len(ranked)-3 : len(ranked)-1] {
		if s.score <= habitualMax {
			t.Errorf("attack call %d (%s) scores %.2f, not above the worst habitual call %.2f (%+v)", i, s.call.api, s.score, habitualMax, worst)
		}
		if s.res.Decision < behavior.Review {
			t.Errorf("attack call %d (%s): decision %s at score %.2f, want review or block", i, s.call.api, s.res.Decision, s.score)
		}
		// The first call also comes from a new network; by the second, the
		// identity has been seen there.
		codes := []string{"new_api", "new_region", "unusual_hour"}
		if i == 0 {
			codes = append(codes, "new_country", "new_asn", "new_ip")
		}
		for _, code := range codes {
			if !s.res.HasReason(code, behavior.MaxReasons) {
				t.Errorf("attack call %d (%s): %s not among the top reasons %v", i, s.call.api, code, reasonTexts(&s.res))
			}
		}
	}
	for _, s := range ranked[len(ranked)-3:] {
		t.Logf("%s %s: %.2f %v", s.call.at.Format(time.DateTime), s.call.api, s.score, reasonTexts(&s.res))
	}
	t.Logf("worst habitual call: %.2f", habitualMax)
	if habitualMax >= review {
		t.Errorf("a habitual call scores %.2f, at or above review %.2f: %+v", habitualMax, review, worst)
	}

	// The reasons read as sentences about the identity.
	run := ranked[len(ranked)-2].res
	wantRegion := "region ap-southeast-1 is new for this identity (top: eu-west-1 100%)"
	if got := reasonText(&run, "new_region"); got != wantRegion {
		t.Errorf("new_region reason = %q, want %q", got, wantRegion)
	}
	create := ranked[len(ranked)-3].res
	if got, want := reasonText(&create, "new_api"), "api iam:CreateAccessKey is new for this identity (top: s3:GetObject "; !strings.HasPrefix(got, want) {
		t.Errorf("new_api reason = %q, want it to start with %q", got, want)
	}
	if got, want := reasonText(&create, "unusual_hour"), "time 03:00 is unusual for this identity: "; !strings.HasPrefix(got, want) {
		t.Errorf("unusual_hour reason = %q, want it to start with %q", got, want)
	}

	// Her usual call the next morning scores low.
	if last := ranked[len(ranked)-1]; last.score >= 2 || last.res.Decision != behavior.Allow {
		t.Errorf("habitual s3:GetObject at 10:00 scores %.2f (%s), want under 2 and allow: %v",
			last.score, last.res.Decision, reasonTexts(&last.res))
	}
}

func reasonText(res *behavior.Result, code string) string {
	for _, r := range res.TopReasons() {
		if r.Code == code {
			return r.String()
		}
	}
	return ""
}

func reasonTexts(res *behavior.Result) []string {
	var out []string
	for _, r := range res.TopReasons() {
		out = append(out, fmt.Sprintf("%s %.2f: %s", r.Code, r.Contribution, r))
	}
	return out
}

// FuzzCloudEvent checks that whatever record the parser accepts, CloudEvent
// either refuses it or yields an event the engine takes.
func FuzzCloudEvent(f *testing.F) {
	for _, s := range []string{ctDenied, ctService, ctConsole} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, record string) {
		e, err := parse.ParseCloudTrail([]byte(record))
		if err != nil {
			return
		}
		var ev occsimore.Event
		if !CloudEvent(&e, "m", &ev) {
			return
		}
		if err := ev.Validate(); err != nil {
			t.Fatalf("CloudEvent gave an invalid event: %v", err)
		}
		if ev.Kind != CloudEventKind || (ev.User == "" && ev.IP == "") || !strings.Contains(ev.Attrs[CloudAttrAPI], ":") {
			t.Fatalf("CloudEvent gave %+v", ev)
		}
	})
}
