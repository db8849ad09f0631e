package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"
)

// DefaultPoll is how often a followed file is checked for new lines and
// rotation when File.Poll is zero.
const DefaultPoll = 250 * time.Millisecond

// File delivers the lines of a log file. Without Follow it reads the file
// once (gzip files transparently) and returns. With Follow it behaves like
// `tail -F`: it keeps reading appended lines, and when the path is renamed
// and recreated, or truncated in place (copytruncate), it reopens the file
// and goes on without losing or repeating a line.
//
// A file gathered from many hosts names the host in each line's syslog
// header. Leave Host empty for such files: the line parser reads the header
// anyway, so the host is taken from its result rather than parsed twice
// (a header parse costs more than the rest of replay per line).
//
// Following polls with os.Stat rather than inotify: it works on every file
// system and costs one stat per Poll interval. Like tail -F, it cannot see a
// truncation when the file has grown back past the read offset by the next
// poll, nor lines the writer appends to a renamed file after the switch.
type File struct {
	Path        string
	Member      string
	Host        string // tags every line; "" leaves the host to the parser (see below)
	Follow      bool
	FromStart   bool          // Follow only: read what the file already holds instead of starting at its end
	Poll        time.Duration // Follow only; DefaultPoll when 0
	MaxLineSize int           // longer lines are dropped and counted; DefaultMaxLineSize when 0
	Logger      *slog.Logger

	// Resume, for Follow, continues where an earlier run stopped (the Pos
	// of the last line it had handled). If the path now names another
	// file, or the file is shorter than Resume.Offset, the file was
	// rotated or truncated meanwhile and is read from its start.
	Resume *Position

	stats counters
}

// Stats returns the counters so far. It is safe to call while Run runs.
func (f *File) Stats() Stats { return f.stats.snapshot() }

// Run delivers lines until the end of the file (replay), or until ctx is
// done (Follow). It returns nil when ctx is done, and the error of h, wrapped,
// when h fails.
func (f *File) Run(ctx context.Context, h Handler) error {
	tag := tagger{member: f.Member, host: f.Host, origin: "file:" + f.Path}
	if f.Follow {
		return f.follow(ctx, tag, h)
	}
	fd, err := os.Open(f.Path)
	if err != nil {
		f.stats.errors.Add(1)
		return fmt.Errorf("replay: %w", err)
	}
	defer fd.Close()
	err = replay(ctx, fd, maxOrDefault(f.MaxLineSize), tag, &f.stats, h)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("replay %s: %w", f.Path, err)
	}
	return nil
}

// follower is the state of one Follow run.
type follower struct {
	*File
	log    *slog.Logger
	tag    tagger
	h      Handler
	lr     *lineReader
	fd     *os.File
	id     fileID
	offset int64 // bytes read from fd, to detect truncation
	resume *Position
}

func (f *File) follow(ctx context.Context, tag tagger, h Handler) error {
	poll := f.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	fl := &follower{
		File:   f,
		log:    orDiscard(f.Logger).With("path", f.Path),
		tag:    tag,
		h:      h,
		lr:     newLineReader(maxOrDefault(f.MaxLineSize)),
		resume: f.Resume,
	}
	defer func() {
		if fl.fd != nil {
			fl.fd.Close()
		}
	}()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	first := true
	for {
		if err := fl.step(ctx, first); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("follow %s: %w", f.Path, err)
		}
		first = false
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// step opens the file if needed, delivers every complete line written since
// the last step, and handles truncation and rotation.
func (fl *follower) step(ctx context.Context, first bool) error {
	if fl.fd == nil {
		if err := fl.open(!first || fl.FromStart); err != nil {
			return err
		}
		if fl.fd == nil {
			return nil // not there yet
		}
	}
	if err := fl.drain(ctx); err != nil {
		return err
	}
	cur, err := fl.fd.Stat()
	if err != nil {
		fl.stats.errors.Add(1)
		return fmt.Errorf("stat open file: %w", err)
	}
	if cur.Size() < fl.offset {
		// Truncated in place (copytruncate): the writer starts over at 0.
		fl.log.Info("log file truncated", "offset", fl.offset, "size", cur.Size())
		fl.lr.reset()
		fl.offset = 0
		if _, err := fl.fd.Seek(0, io.SeekStart); err != nil {
			fl.stats.errors.Add(1)
			return fmt.Errorf("seek after truncation: %w", err)
		}
		return fl.drain(ctx)
	}
	byPath, err := os.Stat(fl.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // renamed away, not yet recreated: keep the old file
	case err != nil:
		fl.stats.errors.Add(1)
		fl.log.Warn("stat log file", "err", err)
		return nil
	case os.SameFile(cur, byPath):
		return nil
	}
	// Rotated: the path names a new file. What the writer appended to the
	// old file before the rename is still to be read, and the old file's
	// last line may lack its newline.
	if err := fl.drain(ctx); err != nil {
		return err
	}
	if line, oversize := fl.lr.tail(); oversize {
		fl.stats.oversize.Add(1)
	} else if err := fl.deliver(ctx, line); err != nil {
		return err
	}
	fl.log.Info("log file rotated")
	fl.fd.Close()
	fl.fd = nil
	if err := fl.open(true); err != nil {
		return err
	}
	if fl.fd == nil {
		return nil
	}
	return fl.drain(ctx)
}

// open opens the path, at its start or at its end. A missing file is not an
// error: it leaves fd nil and the next step tries again.
func (fl *follower) open(fromStart bool) error {
	fd, err := os.Open(fl.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		fl.stats.errors.Add(1)
		return fmt.Errorf("open: %w", err)
	}
	fi, err := fd.Stat()
	if err != nil {
		fd.Close()
		fl.stats.errors.Add(1)
		return fmt.Errorf("stat: %w", err)
	}
	fl.id = idOf(fi)
	fl.offset = 0
	var seekTo int64
	switch r := fl.resume; {
	case r != nil:
		fl.resume = nil
		if r.Dev == fl.id.dev && r.Ino == fl.id.ino && fi.Size() >= r.Offset {
			seekTo = r.Offset
		} else {
			fl.log.Info("log file changed since the saved position; reading it from its start",
				"saved_offset", r.Offset, "size", fi.Size())
		}
	case !fromStart:
		seekTo = fi.Size()
	}
	if seekTo > 0 {
		if fl.offset, err = fd.Seek(seekTo, io.SeekStart); err != nil {
			fd.Close()
			fl.stats.errors.Add(1)
			return fmt.Errorf("seek to %d: %w", seekTo, err)
		}
	}
	fl.fd = fd
	fl.lr.reset()
	return nil
}

// deliver hands one line to the handler with its position: the offset just
// after it, which is the bytes read minus what is still buffered.
func (fl *follower) deliver(ctx context.Context, text []byte) error {
	if len(text) == 0 {
		return nil
	}
	fl.stats.line(len(text))
	l := fl.tag.line(text)
	l.Pos = Position{Dev: fl.id.dev, Ino: fl.id.ino, Offset: fl.offset - int64(fl.lr.buffered())}
	if err := fl.h(ctx, l); err != nil {
		return fmt.Errorf("handle line: %w", err)
	}
	return nil
}

// drain delivers every complete line up to the current end of the file.
func (fl *follower) drain(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, oversize, ok := fl.lr.next()
		if oversize {
			fl.stats.oversize.Add(1)
		}
		if ok {
			if err := fl.deliver(ctx, line); err != nil {
				return err
			}
			continue
		}
		n, err := fl.lr.fill(fl.fd)
		fl.offset += int64(n)
		if errors.Is(err, io.EOF) {
			if n > 0 {
				continue // split what came with io.EOF first
			}
			return nil
		}
		if err != nil {
			fl.stats.errors.Add(1)
			return fmt.Errorf("read: %w", err)
		}
	}
}
