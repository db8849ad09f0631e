package behavior

import (
	"strconv"
	"strings"
	"sync"
)

// dict remembers, per member, the strings behind value fingerprints so that
// reasons and profile views can say "FR" rather than a hash. It is bounded:
// once full, new values are not remembered. Only values new to an entity are
// offered to it, so the hot path rarely touches it.
type dict struct {
	mu  sync.RWMutex
	m   map[uint64]string // attribute id<<32 | fingerprint
	max int
}

func (d *dict) add(key uint64, s string, kind attrKind, n uint64) {
	d.mu.RLock()
	_, ok := d.m[key]
	full := len(d.m) >= d.max
	d.mu.RUnlock()
	if ok || full {
		return
	}
	if s == "" {
		if kind != attrASN {
			return
		}
		s = "AS" + strconv.FormatUint(n, 10)
	} else {
		s = strings.Clone(s) // the event's strings may alias a decode buffer
	}
	d.mu.Lock()
	if len(d.m) < d.max {
		if d.m == nil {
			d.m = make(map[uint64]string)
		}
		d.m[key] = s
	}
	d.mu.Unlock()
}

func (d *dict) lookup(key uint64) string {
	d.mu.RLock()
	s := d.m[key]
	d.mu.RUnlock()
	return s
}
