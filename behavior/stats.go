package behavior

import "unsafe"

// ProfileStats counts the profiles of one kind and role over every member,
// and the memory their slabs and indexes hold.
type ProfileStats struct {
	Kind, Role string
	Profiles   int
	// Bytes is what the slab chunks and the index tables hold, allocated
	// rather than used: it is what the profiles cost the process.
	Bytes int64
}

// ProfileStats returns one entry per kind and role of the specs, in spec
// order, summed over every member. It locks one shard at a time, so that
// scoring goes on while it counts; the counts are therefore a fuzzy cut,
// fine for monitoring.
func (e *Engine) ProfileStats() []ProfileStats {
	var out []ProfileStats
	for _, cs := range e.specs {
		for _, rl := range cs.roles {
			out = append(out, ProfileStats{Kind: cs.kind, Role: rl.name})
		}
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	const slot = int64(unsafe.Sizeof(uint64(0)) + unsafe.Sizeof(uint32(0)))
	for _, tn := range *e.tenants.Load() {
		i := 0
		for _, ks := range tn.kinds {
			for _, rs := range ks.roles {
				st := &out[i]
				i++
				for s := range rs.shards {
					sh := &rs.shards[s]
					sh.mu.Lock()
					st.Profiles += int(sh.n)
					st.Bytes += int64(len(sh.chunks))*chunkWords*4 + int64(len(sh.index.keys))*slot
					sh.mu.Unlock()
				}
			}
		}
	}
	return out
}
