//go:build race

package eval

// raceEnabled skips the full handbook replay, which the race detector makes
// several times slower.
const raceEnabled = true
