package journal

import (
	"errors"
	"fmt"
	"os"
)

// enforceRetention deletes the oldest segments while the journal is larger
// than RetentionBytes. It stops at the first segment some registered
// consumer has not fully committed, and names that consumer in Stats: a CDR
// nobody has applied yet is worth more than disk space, but the operator has
// to see that the disk is filling and why. Only MaxBytes, a cap the operator
// sets, goes further: above it the oldest segments go unread, and each such
// deletion is an error in the log and a count. The active segment is never
// a candidate. Runs after every roll, every commit, and at Open.
func (j *Journal) enforceRetention() error {
	j.retMu.Lock()
	defer j.retMu.Unlock()

	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	var total int64
	for _, s := range j.segs {
		total += s.size
	}
	n := 0
	blocked := ""
	for total > j.opts.RetentionBytes && n < len(j.segs)-1 {
		end := j.segs[n+1].base
		if name := j.laggard(end); name != "" {
			blocked = name
			break
		}
		total -= j.segs[n].size
		n++
	}
	type unread struct {
		seg     segment
		records int64
		by      string
	}
	var forced []unread
	for j.opts.MaxBytes > 0 && total > j.opts.MaxBytes && n < len(j.segs)-1 {
		end := j.segs[n+1].base
		if by := j.laggard(end); by != "" {
			forced = append(forced, unread{seg: j.segs[n], records: end - max(j.committed[by], j.segs[n].base), by: by})
		}
		total -= j.segs[n].size
		n++
	}
	doomed := append([]segment(nil), j.segs[:n]...)
	j.segs = append([]segment(nil), j.segs[n:]...)
	j.blockedBy = blocked
	for _, f := range forced {
		j.forced += f.records
	}
	j.mu.Unlock()

	for _, f := range forced {
		j.opts.Errorf("journal %s: above max_bytes (%d): segment %s deleted with %d records consumer %q had not read; they are lost to it", j.dir, j.opts.MaxBytes, segName(f.seg.base), f.records, f.by)
		if j.opts.OnForcedDelete != nil {
			j.opts.OnForcedDelete(f.records)
		}
	}
	if len(doomed) == 0 {
		return nil
	}
	for i, s := range doomed {
		if err := os.Remove(j.segPath(s.base)); err != nil && !errors.Is(err, os.ErrNotExist) {
			// Put the survivors back: deleting a newer segment while an
			// older one stays would leave a gap that Open rejects.
			j.mu.Lock()
			j.segs = append(doomed[i:len(doomed):len(doomed)], j.segs...)
			j.mu.Unlock()
			return errors.Join(fmt.Errorf("delete segment %s: %w", segName(s.base), err), syncDir(j.dir, j.opts.syncFile))
		}
	}
	return syncDir(j.dir, j.opts.syncFile)
}

// laggard returns the registered consumer furthest behind among those that
// have not committed every record before end, or "" if none. Called with
// j.mu held.
func (j *Journal) laggard(end int64) string {
	name, lowest := "", end
	for n, off := range j.committed {
		if off < lowest || off == lowest && name != "" && n < name {
			name, lowest = n, off
		}
	}
	return name
}
