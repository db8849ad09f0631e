// Package journal is a durable, append-only log of records with snapshots,
// kept in one directory.
//
// The log is a sequence of segment files named by the sequence number of
// their first record ("00000000000000000001.seg"). Each record is a frame:
//
//	[payload length uvarint][CRC-32C of kind+payload, little endian][kind byte][payload]
//
// Records are numbered from 1 without gaps. A record's number is the segment's
// base plus its position, so numbers are not stored.
//
// Appends are group-committed: one writer goroutine takes every pending
// record, writes them with one write and one fdatasync, and only then answers
// the callers. Throughput therefore grows with the number of concurrent
// callers. With Options.SyncInterval, each caller writes its own record under
// a mutex and is answered at once; a syncer goroutine fdatasyncs every
// interval.
//
// Segments are preallocated: a new one is written full of zeros and synced
// before it is used, so that an append overwrites blocks that already exist
// and its fdatasync flushes only data, without a filesystem journal commit
// for a new size or new blocks. No frame starts with a zero byte, so zeros
// where a frame would start end the segment. The next segment is prepared in
// the background while the active one fills. A fresh journal starts with
// 1 MiB segments and doubles their size up to Options.SegmentSize, so that a
// small journal stays small.
//
// A snapshot ("00000000000000000042.snap") holds state covering every record up
// to and including its sequence number. Writing one deletes older snapshots
// and the segments it wholly covers.
package journal

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/occsimore/occsimore"
)

const (
	segmentExt  = ".seg"
	snapshotExt = ".snap"
	tempExt     = ".tmp"
	spareExt    = ".spare" // a segment being preallocated

	// firstSegmentSize is the preallocated size of a fresh journal's first
	// segment; each next one doubles it, up to Options.SegmentSize.
	firstSegmentSize = 1 << 20
	zeroChunk        = 1 << 20
	// The background spare is written spareChunk at a time, sparePause
	// apart: a 64 MiB segment takes about half a second, well within the
	// time the active one takes to fill its second half.
	spareChunk = 256 << 10
	sparePause = time.Millisecond
)

// Options configure a Journal. Zero fields take defaults.
type Options struct {
	// SegmentSize is the largest preallocated size of a segment: the active
	// segment is closed when the next batch does not fit in it. Default
	// 64 MiB.
	SegmentSize int64
	// MaxBatchBytes caps how much one group commit writes before its fsync, so
	// that a flood of appends still sees steady latency. Default 8 MiB.
	MaxBatchBytes int
	// Logger receives torn-tail repairs and cleanup failures. Default: discard.
	Logger *slog.Logger
	// SyncInterval, if positive, acknowledges an append once it is written
	// to the operating system, and syncs the data at most this long after:
	// a killed process loses nothing, a power failure or kernel crash the
	// appends of the last interval (PostgreSQL's synchronous_commit=off,
	// Redis's appendfsync everysec). Zero, the package's default, syncs
	// every group commit before acknowledging it; the server's default is
	// 10ms (engine.journal_sync_interval).
	SyncInterval time.Duration
}

func (o *Options) setDefaults() {
	if o.SegmentSize <= 0 {
		o.SegmentSize = 64 << 20
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 8 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// ErrClosed is returned by Append after Close.
var ErrClosed = &occsimore.Error{Code: occsimore.EUNAVAILABLE, Message: "journal is closed"}

// ErrCompacted is returned by Replay when the records asked for were deleted
// after a snapshot covered them.
var ErrCompacted = errors.New("journal: records compacted into a snapshot")

// Journal is an append-only log of records with snapshots. Its methods are
// safe for concurrent use.
type Journal struct {
	dir  string
	opts Options
	log  *slog.Logger

	reqs chan *request
	quit chan struct{} // closed by Close
	done chan struct{} // closed when the writer exits

	closeOnce sync.Once
	closeErr  error

	// files is held for reading while Replay reads segments and for writing
	// while WriteSnapshot deletes them.
	files sync.RWMutex
	// snapMu serialises WriteSnapshot.
	snapMu sync.Mutex

	mu         sync.Mutex // guards the fields below
	segs       []segment  // ascending by base; the last one is active
	activeSize int64      // durable size of the active segment
	nextSeq    uint64     // sequence number of the next record
	err        error      // sticky write error: after a failed fsync nothing is certain

	// wmu is held around every commit: by the writer goroutine, or, with
	// Options.SyncInterval, by the appending goroutine itself. It guards
	// the fields below once Open returns.
	wmu      sync.Mutex
	closed   bool        // set by Close: direct appends are refused
	direct   [1]*request // the batch of a direct append
	dbuf     []byte      // the buffer of direct appends
	active   *os.File
	capacity int64          // preallocated size of the active segment
	fileSize int64          // size of the active segment's file
	spare    chan spareFile // delivers the next segment being prepared; nil if none is
	hurry    atomic.Bool    // rotation waits for the spare: stop pacing it

	// With Options.SyncInterval, the syncer goroutine syncs the active
	// segment: syncMu keeps rotate and Close from switching or closing it
	// during a sync; dirty and grew say what the writes since need.
	syncMu     sync.Mutex
	dirty      atomic.Bool // written since the last sync
	grew       atomic.Bool // the file grew past its preallocated size: fsync, not fdatasync
	syncerDone chan struct{}

	appends, syncs atomic.Uint64
	free           sync.Pool // *request, with its payload buffer, reused once committed
	metrics        metrics
}

type segment struct {
	base uint64
	path string
}

// spareFile is a preallocated segment under a temporary name.
type spareFile struct {
	f    *os.File
	size int64
	err  error
}

type request struct {
	hdr     [maxHeader]byte
	header  []byte
	payload []byte
	seq     uint64
	err     error
	done    chan struct{} // one value once committed; buffered, so the writer never waits
}

// Open opens the journal in dir, creating the directory if needed. If the
// last segment ends in a torn or corrupt record, as a crash in the middle of a
// write leaves it, the tail is zeroed and a warning logged: no record there
// was acknowledged. Earlier segments are checked as Replay reads them.
func Open(ctx context.Context, dir string, opts Options) (*Journal, error) {
	opts.setDefaults()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create journal dir: %w", err)
	}
	j := &Journal{
		dir:  dir,
		opts: opts,
		log:  opts.Logger.With("journal", dir),
		reqs: make(chan *request),
		quit: make(chan struct{}),
		done: make(chan struct{}),

		metrics: newMetrics(),
	}
	if err := j.removeSpares(); err != nil {
		return nil, err
	}
	segs, snaps, err := j.list()
	if err != nil {
		return nil, err
	}
	var snapSeq uint64
	if len(snaps) > 0 {
		snapSeq = snaps[len(snaps)-1]
	}
	if len(segs) == 0 {
		f, err := j.prepare(min(opts.SegmentSize, firstSegmentSize), false)
		if err != nil {
			return nil, err
		}
		err = j.install(f, snapSeq+1)
		f.Close()
		if err != nil {
			return nil, err
		}
		segs = []segment{{base: snapSeq + 1, path: j.segmentPath(snapSeq + 1)}}
	}
	last := segs[len(segs)-1]
	n, size, fileSize, err := j.repairTail(ctx, last)
	if err != nil {
		return nil, err
	}
	j.segs, j.activeSize, j.nextSeq = segs, size, last.base+n
	if snapSeq >= j.nextSeq {
		return nil, fmt.Errorf("journal ends at record %d but snapshot covers %d: records are missing", j.nextSeq-1, snapSeq)
	}
	// Not O_APPEND: appends overwrite the preallocated zeros in place.
	f, err := os.OpenFile(last.path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("open active segment: %w", err)
	}
	j.active, j.capacity, j.fileSize = f, fileSize, fileSize
	go j.run()
	if opts.SyncInterval > 0 {
		j.syncerDone = make(chan struct{})
		go j.syncer()
	}
	return j, nil
}

// list returns the segments and snapshot sequence numbers in dir, ascending,
// and removes temporary files left by a crash.
func (j *Journal) list() ([]segment, []uint64, error) {
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read journal dir: %w", err)
	}
	var segs []segment
	var snaps []uint64
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, tempExt):
			if err := os.Remove(filepath.Join(j.dir, name)); err != nil {
				return nil, nil, fmt.Errorf("remove temp file: %w", err)
			}
		case strings.HasSuffix(name, segmentExt):
			base, err := strconv.ParseUint(strings.TrimSuffix(name, segmentExt), 10, 64)
			if err != nil || base == 0 {
				return nil, nil, fmt.Errorf("unexpected segment name %q", name)
			}
			segs = append(segs, segment{base: base, path: filepath.Join(j.dir, name)})
		case strings.HasSuffix(name, snapshotExt):
			seq, err := strconv.ParseUint(strings.TrimSuffix(name, snapshotExt), 10, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("unexpected snapshot name %q", name)
			}
			snaps = append(snaps, seq)
		}
	}
	// ReadDir sorts by name and names are zero-padded, but sort by number to
	// be independent of that.
	slices.SortFunc(segs, func(a, b segment) int { return cmp.Compare(a.base, b.base) })
	slices.Sort(snaps)
	return segs, snaps, nil
}

// removeSpares deletes segments a crash left half prepared. Only Open may:
// the writer may be preparing one while list runs.
func (j *Journal) removeSpares() error {
	spares, err := filepath.Glob(filepath.Join(j.dir, "*"+spareExt))
	if err != nil {
		return fmt.Errorf("list spare segments: %w", err)
	}
	for _, p := range spares {
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("remove spare segment: %w", err)
		}
	}
	return nil
}

// repairTail counts the valid records of the last segment and zeroes
// whatever non-zero bytes follow the last valid one. It returns the end of
// that record and the size of the file.
func (j *Journal) repairTail(ctx context.Context, s segment) (n uint64, size, fileSize int64, err error) {
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("stat segment: %w", err)
	}
	sc := newScanner(f)
	for sc.next() {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, 0, 0, err
			}
		}
		n++
	}
	if sc.err != nil && !errors.Is(sc.err, ErrCorrupt) {
		return 0, 0, 0, fmt.Errorf("scan segment %s: %w", filepath.Base(s.path), sc.err)
	}
	// Past the last valid record only the preallocated zeros may follow.
	// Anything else was never acknowledged: a torn record, or the later
	// blocks of a write whose first block did not reach the disk. It is
	// zeroed, so that appends over it cannot make it readable again.
	dirty, err := nonZeroEnd(f, sc.off, st.Size())
	if err != nil {
		return 0, 0, 0, fmt.Errorf("read segment %s: %w", filepath.Base(s.path), err)
	}
	if dirty == sc.off {
		return n, sc.off, st.Size(), nil
	}
	reason := "data after the end"
	if sc.err != nil {
		reason = sc.err.Error()
	}
	j.log.Warn("zeroing torn journal tail",
		"segment", filepath.Base(s.path), "offset", sc.off, "dropped_bytes", dirty-sc.off,
		"records", n, "reason", reason)
	if err := fillZeros(f, sc.off, dirty); err != nil {
		return 0, 0, 0, fmt.Errorf("zero torn tail: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, 0, 0, fmt.Errorf("sync repaired segment: %w", err)
	}
	return n, sc.off, st.Size(), nil
}

// nonZeroEnd returns the offset after the last non-zero byte of f in
// [from, to), or from if there is none.
func nonZeroEnd(f *os.File, from, to int64) (int64, error) {
	end := from
	buf := make([]byte, min(max(to-from, 0), zeroChunk))
	for off := from; off < to; {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), to-off)], off)
		for i := n - 1; i >= 0; i-- {
			if buf[i] != 0 {
				end = off + int64(i) + 1
				break
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		off += int64(n)
	}
	return end, nil
}

// fillZeros writes zeros over [from, to) of f.
func fillZeros(f *os.File, from, to int64) error {
	zeros := make([]byte, min(max(to-from, 0), zeroChunk))
	for off := from; off < to; {
		n, err := f.WriteAt(zeros[:min(int64(len(zeros)), to-off)], off)
		if err != nil {
			return err
		}
		off += int64(n)
	}
	return nil
}

func (j *Journal) segmentPath(base uint64) string {
	return filepath.Join(j.dir, fmt.Sprintf("%020d%s", base, segmentExt))
}

func (j *Journal) snapshotPath(seq uint64) string {
	return filepath.Join(j.dir, fmt.Sprintf("%020d%s", seq, snapshotExt))
}

// prepare creates a segment of size zero bytes under a temporary name,
// written and synced. Zeros are written rather than fallocated: fallocate
// leaves unwritten extents, and the first write into one is a metadata
// change that fdatasync must commit like an fsync.
//
// paced is for the spare prepared while appends go on: it syncs every
// spareChunk and pauses between chunks, unless a rotation is waiting for
// it. Left to one flush at the end, a 64 MiB segment's writeback holds the
// disk for tens of milliseconds, and every append's fdatasync waits behind
// it (measured: a 64 ms stall).
func (j *Journal) prepare(size int64, paced bool) (*os.File, error) {
	f, err := os.CreateTemp(j.dir, "segment-*"+spareExt)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	err = f.Chmod(0o640)
	step := size
	if paced {
		step = spareChunk
	}
	for off := int64(0); err == nil && off < size; off += step {
		if err = fillZeros(f, off, min(off+step, size)); err == nil && paced {
			if err = datasync(f); err == nil && !j.hurry.Load() {
				time.Sleep(sparePause)
			}
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("preallocate segment: %w", err)
	}
	return f, nil
}

// install renames a prepared segment to the segment whose first record is
// base and makes the name durable.
func (j *Journal) install(f *os.File, base uint64) error {
	if err := os.Rename(f.Name(), j.segmentPath(base)); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("install segment: %w", err)
	}
	return syncDir(j.dir)
}

// nextSegmentSize is the preallocated size of the segment after the active
// one.
func (j *Journal) nextSegmentSize() int64 {
	return min(j.opts.SegmentSize, max(firstSegmentSize, 2*j.capacity))
}

// Append writes rec and returns its sequence number once it is on stable
// storage. Concurrent calls share one fsync. With Options.SyncInterval it
// returns once rec is written to the operating system, which it does in the
// caller's goroutine: a write is short, and handing it to the writer
// goroutine would cost two goroutine switches on every answer's latency.
//
// ctx bounds only the wait for the writer to take the record: once taken, the
// record may become durable, so Append waits for the outcome rather than
// leave the caller unsure whether it was written.
func (j *Journal) Append(ctx context.Context, rec Record) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	start := time.Now()
	// Requests are reused: at thousands of single-event appends a second,
	// their garbage is part of what makes the collector run.
	r, _ := j.free.Get().(*request)
	if r == nil {
		r = &request{done: make(chan struct{}, 1)}
	}
	defer j.free.Put(r)
	var err error
	if r.payload, err = appendPayload(r.payload[:0], &rec); err != nil {
		return 0, fmt.Errorf("encode record: %w", err)
	}
	r.header = frameHeader(&r.hdr, rec.Kind, r.payload)
	r.seq, r.err = 0, nil
	if j.opts.SyncInterval > 0 {
		j.wmu.Lock()
		defer j.wmu.Unlock()
		if j.closed {
			return 0, ErrClosed
		}
		j.direct[0] = r
		j.dbuf = j.commit(j.direct[:], j.dbuf[:0])
		j.direct[0] = nil
		if r.err == nil {
			j.metrics.append.Observe(since(start))
		}
		return r.seq, r.err
	}
	select {
	case j.reqs <- r:
	default:
		// Only a busy writer makes Append wait, and only then for ctx:
		// asking for ctx.Done allocates its channel.
		select {
		case j.reqs <- r:
		case <-j.quit:
			return 0, ErrClosed
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	<-r.done
	if r.err == nil {
		j.metrics.append.Observe(since(start))
	}
	return r.seq, r.err
}

// run is the writer goroutine: it takes the first pending request, then every
// other one already waiting, and commits them together.
func (j *Journal) run() {
	defer close(j.done)
	var (
		batch []*request
		buf   []byte
	)
	for {
		select {
		case r := <-j.reqs:
			batch = append(batch[:0], r)
		case <-j.quit:
			return
		}
		size := len(batch[0].header) + len(batch[0].payload)
	drain:
		for size < j.opts.MaxBatchBytes {
			select {
			case r := <-j.reqs:
				batch = append(batch, r)
				size += len(r.header) + len(r.payload)
			default:
				break drain
			}
		}
		j.wmu.Lock()
		buf = j.commit(batch, buf[:0])
		j.wmu.Unlock()
		for i, r := range batch {
			r.done <- struct{}{}
			batch[i] = nil
		}
	}
}

// commit writes batch and sets every request's seq or err. It returns buf for
// reuse.
func (j *Journal) commit(batch []*request, buf []byte) []byte {
	for _, r := range batch {
		buf = append(buf, r.header...)
		buf = append(buf, r.payload...)
	}
	j.mu.Lock()
	err, size, seq := j.err, j.activeSize, j.nextSeq
	j.mu.Unlock()
	// A batch larger than a whole segment still goes into an empty one.
	if err == nil && size > 0 && size+int64(len(buf)) > j.capacity {
		size, err = 0, j.rotate(seq)
	}
	if err == nil {
		err = j.write(buf, size)
		if j.opts.SyncInterval == 0 {
			j.syncs.Add(1)
		}
	}
	if err != nil {
		// The file's state after a failed write or fsync is unknown:
		// refuse further appends; reopening repairs the tail.
		j.fail(err)
	}
	j.mu.Lock()
	if err != nil || j.err != nil {
		err = j.err // a failed background sync refuses this batch too
	} else {
		j.activeSize = size + int64(len(buf))
		j.nextSeq = seq + uint64(len(batch))
		j.appends.Add(uint64(len(batch)))
	}
	j.mu.Unlock()
	for i, r := range batch {
		if err != nil {
			r.err = err
		} else {
			r.seq = seq + uint64(i)
		}
	}
	if err == nil {
		j.prepareNext(size + int64(len(buf)))
	}
	return buf
}

// write writes buf at off in the active segment and makes it durable.
func (j *Journal) write(buf []byte, off int64) error {
	if _, err := j.active.WriteAt(buf, off); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	grew := false
	if end := off + int64(len(buf)); end > j.fileSize {
		// Past the preallocated space the file grows: fsync, so that the
		// new size is durable whatever the platform's fdatasync does.
		grew = true
		j.fileSize = end
	}
	if j.opts.SyncInterval > 0 {
		if grew {
			j.grew.Store(true)
		}
		j.dirty.Store(true)
		return nil
	}
	return j.syncFile(j.active, grew)
}

// syncFile syncs the active segment f: its data, or everything when full.
func (j *Journal) syncFile(f *os.File, full bool) error {
	sync := datasync
	if full {
		sync = (*os.File).Sync
	}
	start := time.Now()
	if err := sync(f); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	j.metrics.sync.Observe(since(start))
	return nil
}

// syncer syncs the active segment every SyncInterval while appends have
// written to it, until Close.
func (j *Journal) syncer() {
	defer close(j.syncerDone)
	t := time.NewTicker(j.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-j.quit:
			return
		case <-t.C:
			if err := j.syncActive(); err != nil {
				j.fail(err)
			}
		}
	}
}

// syncActive syncs the active segment if it was written since the last
// sync; the caller must not hold syncMu.
func (j *Journal) syncActive() error {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	return j.syncActiveLocked()
}

func (j *Journal) syncActiveLocked() error {
	if !j.dirty.Swap(false) {
		return nil
	}
	j.syncs.Add(1)
	return j.syncFile(j.active, j.grew.Swap(false))
}

// fail makes err sticky: appends are refused until the journal is reopened,
// since after a failed write or sync the file's state is unknown.
func (j *Journal) fail(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err == nil {
		j.err = err
		j.log.Error("journal write failed; appends refused until reopened", "err", err)
	}
}

// prepareNext starts preallocating the next segment in the background once
// the active one is half full (end is its used size), so that rotating
// costs a rename rather than writing a segment of zeros.
func (j *Journal) prepareNext(end int64) {
	if j.spare != nil || end < j.capacity/2 {
		return
	}
	size := j.nextSegmentSize()
	ch := make(chan spareFile, 1)
	j.spare = ch
	go func() {
		f, err := j.prepare(size, true)
		ch <- spareFile{f: f, size: size, err: err}
	}()
}

// rotate closes the active segment, already synced, and starts one whose
// first record is base, from the spare segment if one is being prepared.
func (j *Journal) rotate(base uint64) error {
	var sp spareFile
	if j.spare != nil {
		j.hurry.Store(true)
		sp = <-j.spare
		j.hurry.Store(false)
		j.spare = nil
	}
	if sp.err != nil {
		j.log.Warn("preparing the next segment failed; retrying", "err", sp.err)
	}
	if sp.f == nil {
		sp.size = j.nextSegmentSize()
		if sp.f, sp.err = j.prepare(sp.size, false); sp.err != nil {
			return sp.err
		}
	}
	if j.opts.SyncInterval > 0 {
		// The old segment is synced before any record goes into the new
		// one, so that a power failure loses only a suffix of the log.
		j.syncMu.Lock()
		defer j.syncMu.Unlock()
		if err := j.syncActiveLocked(); err != nil {
			sp.f.Close()
			os.Remove(sp.f.Name())
			return err
		}
	}
	if err := j.install(sp.f, base); err != nil {
		sp.f.Close()
		return err
	}
	if err := j.active.Close(); err != nil {
		sp.f.Close()
		return fmt.Errorf("close segment: %w", err)
	}
	j.active, j.capacity, j.fileSize = sp.f, sp.size, sp.size
	j.mu.Lock()
	j.segs = append(j.segs, segment{base: base, path: j.segmentPath(base)})
	j.activeSize = 0
	j.mu.Unlock()
	return nil
}

// NextSeq returns the sequence number the next appended record will get.
func (j *Journal) NextSeq() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.nextSeq
}

// Stats returns how many records were appended and how many fsyncs that
// took since Open: their ratio is the group commit's batching.
func (j *Journal) Stats() (appends, syncs uint64) {
	return j.appends.Load(), j.syncs.Load()
}

// Replay calls fn for every durable record whose sequence number is at least
// fromSeq, in order. rec, and in particular rec.Events, is reused between
// calls: fn must not keep it. Records appended while Replay runs may or may
// not be seen. An error from fn stops Replay and is returned. fn must not
// call WriteSnapshot, which waits for Replay to end before deleting files.
func (j *Journal) Replay(ctx context.Context, fromSeq uint64, fn func(seq uint64, rec Record) error) error {
	j.files.RLock()
	defer j.files.RUnlock()
	j.mu.Lock()
	segs := slices.Clone(j.segs)
	activeSize, nextSeq := j.activeSize, j.nextSeq
	j.mu.Unlock()

	fromSeq = max(fromSeq, 1)
	if fromSeq < segs[0].base {
		return fmt.Errorf("replay from %d, first record kept is %d: %w", fromSeq, segs[0].base, ErrCompacted)
	}
	var evs []occsimore.Event // reused by every events record
	for i, s := range segs {
		end := nextSeq
		if i+1 < len(segs) {
			end = segs[i+1].base
		}
		if end <= fromSeq {
			continue
		}
		limit := int64(-1)
		if i == len(segs)-1 {
			limit = activeSize
		}
		if err := j.replaySegment(ctx, s, end, limit, fromSeq, &evs, fn); err != nil {
			return err
		}
	}
	return nil
}

// replaySegment reads segment s, which must hold records up to end
// (exclusive), reading at most limit bytes if limit >= 0.
func (j *Journal) replaySegment(ctx context.Context, s segment, end uint64, limit int64, fromSeq uint64, evs *[]occsimore.Event, fn func(uint64, Record) error) error {
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if limit >= 0 {
		r = io.LimitReader(f, limit)
	}
	name := filepath.Base(s.path)
	sc := newScanner(r)
	seq := s.base
	for sc.next() {
		if seq%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if seq >= end {
			return fmt.Errorf("segment %s holds more records than the %d before the next segment: %w", name, end-s.base, ErrCorrupt)
		}
		if seq >= fromSeq {
			rec := Record{Events: *evs}
			if err := decodePayload(sc.kind, sc.payload, &rec); err != nil {
				return fmt.Errorf("segment %s record %d at offset %d: %w", name, seq, sc.recOff, err)
			}
			if rec.Kind == KindEvents {
				*evs = rec.Events
			}
			if err := fn(seq, rec); err != nil {
				return err
			}
		}
		seq++
	}
	if sc.err != nil {
		return fmt.Errorf("segment %s after record %d at offset %d: %w", name, seq-1, sc.off, sc.err)
	}
	if seq != end {
		return fmt.Errorf("segment %s ends at record %d, want %d: %w", name, seq-1, end-1, ErrCorrupt)
	}
	return nil
}

// Close stops the writer. Appends waiting for it fail with ErrClosed; every
// acknowledged record is already durable.
func (j *Journal) Close() error {
	j.closeOnce.Do(func() {
		j.wmu.Lock()
		j.closed = true // after the direct append in progress, if any
		j.wmu.Unlock()
		close(j.quit)
		<-j.done
		if j.syncerDone != nil {
			<-j.syncerDone
			if err := j.syncActive(); err != nil {
				j.closeErr = err
			}
		}
		if j.spare != nil {
			if sp := <-j.spare; sp.f != nil {
				sp.f.Close()
				os.Remove(sp.f.Name())
			}
		}
		if err := j.active.Close(); err != nil && j.closeErr == nil {
			j.closeErr = fmt.Errorf("close journal: %w", err)
		}
	})
	return j.closeErr
}

// scanner reads frames from a segment.
type scanner struct {
	r       *bufio.Reader
	buf     []byte
	kind    Kind
	payload []byte // valid until the next call to next
	off     int64  // offset after the last valid frame
	recOff  int64  // offset of the current frame
	err     error  // nil at a clean end of data
}

func newScanner(r io.Reader) *scanner {
	return &scanner{r: bufio.NewReaderSize(r, 1<<20)}
}

// next reads the next frame. At the end of data, or at a zero byte where a
// frame would start (preallocated space: every payload holds at least a
// member ID's length, so no length is zero), or at a bad frame it returns
// false, with err nil or wrapping ErrCorrupt (errShort for a truncated one).
func (s *scanner) next() bool {
	var hdr [maxHeader]byte
	n := 0
	for {
		c, err := s.r.ReadByte()
		if err == io.EOF {
			if n > 0 {
				s.err = errShort
			}
			return false
		}
		if err != nil {
			s.err = err
			return false
		}
		if n == 0 && c == 0 {
			return false
		}
		hdr[n] = c
		n++
		if c < 0x80 {
			break
		}
		if n == binary.MaxVarintLen64 {
			s.err = fmt.Errorf("%w: bad length", ErrCorrupt)
			return false
		}
	}
	size, _ := binary.Uvarint(hdr[:n])
	if size > MaxRecordSize {
		s.err = fmt.Errorf("%w: bad length", ErrCorrupt)
		return false
	}
	total := n + 5 + int(size)
	if cap(s.buf) < total {
		s.buf = make([]byte, total)
	}
	s.buf = s.buf[:total]
	copy(s.buf, hdr[:n])
	if _, err := io.ReadFull(s.r, s.buf[n:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = errShort
		}
		s.err = err
		return false
	}
	kind, payload, _, err := decodeFrame(s.buf)
	if err != nil {
		s.err = err
		return false
	}
	s.kind, s.payload = kind, payload
	s.recOff = s.off
	s.off += int64(total)
	return true
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// removeIfExists removes path, ignoring its absence.
func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
