package journal

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"kradius.dev/services/acctlog"
)

var errInjected = errors.New("injected EIO")

// Every appender of a batch whose fsync fails gets the error, and the
// journal refuses every later append instead of trusting a later fsync.
func TestFsyncFailureFailsBatchAndJournal(t *testing.T) {
	const waiters = 15
	g := newGate()
	var failing atomic.Bool
	hook := func(f *os.File) error {
		if strings.HasSuffix(f.Name(), segSuffix) {
			fail := failing.Load() // decided on entry: the gated fsync succeeds
			g.wait()
			if fail {
				return errInjected
			}
		}
		return f.Sync()
	}
	dir := t.TempDir()
	var logged atomic.Int32
	j := openT(t, dir, Options{syncFile: hook, Logf: func(string, ...any) { logged.Add(1) }})
	c := consumerT(t, j, "cdr")

	if err := j.Err(); err != nil {
		t.Fatalf("Err before any failure: %v", err)
	}
	g.arm()
	first := make(chan error, 1)
	go func() { first <- j.Append(context.Background(), key(0), value(0)) }()
	<-g.entered
	errs := make(chan error, waiters)
	for i := range waiters {
		go func() { errs <- j.Append(context.Background(), key(i+1), value(i+1)) }()
	}
	waitQueued(j, waiters)
	failing.Store(true)
	close(g.release)

	if err := <-first; err != nil {
		t.Fatalf("append before the failure: %v", err)
	}
	for range waiters {
		if err := <-errs; !errors.Is(err, errInjected) {
			t.Fatalf("waiter got %v, want the fsync error", err)
		}
	}
	failing.Store(false) // a later fsync that would succeed must not be trusted
	err := j.Append(context.Background(), key(99), value(99))
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "refuses appends") {
		t.Fatalf("Append after the failure = %v, want a refusal naming the cause", err)
	}
	if err := j.Err(); !errors.Is(err, errInjected) {
		t.Fatalf("Err after the failure = %v, want the fsync error", err)
	}
	if logged.Load() == 0 {
		t.Fatal("the failure was not logged")
	}
	// Consumers only ever see what was acknowledged.
	if st := j.Stats(); st.NextOffset != 1 {
		t.Fatalf("NextOffset = %d, want 1: the failed batch must stay invisible", st.NextOffset)
	}
	checkRange(t, fetchN(t, c, 1), 0)
	c.Close()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Err(); !errors.Is(err, acctlog.ErrClosed) {
		t.Fatalf("Err after Close = %v, want ErrClosed", err)
	}

	// Reopening recovers and appends again. The failed batch's records may
	// be there (they were written, only the fsync "failed"): duplicates of
	// unacknowledged records are allowed, losing acknowledged ones is not.
	j = openT(t, dir, Options{})
	next := j.Stats().NextOffset
	if next != 1 && next != waiters+1 {
		t.Fatalf("NextOffset after reopen = %d", next)
	}
	if err := j.Append(context.Background(), key(100), value(100)); err != nil {
		t.Fatal(err)
	}
	checkRange(t, fetchN(t, consumerT(t, j, "cdr"), 1), 0)
}

// A roll fsyncs the directory after creating the new segment; if that fails
// the new file may vanish in a crash, so nothing after it can be trusted.
func TestRollFailureFailsJournal(t *testing.T) {
	dir := t.TempDir()
	var failing atomic.Bool
	hook := func(f *os.File) error {
		if failing.Load() && f.Name() == dir {
			return errInjected
		}
		return f.Sync()
	}
	j := openT(t, dir, Options{SegmentBytes: testSegBytes, syncFile: hook})
	appendRange(t, j, 0, 10)
	failing.Store(true)
	var err error
	for i := 10; err == nil && i < 100; i++ {
		err = j.Append(context.Background(), key(i), value(i))
	}
	if !errors.Is(err, errInjected) {
		t.Fatalf("Append across a failing roll = %v, want the fsync error", err)
	}
	failing.Store(false)
	if err := j.Append(context.Background(), nil, nil); !errors.Is(err, errInjected) {
		t.Fatalf("Append after the failure = %v", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = openT(t, dir, Options{SegmentBytes: testSegBytes})
	checkRange(t, fetchN(t, consumerT(t, j, "cdr"), 10), 0)
}
