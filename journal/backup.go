package journal

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// SnapshotName is the file name of the snapshot covering records up to seq.
func SnapshotName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, snapshotExt) }

// CopySnapshot copies the snapshot seq of the journal in dir to dst, which
// must not exist: a hard link when both are on one file system, a copy
// otherwise. The caller keeps the journal from writing a newer snapshot
// meanwhile (pipeline.Pause), which would delete this one.
func CopySnapshot(dir string, seq uint64, dst string) error {
	src := filepath.Join(dir, SnapshotName(seq))
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return copyFile(src, dst)
}

// RestoreSnapshot installs the snapshot file src as the only state of the
// journal in dir, which must hold no segment or snapshot yet: the journal
// opened there next starts after the snapshot's sequence number. The file's
// trailer and checksum are checked first, and the name it gets comes from
// its trailer. It returns that sequence number.
func RestoreSnapshot(dir, src string) (uint64, error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	seq, err := snapshotSeq(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", src, err)
	}
	if _, err := checkSnapshot(f, seq); err != nil {
		return 0, fmt.Errorf("%s: %w", src, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, fmt.Errorf("create journal dir: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("read journal dir: %w", err)
	}
	if len(entries) > 0 {
		return 0, fmt.Errorf("journal directory %s is not empty", dir)
	}
	dst := filepath.Join(dir, SnapshotName(seq))
	tmp := dst + tempExt
	if err := copyFile(src, tmp); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("install snapshot: %w", err)
	}
	return seq, syncDir(dir)
}

// snapshotSeq reads the sequence number from a snapshot file's trailer.
func snapshotSeq(f *os.File) (uint64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Size() < snapTrailerLen {
		return 0, fmt.Errorf("%w: snapshot of %d bytes has no trailer", ErrCorrupt, st.Size())
	}
	var t [16]byte
	if _, err := f.ReadAt(t[:], st.Size()-snapTrailerLen); err != nil {
		return 0, fmt.Errorf("read trailer: %w", err)
	}
	return binary.LittleEndian.Uint64(t[8:]), nil
}

// copyFile copies src to a new file dst and syncs it.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("copy %s: %w", filepath.Base(src), err)
	}
	if err := out.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dst, err)
	}
	return nil
}
