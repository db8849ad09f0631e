package stix

import (
	"strings"
	"testing"
)

// Patterns from STIX 2.1 §9.9 (examples) and the grammar's corners.
var validPatterns = []string{
	`[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']`,
	`[email-message:from_ref.value MATCHES '.+\\@example\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\.exe$']`,
	`[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:mime_type = 'application/x-pdf']`,
	`[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] AND [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']`,
	`[file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar'] WITHIN 300 SECONDS`,
	`[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1008' AND user-account:account_login = 'Paul'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1009' AND user-account:account_login = 'Mary']`,
	`[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\xd4\\xc3\\xb2\\xa1\\x02\\x00\\x04\\x00']`,
	`[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\Windows\\System32']`,
	`[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]`,
	`[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']`,
	`[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']`,
	`[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS`,
	`[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']`,
	`[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']`,
	`[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']`,
	`[windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\CryptoLocker\\Files' OR windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\Microsoft\\CurrentVersion\\Run\\CryptoLocker_0388']`,
	`[(file:name = 'pdf.exe' OR file:size = 371712) AND file:created = t'2014-01-13T07:03:17Z']`,
	`[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = 'Conference Info']`,
	`[x-usb-device:usbdrive.serial_number = '575833344E30314A4434434B']`,
	`[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS`,
	`[network-traffic:src_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']`,
	`([file:name = 'foo.dll'] AND [win-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar']) OR [process:name = 'fooproc' OR process:name = 'procfoo']`,
	`[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'`,
	`[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128']`,
	`[ipv4-addr:value NOT IN ('10.0.0.1', '10.0.0.2')]`,
	`[x:a IN ()]`,
	`[x:a = -1 AND x:b <= +2 AND x:c > -.5 AND x:d != true AND x:e <> b'AAAA' AND x:f = b'AA==']`,
	`[x:a[-1] = 1 AND x:b[0].c = 'd' AND NOT EXISTS x:e AND EXISTS x:f]`,
	`[x:'quoted-first' LIKE 'a%']`,
	`[a:b = 1] /* comment */ AND // line comment
	 [c:d = 2]`,
	`[a:b == 'x'] START t'2016-06-01T00:00:00.123Z' STOP t'2016-06-01T00:00:01Z' WITHIN 5.5 SECONDS REPEATS 2 TIMES`,
	"[a:b\u00a0=\u3000'x']",
}

func TestParsePatternValid(t *testing.T) {
	for _, p := range validPatterns {
		got, err := ParsePattern(p)
		if err != nil {
			t.Errorf("ParsePattern(%s): %v", p, err)
			continue
		}
		// The canonical form parses back to itself.
		s := got.String()
		again, err := ParsePattern(s)
		if err != nil {
			t.Errorf("canonical form %s of %s does not parse: %v", s, p, err)
			continue
		}
		if s2 := again.String(); s2 != s {
			t.Errorf("canonical form not stable:\n%s\n%s", s, s2)
		}
	}
}

func TestParsePatternInvalid(t *testing.T) {
	for _, c := range []struct{ pattern, reason string }{
		{``, "expected '[' or '('"},
		{`file:name = 'x'`, "expected '[' or '('"},
		{`[file:name = 'x'`, "']' closing"},
		{`[file:name = 'x']]`, "unexpected"},
		{`[file:name 'x']`, "comparison operator"},
		{`[file name = 'x']`, "expected ':'"},
		{`[file:name = x]`, "expected a literal"},
		{`[file:name = 'unterminated]`, "unterminated string"},
		{`[file:name = 'bad \n escape']`, "invalid escape"},
		{`[file:na-me = 'x']`, "hyphen"},
		{`[file:size > true]`, "orderable"},
		{`[file:name LIKE 5]`, "string literal"},
		{`[ipv4-addr:value ISSUBSET 'not-a-net']`, "IP address or CIDR"},
		{`[a:b = 1] WITHIN 0 SECONDS`, "positive"},
		{`[a:b = 1] WITHIN -5 SECONDS`, "positive"},
		{`[a:b = 1] WITHIN 5`, "SECONDS"},
		{`[a:b = 1] REPEATS 0 TIMES`, "positive integer"},
		{`[a:b = 1] REPEATS 1.5 TIMES`, "positive integer"},
		{`[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS`, "two WITHIN"},
		{`[a:b = 1] START t'2016-07-01T00:00:00Z' STOP t'2016-06-01T00:00:00Z'`, "later than START"},
		{`[a:b = 1] START t'2016-13-01T00:00:00Z' STOP t'2017-06-01T00:00:00Z'`, "timestamp"},
		{`[a:b = t'2016-01-01T00:00:00+01:00']`, "timestamp"},
		{`[a:b = h'abc']`, "odd number"},
		{`[a:b = b'AAA']`, "base64"},
		{`[a:b = 007]`, "leading zero"},
		{`[a:b = 1] AND`, "expected '[' or '('"},
		{`[a:b = 1] /* open`, "unterminated comment"},
		{`[a:b = 1 AND NOT a:c = 2]`, "NOT before a comparison"},
		{`[a:b IN ('x' 'y')]`, "','"},
		{`[a:b[x] = 1]`, "index"},
		{`[a:b = 1] §`, "unexpected character"},
		{strings.Repeat("(", 500) + "[a:b = 1]" + strings.Repeat(")", 500), "deeper"},
	} {
		_, err := ParsePattern(c.pattern)
		if err == nil {
			t.Errorf("ParsePattern(%q) accepted an invalid pattern", c.pattern)
			continue
		}
		if !strings.Contains(err.Error(), c.reason) {
			t.Errorf("ParsePattern(%q) = %v, want a reason containing %q", c.pattern, err, c.reason)
		}
	}
}

func TestParsePatternTree(t *testing.T) {
	// FOLLOWEDBY binds loosest, then OR, then AND; qualifiers bind to the
	// observation expression before them.
	p, err := ParsePattern(`[a:x = 1] AND [b:y = 2] OR [c:z = 3] FOLLOWEDBY [d:w = 'v'] WITHIN 10 SECONDS`)
	if err != nil {
		t.Fatal(err)
	}
	fb, ok := p.Root.(*ObsBinary)
	if !ok || fb.Op != "FOLLOWEDBY" {
		t.Fatalf("root = %#v, want FOLLOWEDBY", p.Root)
	}
	or, ok := fb.Left.(*ObsBinary)
	if !ok || or.Op != "OR" {
		t.Fatalf("left of FOLLOWEDBY = %#v, want OR", fb.Left)
	}
	if and, ok := or.Left.(*ObsBinary); !ok || and.Op != "AND" {
		t.Fatalf("left of OR = %#v, want AND", or.Left)
	}
	q, ok := fb.Right.(*ObsQualified)
	if !ok || q.Qualifier.Kind != "WITHIN" || q.Qualifier.Seconds != 10 {
		t.Fatalf("right of FOLLOWEDBY = %#v, want WITHIN 10", fb.Right)
	}
	pt := q.Expr.(*ObsBracket).Expr.(*PropTest)
	if got, want := pt.Path.String(), "d:w"; got != want {
		t.Errorf("path = %q, want %q", got, want)
	}
	if pt.Value.Kind != LitString || pt.Value.Str != "v" {
		t.Errorf("value = %#v, want the string v", pt.Value)
	}

	p, err = ParsePattern(`[file:hashes.'SHA-256' = 'a\'b\\c' AND x:n[*].m[2] NOT IN (1, 2.5, true)]`)
	if err != nil {
		t.Fatal(err)
	}
	and := p.Root.(*ObsBracket).Expr.(*CmpBinary)
	left := and.Left.(*PropTest)
	if left.Path.Steps[1].Key != "SHA-256" || !left.Path.Steps[1].Quoted || left.Value.Str != `a'b\c` {
		t.Errorf("left = %+v", left)
	}
	right := and.Right.(*PropTest)
	if !right.Not || right.Op != "IN" || len(right.Set) != 3 || right.Set[0].Int != 1 || right.Set[1].Float != 2.5 || !right.Set[2].Bool {
		t.Errorf("right = %+v", right)
	}
	if !right.Path.Steps[1].Any || !right.Path.Steps[3].IsIdx || right.Path.Steps[3].Index != 2 {
		t.Errorf("right path = %+v", right.Path)
	}
}

func TestPatternBuilders(t *testing.T) {
	for _, c := range []struct {
		build func() (string, error)
		want  string
	}{
		{func() (string, error) { return IPPattern("198.51.100.7") }, `[ipv4-addr:value = '198.51.100.7']`},
		{func() (string, error) { return IPPattern("::ffff:198.51.100.7") }, `[ipv4-addr:value = '198.51.100.7']`},
		{func() (string, error) { return IPPattern("2001:DB8::1") }, `[ipv6-addr:value = '2001:db8::1']`},
		{func() (string, error) { return CIDRPattern("198.51.100.7/24") }, `[ipv4-addr:value ISSUBSET '198.51.100.0/24']`},
		{func() (string, error) { return CIDRPattern("2001:db8::/32") }, `[ipv6-addr:value ISSUBSET '2001:db8::/32']`},
		{func() (string, error) { return DomainPattern("Evil.Example.") }, `[domain-name:value = 'evil.example']`},
		{func() (string, error) { return URLPattern("http://evil.example/a'b") }, `[url:value = 'http://evil.example/a\'b']`},
		{func() (string, error) { return EmailPattern("phish@evil.example") }, `[email-addr:value = 'phish@evil.example']`},
		{func() (string, error) { return FileHashPattern("sha256", strings.Repeat("Ab", 32)) }, `[file:hashes.'SHA-256' = '` + strings.Repeat("ab", 32) + `']`},
		{func() (string, error) { return FileHashPattern("MD5", strings.Repeat("0", 32)) }, `[file:hashes.'MD5' = '` + strings.Repeat("0", 32) + `']`},
		{func() (string, error) { return UserAgentPattern(`sqlmap/1.7 \ 'x'`) }, `[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'sqlmap/1.7 \\ \'x\'']`},
		{func() (string, error) { return TokenPattern("terminal", "h1:k1:abc") }, `[x-occsimore-token:kind = 'terminal' AND x-occsimore-token:value = 'h1:k1:abc']`},
		{func() (string, error) { return CardBINPattern("41234567") }, `[x-occsimore-card:bin = '41234567']`},
		{func() (string, error) {
			return BehaviourPattern("card-testing", [][2]string{{"min_attempts", "20"}, {"window", "10m"}})
		}, `[x-occsimore-behaviour:scenario = 'card-testing' AND x-occsimore-behaviour:parameters.min_attempts = '20' AND x-occsimore-behaviour:parameters.window = '10m']`},
	} {
		got, err := c.build()
		if err != nil {
			t.Errorf("%s: %v", c.want, err)
			continue
		}
		if got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
		if _, err := ParsePattern(got); err != nil {
			t.Errorf("built pattern %s does not parse: %v", got, err)
		}
	}
	for _, bad := range []func() (string, error){
		func() (string, error) { return IPPattern("300.1.1.1") },
		func() (string, error) { return CIDRPattern("10.0.0.0/33") },
		func() (string, error) { return DomainPattern("not a domain") },
		func() (string, error) { return URLPattern("evil.example/x") },
		func() (string, error) { return EmailPattern("nobody") },
		func() (string, error) { return FileHashPattern("sha256", "abc") },
		func() (string, error) { return FileHashPattern("crc32", "abcd1234") },
		func() (string, error) { return CardBINPattern("4123456789012345") },
		func() (string, error) { return BehaviourPattern("s", [][2]string{{"Bad-Name", "x"}}) },
	} {
		if p, err := bad(); err == nil {
			t.Errorf("builder accepted an invalid value: %s", p)
		}
	}
}

func FuzzParsePattern(f *testing.F) {
	for _, p := range validPatterns {
		f.Add(p)
	}
	f.Add(`[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS`)
	f.Add(`[a:b = h'abc']`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePattern(s)
		if err != nil {
			return
		}
		// Whatever parses prints to a canonical form that parses to the same form.
		c := p.String()
		q, err := ParsePattern(c)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", c, s, err)
		}
		if c2 := q.String(); c2 != c {
			t.Fatalf("canonical form unstable: %q then %q", c, c2)
		}
	})
}
