package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/occsimore/occsimore"
)

// testEvent returns a card transaction that sets most fields, varied by i.
func testEvent(member string, i int) occsimore.Event {
	ev := occsimore.Event{
		MemberID: member,
		ID:       fmt.Sprintf("evt_%06d", i),
		Kind:     "card.tx",
		Time:     time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("", 3600)).Add(time.Duration(i) * time.Minute),
		Card:     fmt.Sprintf("card%03d", i%37),
		Customer: fmt.Sprintf("cust%03d", i%29),
		Terminal: fmt.Sprintf("term%02d", i%11),
		Merchant: fmt.Sprintf("merch%02d", i%7),
		Amount:   float64(i%500) + 0.25,
		Currency: "EUR",
		Country:  []string{"FR", "DE", "BR"}[i%3],
		MCC:      "5411",
		Channel:  "pos",
	}
	if i%4 == 0 {
		ev.Lat, ev.Lon, ev.HasLocation = 48.85+float64(i%10)/100, 2.35, true
	}
	if i%5 == 0 {
		ev.Entities = []occsimore.Entity{{Role: "device", ID: fmt.Sprintf("dev%d", i%13)}}
		ev.Attrs = map[string]string{"risk_tag": "x"}
	}
	if i%6 == 0 {
		ev.Success, ev.HasSuccess = i%12 == 0, true
	}
	return ev
}

func eventsRecord(member string, from, n int) Record {
	rec := Record{Kind: KindEvents, MemberID: member}
	for i := range n {
		rec.Events = append(rec.Events, testEvent(member, from+i))
	}
	return rec
}

func labelRecord(member string, i int) Record {
	return Record{Kind: KindLabel, MemberID: member, Label: Label{
		AlertID:   fmt.Sprintf("alr_%d", i),
		Entities:  []occsimore.Entity{{Role: "card", ID: "card001"}, {Role: "merchant", ID: "merch02"}},
		Fraud:     i%2 == 0,
		EventTime: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
		LabelTime: time.Date(2025, 3, 2, 9, 30, 0, 123, time.UTC),
	}}
}

// testRecord returns the i-th record of a deterministic mix.
func testRecord(i int) Record {
	if i%5 == 4 {
		return labelRecord("mem_b", i)
	}
	return eventsRecord("mem_a", i*10, 1+i%7)
}

// cmpEvents compares events by instant rather than by time.Time's
// representation (location pointer, monotonic reading).
var cmpTime = cmp.Comparer(func(a, b time.Time) bool {
	_, ao := a.Zone()
	_, bo := b.Zone()
	return a.Equal(b) && ao == bo
})

func openTest(t *testing.T, dir string, opts Options) *Journal {
	t.Helper()
	j, err := Open(t.Context(), dir, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func appendAll(t *testing.T, j *Journal, recs []Record) {
	t.Helper()
	for i, rec := range recs {
		seq, err := j.Append(t.Context(), rec)
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if got, want := seq, uint64(i+1); got != want {
			t.Fatalf("append %d: seq = %d, want %d", i, got, want)
		}
	}
}

// replayAll returns deep copies of the records from fromSeq on.
func replayAll(t *testing.T, j *Journal, fromSeq uint64) ([]uint64, []Record) {
	t.Helper()
	var seqs []uint64
	var recs []Record
	err := j.Replay(t.Context(), fromSeq, func(seq uint64, rec Record) error {
		rec.Events = slices.Clone(rec.Events)
		seqs = append(seqs, seq)
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	return seqs, recs
}

func TestAppendReplay(t *testing.T) {
	t.Parallel()
	for _, interval := range []time.Duration{0, 2 * time.Millisecond} {
		t.Run(fmt.Sprintf("sync_interval=%s", interval), func(t *testing.T) { testAppendReplay(t, interval) })
	}
}

func testAppendReplay(t *testing.T, interval time.Duration) {
	dir := t.TempDir()
	var want []Record
	for i := range 40 {
		want = append(want, testRecord(i))
	}
	j := openTest(t, dir, Options{SegmentSize: 2 << 10, SyncInterval: interval})
	appendAll(t, j, want)

	check := func(j *Journal) {
		t.Helper()
		seqs, got := replayAll(t, j, 0)
		if diff := cmp.Diff(want, got, cmpTime); diff != "" {
			t.Fatalf("replayed records differ (-want +got):\n%s", diff)
		}
		if got, want := seqs[len(seqs)-1], uint64(40); got != want {
			t.Fatalf("last seq = %d, want %d", got, want)
		}
		seqs, got = replayAll(t, j, 17)
		if got, want := seqs[0], uint64(17); got != want {
			t.Fatalf("replay from 17 starts at %d", got)
		}
		if diff := cmp.Diff(want[16:], got, cmpTime); diff != "" {
			t.Fatalf("replay from 17 differs (-want +got):\n%s", diff)
		}
	}
	check(j)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "*"+segmentExt)); len(segs) < 3 {
		t.Fatalf("%d segments after 40 records of 2 KiB segments, want rotation", len(segs))
	}

	j = openTest(t, dir, Options{SegmentSize: 2 << 10, SyncInterval: interval})
	if got, want := j.NextSeq(), uint64(41); got != want {
		t.Fatalf("NextSeq after reopen = %d, want %d", got, want)
	}
	check(j)
	seq, err := j.Append(t.Context(), testRecord(40))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := seq, uint64(41); got != want {
		t.Fatalf("seq after reopen = %d, want %d", got, want)
	}
}

func TestReplayStopsOnCallbackError(t *testing.T) {
	t.Parallel()
	j := openTest(t, t.TempDir(), Options{})
	appendAll(t, j, []Record{testRecord(0), testRecord(1), testRecord(2)})
	stop := errors.New("stop")
	var n int
	err := j.Replay(t.Context(), 1, func(uint64, Record) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("replay error = %v, want %v", err, stop)
	}
	if got, want := n, 2; got != want {
		t.Fatalf("callback ran %d times, want %d", got, want)
	}
}

func TestAppendAfterClose(t *testing.T) {
	t.Parallel()
	for _, interval := range []time.Duration{0, time.Millisecond} {
		j := openTest(t, t.TempDir(), Options{SyncInterval: interval})
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := j.Append(t.Context(), testRecord(0)); !errors.Is(err, ErrClosed) {
			t.Fatalf("sync interval %s: append after close: %v, want ErrClosed", interval, err)
		}
		if err := j.Close(); err != nil {
			t.Fatalf("second close: %v", err)
		}
	}
	if got, want := occsimore.ErrorCode(ErrClosed), occsimore.EUNAVAILABLE; got != want {
		t.Fatalf("ErrClosed code = %q, want %q", got, want)
	}
}

func TestAppendCanceled(t *testing.T) {
	t.Parallel()
	j := openTest(t, t.TempDir(), Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := j.Append(ctx, testRecord(0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("append with canceled context: %v", err)
	}
	if got, want := j.NextSeq(), uint64(1); got != want {
		t.Fatalf("NextSeq = %d, want %d: a canceled append was written", got, want)
	}
}

func TestAppendRejectsUnknownKind(t *testing.T) {
	t.Parallel()
	j := openTest(t, t.TempDir(), Options{})
	if _, err := j.Append(t.Context(), Record{Kind: 9}); err == nil {
		t.Fatal("append of kind 9 succeeded")
	}
}

// frame returns rec encoded as a frame.
func frame(t *testing.T, rec Record) []byte {
	t.Helper()
	p, err := appendPayload(nil, &rec)
	if err != nil {
		t.Fatal(err)
	}
	var hdr [maxHeader]byte
	return append(frameHeader(&hdr, rec.Kind, p), p...)
}

// framesSize is the bytes recs take in a segment.
func framesSize(t *testing.T, recs []Record) int64 {
	t.Helper()
	var n int64
	for _, r := range recs {
		n += int64(len(frame(t, r)))
	}
	return n
}

// checkZeroTail fails unless everything in the segment from off on is zero.
func checkZeroTail(t *testing.T, seg string, off int64) {
	t.Helper()
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) < off {
		t.Fatalf("segment of %d bytes, want at least %d", len(b), off)
	}
	if i := bytes.IndexFunc(b[off:], func(r rune) bool { return r != 0 }); i >= 0 {
		t.Fatalf("non-zero byte at offset %d after the records, which end at %d", off+int64(i), off)
	}
}

func writeAt(t *testing.T, path string, b []byte, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// TestPreallocatedSegment checks that a segment is preallocated with zeros,
// that a journal reopened over its zero tail replays exactly what was
// appended without repairing anything, and that appends continue in place.
func TestPreallocatedSegment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seg := filepath.Join(dir, fmt.Sprintf("%020d%s", 1, segmentExt))
	var logs bytes.Buffer
	opts := Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	want := []Record{testRecord(0), testRecord(1), testRecord(4)}
	j := openTest(t, dir, opts)
	appendAll(t, j, want)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Size(), int64(firstSegmentSize); got != want {
		t.Fatalf("segment size = %d, want it preallocated to %d", got, want)
	}
	end := framesSize(t, want)
	checkZeroTail(t, seg, end)

	for round := range 2 {
		j = openTest(t, dir, opts)
		if logs.Len() != 0 {
			t.Fatalf("reopen %d logged: %s", round, logs.String())
		}
		if got, want := j.NextSeq(), uint64(len(want)+1); got != want {
			t.Fatalf("reopen %d: NextSeq = %d, want %d", round, got, want)
		}
		_, got := replayAll(t, j, 1)
		if diff := cmp.Diff(want, got, cmpTime); diff != "" {
			t.Fatalf("reopen %d: replayed records differ (-want +got):\n%s", round, diff)
		}
		rec := testRecord(5 + round)
		seq, err := j.Append(t.Context(), rec)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := seq, uint64(len(want)+1); got != want {
			t.Fatalf("reopen %d: seq = %d, want %d", round, got, want)
		}
		want = append(want, rec)
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		if st2, err := os.Stat(seg); err != nil || st2.Size() != st.Size() {
			t.Fatalf("reopen %d: segment size %d (%v), want it unchanged at %d", round, st2.Size(), err, st.Size())
		}
		checkZeroTail(t, seg, framesSize(t, want))
	}
	if names, _ := filepath.Glob(filepath.Join(dir, "*")); len(names) != 1 {
		t.Fatalf("journal dir holds %v, want only the segment", names)
	}
}

// TestTornTail writes what a crash in the middle of a write can leave after
// the last record, in the preallocated space or past it, and checks that
// reopening zeroes exactly that.
func TestTornTail(t *testing.T) {
	t.Parallel()
	full := frame(t, testRecord(3))
	flipped := bytes.Clone(full)
	flipped[len(flipped)/2] ^= 0x40
	tails := map[string][]byte{
		"partial header": full[:1],
		// Cut before its last non-zero byte: over zeros, a cut in a run of
		// zeros at the end would leave the record whole.
		"partial payload": full[:bytes.LastIndexFunc(full, func(r rune) bool { return r != 0 })],
		"bad checksum":    flipped,
		"garbage":         []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff garbage"),
		"huge length":     {0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3, 4, 1},
		// A write of two blocks of which only the second reached the disk.
		"block after zeros": append(make([]byte, 4096), full...),
	}
	// Where the tail goes: over the zeros after the last record, past the
	// preallocated space, or at the end of a segment written before
	// preallocation, without zeros.
	for _, where := range []string{"preallocated", "past the end", "unpreallocated"} {
		for name, tail := range tails {
			t.Run(where+"/"+name, func(t *testing.T) {
				dir := t.TempDir()
				want := []Record{testRecord(0), testRecord(1), testRecord(4)}
				j := openTest(t, dir, Options{})
				appendAll(t, j, want)
				if err := j.Close(); err != nil {
					t.Fatal(err)
				}
				seg := filepath.Join(dir, fmt.Sprintf("%020d%s", 1, segmentExt))
				end := framesSize(t, want)
				st, err := os.Stat(seg)
				if err != nil {
					t.Fatal(err)
				}
				size := st.Size()
				switch where {
				case "preallocated":
					writeAt(t, seg, tail, end)
				case "past the end":
					writeAt(t, seg, tail, size)
					size += int64(len(tail))
				case "unpreallocated":
					if err := os.Truncate(seg, end); err != nil {
						t.Fatal(err)
					}
					writeAt(t, seg, tail, end)
					size = end + int64(len(tail))
				}

				var logs bytes.Buffer
				j = openTest(t, dir, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
				if !strings.Contains(logs.String(), "zeroing torn journal tail") {
					t.Fatalf("no torn tail warning logged; logs: %s", logs.String())
				}
				if st2, err := os.Stat(seg); err != nil || st2.Size() != size {
					t.Fatalf("segment size after repair = %d (%v), want %d", st2.Size(), err, size)
				}
				checkZeroTail(t, seg, end)
				_, got := replayAll(t, j, 1)
				if diff := cmp.Diff(want, got, cmpTime); diff != "" {
					t.Fatalf("records after repair differ (-want +got):\n%s", diff)
				}
				// Enough appends to cover where the tail was: nothing of it
				// may come back.
				for len(want) < 20 {
					rec := testRecord(len(want) + 10)
					seq, err := j.Append(t.Context(), rec)
					if err != nil {
						t.Fatal(err)
					}
					if got, want := seq, uint64(len(want)+1); got != want {
						t.Fatalf("seq after repair = %d, want %d", got, want)
					}
					want = append(want, rec)
				}
				if err := j.Close(); err != nil {
					t.Fatal(err)
				}
				logs.Reset()
				j = openTest(t, dir, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
				if logs.Len() != 0 {
					t.Fatalf("second reopen logged: %s", logs.String())
				}
				_, got = replayAll(t, j, 1)
				if diff := cmp.Diff(want, got, cmpTime); diff != "" {
					t.Fatalf("records appended after repair differ (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestZeroTailIsClean checks that zeros after the last record, however many
// and wherever the file ends, are the end of the journal, not damage.
func TestZeroTailIsClean(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := []Record{testRecord(0), testRecord(1)}
	j := openTest(t, dir, Options{})
	appendAll(t, j, want)
	j.Close()
	seg := filepath.Join(dir, fmt.Sprintf("%020d%s", 1, segmentExt))
	st, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	writeAt(t, seg, make([]byte, 5000), st.Size())
	var logs bytes.Buffer
	j = openTest(t, dir, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if logs.Len() != 0 {
		t.Fatalf("a zero tail was repaired: %s", logs.String())
	}
	if _, got := replayAll(t, j, 1); !cmp.Equal(want, got, cmpTime) {
		t.Fatalf("replayed %d records, want %d", len(got), len(want))
	}
}

// TestSpareRemoved checks that a segment left half prepared by a crash is
// deleted on Open and never read as a segment.
func TestSpareRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := openTest(t, dir, Options{})
	appendAll(t, j, []Record{testRecord(0)})
	j.Close()
	spare := filepath.Join(dir, "segment-123"+spareExt)
	if err := os.WriteFile(spare, frame(t, testRecord(1)), 0o640); err != nil {
		t.Fatal(err)
	}
	j = openTest(t, dir, Options{})
	if _, err := os.Stat(spare); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("spare segment still there after Open: %v", err)
	}
	if got, want := j.NextSeq(), uint64(2); got != want {
		t.Fatalf("NextSeq = %d, want %d", got, want)
	}
}

// TestCorruptMiddle damages a record of a segment that is not the last one:
// that cannot be a torn write, so Replay must fail rather than skip it.
func TestCorruptMiddle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := openTest(t, dir, Options{SegmentSize: 4 << 10})
	var recs []Record
	for i := range 30 {
		recs = append(recs, testRecord(i))
	}
	appendAll(t, j, recs)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	if len(segs) < 2 {
		t.Fatalf("%d segments, want several", len(segs))
	}
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(segs[0], b, 0o640); err != nil {
		t.Fatal(err)
	}
	j = openTest(t, dir, Options{SegmentSize: 4 << 10})
	err = j.Replay(t.Context(), 1, func(uint64, Record) error { return nil })
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("replay over a corrupt middle segment: %v, want ErrCorrupt", err)
	}
}

// TestMissingSegment deletes a middle segment: the gap in sequence numbers
// must be reported, not silently skipped.
func TestMissingSegment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := openTest(t, dir, Options{SegmentSize: 2 << 10})
	var recs []Record
	for i := range 30 {
		recs = append(recs, testRecord(i))
	}
	appendAll(t, j, recs)
	j.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	if len(segs) < 3 {
		t.Fatalf("%d segments, want at least 3", len(segs))
	}
	if err := os.Remove(segs[1]); err != nil {
		t.Fatal(err)
	}
	j = openTest(t, dir, Options{SegmentSize: 2 << 10})
	if err := j.Replay(t.Context(), 1, func(uint64, Record) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("replay with a missing segment: %v, want ErrCorrupt", err)
	}
}

// TestGroupCommit appends from many goroutines while replaying: every
// record gets a distinct sequence number, all of 1..n are used, each replays
// with its own content, and fsyncs are shared.
// TestGroupCommit: concurrent appends get distinct sequence numbers that
// replay to their records, while the segments rotate under them. Synced
// before the answer, they share fsyncs; with a sync interval, each is written
// by its own goroutine and the syncer runs beside them.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	for _, interval := range []time.Duration{0, time.Millisecond} {
		t.Run(fmt.Sprintf("sync_interval=%s", interval), func(t *testing.T) { testGroupCommit(t, interval) })
	}
}

func testGroupCommit(t *testing.T, interval time.Duration) {
	const workers, per = 16, 40
	j := openTest(t, t.TempDir(), Options{SegmentSize: 32 << 10, SyncInterval: interval})
	got := make(map[uint64]string) // seq -> first event ID or alert ID
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				rec := eventsRecord(fmt.Sprintf("mem_%d", w), w*1000+i, 1+i%3)
				seq, err := j.Append(t.Context(), rec)
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
				mu.Lock()
				if _, dup := got[seq]; dup {
					t.Errorf("seq %d returned twice", seq)
				}
				got[seq] = rec.Events[0].ID
				mu.Unlock()
			}
		})
	}
	// A concurrent reader sees a consistent prefix.
	wg.Go(func() {
		for range 5 {
			var last uint64
			err := j.Replay(t.Context(), 1, func(seq uint64, rec Record) error {
				if seq != last+1 {
					return fmt.Errorf("replay jumped from %d to %d", last, seq)
				}
				last = seq
				return nil
			})
			if err != nil {
				t.Errorf("concurrent replay: %v", err)
			}
		}
	})
	wg.Wait()
	if t.Failed() {
		return
	}
	const n = workers * per
	if got, want := len(got), n; got != want {
		t.Fatalf("%d distinct seqs, want %d", got, want)
	}
	seqs, recs := replayAll(t, j, 1)
	for i, seq := range seqs {
		if got, want := recs[i].Events[0].ID, got[seq]; got != want {
			t.Fatalf("record %d holds event %s, Append returned that seq for %s", seq, got, want)
		}
	}
	if got, want := len(seqs), n; got != want {
		t.Fatalf("replayed %d records, want %d", got, want)
	}
	appends, syncs := j.Stats()
	if got, want := appends, uint64(n); got != want {
		t.Fatalf("stats: %d appends, want %d", got, want)
	}
	if syncs >= appends {
		t.Fatalf("%d fsyncs for %d concurrent appends: no group commit", syncs, appends)
	}
	if segs := len(segmentBases(t, j.dir)); segs < 2 {
		t.Fatalf("%d segment: the appends did not rotate", segs)
	}
	t.Logf("%d appends in %d fsyncs", appends, syncs)
}

// TestCloseDuringAppends: appends racing with Close either succeed, and
// replay after reopening, or fail with ErrClosed; none is half written.
func TestCloseDuringAppends(t *testing.T) {
	t.Parallel()
	for _, interval := range []time.Duration{0, time.Millisecond} {
		t.Run(fmt.Sprintf("sync_interval=%s", interval), func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{SegmentSize: 16 << 10, SyncInterval: interval}
			j, err := Open(t.Context(), dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			var (
				mu    sync.Mutex
				acked = map[uint64]string{}
				wg    sync.WaitGroup
			)
			for w := range 8 {
				wg.Go(func() {
					for i := 0; ; i++ {
						rec := eventsRecord("mem_a", w*100000+i, 1)
						seq, err := j.Append(t.Context(), rec)
						if errors.Is(err, ErrClosed) {
							return
						}
						if err != nil {
							t.Errorf("append: %v", err)
							return
						}
						mu.Lock()
						acked[seq] = rec.Events[0].ID
						mu.Unlock()
					}
				})
			}
			for {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n >= 200 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			j = openTest(t, dir, opts)
			seqs, recs := replayAll(t, j, 1)
			if len(seqs) != len(acked) {
				t.Fatalf("replayed %d records, %d were acknowledged", len(seqs), len(acked))
			}
			for i, seq := range seqs {
				if got, want := recs[i].Events[0].ID, acked[seq]; got != want {
					t.Fatalf("record %d holds %s, its append was acknowledged for %s", seq, got, want)
				}
			}
		})
	}
}

func TestSnapshotCompaction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := Options{SegmentSize: 4 << 10}
	j := openTest(t, dir, opts)
	var recs []Record
	for i := range 120 {
		recs = append(recs, testRecord(i))
	}
	appendAll(t, j, recs)

	if _, _, ok, err := j.LatestSnapshot(); ok || err != nil {
		t.Fatalf("LatestSnapshot of a fresh journal: ok=%v err=%v", ok, err)
	}
	if err := j.WriteSnapshot(t.Context(), 121, func(io.Writer) error { return nil }); err == nil {
		t.Fatal("snapshot past the last durable record succeeded")
	}
	writeErr := errors.New("disk on fire")
	if err := j.WriteSnapshot(t.Context(), 50, func(w io.Writer) error {
		io.WriteString(w, "partial")
		return writeErr
	}); !errors.Is(err, writeErr) {
		t.Fatalf("failing snapshot: %v, want %v", err, writeErr)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*"+tempExt)); len(left) != 0 {
		t.Fatalf("failed snapshot left %v", left)
	}

	segsBefore := segmentBases(t, dir)
	if err := j.WriteSnapshot(t.Context(), 90, writeString("state@90")); err != nil {
		t.Fatal(err)
	}
	segsAfter := segmentBases(t, dir)
	// Kept: the segment holding 91 and every later one.
	var want []uint64
	for i, b := range segsBefore {
		if i == len(segsBefore)-1 || segsBefore[i+1] > 91 {
			want = append(want, b)
		}
	}
	if diff := cmp.Diff(want, segsAfter); diff != "" {
		t.Fatalf("segments after snapshot at 90 (-want +got):\n%s", diff)
	}
	if len(segsAfter) >= len(segsBefore) {
		t.Fatalf("no segment deleted: before %v after %v", segsBefore, segsAfter)
	}
	checkLatest(t, j, 90, "state@90")

	if err := j.Replay(t.Context(), 1, func(uint64, Record) error { return nil }); !errors.Is(err, ErrCompacted) {
		t.Fatalf("replay from 1 after compaction: %v, want ErrCompacted", err)
	}
	seqs, got := replayAll(t, j, 91)
	if got, want := len(seqs), 30; got != want || seqs[0] != 91 {
		t.Fatalf("replay from 91: %d records starting at %v, want %d from 91", got, seqs[:1], want)
	}
	if diff := cmp.Diff(recs[90:], got, cmpTime); diff != "" {
		t.Fatalf("replay from 91 (-want +got):\n%s", diff)
	}

	if err := j.WriteSnapshot(t.Context(), 120, writeString("state@120")); err != nil {
		t.Fatal(err)
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "*"+snapshotExt))
	if got, want := len(snaps), 1; got != want {
		t.Fatalf("%d snapshot files after the second snapshot, want %d: %v", got, want, snaps)
	}
	if got, want := len(segmentBases(t, dir)), 1; got != want {
		t.Fatalf("%d segments after a snapshot covering everything, want only the active one", got)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	j = openTest(t, dir, opts)
	checkLatest(t, j, 120, "state@120")
	if got, want := j.NextSeq(), uint64(121); got != want {
		t.Fatalf("NextSeq after reopen = %d, want %d", got, want)
	}
	if seqs, _ := replayAll(t, j, 121); len(seqs) != 0 {
		t.Fatalf("replay after the last snapshot returned %v", seqs)
	}
	if seq, err := j.Append(t.Context(), testRecord(0)); err != nil || seq != 121 {
		t.Fatalf("append after reopen: seq %d err %v, want 121", seq, err)
	}
}

func TestSnapshotCorrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := openTest(t, dir, Options{})
	appendAll(t, j, []Record{testRecord(0), testRecord(1)})
	if err := j.WriteSnapshot(t.Context(), 2, writeString("some engine state")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%020d%s", 2, snapshotExt))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[3] ^= 0x20
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := j.LatestSnapshot(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("LatestSnapshot of a damaged file: %v, want ErrCorrupt", err)
	}
	// A snapshot renamed to another sequence number is refused too.
	b[3] ^= 0x20
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%020d%s", 5, snapshotExt)), b, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := j.LatestSnapshot(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("LatestSnapshot of a renamed file: %v, want ErrCorrupt", err)
	}
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func checkLatest(t *testing.T, j *Journal, wantSeq uint64, want string) {
	t.Helper()
	seq, r, ok, err := j.LatestSnapshot()
	if err != nil || !ok {
		t.Fatalf("LatestSnapshot: ok=%v err=%v", ok, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if seq != wantSeq || string(b) != want {
		t.Fatalf("LatestSnapshot = %d %q, want %d %q", seq, b, wantSeq, want)
	}
}

func segmentBases(t *testing.T, dir string) []uint64 {
	t.Helper()
	j := &Journal{dir: dir}
	segs, _, err := j.list()
	if err != nil {
		t.Fatal(err)
	}
	var bases []uint64
	for _, s := range segs {
		bases = append(bases, s.base)
	}
	return bases
}

// TestSegmentsGrow checks that segments are preallocated from 1 MiB up,
// doubling to SegmentSize, and that the journal replays across them.
func TestSegmentsGrow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := openTest(t, dir, Options{SegmentSize: 4 << 20})
	var want []Record
	for i := 0; len(segmentBases(t, dir)) < 4; i++ {
		if i == 200 {
			t.Fatal("no fourth segment after 200 records of 1000 events")
		}
		rec := eventsRecord("mem_a", i*1000, 1000)
		if _, err := j.Append(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		want = append(want, rec)
	}
	var sizes []int64
	for _, b := range segmentBases(t, dir) {
		st, err := os.Stat(j.segmentPath(b))
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, st.Size())
	}
	if diff := cmp.Diff([]int64{1 << 20, 2 << 20, 4 << 20, 4 << 20}, sizes); diff != "" {
		t.Fatalf("segment sizes (-want +got):\n%s", diff)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = openTest(t, dir, Options{SegmentSize: 4 << 20})
	if _, got := replayAll(t, j, 1); !cmp.Equal(want, got, cmpTime) {
		t.Fatalf("replayed %d records, want %d equal ones", len(got), len(want))
	}
}

// TestSyncInterval: with a sync interval, appends are acknowledged before
// any sync; the data is synced by the interval's tick, before a snapshot
// that covers it, at rotation and at Close.
func TestSyncInterval(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := Options{SegmentSize: 4 << 10, SyncInterval: time.Hour} // no tick during the test
	j := openTest(t, dir, opts)
	appendAll(t, j, []Record{testRecord(0), testRecord(1), testRecord(2)})
	if appends, syncs := j.Stats(); appends != 3 || syncs != 0 {
		t.Fatalf("after 3 appends: %d appends, %d syncs; want 3 acknowledged without a sync", appends, syncs)
	}
	if err := j.WriteSnapshot(t.Context(), 3, writeString("state@3")); err != nil {
		t.Fatal(err)
	}
	if _, syncs := j.Stats(); syncs != 1 {
		t.Fatalf("%d syncs after a snapshot, want the records it covers synced first", syncs)
	}
	var recs []Record
	for i := range 60 { // past several 4 KiB segments
		recs = append(recs, testRecord(3+i))
	}
	for _, rec := range recs {
		if _, err := j.Append(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
	}
	_, syncs := j.Stats()
	if n := len(segmentBases(t, dir)); syncs < uint64(n)-1 {
		t.Fatalf("%d syncs for %d segments: every rotation must sync the old one", syncs, n)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = openTest(t, dir, opts)
	if _, got := replayAll(t, j, 4); !cmp.Equal(recs, got, cmpTime) {
		t.Fatalf("replayed %d records after close, want the %d appended", len(got), len(recs))
	}

	// A short interval syncs on its own.
	j2 := openTest(t, t.TempDir(), Options{SyncInterval: time.Millisecond})
	appendAll(t, j2, []Record{testRecord(0)})
	for _, syncs := j2.Stats(); syncs == 0; _, syncs = j2.Stats() {
		select {
		case <-t.Context().Done():
			t.Fatal("never synced")
		case <-time.After(time.Millisecond):
		}
	}
}
