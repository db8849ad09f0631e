package ship

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzLoadState: any state file either loads, and then survives a save and
// a reload unchanged, or is refused with an error.
func FuzzLoadState(f *testing.F) {
	f.Add([]byte(`{"files":{"/var/log/auth.log":{"dev":2049,"ino":131,"offset":4096}}}`))
	f.Add([]byte(`{"files":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "ship.state")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := loadState(path)
		if err != nil {
			return
		}
		if err := st.save(path); err != nil {
			t.Fatal(err)
		}
		again, err := loadState(path)
		if err != nil {
			t.Fatalf("reload of a saved state: %v", err)
		}
		if !reflect.DeepEqual(st, again) {
			t.Fatalf("saved %+v, reloaded %+v", st, again)
		}
	})
}
