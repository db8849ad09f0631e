package occsimore

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ProfileView is a readable copy of one entity's profile, for the API and
// the console. Decayed quantities are as of Last, the entity's newest event.
type ProfileView struct {
	Member      string            `json:"member_id"`
	Kind        string            `json:"kind"`
	Role        string            `json:"role"`
	ID          string            `json:"id"`
	Events      uint32            `json:"events"`
	First       time.Time         `json:"first,omitzero"`
	Last        time.Time         `json:"last,omitzero"`
	Numeric     []NumericView     `json:"numeric,omitempty"`
	Categorical []CategoricalView `json:"categorical,omitempty"`
	Hours       *HoursView        `json:"hours,omitempty"`
	Velocity    []VelocityView    `json:"velocity,omitempty"`
	Gap         *GapView          `json:"gap,omitempty"`
	Location    *LocationView     `json:"location,omitempty"`
	Risk        *RiskView         `json:"risk,omitempty"`
}

// NumericView is the usual value of an attribute at one half-life.
type NumericView struct {
	Attr     string   `json:"attr"`
	HalfLife Duration `json:"half_life"`
	Count    float64  `json:"count"` // decayed number of events
	Mean     float64  `json:"mean"`
	Std      float64  `json:"std"`
}

// CategoricalView lists the entity's most frequent values of an attribute.
type CategoricalView struct {
	Attr     string       `json:"attr"`
	HalfLife Duration     `json:"half_life"`
	Count    float64      `json:"count"`    // decayed number of events
	NewRate  float64      `json:"new_rate"` // share of events that brought a new value
	Top      []ValueShare `json:"top"`
}

// ValueShare is a value and its share of the entity's events. A value the
// member's dictionary did not keep shows as "#" and its fingerprint.
type ValueShare struct {
	Value string  `json:"value"`
	Share float64 `json:"share"`
}

// HoursView is the distribution of the entity's events over the week. The
// profile keeps hours of the day and days of the week separately;
// HourOfWeek is their product.
type HoursView struct {
	Events     float64        `json:"events"`
	Hours      [24]float64    `json:"hours"`
	Days       [7]float64     `json:"days"` // Sunday first
	HourOfWeek [7][24]float64 `json:"hour_of_week"`
}

// VelocityView gives decayed event counts over short windows.
type VelocityView struct {
	Only       string        `json:"only,omitempty"`
	Windows    []WindowCount `json:"windows"`
	RatePerDay float64       `json:"rate_per_day"` // over the long horizon
}

// WindowCount is a decayed count of events in a window.
type WindowCount struct {
	Window Duration `json:"window"`
	Count  float64  `json:"count"`
}

// GapView is the usual time between the entity's events.
type GapView struct {
	Count          float64 `json:"count"`
	TypicalSeconds float64 `json:"typical_seconds"` // geometric mean
	LogStd         float64 `json:"log_std"`
}

// LocationView is the entity's last known location.
type LocationView struct {
	Lat     float64   `json:"lat"`
	Lon     float64   `json:"lon"`
	Time    time.Time `json:"time"`
	Country string    `json:"country,omitempty"`
	Home    *LatLon   `json:"home,omitempty"` // the centre of its usual area
}

// LatLon is a point in degrees.
type LatLon struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// RiskView is the entity's fraud rate from usable labels.
type RiskView struct {
	FraudRate float64 `json:"fraud_rate"` // unsmoothed, 0 without labels
	Labelled  float64 `json:"labelled"`   // decayed number of usable labels
	Pending   float64 `json:"pending"`    // labels not usable yet
}

// Duration is a time.Duration that reads and writes text such as "90s",
// "1h30m" or "7d" (a day is 24 hours).
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String writes whole days as "7d", anything else as time.Duration does.
func (d Duration) String() string {
	td := time.Duration(d)
	switch {
	case td == 0:
		return "0s"
	case td%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	case td%time.Hour == 0:
		return strconv.FormatInt(int64(td/time.Hour), 10) + "h"
	case td%time.Minute == 0:
		return strconv.FormatInt(int64(td/time.Minute), 10) + "m"
	}
	return td.String()
}

// MarshalText writes d as String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "7d", "1.5d" or anything time.ParseDuration accepts.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDuration reads a duration with an optional day unit: "7d", "1.5d",
// "36h", "90s".
func ParseDuration(s string) (Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		f, err := strconv.ParseFloat(days, 64)
		if err != nil || f < -1e5 || f > 1e5 {
			return 0, fmt.Errorf("duration %q: bad number of days", s)
		}
		return Duration(f * float64(24*time.Hour)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", s, err)
	}
	return Duration(v), nil
}
