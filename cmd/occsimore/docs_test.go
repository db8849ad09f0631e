package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore/config"
)

func TestDocsMan(t *testing.T) {
	c := newCLI(t)
	dir := filepath.Join(t.TempDir(), "man1")
	c.mustRun("", "docs", "man", dir)
	for _, name := range []string{"occsimore.1", "occsimore-serve.1", "occsimore-token-create.1"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), ".nh\n.TH ") {
			t.Errorf("%s is not a man page:\n%.200s", name, b)
		}
	}
	serve, _ := os.ReadFile(filepath.Join(dir, "occsimore-serve.1"))
	if !strings.Contains(string(serve), "shutdown_timeout") {
		t.Errorf("occsimore-serve.1 lacks the command's description:\n%s", serve)
	}
	if code, _, _ := c.run("", "docs", "man"); code != exitUsage {
		t.Errorf("docs man without DIR: exit %d, want %d", code, exitUsage)
	}
}

// TestPackagedConfig checks the configuration the .deb installs: it loads,
// and differs from the defaults only where the package means it to.
func TestPackagedConfig(t *testing.T) {
	got, err := config.Load("../../packaging/occsimore.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := config.DefaultConfig()
	want.Store.DataDir = "/var/lib/occsimore"
	want.Logs.GeoIPDir = "/var/lib/occsimore/geoip"
	want.Log.Format = "json"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packaged config differs from the defaults beyond store.data_dir, logs.geoip_dir and log.format (-want +got):\n%s", diff)
	}
	if got.JournalPath() != "/var/lib/occsimore/journal" {
		t.Errorf("journal at %s, want inside the state directory", got.JournalPath())
	}
}
