package stix

import (
	"fmt"
	"net/netip"
	"strings"
)

// Builders of the patterns occsimore shares. Each checks its value and
// returns a pattern that ParsePattern accepts; values are quoted with
// QuoteString, so no value can break out of its literal.

// Custom cyber-observable types occsimore uses for what STIX has no
// observable for. §11.1 lets producers define custom objects; their paths are
// plain object paths in patterns.
const (
	// TokenObject carries a keyed token (HMAC or OPRF output) standing for a
	// customer-linked identifier: value is the token, kind says what it
	// stands for (card, account, customer, terminal, merchant, device).
	TokenObject = "x-occsimore-token"
	// CardObject carries card properties that identify no customer (bin).
	CardObject = "x-occsimore-card"
	// BehaviourObject carries a behaviour pattern: a detection scenario
	// and its parameters.
	BehaviourObject = "x-occsimore-behaviour"
)

// IPPattern matches one IPv4 or IPv6 address.
func IPPattern(ip string) (string, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "", fmt.Errorf("ip %q: %w", ip, err)
	}
	a = a.Unmap()
	typ := "ipv4-addr"
	if a.Is6() {
		typ = "ipv6-addr"
	}
	return "[" + typ + ":value = " + QuoteString(a.String()) + "]", nil
}

// CIDRPattern matches addresses inside a network (ISSUBSET, §9.6).
func CIDRPattern(cidr string) (string, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return "", fmt.Errorf("cidr %q: %w", cidr, err)
	}
	p = p.Masked()
	typ := "ipv4-addr"
	if p.Addr().Is6() {
		typ = "ipv6-addr"
	}
	return "[" + typ + ":value ISSUBSET " + QuoteString(p.String()) + "]", nil
}

// DomainPattern matches a domain name (lowercased, no trailing dot).
func DomainPattern(domain string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	if d == "" || strings.ContainsAny(d, " /:@\t\r\n") || !strings.Contains(d, ".") && d != "localhost" {
		return "", fmt.Errorf("domain %q is not a domain name", domain)
	}
	return "[domain-name:value = " + QuoteString(d) + "]", nil
}

// URLPattern matches a URL exactly as given.
func URLPattern(url string) (string, error) {
	if !strings.Contains(url, "://") || strings.ContainsAny(url, " \t\r\n") {
		return "", fmt.Errorf("url %q is not an absolute URL", url)
	}
	return "[url:value = " + QuoteString(url) + "]", nil
}

// EmailPattern matches an email address.
func EmailPattern(addr string) (string, error) {
	a := strings.TrimSpace(addr)
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 || strings.ContainsAny(a, " \t\r\n<>") {
		return "", fmt.Errorf("email %q is not an address", addr)
	}
	return "[email-addr:value = " + QuoteString(a) + "]", nil
}

// hashAlgos maps accepted spellings to the hash-algorithm-ov names and the
// hex lengths they must have.
var hashAlgos = map[string]struct {
	name string
	hex  int
}{
	"md5": {"MD5", 32}, "sha1": {"SHA-1", 40}, "sha-1": {"SHA-1", 40},
	"sha256": {"SHA-256", 64}, "sha-256": {"SHA-256", 64},
	"sha512": {"SHA-512", 128}, "sha-512": {"SHA-512", 128},
}

// FileHashPattern matches a file by one of its hashes: algo is MD5, SHA-1,
// SHA-256 or SHA-512 (any case, hyphen optional), sum its hex digest.
func FileHashPattern(algo, sum string) (string, error) {
	a, ok := hashAlgos[strings.ToLower(algo)]
	if !ok {
		return "", fmt.Errorf("hash algorithm %q is not one of MD5, SHA-1, SHA-256, SHA-512", algo)
	}
	s := strings.ToLower(strings.TrimSpace(sum))
	if len(s) != a.hex || strings.Trim(s, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%s digest %q is not %d hex digits", a.name, sum, a.hex)
	}
	return "[file:hashes." + QuoteString(a.name) + " = " + QuoteString(s) + "]", nil
}

// UserAgentPattern matches an HTTP request's User-Agent header through the
// network-traffic object's http-request-ext extension (§6.12.2).
func UserAgentPattern(ua string) (string, error) {
	if ua == "" {
		return "", fmt.Errorf("user agent is empty")
	}
	return "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = " + QuoteString(ua) + "]", nil
}

// TokenPattern matches a customer-linked identifier by its token only; kind
// says what the token stands for. The clear identifier is never an argument.
func TokenPattern(kind, token string) (string, error) {
	if kind == "" || token == "" {
		return "", fmt.Errorf("token pattern needs a kind and a token")
	}
	return "[" + TokenObject + ":kind = " + QuoteString(kind) + " AND " + TokenObject + ":value = " + QuoteString(token) + "]", nil
}

// CardBINPattern matches cards by their issuer prefix (6 or 8 digits), which
// names a bank's product, not a customer.
func CardBINPattern(bin string) (string, error) {
	if (len(bin) != 6 && len(bin) != 8) || strings.Trim(bin, "0123456789") != "" {
		return "", fmt.Errorf("card BIN %q is not 6 or 8 digits", bin)
	}
	return "[" + CardObject + ":bin = " + QuoteString(bin) + "]", nil
}

// BehaviourPattern matches a detection scenario with its parameters, given
// as name/value pairs in a fixed order.
func BehaviourPattern(scenario string, params [][2]string) (string, error) {
	if scenario == "" {
		return "", fmt.Errorf("behaviour pattern needs a scenario")
	}
	var b strings.Builder
	b.WriteString("[" + BehaviourObject + ":scenario = " + QuoteString(scenario))
	for _, p := range params {
		if !validPropertyName(p[0]) && !(len(p[0]) > 0 && len(p[0]) < 3 && validPropertyName(p[0]+"__")) {
			return "", fmt.Errorf("behaviour parameter name %q is not a-z, 0-9 and _", p[0])
		}
		b.WriteString(" AND " + BehaviourObject + ":parameters." + p[0] + " = " + QuoteString(p[1]))
	}
	b.WriteString("]")
	return b.String(), nil
}
