package behavior

import (
	"fmt"
	"testing"
	"time"
)

// TestProfileStats counts profiles per kind and role over two members:
// every card and customer once per member, the one terminal and merchant
// once per member, and no login profile.
func TestProfileStats(t *testing.T) {
	e := newTestEngine(t)
	empty := e.ProfileStats()
	for _, st := range empty {
		if st.Profiles != 0 || st.Bytes != 0 {
			t.Fatalf("fresh engine: %+v", st)
		}
	}
	at := simStart
	for _, member := range []string{"mem_a", "mem_b"} {
		for i := range 300 {
			// Each card twice: a profile is made once.
			for range 2 {
				mustProcess(t, e, cardEv(member, fmt.Sprintf("c%d", i), at, 10))
				at = at.Add(time.Second)
			}
		}
	}
	want := map[string]int{"card": 600, "customer": 600, "terminal": 2, "merchant": 2}
	got := map[string]int{}
	var bytes int64
	for _, st := range e.ProfileStats() {
		if st.Kind != "card.tx" {
			if st.Profiles != 0 {
				t.Errorf("%s/%s: %d profiles, want 0", st.Kind, st.Role, st.Profiles)
			}
			continue
		}
		got[st.Role] = st.Profiles
		if st.Profiles > 0 && st.Bytes <= 0 {
			t.Errorf("%s/%s: %d profiles in %d bytes", st.Kind, st.Role, st.Profiles, st.Bytes)
		}
		bytes += st.Bytes
	}
	for role, n := range want {
		if got[role] != n {
			t.Errorf("card.tx/%s: %d profiles, want %d", role, got[role], n)
		}
	}
	if len(empty) != len(e.ProfileStats()) {
		t.Errorf("%d entries, then %d", len(empty), len(e.ProfileStats()))
	}
	t.Logf("%d bytes for %v", bytes, got)
}
