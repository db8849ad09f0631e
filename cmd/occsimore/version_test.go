package main

import (
	"runtime/debug"
	"testing"
)

// TestBuildInfoFrom reads the version and commit the go tool stamps.
func TestBuildInfoFrom(t *testing.T) {
	t.Parallel()
	if bi := buildInfoFrom(nil); bi.Version != "dev" || bi.Commit != "" {
		t.Errorf("no build info: %+v, want version dev and no commit", bi)
	}
	if bi := buildInfoFrom(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}); bi.Version != "dev" {
		t.Errorf("(devel): version %q, want dev", bi.Version)
	}
	bi := buildInfoFrom(&debug.BuildInfo{
		Main: debug.Module{Version: "v0.0.0-20261207030000-8782838abcde+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "8782838abcdef0123456789"},
			{Key: "vcs.time", Value: "2026-12-07T03:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	})
	if bi.Version != "v0.0.0-20261207030000-8782838abcde+dirty" || bi.Commit != "8782838abcdef0123456789" ||
		bi.Time != "2026-12-07T03:00:00Z" || !bi.Modified {
		t.Errorf("stamped build: %+v", bi)
	}
}
