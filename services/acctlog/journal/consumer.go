package journal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kradius.dev/services/acctlog"
)

var (
	// ErrBeyondEnd is a commit of an offset the journal does not hold yet.
	ErrBeyondEnd = errors.New("beyond the end of the journal")
	// ErrConsumerOpen is a consumer name already in use.
	ErrConsumerOpen = errors.New("already open")
)

// consumer is a named reader of the journal. Its committed position lives in
// the offsets store; its read position only in memory, so anything fetched
// but not committed is delivered again after a restart.
type consumer struct {
	j      *Journal
	name   string
	pos    int64 // next offset Fetch returns
	rd     *segReader
	closed bool
}

// Consumer returns the named consumer, positioned after its last commit. The
// first call for a name registers it durably, at the oldest record still on
// disk; from then on retention keeps every record it has not committed. A
// name can have one open Consumer at a time.
func (j *Journal) Consumer(name string) (acctlog.Consumer, error) {
	if err := validConsumerName(name); err != nil {
		return nil, fmt.Errorf("journal %s: %w", j.dir, err)
	}
	// Registration takes retMu so that no retention pass deletes the
	// segment the new consumer is about to start from.
	j.retMu.Lock()
	defer j.retMu.Unlock()
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil, acctlog.ErrClosed
	}
	if j.open[name] {
		j.mu.Unlock()
		return nil, fmt.Errorf("journal %s: consumer %q: %w", j.dir, name, ErrConsumerOpen)
	}
	start, registered := j.committed[name]
	if !registered {
		start = j.segs[0].base
	}
	j.open[name] = true
	j.mu.Unlock()

	if !registered {
		if err := j.storeOffset(name, start); err != nil {
			j.mu.Lock()
			delete(j.open, name)
			j.mu.Unlock()
			return nil, err
		}
	}
	return &consumer{j: j, name: name, pos: start}, nil
}

// storeOffset writes a consumer's offset durably, then lets retention see it.
func (j *Journal) storeOffset(name string, off int64) error {
	j.offMu.Lock()
	defer j.offMu.Unlock()
	j.mu.Lock()
	closed := j.closed
	j.mu.Unlock()
	if closed {
		return acctlog.ErrClosed
	}
	if err := j.offsets.store(name, off); err != nil {
		return fmt.Errorf("journal %s: %w", j.dir, err)
	}
	j.mu.Lock()
	j.committed[name] = off
	j.mu.Unlock()
	return nil
}

// Fetch returns the next durable record, waiting for one if need be.
func (c *consumer) Fetch(ctx context.Context) (acctlog.Message, error) {
	for {
		if c.closed {
			return acctlog.Message{}, acctlog.ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return acctlog.Message{}, err
		}
		j := c.j
		j.mu.Lock()
		if j.closed {
			j.mu.Unlock()
			return acctlog.Message{}, acctlog.ErrClosed
		}
		if c.pos < j.durable {
			j.mu.Unlock()
			msg, err := c.next()
			if errors.Is(err, errMoved) {
				continue
			}
			return msg, err
		}
		wait := j.notify
		j.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return acctlog.Message{}, ctx.Err()
		}
	}
}

// errMoved tells Fetch that reposition moved the consumer forward, so the
// durable check must be made again.
var errMoved = errors.New("consumer moved past deleted segments")

// next reads the record at c.pos, which is known to be durable.
func (c *consumer) next() (acctlog.Message, error) {
	if c.rd == nil || c.rd.next > c.pos || !c.j.inSegment(c.rd.base, c.pos) {
		if err := c.reposition(); err != nil {
			return acctlog.Message{}, err
		}
	}
	if err := c.rd.skipTo(c.pos); err != nil {
		return acctlog.Message{}, fmt.Errorf("journal %s: consumer %q: %w", c.j.dir, c.name, err)
	}
	rec, err := c.rd.read()
	if err != nil {
		return acctlog.Message{}, fmt.Errorf("journal %s: consumer %q: %w", c.j.dir, c.name, err)
	}
	c.pos = rec.offset + 1
	return acctlog.Message{
		Key:    rec.key,
		Value:  rec.value,
		Trace:  rec.trace,
		Offset: rec.offset,
		Time:   time.Unix(0, rec.timestamp),
	}, nil
}

// reposition opens the segment holding c.pos. Holding retMu keeps retention
// from deleting it between the lookup and the open.
func (c *consumer) reposition() error {
	j := c.j
	j.retMu.RLock()
	defer j.retMu.RUnlock()
	j.mu.Lock()
	// Below the oldest segment means retention removed records every
	// registered consumer, this one included, had committed: nothing to
	// deliver there.
	moved := c.pos < j.segs[0].base
	c.pos = max(c.pos, j.segs[0].base)
	base := j.segs[0].base
	for _, s := range j.segs {
		if s.base <= c.pos {
			base = s.base
		}
	}
	j.mu.Unlock()
	if c.rd != nil {
		c.rd.close()
		c.rd = nil
	}
	rd, err := openSegReader(j.segPath(base), base, func() int64 { return j.segBytes(base) })
	if err != nil {
		return fmt.Errorf("journal %s: consumer %q: %w", j.dir, c.name, err)
	}
	c.rd = rd
	if moved {
		return errMoved
	}
	return nil
}

// segBytes is the published size of the segment starting at base.
func (j *Journal) segBytes(base int64) int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, s := range j.segs {
		if s.base == base {
			return s.size
		}
	}
	return 0
}

// inSegment reports whether offset lies in the segment starting at base.
func (j *Journal) inSegment(base, offset int64) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i, s := range j.segs {
		if s.base == base {
			return offset >= base && (i == len(j.segs)-1 || offset < j.segs[i+1].base)
		}
	}
	return false
}

// Commit stores the highest offset among msgs, plus one, as the consumer's
// position. Commits that would move it backwards are ignored.
func (c *consumer) Commit(ctx context.Context, msgs ...acctlog.Message) error {
	if c.closed {
		return acctlog.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	j := c.j
	next := int64(-1)
	for _, m := range msgs {
		if m.Partition != 0 {
			return fmt.Errorf("journal %s: consumer %q: commit of partition %d: the journal has only partition 0", j.dir, c.name, m.Partition)
		}
		next = max(next, m.Offset+1)
	}
	j.mu.Lock()
	current, durable, closed := j.committed[c.name], j.durable, j.closed
	j.mu.Unlock()
	if closed {
		return acctlog.ErrClosed
	}
	if next <= current {
		return nil
	}
	if next > durable {
		return fmt.Errorf("journal %s: consumer %q: commit of offset %d: %w (%d)", j.dir, c.name, next-1, ErrBeyondEnd, durable)
	}
	if err := j.storeOffset(c.name, next); err != nil {
		return err
	}
	if err := j.enforceRetention(); err != nil {
		j.opts.Logf("journal %s: retention: %v", j.dir, err)
	}
	return nil
}

// Close releases the name for another Consumer call. It does not commit.
func (c *consumer) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	j := c.j
	j.mu.Lock()
	delete(j.open, c.name)
	j.mu.Unlock()
	if c.rd == nil {
		return nil
	}
	if err := c.rd.close(); err != nil {
		return fmt.Errorf("journal %s: consumer %q: close segment: %w", j.dir, c.name, err)
	}
	return nil
}
