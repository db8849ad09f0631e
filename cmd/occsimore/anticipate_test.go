package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/occsimore/occsimore/share"
)

// consortiumKey is the test consortium's HMAC key, shared by both servers.
const consortiumKey = "test-consortium-key-0123456789-abcdefghij"

// sharingEnv turns sharing on for a server publishing into collection.
func sharingEnv(t *testing.T, collection, policy string) []string {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "consortium.key")
	if err := os.WriteFile(keyFile, []byte(consortiumKey), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"OCCSIMORE_SERVER_ADDR=127.0.0.1:0", "OCCSIMORE_LOGS_GEOIP_DIR=",
		"OCCSIMORE_SHARING_ENABLED=true", "OCCSIMORE_SHARING_COLLECTION=" + collection,
		"OCCSIMORE_SHARING_KEY_FILE=" + keyFile, "OCCSIMORE_SHARING_POLICY=" + policy,
		"OCCSIMORE_SHARING_REFRESH_EVERY=200ms"}
}

// call sends a request with a bearer token and returns the status and body.
func call(t *testing.T, method, url, token, contentType, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if strings.Contains(url, "/taxii2/") {
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// scored is one line of an events:batch answer.
type scored struct {
	Decision string `json:"decision"`
	AlertID  string `json:"alert_id"`
	Reasons  []struct {
		Code, Role, Text string
	} `json:"reasons"`
}

func postEvent(t *testing.T, url, token, event string) scored {
	t.Helper()
	code, body := call(t, "POST", url+"/v1/events:batch", token, "application/x-ndjson", event+"\n")
	if code != http.StatusOK {
		t.Fatalf("POST event: %d %s", code, body)
	}
	var s scored
	if err := json.Unmarshal(bytes.SplitN(body, []byte("\n"), 2)[0], &s); err != nil {
		t.Fatalf("event answer %s: %v", body, err)
	}
	return s
}

func (s scored) shared() (string, bool) {
	for _, r := range s.Reasons {
		if r.Code == "shared_indicator" {
			return r.Role + ": " + r.Text, true
		}
	}
	return "", false
}

// eventually retries fn until it reports true; the deadline is a failure
// guard (the refresh is asynchronous), not a timing assertion.
func eventually(t *testing.T, what string, fn func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !fn(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after a minute", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAnticipationBetweenTwoServers is issue 14's must-show between two
// members that run their own servers, in two processes on loopback: an ssh
// brute force detected at A becomes an indicator in A's collection; B pulls
// it over TAXII; B's next login from that address is flagged with the reason
// and B's bouncer streams (native and CrowdSec) ban it with origin
// consortium. A terminal labelled fraud at A is matched at B by token only;
// A's merchants are TLP:RED in its policy and never cross; no clear
// customer identifier is in any byte B receives.
func TestAnticipationBetweenTwoServers(t *testing.T) {
	const (
		attacker = "45.77.0.9"
		terminal = "TERM-00731"
		merchant = "MERCH-4410"
	)
	now := time.Now().UTC()

	// Member A: alerts on almost any payment, so that one can be labelled.
	a := newCLI(t)
	a.mustRun("", "member", "add", "--slug", "alpha", "--name", "Alpha Bank", "--sector", "banking")
	specs := a.mustRun("", "engine", "specs")
	specsPath := filepath.Join(t.TempDir(), "specs.toml")
	os.WriteFile(specsPath, []byte(specs+"\n[[member]]\nslug = \"alpha\"\nkind = \"card.tx\"\nreview = 0.000001\nblock = 1000000\n"), 0o600)
	colA := taxiiCollection(t, a, "alpha")
	aIngest, aAnalyst, aPeer := a.token("alpha", "ingest"), a.token("alpha", "admin"), a.token("alpha", "reader")
	srvA := startServer(t, append(append(a.env, "OCCSIMORE_ENGINE_SPECS_FILE="+specsPath),
		sharingEnv(t, colA, "ip=green,terminal=green,merchant=red")...))

	// Member B, its own server and store.
	b := newCLI(t)
	b.mustRun("", "member", "add", "--slug", "beta", "--name", "Beta Bank", "--sector", "banking")
	colB := taxiiCollection(t, b, "beta")
	bIngest, bReader := b.token("beta", "ingest"), b.token("beta", "reader")
	srvB := startServer(t, append(b.env, sharingEnv(t, colB, "ip=green,terminal=green,merchant=red")...))

	// Before anything is shared, B's login from the attacker is not flagged.
	login := func(i int) string {
		return fmt.Sprintf(`{"kind":"auth.login","time":%q,"user":"u%d","ip":%q,"success":true}`, now.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i, attacker)
	}
	if s := postEvent(t, srvB.url, bIngest, login(0)); len(s.Reasons) > 0 {
		if r, ok := s.shared(); ok {
			t.Fatalf("B flagged the address before anything was shared: %s", r)
		}
	}

	// A: an ssh brute force from the attacker.
	var lines strings.Builder
	for i := range 8 {
		fmt.Fprintf(&lines, "%s web-1 sshd[4242]: Failed password for root from %s port %d ssh2\n", time.Now().Format(time.Stamp), attacker, 40000+i)
	}
	if code, body := call(t, "POST", srvA.url+"/v1/logs?host=web-1", aIngest, "text/plain", lines.String()); code/100 != 2 {
		t.Fatalf("POST /v1/logs to A: %d %s", code, body)
	}

	// A: a payment alert at the terminal and merchant, labelled fraud.
	var alertID string
	for i := 0; alertID == "" && i < 20; i++ {
		s := postEvent(t, srvA.url, aIngest, fmt.Sprintf(`{"kind":"card.tx","time":%q,"card":"4111111111111%03d","terminal":%q,"merchant":%q,"amount":%d,"currency":"EUR"}`,
			now.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i, terminal, merchant, 50+i*300))
		alertID = s.AlertID
	}
	if alertID == "" {
		t.Fatal("no payment at A made an alert to label")
	}
	if code, body := call(t, "POST", srvA.url+"/v1/alerts/"+alertID+"/label", aAnalyst, "application/json", `{"label":"fraud"}`); code != http.StatusOK {
		t.Fatalf("label at A: %d %s", code, body)
	}

	// A's collection holds the address and the terminal's token.
	kr, err := share.NewKeyring(24*time.Hour, share.Key{ID: "k1", Secret: []byte(consortiumKey)})
	if err != nil {
		t.Fatal(err)
	}
	termTok, _ := kr.Token(share.KindTerminal, terminal, time.Now())
	merchTok, _ := kr.Token(share.KindMerchant, merchant, time.Now())
	objectsURL := srvA.url + "/taxii2/lab/collections/" + colA + "/objects/"
	var wire []byte // what B's TAXII client receives from A
	eventually(t, "A's collection holds the address and the terminal token", func() bool {
		code, body := call(t, "GET", objectsURL, aPeer, "", "")
		wire = body
		return code == http.StatusOK && bytes.Contains(body, []byte("'"+attacker+"'")) && bytes.Contains(body, []byte(termTok.String()))
	})

	// B pulls A's collection over TAXII into its own (another process: the CLI).
	b.env = append(b.env, "OCCSIMORE_TAXII_PULL_URL="+srvA.url+"/taxii2/lab/", "OCCSIMORE_TAXII_PULL_COLLECTION="+colA,
		"OCCSIMORE_TAXII_PULL_INTO="+colB, "OCCSIMORE_TAXII_PULL_MEMBER=beta", "OCCSIMORE_TAXII_PULL_TOKEN="+aPeer)
	var pulled struct{ Objects int }
	if err := json.Unmarshal([]byte(b.mustRun("", "taxii", "pull", "-o", "json")), &pulled); err != nil || pulled.Objects == 0 {
		t.Fatalf("pull: %+v, %v", pulled, err)
	}
	_, stored := call(t, "GET", srvB.url+"/taxii2/lab/collections/"+colB+"/objects/", bReader, "", "")

	// Nothing customer-linked in clear, and the RED merchant not at all, in
	// any byte that crossed (A's answer) or that B kept.
	for name, body := range map[string][]byte{"A's TAXII answer": wire, "B's pulled objects": stored} {
		for _, secret := range []string{terminal, strings.ToLower(terminal), merchant, strings.ToLower(merchant), merchTok.String(), "4111111111111"} {
			if bytes.Contains(body, []byte(secret)) {
				t.Errorf("%s holds %q", name, secret)
			}
		}
		if !bytes.Contains(body, []byte(termTok.String())) {
			t.Errorf("%s lacks the terminal's token", name)
		}
	}

	// B's next login from the attacker is anticipated.
	var reason string
	i := 1
	eventually(t, "B flags the login from the attacker", func() bool {
		s := postEvent(t, srvB.url, bIngest, login(i))
		i++
		var ok bool
		reason, ok = s.shared()
		return ok && s.Decision != "" && s.Decision != "allow" && s.AlertID != ""
	})
	if !strings.Contains(reason, attacker) || !strings.Contains(reason, "Alpha Bank") || !strings.Contains(reason, "banking") {
		t.Errorf("reason %q does not say what, who and which sector", reason)
	}

	// B's bouncers ban it, with origin consortium, on both streams.
	var stream struct {
		New []struct{ Value, Origin, Scope string } `json:"new"`
	}
	if code := getJSON(t, srvB.url+"/v1/decisions/stream?startup=true", bReader, &stream); code != http.StatusOK {
		t.Fatalf("decision stream: %d", code)
	}
	banned := false
	for _, d := range stream.New {
		banned = banned || (d.Value == attacker && d.Origin == "consortium")
	}
	if !banned {
		t.Errorf("B's decision stream %+v lacks %s of origin consortium", stream.New, attacker)
	}
	req, _ := http.NewRequest("GET", srvB.url+"/crowdsec/v1/decisions/stream?startup=true", nil)
	req.Header.Set("X-Api-Key", b.token("beta", "reader"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var cs struct {
		New []struct{ Value, Origin string } `json:"new"`
	}
	json.NewDecoder(resp.Body).Decode(&cs)
	resp.Body.Close()
	banned = false
	for _, d := range cs.New {
		banned = banned || (d.Value == attacker && d.Origin == "consortium")
	}
	if !banned {
		t.Errorf("B's CrowdSec stream %+v lacks %s of origin consortium", cs.New, attacker)
	}

	// A payment at the labelled terminal is matched at B by its token; one
	// at the RED merchant (another terminal) is not.
	s := postEvent(t, srvB.url, bIngest, fmt.Sprintf(`{"kind":"card.tx","time":%q,"card":"5500000000000004","terminal":%q,"merchant":"B-SHOP","amount":20,"currency":"EUR"}`,
		now.Format(time.RFC3339), terminal))
	if r, ok := s.shared(); !ok || !strings.HasPrefix(r, "terminal: ") || strings.Contains(r, terminal) || s.AlertID == "" {
		t.Errorf("B's payment at the labelled terminal: %+v", s)
	}
	s = postEvent(t, srvB.url, bIngest, fmt.Sprintf(`{"kind":"card.tx","time":%q,"card":"5500000000000012","terminal":"B-TERM","merchant":%q,"amount":20,"currency":"EUR"}`,
		now.Format(time.RFC3339), merchant))
	if r, ok := s.shared(); ok {
		t.Errorf("B matched the RED merchant: %s", r)
	}
}

// TestAnticipationBetweenTwoTenants is the same on one server: alpha and
// beta are tenants of one `serve` process and read and write one sharing
// group's collection; alpha's brute force is anticipated at beta with no
// pull, beta's bouncers ban the address, and alpha's own login from it
// gets no shared reason (its own detection is not news to it).
func TestAnticipationBetweenTwoTenants(t *testing.T) {
	const attacker = "45.77.1.20"
	now := time.Now().UTC()
	c := newCLI(t)
	c.mustRun("", "member", "add", "--slug", "alpha", "--name", "Alpha Bank", "--sector", "banking")
	c.mustRun("", "member", "add", "--slug", "beta", "--name", "Beta Bank", "--sector", "banking")
	col := taxiiCollection(t, c, "alpha")
	c.mustRun("", "taxii", "grant", "--collection", col, "--member", "beta", "--read", "--write")
	aIngest, bIngest, bReader := c.token("alpha", "ingest"), c.token("beta", "ingest"), c.token("beta", "reader")
	srv := startServer(t, append(c.env, sharingEnv(t, col, "ip=green,terminal=green")...))

	var lines strings.Builder
	for i := range 8 {
		fmt.Fprintf(&lines, "%s web-1 sshd[4242]: Failed password for root from %s port %d ssh2\n", time.Now().Format(time.Stamp), attacker, 40000+i)
	}
	if code, body := call(t, "POST", srv.url+"/v1/logs?host=web-1", aIngest, "text/plain", lines.String()); code/100 != 2 {
		t.Fatalf("POST /v1/logs as alpha: %d %s", code, body)
	}
	login := func(i int) string {
		return fmt.Sprintf(`{"kind":"auth.login","time":%q,"user":"u%d","ip":%q,"success":true}`, now.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i, attacker)
	}
	i := 0
	var reason string
	eventually(t, "beta flags the login from alpha's attacker", func() bool {
		s := postEvent(t, srv.url, bIngest, login(i))
		i++
		var ok bool
		reason, ok = s.shared()
		return ok && s.AlertID != ""
	})
	if !strings.Contains(reason, "Alpha Bank") {
		t.Errorf("reason %q does not name the source", reason)
	}
	if s := postEvent(t, srv.url, aIngest, login(i)); len(s.Reasons) > 0 {
		if r, ok := s.shared(); ok {
			t.Errorf("alpha matched its own indicator: %s", r)
		}
	}
	var stream struct {
		New []struct{ Value, Origin string } `json:"new"`
	}
	if code := getJSON(t, srv.url+"/v1/decisions/stream?startup=true", bReader, &stream); code != http.StatusOK {
		t.Fatalf("decision stream: %d", code)
	}
	banned := false
	for _, d := range stream.New {
		banned = banned || (d.Value == attacker && d.Origin == "consortium")
	}
	if !banned {
		t.Errorf("beta's decision stream %+v lacks %s of origin consortium", stream.New, attacker)
	}
}
