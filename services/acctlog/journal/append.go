package journal

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/trace"

	"kradius.dev/services/acctlog"
)

// appendReq is one Append waiting for the writer.
type appendReq struct {
	ctx   context.Context
	frame []byte      // sealed by the writer with offset, timestamp, CRC
	done  func(error) // called once, by the writer
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
	// Buffered: the writer never blocks on a caller that has left.
	done := make(chan error, 1)
	j.AppendAsync(ctx, key, value, func(err error) { done <- err })
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// Prefer a result that is already there over an ambiguous error.
		select {
		case err := <-done:
			return err
		default:
			return ctx.Err()
		}
	}
}

// AppendAsync implements acctlog.AsyncAppender: Append, with the outcome
// given to done by the writer goroutine once the batch holding the record
// is fsynced (or has failed), so that no goroutine waits per record.
func (j *Journal) AppendAsync(ctx context.Context, key, value []byte, done func(error)) {
	if err := ctx.Err(); err != nil {
		done(err)
		return
	}
	sc := trace.SpanContextFromContext(ctx)
	if n := frameLen(len(key), len(value), sc) - headerLen; n > maxBody {
		done(fmt.Errorf("journal %s: record of %d bytes exceeds the %d-byte limit", j.dir, n, maxBody))
		return
	}
	req := &appendReq{ctx: ctx, frame: newFrame(key, value, sc), done: done}
	j.qmu.Lock()
	var refused error
	switch {
	case j.stopping:
		refused = acctlog.ErrClosed
	case j.failed != nil:
		refused = j.failed
	default:
		j.queue = append(j.queue, req)
	}
	j.qmu.Unlock()
	if refused != nil {
		done(refused)
		return
	}
	j.signalWriter()
}

// signalWriter wakes the writer without blocking: one pending token is
// enough, since the writer drains the whole queue each time it wakes.
func (j *Journal) signalWriter() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}
