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
// record, writes them with one write and one fsync, and only then answers the
// callers. Throughput therefore grows with the number of concurrent callers.
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

	"github.com/occsimore/occsimore"
)

const (
	segmentExt  = ".seg"
	snapshotExt = ".snap"
	tempExt     = ".tmp"
)

// Options configure a Journal. Zero fields take defaults.
type Options struct {
	// SegmentSize is the size at which the active segment is closed and a new
	// one started. Default 64 MiB.
	SegmentSize int64
	// MaxBatchBytes caps how much one group commit writes before its fsync, so
	// that a flood of appends still sees steady latency. Default 8 MiB.
	MaxBatchBytes int
	// Logger receives torn-tail repairs and cleanup failures. Default: discard.
	Logger *slog.Logger
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

	active *os.File // the writer goroutine's alone once Open returns

	appends, syncs atomic.Uint64
	bufs           sync.Pool // *[]byte payload buffers, reused once committed
}

type segment struct {
	base uint64
	path string
}

type request struct {
	hdr     [maxHeader]byte
	header  []byte
	payload []byte
	seq     uint64
	err     error
	done    chan struct{}
}

// Open opens the journal in dir, creating the directory if needed. If the
// last segment ends in a torn or corrupt record, as a crash in the middle of a
// write leaves it, the tail is truncated and a warning logged: no record there
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
		if _, err := j.createSegment(snapSeq + 1); err != nil {
			return nil, err
		}
		segs = []segment{{base: snapSeq + 1, path: j.segmentPath(snapSeq + 1)}}
	}
	last := segs[len(segs)-1]
	n, size, err := j.repairTail(ctx, last)
	if err != nil {
		return nil, err
	}
	j.segs, j.activeSize, j.nextSeq = segs, size, last.base+n
	if snapSeq >= j.nextSeq {
		return nil, fmt.Errorf("journal ends at record %d but snapshot covers %d: records are missing", j.nextSeq-1, snapSeq)
	}
	f, err := os.OpenFile(last.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("open active segment: %w", err)
	}
	j.active = f
	go j.run()
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

// repairTail counts the valid records of the last segment and truncates
// whatever follows the last valid one.
func (j *Journal) repairTail(ctx context.Context, s segment) (n uint64, size int64, err error) {
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("stat segment: %w", err)
	}
	sc := newScanner(f)
	for sc.next() {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, 0, err
			}
		}
		n++
	}
	if sc.err == nil {
		return n, sc.off, nil
	}
	if !errors.Is(sc.err, ErrCorrupt) {
		return 0, 0, fmt.Errorf("scan segment %s: %w", filepath.Base(s.path), sc.err)
	}
	j.log.Warn("truncating torn journal tail",
		"segment", filepath.Base(s.path), "offset", sc.off, "dropped_bytes", st.Size()-sc.off,
		"records", n, "reason", sc.err)
	if err := f.Truncate(sc.off); err != nil {
		return 0, 0, fmt.Errorf("truncate torn tail: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, 0, fmt.Errorf("sync truncated segment: %w", err)
	}
	return n, sc.off, nil
}

func (j *Journal) segmentPath(base uint64) string {
	return filepath.Join(j.dir, fmt.Sprintf("%020d%s", base, segmentExt))
}

func (j *Journal) snapshotPath(seq uint64) string {
	return filepath.Join(j.dir, fmt.Sprintf("%020d%s", seq, snapshotExt))
}

// createSegment creates an empty segment and makes its name durable.
func (j *Journal) createSegment(base uint64) (*os.File, error) {
	f, err := os.OpenFile(j.segmentPath(base), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	if err := syncDir(j.dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Append writes rec and returns its sequence number once it is on stable
// storage. Concurrent calls share one fsync.
//
// ctx bounds only the wait for the writer to take the record: once taken, the
// record may become durable, so Append waits for the outcome rather than
// leave the caller unsure whether it was written.
func (j *Journal) Append(ctx context.Context, rec Record) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	bp, _ := j.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer j.bufs.Put(bp)
	r := &request{done: make(chan struct{})}
	var err error
	if r.payload, err = appendPayload((*bp)[:0], &rec); err != nil {
		return 0, fmt.Errorf("encode record: %w", err)
	}
	*bp = r.payload
	r.header = frameHeader(&r.hdr, rec.Kind, r.payload)
	select {
	case j.reqs <- r:
	case <-j.quit:
		return 0, ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	<-r.done
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
		buf = j.commit(batch, buf[:0])
		for i, r := range batch {
			close(r.done)
			batch[i] = nil
		}
	}
}

// commit writes batch and sets every request's seq or err. It returns buf for
// reuse.
func (j *Journal) commit(batch []*request, buf []byte) []byte {
	j.mu.Lock()
	err, size, seq := j.err, j.activeSize, j.nextSeq
	j.mu.Unlock()
	if err == nil && size >= j.opts.SegmentSize {
		size, err = 0, j.rotate(seq)
	}
	if err == nil {
		for _, r := range batch {
			buf = append(buf, r.header...)
			buf = append(buf, r.payload...)
		}
		if _, werr := j.active.Write(buf); werr != nil {
			err = fmt.Errorf("write journal: %w", werr)
		} else if serr := j.active.Sync(); serr != nil {
			err = fmt.Errorf("sync journal: %w", serr)
		}
		j.syncs.Add(1)
	}
	j.mu.Lock()
	if err != nil {
		// The file's state after a failed write or fsync is unknown:
		// refuse further appends; reopening repairs the tail.
		if j.err == nil {
			j.err = err
			j.log.Error("journal write failed; appends refused until reopened", "err", err)
		}
		err = j.err
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
	return buf
}

// rotate closes the active segment, already synced, and starts one whose
// first record is base.
func (j *Journal) rotate(base uint64) error {
	f, err := j.createSegment(base)
	if err != nil {
		return err
	}
	if err := j.active.Close(); err != nil {
		f.Close()
		return fmt.Errorf("close segment: %w", err)
	}
	j.active = f
	j.mu.Lock()
	j.segs = append(j.segs, segment{base: base, path: f.Name()})
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
		close(j.quit)
		<-j.done
		if err := j.active.Close(); err != nil {
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

// next reads the next frame. At the end of data or at a bad frame it returns
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
