package journal

import (
	"context"
	"fmt"

	"kradius.dev/services/acctlog"
)

// appendReq is one Append waiting for the writer.
type appendReq struct {
	ctx   context.Context
	frame []byte     // sealed by the writer with offset, timestamp, CRC
	done  chan error // buffered: the writer never blocks on a gone caller
}

// Append writes one record and returns once it is fsynced. Concurrent
// Appends share one write and one fsync (group commit).
//
// If ctx ends before the writer picks the record up, it is not written and
// ctx.Err() is returned. If ctx ends later, while the batch holding it is
// being written or fsynced, Append returns ctx.Err() at once but the record
// may still become durable and be delivered: the caller must treat the error
// as ambiguous and may retry, which the idempotent consumers absorb.
//
// After a write or fsync error every Append fails, naming the cause, until
// the journal is reopened (and recovered): see README.md.
func (j *Journal) Append(ctx context.Context, key, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if n := frameLen(len(key), len(value)) - headerLen; n > maxBody {
		return fmt.Errorf("journal %s: record of %d bytes exceeds the %d-byte limit", j.dir, n, maxBody)
	}
	req := &appendReq{ctx: ctx, frame: newFrame(key, value), done: make(chan error, 1)}
	j.qmu.Lock()
	switch {
	case j.stopping:
		j.qmu.Unlock()
		return acctlog.ErrClosed
	case j.failed != nil:
		err := j.failed
		j.qmu.Unlock()
		return err
	}
	j.queue = append(j.queue, req)
	j.qmu.Unlock()
	j.signalWriter()

	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		// Prefer a result that is already there over an ambiguous error.
		select {
		case err := <-req.done:
			return err
		default:
			return ctx.Err()
		}
	}
}

// signalWriter wakes the writer without blocking: one pending token is
// enough, since the writer drains the whole queue each time it wakes.
func (j *Journal) signalWriter() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}
