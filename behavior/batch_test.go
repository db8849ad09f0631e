package behavior

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/occsimore/occsimore"
)

// batchStream is goldenStream with events Process refuses mixed in: no
// member, an unknown kind, no entity, too far ahead, too late.
func batchStream() ([]occsimore.Event, time.Time) {
	evs := goldenStream()
	// A fixed server clock, an hour after the last event.
	now := evs[len(evs)-1].Time.Add(time.Hour)
	r := rand.New(rand.NewPCG(24, 24))
	for i := range evs {
		if r.IntN(40) != 0 {
			continue
		}
		ev := &evs[i]
		switch r.IntN(5) {
		case 0:
			ev.MemberID = ""
		case 1:
			ev.Kind = "no.such.kind"
		case 2:
			ev.Card, ev.Customer, ev.Terminal, ev.Merchant, ev.User, ev.IP = "", "", "", "", "", ""
		case 3:
			ev.Time = now.Add(time.Hour)
		case 4:
			ev.Time = ev.Time.Add(-3 * time.Hour)
		}
	}
	return evs, now
}

// TestProcessBatchSameAsProcess checks that ProcessBatch, in batches of
// every size from 1 to past its lock batch, gives every result, error and
// profile that Process gives event by event, labels included.
func TestProcessBatchSameAsProcess(t *testing.T) {
	evs, now := batchStream()
	cfg := DefaultConfig()
	cfg.Now = func() time.Time { return now }
	one, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	label := func(e *Engine, i int) {
		ev := &evs[i]
		if ev.Kind != "card.tx" || i%53 != 0 || ev.MemberID == "" {
			return
		}
		for _, l := range [][2]string{{"terminal", ev.Terminal}} {
			if l[1] == "" {
				continue
			}
			if err := e.Label(ev.MemberID, l[0], l[1], i%106 == 0, ev.Time, ev.Time.Add(time.Duration(i%5)*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Process, event by event: what each event gives.
	want := make([]Result, len(evs))
	wantErrs := make([]error, len(evs))
	for i := range evs {
		ev := evs[i] // Process may not change the event, nor ProcessBatch
		wantErrs[i] = one.Process(&ev, &want[i])
		label(one, i)
	}

	// ProcessBatch, in batches of random sizes ending where a label is
	// due, as a caller must.
	got := make([]Result, len(evs))
	gotErrs := make([]error, len(evs))
	r := rand.New(rand.NewPCG(25, 25))
	sizes := map[int]bool{}
	for i := 0; i < len(evs); {
		n := min(len(evs)-i, 1+r.IntN(600))
		for k := i; k < i+n; k++ {
			if evs[k].Kind == "card.tx" && k%53 == 0 {
				n = k + 1 - i
				break
			}
		}
		sizes[n] = true
		failed := batch.ProcessBatch(evs[i:i+n], got[i:i+n], gotErrs[i:i+n])
		nerr := 0
		for _, err := range gotErrs[i : i+n] {
			if err != nil {
				nerr++
			}
		}
		if failed != nerr {
			t.Fatalf("ProcessBatch returned %d failures, errs holds %d", failed, nerr)
		}
		label(batch, i+n-1)
		i += n
	}
	if len(sizes) < 20 {
		t.Fatalf("only %d batch sizes tried", len(sizes))
	}

	refused := 0
	for i := range evs {
		if got, want := fmt.Sprint(gotErrs[i]), fmt.Sprint(wantErrs[i]); got != want {
			t.Fatalf("event %d: ProcessBatch error %q, Process error %q", i, got, want)
		}
		if wantErrs[i] != nil {
			if got, want := occsimore.ErrorCode(gotErrs[i]), occsimore.ErrorCode(wantErrs[i]); got != want {
				t.Fatalf("event %d: code %q, want %q", i, got, want)
			}
			refused++
			continue
		}
		if got, want := resultHash(&got[i]), resultHash(&want[i]); got != want {
			t.Fatalf("event %d (%s %s %s): ProcessBatch result differs from Process: hash %s, want %s", i, evs[i].Kind, evs[i].MemberID, evs[i].Card, got, want)
		}
	}
	if refused < 50 || refused > len(evs)/10 {
		t.Fatalf("%d of %d events refused; the stream should mix in a few dozen bad ones", refused, len(evs))
	}
	for i := range evs {
		ev := &evs[i]
		for _, id := range [][3]string{{"card.tx", "card", ev.Card}, {"card.tx", "terminal", ev.Terminal}, {"auth.login", "user", ev.User}, {"auth.login", "ip", ev.IP}} {
			a, aok := one.ProfileOf(ev.MemberID, id[0], id[1], id[2])
			b, bok := batch.ProfileOf(ev.MemberID, id[0], id[1], id[2])
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if aok != bok || string(ja) != string(jb) {
				t.Fatalf("profile %v of %s differs:\nbatch   %s\nprocess %s", id, ev.MemberID, jb, ja)
			}
		}
	}
}

// resultHash is the golden hash of one result: every bit of it.
func resultHash(res *Result) string {
	g := goldenHasher{sha256.New()}
	g.result(res)
	return fmt.Sprintf("%x", g.h.Sum(nil))
}

func TestProcessBatchLengths(t *testing.T) {
	e := newTestEngine(t)
	evs := cardTemplates(10, 3)
	defer func() {
		if recover() == nil {
			t.Fatal("ProcessBatch with too few results did not panic")
		}
	}()
	e.ProcessBatch(evs, make([]Result, 2), make([]error, 3))
}

// TestProcessBatchZeroAllocs checks that ProcessBatch, like Process,
// allocates nothing per event, under both specs.
func TestProcessBatchZeroAllocs(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    *Engine
		evs  []occsimore.Event
	}{
		{"default", newTestEngine(t), cardTemplates(300, 4000)},
		{"lean", newLeanEngine(t), leanTemplates(500, 4000)},
	} {
		s := &stream{evs: tc.evs, t0: simStart, step: time.Second}
		batch := make([]occsimore.Event, 256)
		res := make([]Result, len(batch))
		errs := make([]error, len(batch))
		next := func() {
			for i := range batch {
				batch[i] = *s.next()
			}
			if n := tc.e.ProcessBatch(batch, res, errs); n != 0 {
				t.Fatalf("%s: %d events failed, first %v", tc.name, n, errs)
			}
		}
		for range 3 * len(tc.evs) / len(batch) {
			next()
		}
		if got := testing.AllocsPerRun(20, next); got != 0 {
			t.Errorf("%s: ProcessBatch allocates %g times per batch of %d", tc.name, got, len(batch))
		}
	}
}

// TestConcurrentProcessBatch races ProcessBatch against Process, Label and
// snapshots; run it with -race.
func TestConcurrentProcessBatch(t *testing.T) {
	e := newTestEngine(t)
	evs := cardTemplates(200, 4000)
	for i := range evs {
		evs[i].Time = simStart.Add(time.Duration(i) * 500 * time.Millisecond) // all within the lateness
	}
	done := make(chan struct{})
	for g := range 3 {
		go func() {
			defer func() { done <- struct{}{} }()
			res := make([]Result, 100)
			errs := make([]error, 100)
			for i := g * 100; i+100 <= len(evs); i += 300 {
				batch := append([]occsimore.Event(nil), evs[i:i+100]...)
				if g == 2 {
					for k := range batch {
						if err := e.Process(&batch[k], &res[k]); err != nil {
							t.Error(err)
							return
						}
					}
				} else if n := e.ProcessBatch(batch, res, errs); n != 0 {
					t.Errorf("%d events failed: %v", n, errs)
					return
				}
				_ = e.Label(batch[0].MemberID, "terminal", batch[0].Terminal, i%2 == 0, batch[0].Time, batch[0].Time)
			}
		}()
	}
	var snap bytesCounter
	if err := e.WriteSnapshot(&snap); err != nil {
		t.Error(err)
	}
	for range 3 {
		<-done
	}
	var total uint32
	for c := range 200 {
		if v, ok := e.Profile("mem_bank", "card", fmt.Sprintf("card%d", c)); ok {
			total += v.Events
		}
	}
	if got, want := total, uint32(4000); got != want {
		t.Fatalf("card profiles count %d events, want %d", got, want)
	}
}

type bytesCounter struct{ n int }

func (b *bytesCounter) Write(p []byte) (int, error) { b.n += len(p); return len(p), nil }

// FuzzProcessBatch checks that ProcessBatch gives what Process gives on
// events built from arbitrary fields, valid or not.
func FuzzProcessBatch(f *testing.F) {
	f.Add("card1", "FR", 42.5, int64(1700000000), uint8(3), "dev")
	f.Add("", "fr", -1.0, int64(-5), uint8(0), "")
	f.Add("c", "DE", 1e300, int64(1700003600), uint8(255), "d2")
	f.Fuzz(func(t *testing.T, id, country string, amount float64, unix int64, spread uint8, device string) {
		one, batch := newTestEngine(t), newTestEngine(t)
		evs := make([]occsimore.Event, 1+int(spread)%40)
		for i := range evs {
			evs[i] = occsimore.Event{MemberID: "mem_fuzz", Kind: []string{"card.tx", "auth.login", "x"}[i%3],
				Time: time.Unix(unix+int64(i*int(spread))-int64(spread)*20, 0), Card: id, Terminal: id + "t",
				User: id, IP: device, Amount: amount * float64(i), Country: country, Device: device}
		}
		want := make([]Result, len(evs))
		wantErrs := make([]error, len(evs))
		for i := range evs {
			wantErrs[i] = one.Process(&evs[i], &want[i])
		}
		got := make([]Result, len(evs))
		gotErrs := make([]error, len(evs))
		batch.ProcessBatch(evs, got, gotErrs)
		for i := range evs {
			if fmt.Sprint(gotErrs[i]) != fmt.Sprint(wantErrs[i]) {
				t.Fatalf("event %d: error %v, want %v", i, gotErrs[i], wantErrs[i])
			}
			if wantErrs[i] == nil && resultHash(&got[i]) != resultHash(&want[i]) {
				t.Fatalf("event %d: result differs", i)
			}
		}
	})
}

// TestHashStringTail checks hashString's loads of the last bytes against
// the byte-by-byte form it replaced, for every length of tail.
func TestHashStringTail(t *testing.T) {
	ref := func(seed uint64, s string) uint64 {
		h := seed ^ uint64(len(s))*hashK2
		for len(s) >= 8 {
			var w uint64
			for i := range 8 {
				w |= uint64(s[i]) << (8 * i)
			}
			h = bits.RotateLeft64(h^w*hashK2, 31) * hashK1
			s = s[8:]
		}
		var w uint64
		for i := 0; i < len(s); i++ {
			w |= uint64(s[i]) << (8 * i)
		}
		return mix64(bits.RotateLeft64(h^w*hashK2, 31) * hashK1)
	}
	s := "\x00\xffabcdefghijklmnopqrstuvwxyz0123456789\x80"
	for n := range len(s) + 1 {
		if got, want := hashString(42, s[:n]), ref(42, s[:n]); got != want {
			t.Fatalf("hashString of %d bytes = %#x, want %#x", n, got, want)
		}
	}
}
