package behavior

import (
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// TestEngineDefaults (issue 13): every zero field of a Config takes its
// DefaultConfig value, and every field set is kept.
func TestEngineDefaults(t *testing.T) {
	e, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	got := e.cfg
	if len(got.Specs) != len(def.Specs) || got.Shards != def.Shards || got.MaxLateness != def.MaxLateness ||
		got.MaxFuture != def.MaxFuture || got.PeerHalfLife != def.PeerHalfLife || got.MinPeerEvents != def.MinPeerEvents ||
		got.MaxPeerGroups != def.MaxPeerGroups || got.DictSize != def.DictSize {
		t.Errorf("NewEngine(Config{}): %d specs, shards %d, lateness %v, future %v, half-life %v, peers %d/%d, dict %d; want the defaults",
			len(got.Specs), got.Shards, got.MaxLateness, got.MaxFuture, got.PeerHalfLife, got.MinPeerEvents, got.MaxPeerGroups, got.DictSize)
	}
	if e.lateness != int64(time.Hour) || e.peerHL != float64(14*24*time.Hour) {
		t.Errorf("lateness %v, peer half-life %v", time.Duration(e.lateness), time.Duration(e.peerHL))
	}
	set := Config{Specs: DefaultSpecs()[:1], Shards: 2, MaxLateness: time.Minute, MaxFuture: time.Second,
		PeerHalfLife: time.Hour, MinPeerEvents: 3, MaxPeerGroups: 4, DictSize: 5}
	e, err = NewEngine(set)
	if err != nil {
		t.Fatal(err)
	}
	got = e.cfg
	if len(got.Specs) != 1 || got.Shards != 2 || got.MaxLateness != time.Minute || got.MaxFuture != time.Second ||
		got.PeerHalfLife != time.Hour || got.MinPeerEvents != 3 || got.MaxPeerGroups != 4 || got.DictSize != 5 {
		t.Errorf("NewEngine: %d specs, shards %d, lateness %v, future %v, half-life %v, peers %d/%d, dict %d; want the values set",
			len(got.Specs), got.Shards, got.MaxLateness, got.MaxFuture, got.PeerHalfLife, got.MinPeerEvents, got.MaxPeerGroups, got.DictSize)
	}
	if e.lateness != int64(time.Minute) || e.peerHL != float64(time.Hour) {
		t.Errorf("lateness %v, peer half-life %v", time.Duration(e.lateness), time.Duration(e.peerHL))
	}
}

// TestEngineLatenessSet: a MaxLateness set is the one events are held to.
func TestEngineLatenessSet(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxLateness = time.Minute
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t0 := simStart.Add(10 * time.Hour)
	mustProcess(t, e, cardEv("mem_a", "c1", t0, 10))
	ev := cardEv("mem_a", "c1", t0.Add(-time.Minute), 10) // exactly the lateness: folded in
	var res Result
	if err := e.Process(&ev, &res); err != nil {
		t.Errorf("a minute behind with MaxLateness 1m: %v", err)
	}
	ev.Time = t0.Add(-2 * time.Minute)
	if err := e.Process(&ev, &res); occsimore.ErrorField(err) != "time" {
		t.Errorf("two minutes behind with MaxLateness 1m: err = %v, want a time error", err)
	}
}

// TestEngineConfigBounds: the edges of each bound.
func TestEngineConfigBounds(t *testing.T) {
	for i, tc := range []struct {
		edit  func(*Config)
		field string
	}{
		{func(c *Config) { c.Shards = 1 }, ""},
		{func(c *Config) { c.Shards = 1 << 16 }, ""},
		{func(c *Config) { c.Shards = 1 << 17 }, "shards"},
		{func(c *Config) { c.Shards = 48 }, "shards"},
		{func(c *Config) { c.Shards = -64 }, "shards"},
		{func(c *Config) { c.MaxLateness = -1 }, "max_lateness"},
		{func(c *Config) { c.MaxFuture = -1 }, "max_future"},
		{func(c *Config) { c.PeerHalfLife = time.Minute }, ""},
		{func(c *Config) { c.PeerHalfLife = time.Minute - 1 }, "peer_half_life"},
		{func(c *Config) { c.MinPeerEvents = -1 }, "min_peer_events"},
		{func(c *Config) { c.MaxPeerGroups = -1 }, "min_peer_events"},
		{func(c *Config) { c.DictSize = -1 }, "min_peer_events"},
		{func(c *Config) { c.Specs = append(DefaultSpecs(), DefaultSpecs()[0]) }, "specs"},
		{func(c *Config) {
			c.Thresholds = map[string]map[string]Thresholds{"mem_a": {"no-such-kind": {}}}
		}, "thresholds"},
	} {
		cfg := DefaultConfig()
		tc.edit(&cfg)
		_, err := NewEngine(cfg)
		if got := occsimore.ErrorField(err); got != tc.field {
			t.Errorf("case %d: err = %v, want field %q", i, err, tc.field)
		}
	}
}
