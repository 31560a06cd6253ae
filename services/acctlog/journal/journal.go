// Package journal is the embedded accounting log: numbered segment files in
// one directory, appended with group commit and fsynced before Append
// returns, read back by named consumers whose positions are stored beside
// the segments. See README.md for the on-disk format and the guarantees.
package journal

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"kradius.dev/services/acctlog"
)

var (
	_ acctlog.Appender = (*Journal)(nil)
	_ acctlog.Consumer = (*consumer)(nil)
)

const (
	defaultSegmentBytes   = 64 << 20
	defaultRetentionBytes = 1 << 30
)

// Options tune a journal; the zero value is usable.
type Options struct {
	// SegmentBytes is the size at which the active segment is closed and a
	// new one started. Default 64 MiB.
	SegmentBytes int64
	// RetentionBytes is the total size above which the oldest segments are
	// deleted, once every registered consumer has committed past them.
	// Default 1 GiB.
	RetentionBytes int64
	// MaxBytes, when set, is a hard cap above RetentionBytes: past it the
	// oldest segments are deleted even with records a registered consumer
	// has not read, each deletion logged as an error (Logf) and counted
	// (OnForcedDelete, Stats). Zero: no cap; retention waits for every
	// consumer, however large the journal grows.
	MaxBytes int64
	// OnForcedDelete, if set, is told how many records a deletion under
	// MaxBytes took from the consumer furthest behind.
	OnForcedDelete func(records int64)
	// OnCommit, if set, is told of each successful commit: how many
	// records it made durable, and how long its write and fdatasync took.
	// It runs on the writer goroutine, so it must be quick (a metric).
	OnCommit func(records int, took time.Duration)
	// Logf reports events an operator must see: a tail truncated by
	// recovery, a failed journal, a retention error. Default: slog at Warn.
	Logf func(format string, args ...any)
	// Errorf reports records lost: deletions under MaxBytes. Default: Logf.
	Errorf func(format string, args ...any)

	// syncFile replaces (*os.File).Sync for every fsync, files and
	// directories alike; tests set it to inject failures.
	syncFile func(*os.File) error
	// noSpare turns spare segments off, for benchmarks of the alternative.
	noSpare bool
	// syncData makes a segment's records durable: fdatasync where there is
	// one, and syncFile when a test has replaced only that.
	syncData func(*os.File) error
}

func (o Options) withDefaults() (Options, error) {
	if o.SegmentBytes < 0 || o.RetentionBytes < 0 || o.MaxBytes < 0 {
		return o, fmt.Errorf("journal options: negative size (SegmentBytes %d, RetentionBytes %d, MaxBytes %d)", o.SegmentBytes, o.RetentionBytes, o.MaxBytes)
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = defaultSegmentBytes
	}
	if o.RetentionBytes == 0 {
		o.RetentionBytes = defaultRetentionBytes
	}
	if o.Logf == nil {
		o.Logf = func(format string, args ...any) { slog.Warn(fmt.Sprintf(format, args...)) }
	}
	if o.Errorf == nil {
		o.Errorf = o.Logf
	}
	switch {
	case o.syncData != nil:
	case o.syncFile != nil:
		o.syncData = o.syncFile
	default:
		o.syncData = fdatasync
	}
	if o.syncFile == nil {
		o.syncFile = (*os.File).Sync
	}
	return o, nil
}

// Journal is an append-only log in one directory. Safe for concurrent use.
type Journal struct {
	dir       string
	opts      Options
	lock      *os.File
	recovered int64
	offsets   *offsetStore

	// The append queue, handed to the writer goroutine in batches.
	qmu      sync.Mutex
	queue    []*appendReq
	spare    []*appendReq
	stopping bool  // Close has begun: no more appends accepted
	failed   error // a write or fsync failed: no more appends accepted
	wake     chan struct{}
	done     chan struct{} // closed when the writer goroutine exits
	w        writer        // owned by the writer goroutine
	next     *spareSegment // the segment the writer rolls to, prepared ahead

	// What readers, consumers and retention see: only fsynced records.
	mu        sync.Mutex
	segs      []segment
	durable   int64         // offset after the last fsynced record
	notify    chan struct{} // closed and replaced whenever durable advances
	closed    bool
	committed map[string]int64 // registered consumers and their offsets
	open      map[string]bool  // consumer names currently in use
	blockedBy string
	forced    int64 // records deleted unread under MaxBytes

	// retMu keeps retention from deleting a segment while a consumer opens
	// it, and Close from releasing the lock under a running retention pass.
	retMu sync.RWMutex
	// offMu serialises offset writes with Close, so no commit lands in a
	// directory another process may already have opened.
	offMu sync.Mutex

	closeOnce sync.Once
	closeErr  error
}

// Stats describes the journal's files.
type Stats struct {
	Segments int
	Bytes    int64
	// OldestOffset is the first record still on disk; NextOffset the one
	// the next Append will get.
	OldestOffset, NextOffset int64
	// RetentionBlockedBy names the consumer whose uncommitted records keep
	// the journal above RetentionBytes, or is empty.
	RetentionBlockedBy string
	// ForcedDeletedRecords counts, since Open, the records MaxBytes deleted
	// before the consumer furthest behind had read them.
	ForcedDeletedRecords int64
}

// Lag is how many durable records the consumer name has not committed, and
// whether name is a registered consumer.
func (j *Journal) Lag(name string) (int64, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	committed, ok := j.committed[name]
	if !ok {
		return 0, false
	}
	return max(j.durable-max(committed, j.segs[0].base), 0), true
}

// Open opens or creates the journal in dir, verifying every segment and
// truncating a torn tail left by a crash (see Recovered).
func Open(dir string, o Options) (*Journal, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := makeDir(dir, o.syncFile); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	j, err := open(dir, o, lock)
	if err != nil {
		unlockDir(lock)
		return nil, err
	}
	j.next.prepare(0) // nothing to pace by yet, and appends may be waiting
	go j.run()
	if err := j.enforceRetention(); err != nil {
		o.Logf("journal %s: retention: %v", dir, err)
	}
	return j, nil
}

func open(dir string, o Options, lock *os.File) (*Journal, error) {
	segs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		f, err := createSegment(dir, 0, o.syncFile)
		if err != nil {
			return nil, err
		}
		f.Close()
		segs = []segment{{base: 0}}
	}
	segs, next, recovered, err := recoverSegments(dir, segs, o.SegmentBytes, o.syncFile, o.Logf)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", dir, err)
	}
	offsets, committed, err := openOffsetStore(dir, o.syncFile)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", dir, err)
	}
	spareBytes := o.SegmentBytes
	if o.noSpare {
		spareBytes = 0
	}
	last := segs[len(segs)-1]
	path := filepath.Join(dir, segName(last.base))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("journal %s: open active segment: %w", dir, err)
	}
	return &Journal{
		dir:       dir,
		opts:      o,
		lock:      lock,
		recovered: recovered,
		offsets:   offsets,
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		w:         writer{f: f, base: last.base, size: last.size, next: next, started: time.Now(), startSize: last.size},
		next:      newSpareSegment(dir, spareBytes, o.syncFile, o.Logf),
		segs:      segs,
		durable:   next,
		notify:    make(chan struct{}),
		committed: committed,
		open:      make(map[string]bool),
	}, nil
}

// makeDir creates the journal directory and makes its name durable.
func makeDir(dir string, sync func(*os.File) error) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create journal directory: %w", err)
	}
	return syncDir(filepath.Dir(filepath.Clean(dir)), sync)
}

// Err says why the journal refuses appends, nil while it takes them: once
// a write or fsync failed (until reopened), or once Close has begun. It
// answers from memory, for a health check that must not wait on the disk.
func (j *Journal) Err() error {
	j.qmu.Lock()
	defer j.qmu.Unlock()
	switch {
	case j.stopping:
		return acctlog.ErrClosed
	case j.failed != nil:
		return j.failed
	}
	return nil
}

// Recovered is the number of bytes Open cut from the tail of the last
// segment: a write interrupted by a crash, never acknowledged.
func (j *Journal) Recovered() int64 { return j.recovered }

// Dir is the journal's directory.
func (j *Journal) Dir() string { return j.dir }

// Stats reports the journal's size and the retention state.
func (j *Journal) Stats() Stats {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := Stats{
		Segments:             len(j.segs),
		OldestOffset:         j.segs[0].base,
		NextOffset:           j.durable,
		RetentionBlockedBy:   j.blockedBy,
		ForcedDeletedRecords: j.forced,
	}
	for _, seg := range j.segs {
		s.Bytes += seg.size
	}
	return s
}

// Close waits for queued appends to be written and fsynced, stops the
// writer, wakes blocked Fetch calls with acctlog.ErrClosed and releases the
// directory lock. Later Appends return acctlog.ErrClosed.
func (j *Journal) Close() error {
	j.closeOnce.Do(func() { j.closeErr = j.close() })
	return j.closeErr
}

func (j *Journal) close() error {
	j.qmu.Lock()
	j.stopping = true
	j.qmu.Unlock()
	j.signalWriter()
	<-j.done
	j.next.close()

	j.mu.Lock()
	j.closed = true
	close(j.notify)
	j.mu.Unlock()

	// Wait out a retention pass or a commit in flight before another
	// process can take the lock.
	j.retMu.Lock()
	j.offMu.Lock()
	defer j.offMu.Unlock()
	defer j.retMu.Unlock()

	var errs []error
	if j.w.f != nil {
		if err := j.w.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("journal %s: close active segment: %w", j.dir, err))
		}
	}
	if err := unlockDir(j.lock); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
