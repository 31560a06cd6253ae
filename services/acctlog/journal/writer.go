package journal

import (
	"fmt"
	"os"
	"time"
)

// writer is the state of the active segment, touched only by the writer
// goroutine (and by Open before it starts, Close after it stops).
type writer struct {
	f    *os.File // nil after a failed roll
	base int64
	size int64 // bytes of records; a segment made from a spare is longer
	next int64 // offset the next record gets
	buf  []byte
	// spare: f was a spare, zeros past size, so it is cut to size on roll.
	spare bool
	// How fast the segment fills paces the spare that follows it: it held
	// startSize bytes at started (its roll, or the journal's opening).
	started   time.Time
	startSize int64
}

// maxKeptBuf caps the batch buffer kept between batches, so one burst does
// not pin its memory forever.
const maxKeptBuf = 4 << 20

// run is the writer goroutine. Group commit falls out of its shape: while it
// writes and fsyncs one batch, new Appends queue up, and the next pass takes
// all of them at once: one write, one fsync, however many appenders.
func (j *Journal) run() {
	defer close(j.done)
	for range j.wake {
		for {
			j.qmu.Lock()
			batch := j.queue
			if len(batch) > 0 {
				j.queue, j.spare = j.spare, nil
			}
			stopping, failed := j.stopping, j.failed
			j.qmu.Unlock()

			if len(batch) == 0 {
				if stopping {
					return
				}
				break
			}
			j.commit(batch, failed)
			clear(batch)
			j.qmu.Lock()
			j.spare = batch[:0]
			j.qmu.Unlock()
		}
	}
}

// commit writes and fsyncs one batch, then answers every appender in it.
func (j *Journal) commit(batch []*appendReq, failed error) {
	if failed != nil {
		for _, r := range batch {
			r.done(failed)
		}
		return
	}
	if err := j.useSpareIfEmpty(); err != nil {
		// The rename may have replaced the segment the writer holds open:
		// nothing can be trusted to land under its name any more.
		j.fail(err)
		for _, r := range batch {
			r.done(err)
		}
		return
	}
	now := time.Now().UnixNano()
	buf := j.w.buf[:0]
	written := make([]*appendReq, 0, len(batch))
	rolled := false
	var err error
	i := 0
	for ; i < len(batch); i++ {
		r := batch[i]
		// A caller that gave up before we got here has been told its
		// record was not written: keep that promise.
		if cerr := r.ctx.Err(); cerr != nil {
			r.done(cerr)
			continue
		}
		pending := j.w.size + int64(len(buf))
		if pending > 0 && pending+int64(len(r.frame)) > j.opts.SegmentBytes {
			if err = j.writeBuf(buf); err != nil {
				break
			}
			buf = buf[:0]
			if err = j.roll(); err != nil {
				break
			}
			rolled = true
		}
		sealFrame(r.frame, j.w.next, now)
		buf = append(buf, r.frame...)
		j.w.next++
		written = append(written, r)
	}
	if err == nil && len(written) == 0 {
		return // every caller gave up: nothing written, nothing to fsync
	}
	syncStart := time.Now()
	if err == nil {
		err = j.writeBuf(buf)
	}
	if err == nil {
		if err = j.opts.syncData(j.w.f); err != nil {
			err = fmt.Errorf("journal %s: fsync %s: %w", j.dir, segName(j.w.base), err)
		}
	}
	if cap(buf) <= maxKeptBuf {
		j.w.buf = buf[:0]
	} else {
		j.w.buf = nil
	}
	if err != nil {
		j.fail(err)
		for _, r := range written {
			r.done(err)
		}
		for _, r := range batch[i:] {
			r.done(err)
		}
		return
	}
	if len(written) > 0 {
		j.publish()
		if j.opts.OnCommit != nil {
			j.opts.OnCommit(len(written), time.Since(syncStart))
		}
	}
	for _, r := range written {
		r.done(nil)
	}
	if rolled {
		if err := j.enforceRetention(); err != nil {
			j.opts.Logf("journal %s: retention: %v", j.dir, err)
		}
	}
}

// useSpareIfEmpty swaps an empty active segment that grows with each write
// (a new journal's first, one created while no spare was ready) for a ready
// spare under the same name, so that a new journal's appends are as fast as
// a rolled one's.
func (j *Journal) useSpareIfEmpty() error {
	if j.w.spare || j.w.size != 0 || j.w.f == nil {
		return nil
	}
	f, err := j.next.take(j.w.base, minSpareRate) // replaces the empty file
	if err != nil {
		return fmt.Errorf("journal %s: starting %s from a spare: %w", j.dir, segName(j.w.base), err)
	}
	if f != nil {
		_ = j.w.f.Close()
		j.w.f, j.w.spare = f, true
	}
	return nil
}

func (j *Journal) writeBuf(buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	n, err := j.w.f.Write(buf)
	j.w.size += int64(n)
	if err != nil {
		return fmt.Errorf("journal %s: write %s: %w", j.dir, segName(j.w.base), err)
	}
	return nil
}

// roll fsyncs and closes the active segment and starts the next one. The old
// segment's records are durable from here on, but their appenders are only
// answered with the rest of the batch.
func (j *Journal) roll() error {
	old := j.w.f
	if j.w.spare {
		// A sealed segment ends with its last record, as recovery and
		// anyone reading the directory expect.
		if err := old.Truncate(j.w.size); err != nil {
			return fmt.Errorf("journal %s: cut %s to its records: %w", j.dir, segName(j.w.base), err)
		}
	}
	if err := j.opts.syncFile(old); err != nil {
		return fmt.Errorf("journal %s: fsync %s before roll: %w", j.dir, segName(j.w.base), err)
	}
	j.w.f = nil
	if err := old.Close(); err != nil {
		return fmt.Errorf("journal %s: close %s: %w", j.dir, segName(j.w.base), err)
	}
	f, err := j.next.take(j.w.next, spareRate(j.w.size-j.w.startSize, time.Since(j.w.started)))
	spare := f != nil
	if err == nil && f == nil {
		f, err = createSegment(j.dir, j.w.next, j.opts.syncFile)
	}
	if err != nil {
		return fmt.Errorf("journal %s: roll: %w", j.dir, err)
	}
	j.mu.Lock()
	j.segs[len(j.segs)-1].size = j.w.size
	j.segs = append(j.segs, segment{base: j.w.next})
	j.mu.Unlock()
	j.w = writer{f: f, base: j.w.next, next: j.w.next, buf: j.w.buf, spare: spare, started: time.Now()}
	return nil
}

// publish makes the batch visible to consumers only now that it is durable:
// a consumer never applies a record whose write or fsync failed.
func (j *Journal) publish() {
	j.mu.Lock()
	j.segs[len(j.segs)-1].size = j.w.size
	j.durable = j.w.next
	close(j.notify)
	j.notify = make(chan struct{})
	j.mu.Unlock()
}

// fail marks the journal unusable for appends. After a failed fsync the page
// cache may hold data the disk does not (and Linux may even have dropped the
// dirty pages and cleared the error), so no later fsync could be trusted to
// cover the earlier writes: refusing is the only honest answer, and the NAS
// retries elsewhere. Reopening runs recovery on what actually reached disk.
func (j *Journal) fail(cause error) {
	j.qmu.Lock()
	first := j.failed == nil
	if first {
		j.failed = fmt.Errorf("journal %s failed and refuses appends until reopened: %w", j.dir, cause)
	}
	j.qmu.Unlock()
	if first {
		j.opts.Logf("journal %s: %v", j.dir, cause)
	}
}
