package cdr

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kradius.dev/services/acctlog"
)

const (
	// maxBatch bounds the records fetched together.
	maxBatch = 4096
	// batchEvery paces the batches: a batch that is not full starts no
	// sooner than this after the one before. Every batch costs a few fsyncs
	// whatever its size, on the disk the edge's journal also syncs to, and
	// a consumer that has caught up would otherwise run a small batch per
	// millisecond. At this pace it can still apply maxBatch/batchEvery,
	// some 40,000 records a second, and a record waits at most this long
	// before billing and the called-numbers database see it.
	batchEvery = 100 * time.Millisecond
	// busyCheck is how often a paused consumer asks whether the edge is
	// still busy.
	busyCheck = 50 * time.Millisecond
	// gather is how long a batch waits for one more record once it has
	// one: long enough to take what the log already holds, too short to
	// matter to a record's way to billing.
	gather = time.Millisecond
	// commitEvery bounds how long a position may stay uncommitted.
	// Committing is a write of its own (an fsync, a broker round trip);
	// after a crash the records since the last commit are fetched again and
	// their effects skipped by the ledger.
	commitEvery = 100 * time.Millisecond
)

// Run consumes until ctx ends, a batch at a time: it takes the records the
// log holds (up to maxBatch), applies them together (applyBatch), and
// commits the position once every one of them is applied.
//
// Applying a batch together is what lets the consumer keep up with the
// edge: each step of a record (a ledger check, a called-number write, a CDR
// append, a ledger mark) waits on a disk or a round trip, and done for the
// whole batch at once a step costs about what it costs for one record;
// record by record, a thousand records would take a thousand times as many
// fsyncs, on the disk the edge's journal needs too.
//
// A record whose effects fail is retried, with a growing pause, and the
// batch, hence the position, waits for it: nothing is skipped, and a
// restart resumes there.
//
// When ctx ends (SIGTERM: a rolling update, a scale-in), the batch in hand
// is finished under a context the signal does not cancel, for up to the
// drain timeout, and committed. Cut off mid-batch, the CDRs it had published
// would have no done-marks and no commit, and the successor would publish
// them again.
//
// A drain that times out leaves the rest of the batch uncommitted, to come
// again.
func (p *Processor) Run(ctx context.Context, c acctlog.Consumer) error {
	var (
		last        = time.Now()
		uncommitted = map[int]acctlog.Message{} // per partition, the last applied
		fetchPause  time.Duration
	)
	commit := func(ctx context.Context) {
		msgs := make([]acctlog.Message, 0, len(uncommitted))
		for _, m := range uncommitted {
			msgs = append(msgs, m)
		}
		if len(msgs) == 0 {
			return
		}
		if err := c.Commit(ctx, msgs...); err != nil {
			// The log may be unreachable for a while (a broker restarting);
			// the position waits for the next try.
			if !errors.Is(err, acctlog.ErrClosed) && ctx.Err() == nil {
				p.log.Warn("committing the accounting log position failed; will retry", "err", err)
			}
			return
		}
		clear(uncommitted)
	}
	defer func() {
		// What is applied is worth recording on the way out; a failure only
		// means those records are fetched, and skipped, again.
		final, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.drainTimeout())
		defer cancel()
		commit(final)
	}()
	for {
		started := time.Now()
		batch, err := fetchBatch(ctx, c)
		if len(batch) > 0 {
			spanCtx, endSpan := p.batchSpan(ctx, batch)
			applied := p.applyDraining(spanCtx, batch)
			endSpan(nil)
			if !applied {
				return nil // the drain timed out with records unapplied: they come again
			}
			for _, m := range batch {
				uncommitted[m.Partition] = m
			}
		}
		switch {
		case err == nil:
			fetchPause = 0
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, acctlog.ErrClosed):
			return fmt.Errorf("fetching from the accounting log: %w", err)
		default:
			// The log is unreachable (a broker restarting, say): keep
			// trying, as the edge's appends do.
			fetchPause = min(max(2*fetchPause, 100*time.Millisecond), 5*time.Second)
			p.log.Warn("fetching from the accounting log failed; will retry", "err", err, "pause", fetchPause)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(fetchPause):
			}
		}
		if time.Since(last) >= commitEvery {
			commit(ctx)
			last = time.Now()
		}
		if len(batch) > 0 && !p.pause(ctx, started, len(batch)) {
			return nil
		}
	}
}

// pause waits after a batch of n records that started at started: until
// batchEvery after it unless it was full, and, under a load factor, while
// the edge stays busy, until applying has taken no more than that share of
// the time. It reports false if ctx ended.
func (p *Processor) pause(ctx context.Context, started time.Time, n int) bool {
	sleep := func(d time.Duration) bool { return sleepCtx(ctx, d) }
	if n < maxBatch && !sleep(time.Until(started.Add(batchEvery))) {
		return false
	}
	if p.loadFactor >= 1 || p.busy == nil {
		return true
	}
	// Checked in slices: once the edge goes quiet, catching up starts at once.
	owed := time.Duration(float64(time.Since(started)) * (1/p.loadFactor - 1))
	for ; owed > 0 && p.busy(); owed -= busyCheck {
		if !sleep(min(owed, busyCheck)) {
			return false
		}
	}
	return true
}

// fetchBatch waits up to commitEvery for a record, then takes those that
// follow within gather of each other, up to maxBatch. Nothing fetched and
// no error means the log was idle. An error after some records comes with
// them; it will recur on the next fetch.
func fetchBatch(ctx context.Context, c acctlog.Consumer) ([]acctlog.Message, error) {
	var batch []acctlog.Message
	wait := commitEvery
	for len(batch) < maxBatch {
		fctx, cancel := context.WithTimeout(ctx, wait)
		m, err := c.Fetch(fctx)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				return batch, nil
			}
			return batch, err
		}
		batch = append(batch, m)
		wait = gather
	}
	return batch, nil
}

// apply applies batch until it succeeds or ctx ends, and reports which.
// Effects already applied are marked, so a retry repeats only the rest.
func (p *Processor) apply(ctx context.Context, batch []acctlog.Message) bool {
	for pause := 100 * time.Millisecond; ; pause = min(2*pause, 10*time.Second) {
		err := p.applyBatch(ctx, batch)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		first, last := batch[0], batch[len(batch)-1]
		p.log.Warn("records not applied; retrying", "records", len(batch), "first_offset", first.Offset, "last_offset", last.Offset, "partition", first.Partition, "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
		}
	}
}

// defaultDrain is the drain timeout without SetDrainTimeout: inside the
// 30 s a Kubernetes pod is given between SIGTERM and SIGKILL by default.
const defaultDrain = 20 * time.Second

// SetDrainTimeout bounds how long Run may take, once told to stop, to
// finish the batch in hand; zero or less keeps the default.
func (p *Processor) SetDrainTimeout(d time.Duration) { p.drain = d }

func (p *Processor) drainTimeout() time.Duration {
	if p.drain <= 0 {
		return defaultDrain
	}
	return p.drain
}

// applyDraining applies batch as apply does, under a context that ctx's end
// does not cancel but cuts off a drain timeout later, and reports whether
// the whole batch was applied.
func (p *Processor) applyDraining(ctx context.Context, batch []acctlog.Message) bool {
	drainCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		p.log.Info("stopping: finishing the batch in hand", "records", len(batch), "drain_timeout", p.drainTimeout().String())
		t := time.NewTimer(p.drainTimeout())
		defer t.Stop()
		select {
		case <-t.C:
			p.log.Warn("drain timeout: the batch in hand is left unapplied and uncommitted; its records come again", "records", len(batch))
			cancel()
		case <-drainCtx.Done():
		}
	})
	defer stop()
	return p.apply(drainCtx, batch)
}
