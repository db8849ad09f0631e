package remediation_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/remediation"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestParseValue(t *testing.T) {
	for _, tc := range []struct {
		scope occsimore.Scope
		in    string
		want  string // "" means an error
	}{
		{occsimore.ScopeIP, "192.0.2.7", "192.0.2.7"},
		{occsimore.ScopeIP, "2001:DB8::0001", "2001:db8::1"},
		{occsimore.ScopeIP, "::ffff:192.0.2.7", "192.0.2.7"},
		{occsimore.ScopeIP, "fe80::1%eth0", ""},
		{occsimore.ScopeIP, "192.0.2.007", ""},
		{occsimore.ScopeIP, "192.0.2.0/24", ""},
		{occsimore.ScopeIP, "", ""},
		{occsimore.ScopeRange, "192.0.2.0/24", "192.0.2.0/24"},
		{occsimore.ScopeRange, "2001:DB8::/32", "2001:db8::/32"},
		{occsimore.ScopeRange, "::ffff:192.0.2.0/120", "192.0.2.0/24"},
		{occsimore.ScopeRange, "192.0.2.7/24", ""},
		{occsimore.ScopeRange, "192.0.2.7", ""},
		{occsimore.ScopeRange, "192.0.2.0/33", ""},
		{occsimore.ScopeUser, "root", "root"},
		{occsimore.ScopeUser, "Jean Dupont", "Jean Dupont"},
		{occsimore.ScopeUser, "root\nadmin", ""},
		{occsimore.ScopeUser, "\xff", ""},
		{occsimore.ScopeUser, "", ""},
		{occsimore.ScopeUser, strings.Repeat("u", remediation.MaxValueLen+1), ""},
		{"country", "FR", ""},
	} {
		got, err := remediation.ParseValue(tc.scope, tc.in)
		if tc.want == "" {
			field := "value"
			if !tc.scope.Valid() {
				field = "scope"
			}
			if occsimore.ErrorCode(err) != occsimore.EINVALID || occsimore.ErrorField(err) != field {
				t.Errorf("ParseValue(%s, %q) = %q, %v; want EINVALID about %s", tc.scope, tc.in, got, err, field)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseValue(%s, %q) = %q, %v; want %q", tc.scope, tc.in, got, err, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	valid := func() *occsimore.Remediation {
		return &occsimore.Remediation{Action: occsimore.ActionBan, Scope: occsimore.ScopeIP, Value: "192.0.2.7",
			Scenario: "ssh-bf", Origin: remediation.OriginLogs, Until: now.Add(time.Hour)}
	}
	if err := remediation.Check(valid()); err != nil {
		t.Fatalf("Check(valid) = %v", err)
	}
	for _, tc := range []struct {
		field string
		edit  func(*occsimore.Remediation)
	}{
		{"action", func(r *occsimore.Remediation) { r.Action = "drop" }},
		{"scope", func(r *occsimore.Remediation) { r.Scope = "country" }},
		{"origin", func(r *occsimore.Remediation) { r.Origin = "" }},
		{"scenario", func(r *occsimore.Remediation) { r.Scenario = "" }},
		{"until", func(r *occsimore.Remediation) { r.Until = time.Time{} }},
		{"value", func(r *occsimore.Remediation) { r.Value = "2001:DB8::1" }}, // not canonical
		{"value", func(r *occsimore.Remediation) { r.Scope = occsimore.ScopeRange }},
	} {
		r := valid()
		tc.edit(r)
		err := remediation.Check(r)
		if got, want := occsimore.ErrorField(err), tc.field; got != want || occsimore.ErrorCode(err) != occsimore.EINVALID {
			t.Errorf("Check(%+v) = %v, want EINVALID about %s", r, err, want)
		}
	}
}

func TestRemaining(t *testing.T) {
	for _, tc := range []struct {
		until   time.Time
		deleted bool
		want    time.Duration
	}{
		{now.Add(time.Hour), false, time.Hour},
		{now.Add(time.Hour + time.Millisecond), false, time.Hour + time.Second}, // rounded up
		{now.Add(time.Nanosecond), false, time.Second},
		{now, false, 0},
		{now.Add(-time.Hour), false, 0},
		{now.Add(time.Hour), true, 0},
		{time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), false, (1<<63 - 1) / time.Second * time.Second},
	} {
		r := &occsimore.Remediation{Until: tc.until}
		if tc.deleted {
			r.DeletedAt = now
		}
		if got := remediation.Remaining(r, now); got != tc.want {
			t.Errorf("Remaining(until %v, deleted %v) = %v, want %v", tc.until, tc.deleted, got, tc.want)
		}
	}
}

// sample is a set of remediations exercising every rule of the exports:
// both families, duplicates, nesting, users, expired and deleted ones.
func sample() []*occsimore.Remediation {
	r := func(id int64, scope occsimore.Scope, value string, until time.Duration) *occsimore.Remediation {
		return &occsimore.Remediation{ID: id, MemberID: "mem_a", Action: occsimore.ActionBan, Scope: scope, Value: value,
			Scenario: "ssh-bf", Origin: remediation.OriginLogs, Until: now.Add(until), CreatedAt: now.Add(-time.Minute)}
	}
	deleted := r(11, occsimore.ScopeIP, "192.0.2.99", time.Hour)
	deleted.DeletedAt = now.Add(-time.Second)
	return []*occsimore.Remediation{
		r(1, occsimore.ScopeIP, "198.51.100.20", 4*time.Hour),
		r(2, occsimore.ScopeIP, "192.0.2.7", time.Hour+500*time.Millisecond),
		r(3, occsimore.ScopeIP, "192.0.2.7", 2*time.Hour), // the same address: the longer timeout wins
		r(4, occsimore.ScopeRange, "203.0.113.0/24", 24*time.Hour),
		r(5, occsimore.ScopeIP, "203.0.113.9", 48*time.Hour),      // inside the range above
		r(6, occsimore.ScopeRange, "203.0.113.128/25", time.Hour), // also inside it
		r(7, occsimore.ScopeIP, "2001:db8::1", 30*time.Minute),
		r(8, occsimore.ScopeRange, "2001:db8:1::/48", 90*time.Second),
		r(9, occsimore.ScopeUser, "root", time.Hour),
		r(10, occsimore.ScopeIP, "192.0.2.50", -time.Second), // expired
		deleted,
		r(12, occsimore.ScopeIP, "10.0.0.1", 10*365*24*time.Hour), // capped
	}
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := remediation.WriteText(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	golden(t, "text.golden", buf.Bytes())
	// Each value once.
	seen := map[string]bool{}
	for line := range strings.Lines(buf.String()) {
		if seen[line] {
			t.Fatalf("value %q written twice", line)
		}
		seen[line] = true
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	in := sample()
	if err := remediation.WriteJSON(&buf, in); err != nil {
		t.Fatal(err)
	}
	golden(t, "json.golden", buf.Bytes())
	var got []*occsimore.Remediation
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("export is not a JSON array of remediations: %v", err)
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Fatalf("JSON export does not round-trip (-in +decoded):\n%s", diff)
	}

	buf.Reset()
	if err := remediation.WriteJSON(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(strings.Fields(buf.String()), ""), "[]"; got != want {
		t.Fatalf("empty JSON export = %q, want %q", got, want)
	}
}

func TestWriteNFTables(t *testing.T) {
	for _, tc := range []struct {
		name string
		rs   []*occsimore.Remediation
		opt  remediation.NFTOptions
	}{
		{"nftables.golden", sample(), remediation.NFTOptions{}},
		{"nftables-empty.golden", nil, remediation.NFTOptions{Family: "ip", Table: "edge", Set4: "bad4", Set6: "bad6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := remediation.WriteNFTables(&buf, tc.rs, now, tc.opt); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, buf.Bytes())
			nftCheck(t, buf.Bytes())
		})
	}
}

// TestWriteNFTablesManyElements splits a large set over several statements
// that nft still accepts.
func TestWriteNFTablesManyElements(t *testing.T) {
	var rs []*occsimore.Remediation
	for i := range 300 {
		rs = append(rs, &occsimore.Remediation{ID: int64(i), Action: occsimore.ActionBan, Scope: occsimore.ScopeIP,
			Value: fmt.Sprintf("10.0.%d.%d", i/256, i%256), Until: now.Add(time.Hour)})
	}
	var buf bytes.Buffer
	if err := remediation.WriteNFTables(&buf, rs, now, remediation.NFTOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Count(buf.String(), "timeout 3600s"), 300; got != want {
		t.Fatalf("%d elements, want %d", got, want)
	}
	if got, want := strings.Count(buf.String(), "add element inet occsimore blocklist4 {"), 5; got != want {
		t.Fatalf("%d add element statements, want %d", got, want)
	}
	nftCheck(t, buf.Bytes())
}

func TestWriteNFTablesOptions(t *testing.T) {
	for _, tc := range []struct {
		opt   remediation.NFTOptions
		field string
	}{
		{remediation.NFTOptions{Family: "arp"}, "family"},
		{remediation.NFTOptions{Table: "a b"}, "table"},
		{remediation.NFTOptions{Set4: "4set"}, "set4"},
		{remediation.NFTOptions{Set6: "x;flush ruleset"}, "set6"},
		{remediation.NFTOptions{Set4: "same", Set6: "same"}, "set6"},
	} {
		var buf bytes.Buffer
		err := remediation.WriteNFTables(&buf, sample(), now, tc.opt)
		if got := occsimore.ErrorField(err); got != tc.field {
			t.Errorf("WriteNFTables(%+v) = %v, want an error about %s", tc.opt, err, tc.field)
		}
		if buf.Len() != 0 {
			t.Errorf("WriteNFTables(%+v) wrote %q with its error", tc.opt, buf.String())
		}
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Fatalf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// nftCheck parses script with `nft -c -f` when nft is installed: the kernel
// is not touched, but nft rejects bad syntax and conflicting intervals.
func nftCheck(t *testing.T, script []byte) {
	t.Helper()
	nft, err := exec.LookPath("nft")
	if err != nil {
		t.Log("nft not installed: script syntax not checked")
		return
	}
	path := filepath.Join(t.TempDir(), "export.nft")
	if err := os.WriteFile(path, script, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), nft, "-c", "-f", path).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "Operation not permitted") {
			t.Skipf("nft -c needs CAP_NET_ADMIN here: %s", out)
		}
		t.Fatalf("nft -c rejects the script: %v\n%s\nscript:\n%s", err, out, script)
	}
}

func FuzzParseValue(f *testing.F) {
	for _, s := range []string{"192.0.2.7", "::ffff:1.2.3.4", "2001:db8::/32", "10.0.0.0/8", "root", "fe80::1%eth0", "1.2.3.4/40"} {
		f.Add("ip", s)
		f.Add("range", s)
		f.Add("user", s)
	}
	f.Fuzz(func(t *testing.T, scope, s string) {
		v, err := remediation.ParseValue(occsimore.Scope(scope), s)
		if err != nil {
			if occsimore.ErrorCode(err) != occsimore.EINVALID {
				t.Fatalf("ParseValue(%q, %q) error %v is not EINVALID", scope, s, err)
			}
			return
		}
		// The canonical form is a fixed point, and one line of text.
		again, err := remediation.ParseValue(occsimore.Scope(scope), v)
		if err != nil || again != v {
			t.Fatalf("ParseValue(%q, %q) = %q, which parses to %q, %v", scope, s, v, again, err)
		}
		if strings.ContainsAny(v, "\r\n") {
			t.Fatalf("canonical value %q spans lines", v)
		}
	})
}

func TestTooWide(t *testing.T) {
	for _, tc := range []struct {
		scope occsimore.Scope
		value string
		want  bool
	}{
		{occsimore.ScopeRange, "0.0.0.0/0", true},
		{occsimore.ScopeRange, "10.0.0.0/15", true},
		{occsimore.ScopeRange, "10.0.0.0/16", false},
		{occsimore.ScopeRange, "::/0", true},
		{occsimore.ScopeRange, "2001:db8::/31", true},
		{occsimore.ScopeRange, "2001:db8::/32", false},
		{occsimore.ScopeIP, "192.0.2.1", false},
		{occsimore.ScopeUser, "0.0.0.0/0", false},
	} {
		if got := remediation.TooWide(tc.scope, tc.value); got != tc.want {
			t.Errorf("TooWide(%s, %s) = %v, want %v", tc.scope, tc.value, got, tc.want)
		}
	}
}

// TestWriteNFTablesLeavesOutWideRanges: 0.0.0.0/0 and ::/0 block everyone;
// whatever their origin, only a forced one reaches the firewall.
func TestWriteNFTablesLeavesOutWideRanges(t *testing.T) {
	rem := func(value, origin string) *occsimore.Remediation {
		return &occsimore.Remediation{Action: occsimore.ActionBan, Scope: occsimore.ScopeRange, Value: value,
			Scenario: "x", Origin: origin, Until: now.Add(time.Hour)}
	}
	var buf bytes.Buffer
	rs := []*occsimore.Remediation{rem("0.0.0.0/0", remediation.OriginManual), rem("::/0", remediation.OriginConsortium),
		rem("10.0.0.0/8", remediation.OriginLogs), rem("192.0.2.0/24", remediation.OriginManual)}
	if err := remediation.WriteNFTables(&buf, rs, now, remediation.NFTOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"0.0.0.0/0", "::/0", "10.0.0.0/8"} {
		if strings.Contains(buf.String(), v) {
			t.Errorf("unforced %s reached the nftables export:\n%s", v, buf.String())
		}
	}
	if !strings.Contains(buf.String(), "192.0.2.0/24") {
		t.Errorf("a /24 is missing:\n%s", buf.String())
	}
	buf.Reset()
	if err := remediation.WriteNFTables(&buf, []*occsimore.Remediation{rem("0.0.0.0/0", remediation.OriginForced)}, now, remediation.NFTOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "0.0.0.0/0") {
		t.Errorf("a forced 0.0.0.0/0 is missing:\n%s", buf.String())
	}
	if err := remediation.Check(rem("0.0.0.0/0", remediation.OriginForced)); err != nil {
		t.Errorf("Check(forced) = %v", err)
	}
}

// TestNFTNames pins the names the nftables export accepts, at each edge of
// the character classes: letters of both cases, then letters, digits and _.
func TestNFTNames(t *testing.T) {
	rs := []*occsimore.Remediation{{Action: occsimore.ActionBan, Scope: occsimore.ScopeIP, Value: "192.0.2.1",
		Scenario: "x", Origin: remediation.OriginManual, Until: now.Add(time.Hour)}}
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"a", true}, {"z", true}, {"A", true}, {"Z", true},
		{"Block_List_09", true}, {"zZaA_9_0", true},
		{strings.Repeat("t", 64), true}, {strings.Repeat("t", 65), false},
		{"_a", false}, {"0a", false}, {"9a", false},
		// The bytes just outside each class: '`' '{' '@' '[' '/' ':'.
		{"a`", false}, {"a{", false}, {"a@", false}, {"a[", false}, {"a/", false}, {"a:", false},
		{"`a", false}, {"{a", false}, {"@a", false}, {"[a", false},
		{"a-b", false}, {"é", false},
	} {
		var buf bytes.Buffer
		err := remediation.WriteNFTables(&buf, rs, now, remediation.NFTOptions{Table: tc.name})
		if tc.ok != (err == nil) {
			t.Errorf("table %q: error %v, want ok %v", tc.name, err, tc.ok)
			continue
		}
		if !tc.ok {
			if got := occsimore.ErrorField(err); got != "table" {
				t.Errorf("table %q: error about %q, want table", tc.name, got)
			}
			continue
		}
		if !strings.Contains(buf.String(), "table inet "+tc.name+" {\n") ||
			!strings.Contains(buf.String(), "add element inet "+tc.name+" blocklist4 { 192.0.2.1 timeout 3600s }") {
			t.Errorf("table %q not in the script:\n%s", tc.name, buf.String())
		}
		nftCheck(t, buf.Bytes())
	}
}

// TestNFTMaxTimeout: a second is the smallest cap, and the cap applies.
func TestNFTMaxTimeout(t *testing.T) {
	rs := []*occsimore.Remediation{{Action: occsimore.ActionBan, Scope: occsimore.ScopeIP, Value: "192.0.2.1",
		Scenario: "x", Origin: remediation.OriginManual, Until: now.Add(time.Hour)}}
	var buf bytes.Buffer
	if err := remediation.WriteNFTables(&buf, rs, now, remediation.NFTOptions{MaxTimeout: time.Second}); err != nil {
		t.Fatalf("MaxTimeout 1s: %v", err)
	}
	if !strings.Contains(buf.String(), "192.0.2.1 timeout 1s }") {
		t.Errorf("timeout not capped at 1s:\n%s", buf.String())
	}
	err := remediation.WriteNFTables(&buf, rs, now, remediation.NFTOptions{MaxTimeout: time.Second - 1})
	if got := occsimore.ErrorField(err); got != "max_timeout" {
		t.Errorf("MaxTimeout 1s-1ns: %v, want an error about max_timeout", err)
	}
}

// TestParseValueMapped96: ::ffff:0:0/96 is every IPv4 address. Its canonical
// form is 0.0.0.0/0, which is too wide without force, rather than an IPv6 /96
// that would pass the IPv6 bound and reach the firewall unforced.
func TestParseValueMapped96(t *testing.T) {
	for in, want := range map[string]string{
		"::ffff:0.0.0.0/96":   "0.0.0.0/0",
		"::ffff:0.0.0.0/97":   "0.0.0.0/1",
		"::ffff:10.0.0.0/104": "10.0.0.0/8",
		"::ffff:10.0.0.1/128": "10.0.0.1/32",
		"::/96":               "::/96", // not IPv4-mapped
	} {
		got, err := remediation.ParseValue(occsimore.ScopeRange, in)
		if err != nil || got != want {
			t.Errorf("ParseValue(range, %s) = %q, %v, want %q", in, got, err, want)
		}
	}
	v, _ := remediation.ParseValue(occsimore.ScopeRange, "::ffff:0.0.0.0/96")
	if !remediation.TooWide(occsimore.ScopeRange, v) {
		t.Errorf("TooWide(%s) = false for every IPv4 address", v)
	}
	rem := &occsimore.Remediation{Action: occsimore.ActionBan, Scope: occsimore.ScopeRange, Value: v,
		Scenario: "x", Origin: remediation.OriginManual, Until: now.Add(time.Hour)}
	var buf bytes.Buffer
	if err := remediation.WriteNFTables(&buf, []*occsimore.Remediation{rem}, now, remediation.NFTOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "add element") {
		t.Errorf("an unforced mapped /96 reached the firewall:\n%s", buf.String())
	}
}

// TestRemainingNearSaturation: every duration up to the largest whole second
// rounds up to a whole second (never ending a remediation early), beyond it
// Remaining saturates rather than overflowing.
func TestRemainingNearSaturation(t *testing.T) {
	const maxSecond = math.MaxInt64 / time.Second * time.Second
	for _, tc := range []struct {
		d, want time.Duration
	}{
		{math.MaxInt64 - time.Second, maxSecond},
		{math.MaxInt64 - time.Second + 1, maxSecond}, // rounding up used to overflow here, so it truncated
		{maxSecond - time.Second + 1, maxSecond},
		{maxSecond - time.Second, maxSecond - time.Second},
		{maxSecond + 1, maxSecond},
		{math.MaxInt64, maxSecond},
	} {
		r := &occsimore.Remediation{Until: now.Add(tc.d)}
		if got := remediation.Remaining(r, now); got != tc.want || got < 0 {
			t.Errorf("Remaining(now+%d) = %d, want %d", tc.d, got, tc.want)
		}
	}
}
