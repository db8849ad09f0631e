package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/occsimore/occsimore/journal"
)

// FuzzReadBackup feeds restore's archive reader arbitrary bytes: it must
// refuse them or accept only a whole backup with a known manifest.
func FuzzReadBackup(f *testing.F) {
	for _, seq := range []uint64{0, 7} {
		dir := f.TempDir()
		os.WriteFile(filepath.Join(dir, backupManifestName), []byte(`{"format":1,"seq":`+map[uint64]string{0: "0", 7: "7"}[seq]+`,"store":"sqlite"}`), 0o600)
		os.WriteFile(filepath.Join(dir, "occsimore.db"), []byte("SQLite format 3\x00"), 0o600)
		if seq > 0 {
			os.Mkdir(filepath.Join(dir, backupJournalDir), 0o700)
			os.WriteFile(filepath.Join(dir, backupJournalDir, journal.SnapshotName(seq)), []byte("snap"), 0o600)
		}
		var buf bytes.Buffer
		if err := writeTarGz(&buf, dir); err != nil {
			f.Fatal(err)
		}
		if _, err := readBackup(bytes.NewReader(buf.Bytes()), nil); err != nil {
			f.Fatalf("seed %d: %v", seq, err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte{})
	f.Add([]byte("\x1f\x8b\x08\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		man, err := readBackup(bytes.NewReader(b), nil)
		if err == nil && (man.Format != 1 || man.Store != "sqlite") {
			t.Fatalf("accepted a manifest %+v", man)
		}
	})
}
