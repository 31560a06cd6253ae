package cdr

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"kradius.dev/services/acctlog"
)

const (
	// lanes is how many records are applied at once. Each effect waits on a
	// disk or a round trip (a ledger mark, a called-number write, a CDR
	// append), and those group-commit across concurrent callers: one lane
	// would cap the consumer far below what the edge acknowledges.
	lanes = 32
	// commitEvery bounds how long a position may stay uncommitted. Committing
	// is a write of its own (an fsync, a broker round trip); after a crash the
	// records since the last commit are fetched again and their effects
	// skipped by the ledger.
	commitEvery = 100 * time.Millisecond
)

// Run consumes until ctx ends. Records of one session (one key) are applied
// in log order on one lane, records of different sessions concurrently. A
// record whose effects fail is retried on its lane, with a growing pause,
// and the committed position never passes it: nothing is skipped, and a
// restart resumes there.
func (p *Processor) Run(ctx context.Context, c acctlog.Consumer) error {
	// The lanes stop with Run, also when fetching fails: a record retrying
	// forever must not keep Run from returning.
	lanesCtx, stopLanes := context.WithCancel(ctx)
	defer stopLanes()
	seed := maphash.MakeSeed()
	done := make(chan acctlog.Message, 4*lanes)
	var work [lanes]chan acctlog.Message
	var wg sync.WaitGroup
	for i := range work {
		work[i] = make(chan acctlog.Message, 64)
		wg.Go(func() {
			for m := range work[i] {
				if p.apply(lanesCtx, m) {
					done <- m
				}
			}
		})
	}
	pos := newPositions()
	err := p.dispatch(ctx, c, func(m acctlog.Message) {
		pos.fetched(m)
		lane := work[maphash.Bytes(seed, m.Key)%lanes]
		for {
			select {
			case lane <- m:
				return
			case d := <-done: // a full lane must not stall the completions it waits on
				pos.applied(d)
			}
		}
	}, done, pos)
	stopLanes()
	for _, w := range work {
		close(w)
	}
	go func() { wg.Wait(); close(done) }()
	for d := range done {
		pos.applied(d)
	}
	// What is applied is worth recording even on the way out; a failure
	// only means those records are fetched, and skipped, again.
	final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if cerr := c.Commit(final, pos.ready()...); cerr != nil && err == nil && !errors.Is(cerr, acctlog.ErrClosed) {
		p.log.Warn("final commit failed; the records since the last one will be fetched again", "err", cerr)
	}
	return err
}

// dispatch fetches and hands out records, and commits what is applied, until
// ctx ends or fetching fails. Fetch and Commit stay on this goroutine, as
// acctlog.Consumer requires.
func (p *Processor) dispatch(ctx context.Context, c acctlog.Consumer, send func(acctlog.Message), done <-chan acctlog.Message, pos *positions) error {
	last := time.Now()
	var fetchPause time.Duration
	for {
		for drained := false; !drained; {
			select {
			case d := <-done:
				pos.applied(d)
			default:
				drained = true
			}
		}
		if time.Since(last) >= commitEvery {
			last = time.Now()
			if msgs := pos.ready(); len(msgs) > 0 {
				if err := c.Commit(ctx, msgs...); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					// The log may be unreachable for a while (a broker
					// restarting); the position waits for the next try,
					// and the records keep being applied meanwhile.
					p.log.Warn("committing the accounting log position failed; will retry", "err", err)
				} else {
					pos.committed(msgs)
				}
			}
		}
		fctx, cancel := context.WithTimeout(ctx, commitEvery)
		m, err := c.Fetch(fctx)
		cancel()
		switch {
		case err == nil:
			send(m)
			fetchPause = 0
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, context.DeadlineExceeded):
			// Idle: loop round to commit what was applied.
		case errors.Is(err, acctlog.ErrClosed):
			return fmt.Errorf("fetching from the accounting log: %w", err)
		default:
			// The log is unreachable (a broker restarting, say): keep
			// trying, as the edge's appends do, rather than exit and lose
			// the records already fetched and applied but not committed.
			fetchPause = min(max(2*fetchPause, 100*time.Millisecond), 5*time.Second)
			p.log.Warn("fetching from the accounting log failed; will retry", "err", err, "pause", fetchPause)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(fetchPause):
			}
		}
	}
}

// apply handles m until it succeeds or ctx ends, and reports which.
func (p *Processor) apply(ctx context.Context, m acctlog.Message) bool {
	for pause := 100 * time.Millisecond; ; pause = min(2*pause, 10*time.Second) {
		err := p.Handle(ctx, m)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		p.log.Warn("record not applied; retrying", "offset", m.Offset, "partition", m.Partition, "key", string(m.Key), "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
		}
	}
}

// positions tracks, per partition, the records fetched in order and which
// are applied, so that a commit covers only an applied prefix.
type positions struct {
	parts map[int]*partition
}

type partition struct {
	order   []int64 // fetched, not yet committable, in fetch order
	applied map[int64]acctlog.Message
	ready   *acctlog.Message // the last of the applied prefix, to commit
}

func newPositions() *positions { return &positions{parts: map[int]*partition{}} }

func (p *positions) part(n int) *partition {
	pt, ok := p.parts[n]
	if !ok {
		pt = &partition{applied: map[int64]acctlog.Message{}}
		p.parts[n] = pt
	}
	return pt
}

func (p *positions) fetched(m acctlog.Message) {
	pt := p.part(m.Partition)
	pt.order = append(pt.order, m.Offset)
}

func (p *positions) applied(m acctlog.Message) {
	pt := p.part(m.Partition)
	pt.applied[m.Offset] = m
	for len(pt.order) > 0 {
		head, ok := pt.applied[pt.order[0]]
		if !ok {
			break
		}
		delete(pt.applied, pt.order[0])
		pt.order = pt.order[1:]
		pt.ready = &head
	}
	if len(pt.order) == 0 {
		pt.order = nil // let the backing array go
	}
}

// ready returns the messages to commit, one per partition that advanced.
func (p *positions) ready() []acctlog.Message {
	var out []acctlog.Message
	for _, pt := range p.parts {
		if pt.ready != nil {
			out = append(out, *pt.ready)
		}
	}
	return out
}

// committed forgets what msgs committed, unless a partition advanced since.
func (p *positions) committed(msgs []acctlog.Message) {
	for _, m := range msgs {
		if pt := p.parts[m.Partition]; pt.ready != nil && pt.ready.Offset == m.Offset {
			pt.ready = nil
		}
	}
}
