package journal

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A snapshot copied out of one journal and restored into an empty
// directory gives a journal that continues after it.
func TestCopyAndRestoreSnapshot(t *testing.T) {
	dir := t.TempDir()
	j := openTest(t, dir, Options{})
	var recs []Record
	for i := range 5 {
		recs = append(recs, testRecord(i))
	}
	appendAll(t, j, recs)
	body := []byte("the engine at record 5")
	if err := j.WriteSnapshot(t.Context(), 5, func(w io.Writer) error { _, err := w.Write(body); return err }); err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(t.TempDir(), "copy.snap")
	if err := CopySnapshot(dir, 5, copied); err != nil {
		t.Fatal(err)
	}
	if err := CopySnapshot(dir, 4, filepath.Join(t.TempDir(), "none.snap")); err == nil {
		t.Error("copied a snapshot that does not exist")
	}

	restored := filepath.Join(t.TempDir(), "journal")
	seq, err := RestoreSnapshot(restored, copied)
	if err != nil || seq != 5 {
		t.Fatalf("RestoreSnapshot = %d, %v; want 5", seq, err)
	}
	if _, err := RestoreSnapshot(restored, copied); err == nil {
		t.Error("restored into a journal directory that is not empty")
	}
	r := openTest(t, restored, Options{})
	if got := r.NextSeq(); got != 6 {
		t.Errorf("restored journal continues at %d, want 6", got)
	}
	s, rc, ok, err := r.LatestSnapshot()
	if err != nil || !ok || s != 5 {
		t.Fatalf("LatestSnapshot = %d, %v, %v", s, ok, err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body) {
		t.Errorf("restored snapshot body %q, want %q", got, body)
	}

	// A damaged file is refused and nothing is installed.
	b, _ := os.ReadFile(copied)
	b[3] ^= 0xff
	bad := filepath.Join(t.TempDir(), "bad.snap")
	os.WriteFile(bad, b, 0o600)
	empty := filepath.Join(t.TempDir(), "journal")
	if _, err := RestoreSnapshot(empty, bad); err == nil {
		t.Error("restored a snapshot whose checksum is wrong")
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("a refused restore left %d files", len(entries))
	}
}
