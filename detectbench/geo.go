package detectbench

import (
	"math"
	"time"
)

type city struct {
	name     string
	lat, lon float64
}

type country struct {
	code   string
	offset int     // hours from UTC, fixed (the benchmark ignores summer time)
	weight float64 // share of home countries
	cities []city  // the first is the capital, the most common home
	isps   []uint32
	mobile uint32
}

// homes are the home countries; the cities were chosen so that each country
// holds pairs about 500 km apart.
var homes = []country{
	{"FR", 1, .30, []city{{"Paris", 48.857, 2.352}, {"Lyon", 45.764, 4.836}, {"Marseille", 43.296, 5.370}, {"Bordeaux", 44.838, -0.579}, {"Lille", 50.629, 3.057}, {"Toulouse", 43.605, 1.444}}, []uint32{3215, 12322, 15557}, 51207},
	{"DE", 1, .20, []city{{"Berlin", 52.520, 13.405}, {"Munich", 48.135, 11.582}, {"Hamburg", 53.551, 9.994}, {"Cologne", 50.938, 6.960}, {"Frankfurt", 50.110, 8.682}}, []uint32{3320, 6805, 8881}, 3209},
	{"ES", 1, .15, []city{{"Madrid", 40.417, -3.704}, {"Barcelona", 41.385, 2.173}, {"Valencia", 39.470, -0.376}, {"Seville", 37.389, -5.984}, {"Bilbao", 43.263, -2.935}}, []uint32{3352, 12479, 12430}, 12357},
	{"IT", 1, .15, []city{{"Rome", 41.903, 12.496}, {"Milan", 45.464, 9.190}, {"Naples", 40.852, 14.268}, {"Turin", 45.070, 7.687}, {"Bologna", 44.494, 11.343}}, []uint32{3269, 30722, 12874}, 1267},
	{"PL", 1, .08, []city{{"Warsaw", 52.230, 21.012}, {"Krakow", 50.065, 19.945}, {"Gdansk", 54.352, 18.647}, {"Wroclaw", 51.108, 17.039}, {"Szczecin", 53.429, 14.553}}, []uint32{5617, 12741, 29314}, 43447},
	{"SE", 1, .06, []city{{"Stockholm", 59.329, 18.069}, {"Gothenburg", 57.709, 11.975}, {"Malmo", 55.605, 13.004}, {"Uppsala", 59.859, 17.639}}, []uint32{3301, 1257, 2119}, 29975},
	{"GB", 0, .06, []city{{"London", 51.507, -0.128}, {"Manchester", 53.481, -2.243}, {"Edinburgh", 55.953, -3.188}, {"Bristol", 51.455, -2.588}, {"Newcastle", 54.978, -1.618}}, []uint32{2856, 5089, 5607}, 12576},
}

// fars are the far countries of far_country and far_session.
var fars = []country{
	{"BR", -3, 0, []city{{"Sao Paulo", -23.550, -46.633}}, []uint32{28573}, 0},
	{"US", -5, 0, []city{{"New York", 40.713, -74.006}}, []uint32{7922}, 0},
	{"TH", 7, 0, []city{{"Bangkok", 13.756, 100.502}}, []uint32{17552}, 0},
	{"JP", 9, 0, []city{{"Tokyo", 35.676, 139.650}}, []uint32{2516}, 0},
	{"ZA", 2, 0, []city{{"Johannesburg", -26.204, 28.047}}, []uint32{3741}, 0},
	{"MX", -6, 0, []city{{"Mexico City", 19.433, -99.133}}, []uint32{8151}, 0},
	{"IN", 5, 0, []city{{"Mumbai", 19.076, 72.878}}, []uint32{55836}, 0},
	{"AU", 10, 0, []city{{"Sydney", -33.869, 151.209}}, []uint32{1221}, 0},
}

// hostingASNs are cloud, hosting and VPN providers, present in every country.
var hostingASNs = []uint32{16509, 14061, 24940, 16276, 9009, 60068, 212238, 20473}

func (c *country) zone() *time.Location { return time.FixedZone(c.code, c.offset*3600) }

// km is the great-circle distance.
func km(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

// partner returns the city of c nearest 500 km from city i, or -1 if none is
// 400-650 km away.
func (c *country) partner(i int) int {
	best, bestD := -1, math.Inf(1)
	for j, o := range c.cities {
		d := km(c.cities[i].lat, c.cities[i].lon, o.lat, o.lon)
		if d >= 400 && d <= 650 && math.Abs(d-500) < bestD {
			best, bestD = j, math.Abs(d-500)
		}
	}
	return best
}
