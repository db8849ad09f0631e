package scenario

import (
	"embed"
	"fmt"
	"io/fs"
	"sync"
)

//go:embed scenarios/*.yaml
var builtinFS embed.FS

var builtin = sync.OnceValues(func() ([]*Scenario, error) {
	return LoadScenarios(builtinFS, "scenarios")
})

// BuiltinScenarios returns the built-in scenario set (scenarios/*.yaml):
// ssh brute force (fast, slow, user enumeration, time-based), ssh compromise
// (a login after a brute force, from the address or on the account), http probing,
// crawling, sensitive files, path traversal, SQL-injection probing, bad user
// agents, admin-interface and CVE probing, login brute force, and credential
// stuffing. They are compiled once; the slice is shared and read-only.
func BuiltinScenarios() ([]*Scenario, error) {
	ss, err := builtin()
	if err != nil {
		return nil, fmt.Errorf("builtin scenarios: %w", err)
	}
	return ss, nil
}

// BuiltinFiles returns the built-in scenario files, for printing and as a
// starting point for a scenarios directory of one's own.
func BuiltinFiles() fs.FS {
	sub, err := fs.Sub(builtinFS, "scenarios")
	if err != nil {
		panic(err) // the directory is embedded: it exists
	}
	return sub
}
