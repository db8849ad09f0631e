package journal

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// A snapshot file is the caller's bytes followed by a trailer that lets a
// reader reject a damaged or misnamed file before loading it:
//
//	[body][body length u64][sequence u64][CRC-32C of body u32][magic]
const (
	snapMagic      = "occsnap1"
	snapTrailerLen = 8 + 8 + 4 + 8 // the last 8 are snapMagic
)

// WriteSnapshot stores a snapshot of state covering every record up to and
// including seq, which must already be durable. write streams the state.
// The file is written under a temporary name, synced, renamed and the rename
// synced, so a crash leaves either the old or the new snapshot. Then older
// snapshots and the segments the new one wholly covers are deleted.
func (j *Journal) WriteSnapshot(ctx context.Context, seq uint64, write func(w io.Writer) error) error {
	if next := j.NextSeq(); seq >= next {
		return fmt.Errorf("snapshot at %d: only records before %d are durable", seq, next)
	}
	j.snapMu.Lock()
	defer j.snapMu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if j.opts.SyncInterval > 0 {
		// The snapshot must not become durable before the records it
		// covers: after a power failure the log would end before it.
		if err := j.syncActive(); err != nil {
			j.fail(err)
			return err
		}
	}
	f, err := os.CreateTemp(j.dir, "snapshot-*"+tempExt)
	if err != nil {
		return fmt.Errorf("create snapshot: %w", err)
	}
	tmp := f.Name()
	if err := writeSnapshotFile(f, seq, write); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("close snapshot: %w", err)
	}
	if err := ctx.Err(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, j.snapshotPath(seq)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename snapshot: %w", err)
	}
	if err := syncDir(j.dir); err != nil {
		return err
	}
	j.compact(seq)
	return nil
}

func writeSnapshotFile(f *os.File, seq uint64, write func(w io.Writer) error) error {
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := &countingWriter{w: bw, crc: crc32.New(castagnoli)}
	if err := write(cw); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	var t [snapTrailerLen]byte
	b := binary.LittleEndian.AppendUint64(t[:0], uint64(cw.n))
	b = binary.LittleEndian.AppendUint64(b, seq)
	b = binary.LittleEndian.AppendUint32(b, cw.crc.Sum32())
	b = append(b, snapMagic...)
	if _, err := bw.Write(b); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync snapshot: %w", err)
	}
	return nil
}

// compact deletes the snapshots older than seq and the segments whose records
// all have sequence numbers up to seq. The active segment is always kept.
// Failures are only logged: the new snapshot is already durable and a
// leftover file is harmless.
func (j *Journal) compact(seq uint64) {
	j.files.Lock()
	defer j.files.Unlock()
	j.mu.Lock()
	k := 0
	for k+1 < len(j.segs) && j.segs[k+1].base <= seq+1 {
		k++
	}
	drop := j.segs[:k:k]
	j.segs = append([]segment(nil), j.segs[k:]...)
	j.mu.Unlock()
	for _, s := range drop {
		if err := removeIfExists(s.path); err != nil {
			j.log.Warn("remove compacted segment", "segment", filepath.Base(s.path), "err", err)
		}
	}
	_, snaps, err := j.list()
	if err != nil {
		j.log.Warn("list snapshots", "err", err)
		return
	}
	for _, s := range snaps {
		if s < seq {
			if err := removeIfExists(j.snapshotPath(s)); err != nil {
				j.log.Warn("remove old snapshot", "seq", s, "err", err)
			}
		}
	}
}

// LatestSnapshot opens the newest snapshot after checking its trailer and
// checksum. ok is false if there is none. The caller closes r.
func (j *Journal) LatestSnapshot() (seq uint64, r io.ReadCloser, ok bool, err error) {
	j.snapMu.Lock()
	_, snaps, err := j.list()
	if err != nil || len(snaps) == 0 {
		j.snapMu.Unlock()
		return 0, nil, false, err
	}
	seq = snaps[len(snaps)-1]
	f, err := os.Open(j.snapshotPath(seq))
	j.snapMu.Unlock()
	if err != nil {
		return 0, nil, false, fmt.Errorf("open snapshot: %w", err)
	}
	body, err := checkSnapshot(f, seq)
	if err != nil {
		f.Close()
		return 0, nil, false, fmt.Errorf("snapshot %d: %w", seq, err)
	}
	return seq, snapshotReader{SectionReader: body, f: f}, true, nil
}

// checkSnapshot verifies the trailer and checksum of f and returns a reader
// of its body.
func checkSnapshot(f *os.File, seq uint64) (*io.SectionReader, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	size := st.Size()
	if size < snapTrailerLen {
		return nil, fmt.Errorf("%w: snapshot of %d bytes has no trailer", ErrCorrupt, size)
	}
	var t [snapTrailerLen]byte
	if _, err := f.ReadAt(t[:], size-snapTrailerLen); err != nil {
		return nil, fmt.Errorf("read trailer: %w", err)
	}
	n := binary.LittleEndian.Uint64(t[0:])
	s := binary.LittleEndian.Uint64(t[8:])
	crc := binary.LittleEndian.Uint32(t[16:])
	switch {
	case string(t[20:]) != snapMagic:
		return nil, fmt.Errorf("%w: bad snapshot magic", ErrCorrupt)
	case n != uint64(size-snapTrailerLen):
		return nil, fmt.Errorf("%w: snapshot body is %d bytes, trailer says %d", ErrCorrupt, size-snapTrailerLen, n)
	case s != seq:
		return nil, fmt.Errorf("%w: snapshot file named %d holds %d", ErrCorrupt, seq, s)
	}
	body := io.NewSectionReader(f, 0, int64(n))
	h := crc32.New(castagnoli)
	if _, err := io.Copy(h, body); err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	if h.Sum32() != crc {
		return nil, fmt.Errorf("%w: snapshot checksum mismatch", ErrCorrupt)
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return body, nil
}

type snapshotReader struct {
	*io.SectionReader
	f *os.File
}

func (r snapshotReader) Close() error { return r.f.Close() }

// Stat describes the snapshot's file: its modification time is when the
// snapshot was written (the pipeline's checkpoint age).
func (r snapshotReader) Stat() (fs.FileInfo, error) { return r.f.Stat() }

type countingWriter struct {
	w   io.Writer
	crc hash.Hash32
	n   int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc.Write(p[:n])
	c.n += int64(n)
	return n, err
}
