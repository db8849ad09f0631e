package behavior

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestClockOf checks clockOf against time.Time's Clock and Weekday in
// several zones, and the clock tables against math.Sincos.
func TestClockOf(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("minus", -9*3600-30*60), time.FixedZone("plus", 13*3600+45*60)}
	if paris, err := time.LoadLocation("Europe/Paris"); err == nil {
		zones = append(zones, paris)
	}
	r := rand.New(rand.NewPCG(5, 5))
	for i := range 20000 {
		sec := r.Int64N(4102444800) // 1970 to 2100
		if i < 100 {
			sec = int64(i) * 1800 // the first days of 1970, around the epoch
		}
		for _, loc := range zones {
			tm := time.Unix(sec, r.Int64N(1e9)).In(loc)
			h, m, wd := clockOf(tm)
			wh, wm, _ := tm.Clock()
			if h != wh || m != wm || wd != int(tm.Weekday()) {
				t.Fatalf("clockOf(%s) = %d:%d day %d, want %d:%d day %d", tm, h, m, wd, wh, wm, tm.Weekday())
			}
			s, c := math.Sincos((float64(h) + float64(m)/60) * (2 * math.Pi / 24))
			if got, want := clockSin[h*60+m], s; got != want {
				t.Fatalf("clockSin at %d:%d = %v, want %v", h, m, got, want)
			}
			if got, want := clockCos[h*60+m], c; got != want {
				t.Fatalf("clockCos at %d:%d = %v, want %v", h, m, got, want)
			}
		}
	}
}
