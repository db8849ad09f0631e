package behavior

import (
	"math/bits"
	"strconv"
	"strings"

	"github.com/occsimore/occsimore"
)

// attrKind names where an attribute's value comes from in an Event.
type attrKind uint8

const (
	attrNone attrKind = iota
	attrAmount
	attrCountry
	attrCurrency
	attrMCC
	attrChannel
	attrDevice
	attrUserAgent
	attrASN
	attrSuccess
	attrCard
	attrCustomer
	attrTerminal
	attrMerchant
	attrUser
	attrIP
	attrEntity // "entity.ROLE": the id of an extra entity
	attrCustom // "attrs.NAME": a member-defined attribute
)

var attrByName = map[string]attrKind{
	"amount": attrAmount, "country": attrCountry, "currency": attrCurrency, "mcc": attrMCC,
	"channel": attrChannel, "device": attrDevice, "user_agent": attrUserAgent, "asn": attrASN,
	"success": attrSuccess, "card": attrCard, "customer": attrCustomer, "terminal": attrTerminal,
	"merchant": attrMerchant, "user": attrUser, "ip": attrIP,
}

// attr is a resolved attribute name.
type attr struct {
	kind attrKind
	key  string // role of attrEntity, name of attrCustom
	name string // as written in the spec
}

// parseAttr resolves "country", "entity.account" or "attrs.plan".
func parseAttr(name string) (attr, bool) {
	if k, ok := attrByName[name]; ok {
		return attr{kind: k, name: name}, true
	}
	if key, ok := strings.CutPrefix(name, "attrs."); ok && occsimore.ValidName(key) {
		return attr{kind: attrCustom, key: key, name: name}, true
	}
	if key, ok := strings.CutPrefix(name, "entity."); ok && occsimore.ValidName(key) {
		return attr{kind: attrEntity, key: key, name: name}, true
	}
	return attr{}, false
}

// roleAttr is the attribute holding the id of an entity of role.
func roleAttr(role string) attr {
	if k, ok := attrByName[role]; ok && k >= attrCard {
		return attr{kind: k, name: role}
	}
	return attr{kind: attrEntity, key: role, name: role}
}

func (a attr) numeric() bool     { return a.kind == attrAmount || a.kind == attrCustom }
func (a attr) categorical() bool { return a.kind != attrNone && a.kind != attrAmount }

// short is the attribute name without its "attrs."/"entity." prefix, used in
// reason codes ("new_plan").
func (a attr) short() string {
	if a.key != "" {
		return a.key
	}
	return a.name
}

// numValue reads a numeric attribute of ev.
func numValue(ev *occsimore.Event, a attr) (float64, bool) {
	switch a.kind {
	case attrAmount:
		return ev.Amount, true
	case attrCustom:
		s, ok := ev.Attrs[a.key]
		if !ok {
			return 0, false
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v != v || v > 1e300 || v < -1e300 {
			return 0, false
		}
		return v, true
	}
	return 0, false
}

// catValue reads a categorical attribute of ev: a string, or for the ASN a
// number (so that reading it never allocates).
func catValue(ev *occsimore.Event, a *attr) (s string, n uint64, ok bool) {
	switch a.kind {
	case attrCountry:
		s = ev.Country
	case attrCurrency:
		s = ev.Currency
	case attrMCC:
		s = ev.MCC
	case attrChannel:
		s = ev.Channel
	case attrDevice:
		s = ev.Device
	case attrUserAgent:
		s = ev.UserAgent
	case attrASN:
		return "", uint64(ev.ASN), ev.ASN != 0
	case attrSuccess:
		if !ev.HasSuccess {
			return "", 0, false
		}
		if ev.Success {
			return "true", 0, true
		}
		return "false", 0, true
	case attrCard:
		s = ev.Card
	case attrCustomer:
		s = ev.Customer
	case attrTerminal:
		s = ev.Terminal
	case attrMerchant:
		s = ev.Merchant
	case attrUser:
		s = ev.User
	case attrIP:
		s = ev.IP
	case attrEntity:
		for i := range ev.Entities {
			if ev.Entities[i].Role == a.key {
				s = ev.Entities[i].ID
				break
			}
		}
	case attrCustom:
		s = ev.Attrs[a.key]
	}
	return s, 0, s != ""
}

// Value and entity hashes: 8 bytes at a time, multiply-rotate rounds in
// the manner of xxHash, and the splitmix64 finaliser, so that the top bits
// (sharding) and the low bits (index position) are both well mixed. The
// seed is the engine's; keep it secret where event ids come from outside
// (an attacker who knows it can make ids collide and slow a shard down).
const (
	hashK1 = 0x9e3779b97f4a7c15
	hashK2 = 0xc2b2ae3d27d4eb4f
)

func hashString(seed uint64, s string) uint64 {
	h := seed ^ uint64(len(s))*hashK2
	for len(s) >= 8 {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = bits.RotateLeft64(h^w*hashK2, 31) * hashK1
		s = s[8:]
	}
	// The last 0-7 bytes, little-endian, in at most two loads: where the
	// loads overlap they place the same bytes at the same bits.
	var w uint64
	switch n := len(s); {
	case n >= 4:
		w = uint64(le32(s)) | uint64(le32(s[n-4:]))<<(8*(n-4))
	case n >= 2:
		w = uint64(s[0]) | uint64(s[1])<<8 | uint64(s[n-1])<<(8*(n-1))
	case n == 1:
		w = uint64(s[0])
	}
	h = bits.RotateLeft64(h^w*hashK2, 31) * hashK1
	return mix64(h)
}

func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

func hashUint(seed, n uint64) uint64 {
	h := seed ^ 0x5bd1e9955bd1e995
	h = bits.RotateLeft64(h^n*hashK2, 31) * hashK1
	return mix64(h)
}

// mix64 is the splitmix64 finaliser.
func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// fingerprint is the 32-bit form of a value hash kept in entity top-K
// tables; 0 marks an empty slot.
func fingerprint(h uint64) uint32 {
	if fp := uint32(h >> 32); fp != 0 {
		return fp
	}
	return 1
}

func (e *Engine) catHash(s string, n uint64) uint64 {
	if s == "" {
		return hashUint(e.seed, n)
	}
	return hashString(e.seed, s)
}
