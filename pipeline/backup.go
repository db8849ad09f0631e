package pipeline

import (
	"context"
	"fmt"
)

// Pause runs fn at a point where the journal, the engine and the alert
// store agree: it waits for every Submit and Label in flight to end (their
// alerts stored), holds new ones back, writes a checkpoint so that the
// latest snapshot covers every record in the journal, and calls fn with
// that record's sequence number (0 when the journal is empty, and then
// there is no snapshot). A copy of the store taken in fn and the snapshot
// form a backup that restores to the same state: no segment is needed.
//
// Ingestion waits for fn, so fn should only copy. A checkpoint failure is
// returned without calling fn.
func (p *Pipeline) Pause(ctx context.Context, fn func(seq uint64) error) error {
	p.closeMu.Lock()
	defer p.closeMu.Unlock()
	if p.closed {
		return errClosed
	}
	if err := p.ready(); err != nil {
		return err
	}
	if err := p.Checkpoint(ctx); err != nil {
		return err
	}
	p.seqMu.Lock()
	seq, ck := p.applied, p.ckSeq
	p.seqMu.Unlock()
	if seq != ck {
		return fmt.Errorf("pause: the checkpoint covers record %d, the engine has applied %d", ck, seq)
	}
	return fn(seq)
}
