package simulate

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// city is a place logins come from.
type city struct {
	region, name string
	lat, lon     float64
}

// country is a country with its cities, its UTC offset (fixed: daylight
// saving is ignored) and the autonomous systems its residents use.
type country struct {
	code   string
	offset int // seconds east of UTC
	cities []city
	isps   []uint32 // fixed-line providers' ASNs
	mobile uint32   // a mobile carrier's ASN
	weight float64
}

// asn is an autonomous system. The numbers and names are real operators',
// for plausibility; the IP blocks we give them are synthetic (see ipString).
type asn struct {
	number  uint32
	name    string
	country string
	hosting bool
}

var asns = []asn{
	// Residential and mobile operators.
	{3215, "Orange", "FR", false}, {12322, "Free", "FR", false}, {15557, "SFR", "FR", false}, {5410, "Bouygues Telecom", "FR", false},
	{3320, "Deutsche Telekom", "DE", false}, {3209, "Vodafone", "DE", false}, {6805, "Telefonica Germany", "DE", false},
	{5432, "Proximus", "BE", false}, {6848, "Telenet", "BE", false},
	{3303, "Swisscom", "CH", false}, {6730, "Sunrise", "CH", false},
	{3269, "TIM", "IT", false}, {30722, "Vodafone Italia", "IT", false},
	{3352, "Telefonica de Espana", "ES", false}, {12479, "Orange Espagne", "ES", false},
	{1136, "KPN", "NL", false}, {33915, "VodafoneZiggo", "NL", false},
	{2856, "BT", "GB", false}, {5607, "Sky", "GB", false},
	{2119, "Telenor", "NO", false}, {29695, "Lyse", "NO", false},
	{3243, "MEO", "PT", false}, {5617, "Orange Polska", "PL", false},
	{7922, "Comcast", "US", false}, {7018, "AT&T", "US", false},
	{28573, "Claro", "BR", false}, {7552, "Viettel", "VN", false}, {29465, "MTN Nigeria", "NG", false},
	{9829, "BSNL", "IN", false}, {7713, "Telkom Indonesia", "ID", false}, {12389, "Rostelecom", "RU", false},
	{4134, "Chinanet", "CN", false},
	// Hosting and VPN providers: where credential stuffing comes from.
	{16276, "OVH", "FR", true}, {14061, "DigitalOcean", "US", true}, {24940, "Hetzner", "DE", true},
	{9009, "M247", "RO", true}, {20473, "Vultr", "US", true}, {63949, "Linode", "US", true},
	{51167, "Contabo", "DE", true}, {45102, "Alibaba", "CN", true}, {49505, "Selectel", "RU", true},
	{60781, "LeaseWeb", "NL", true},
}

func asnIndex(number uint32) int {
	for i, a := range asns {
		if a.number == number {
			return i
		}
	}
	panic("simulate: unknown ASN " + strconv.Itoa(int(number)))
}

// Home countries of a European member's users, by weight, and the far
// countries attackers log in from.
var countries = []country{
	{code: "FR", offset: 3600, weight: 0.30, cities: []city{{"Ile-de-France", "Paris", 48.8566, 2.3522}, {"Auvergne-Rhone-Alpes", "Lyon", 45.764, 4.8357}, {"Provence-Alpes-Cote d'Azur", "Marseille", 43.2965, 5.3698}}, isps: []uint32{3215, 12322, 15557}, mobile: 5410},
	{code: "DE", offset: 3600, weight: 0.12, cities: []city{{"Berlin", "Berlin", 52.52, 13.405}, {"Bavaria", "Munich", 48.1351, 11.582}}, isps: []uint32{3320, 3209}, mobile: 6805},
	{code: "BE", offset: 3600, weight: 0.10, cities: []city{{"Brussels", "Brussels", 50.8503, 4.3517}, {"Flanders", "Antwerp", 51.2194, 4.4025}}, isps: []uint32{5432, 6848}, mobile: 5432},
	{code: "CH", offset: 3600, weight: 0.08, cities: []city{{"Zurich", "Zurich", 47.3769, 8.5417}, {"Geneva", "Geneva", 46.2044, 6.1432}}, isps: []uint32{3303, 6730}, mobile: 3303},
	{code: "IT", offset: 3600, weight: 0.08, cities: []city{{"Lazio", "Rome", 41.9028, 12.4964}, {"Lombardy", "Milan", 45.4642, 9.19}}, isps: []uint32{3269}, mobile: 30722},
	{code: "ES", offset: 3600, weight: 0.08, cities: []city{{"Madrid", "Madrid", 40.4168, -3.7038}, {"Catalonia", "Barcelona", 41.3874, 2.1686}}, isps: []uint32{3352, 12479}, mobile: 3352},
	{code: "NL", offset: 3600, weight: 0.06, cities: []city{{"North Holland", "Amsterdam", 52.3676, 4.9041}}, isps: []uint32{1136, 33915}, mobile: 1136},
	{code: "GB", offset: 0, weight: 0.06, cities: []city{{"England", "London", 51.5074, -0.1278}, {"England", "Manchester", 53.4808, -2.2426}}, isps: []uint32{2856, 5607}, mobile: 2856},
	{code: "NO", offset: 3600, weight: 0.04, cities: []city{{"Oslo", "Oslo", 59.9139, 10.7522}, {"Vestland", "Bergen", 60.3913, 5.3221}}, isps: []uint32{2119, 29695}, mobile: 2119},
	{code: "PT", offset: 0, weight: 0.03, cities: []city{{"Lisbon", "Lisbon", 38.7223, -9.1393}}, isps: []uint32{3243}, mobile: 3243},
	{code: "PL", offset: 3600, weight: 0.03, cities: []city{{"Mazovia", "Warsaw", 52.2297, 21.0122}}, isps: []uint32{5617}, mobile: 5617},
	{code: "US", offset: -5 * 3600, weight: 0.02, cities: []city{{"New York", "New York", 40.7128, -74.006}}, isps: []uint32{7922, 7018}, mobile: 7018},
	// Far countries: no users live there.
	{code: "BR", offset: -3 * 3600, cities: []city{{"Sao Paulo", "Sao Paulo", -23.5505, -46.6333}}, isps: []uint32{28573}, mobile: 28573},
	{code: "VN", offset: 7 * 3600, cities: []city{{"Hanoi", "Hanoi", 21.0285, 105.8542}}, isps: []uint32{7552}, mobile: 7552},
	{code: "NG", offset: 3600, cities: []city{{"Lagos", "Lagos", 6.5244, 3.3792}}, isps: []uint32{29465}, mobile: 29465},
	{code: "IN", offset: 19800, cities: []city{{"Maharashtra", "Mumbai", 19.076, 72.8777}}, isps: []uint32{9829}, mobile: 9829},
	{code: "ID", offset: 7 * 3600, cities: []city{{"Jakarta", "Jakarta", -6.2088, 106.8456}}, isps: []uint32{7713}, mobile: 7713},
	{code: "RU", offset: 3 * 3600, cities: []city{{"Moscow", "Moscow", 55.7558, 37.6173}}, isps: []uint32{12389}, mobile: 12389},
	{code: "CN", offset: 8 * 3600, cities: []city{{"Beijing", "Beijing", 39.9042, 116.4074}}, isps: []uint32{4134}, mobile: 4134},
	{code: "RO", offset: 2 * 3600, cities: []city{{"Bucharest", "Bucharest", 44.4268, 26.1025}}},
}

func countryIndex(code string) int {
	for i, c := range countries {
		if c.code == code {
			return i
		}
	}
	return -1
}

// zones holds one fixed zone per country, built once.
var zones = func() []*time.Location {
	z := make([]*time.Location, len(countries))
	for i, c := range countries {
		z[i] = time.FixedZone(zoneName(c.offset), c.offset)
	}
	return z
}()

// zoneName names a fixed offset, such as "UTC+1" or "UTC+5:30".
func zoneName(offset int) string {
	if offset == 0 {
		return "UTC"
	}
	sign := "+"
	if offset < 0 {
		sign, offset = "-", -offset
	}
	name := "UTC" + sign + strconv.Itoa(offset/3600)
	if m := offset % 3600 / 60; m != 0 {
		name += fmt.Sprintf(":%02d", m)
	}
	return name
}

// ipString is a synthetic IPv4 address of host number host in the /16
// block we give ASN index a: blocks are dealt from ordinary public /8s, one
// per ASN (for fewer than 16·256 ASNs), so an address names one ASN. They
// are not the operators' real blocks.
func ipString(a int, host uint16) string {
	firsts := [...]byte{31, 37, 46, 62, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88}
	b := make([]byte, 0, 15)
	b = strconv.AppendUint(b, uint64(firsts[a%len(firsts)]), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64((a/len(firsts)*53+17)%256), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(1+host/254%254), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(1+host%254), 10)
	return string(b)
}

// haversineKm is the great-circle distance between two points.
func haversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	h := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Sqrt(math.Min(1, h)))
}

// userAgent is a browser with the fields the RBA dataset derives from it.
type userAgent struct {
	ua, browser, os, device string
}

var (
	desktopUAs = []userAgent{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome 120.0.0", "Windows 10", "desktop"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox 121.0", "Windows 10", "desktop"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15", "Safari 17.2", "Mac OS X 10.15.7", "desktop"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0", "Edge 120.0.0", "Windows 10", "desktop"},
	}
	mobileUAs = []userAgent{
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1", "Mobile Safari 17.2", "iOS 17.2", "mobile"},
		{"Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", "Chrome Mobile 120.0.0", "Android 14", "mobile"},
		{"Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36", "Chrome Mobile 119.0.0", "Android 13", "mobile"},
	}
	tabletUAs = []userAgent{
		{"Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1", "Mobile Safari 17.2", "iOS 17.2", "tablet"},
	}
	// rareUAs are browsers no user has: what an intruder's own machine shows.
	rareUAs = []userAgent{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0", "Firefox 115.0", "Linux", "desktop"},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.0.0 Safari/537.36", "Chrome 108.0.0", "Ubuntu", "desktop"},
	}
	// botUAs are what credential-stuffing tools send.
	botUAs = []userAgent{
		{"Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.130 Safari/537.36", "Chrome 79.0.3945", "Windows 7", "desktop"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 Safari/537.36", "Chrome 91.0.4472", "Windows 10", "desktop"},
		{"python-requests/2.31.0", "Python Requests 2.31", "Other", "bot"},
		{"Mozilla/5.0 (Linux; Android 8.0.0; SM-G960F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.110 Mobile Safari/537.36", "Chrome Mobile 70.0.3538", "Android 8.0.0", "mobile"},
	}
)
