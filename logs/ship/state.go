package ship

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/occsimore/occsimore/logs/source"
)

// state is the StateFile's content: per followed path, the position up to
// which the server has accepted its lines.
type state struct {
	Files map[string]source.Position `json:"files"`
}

func loadState(path string) (*state, error) {
	st := &state{Files: map[string]source.Position{}}
	if path == "" {
		return st, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ship: state file: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("ship: state file %s is not valid (remove it to start afresh): %w", path, err)
	}
	if st.Files == nil {
		st.Files = map[string]source.Position{}
	}
	return st, nil
}

// save replaces the state file atomically: a crash leaves the old state or
// the new one, never half of either.
func (st *state) save(path string) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// stateKey names a file in the state by its absolute path, so that a
// restart from another directory still finds it.
func stateKey(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}
