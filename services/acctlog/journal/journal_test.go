package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kradius.dev/services/acctlog"
)

func TestRoundTrip(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	appendRange(t, j, 0, 10)
	c := consumerT(t, j, "cdr")
	msgs := fetchN(t, c, 10)
	checkRange(t, msgs, 0)
	for _, m := range msgs {
		if m.Time.IsZero() {
			t.Fatalf("message %d has no time", m.Offset)
		}
	}
	if got := j.Stats(); got.NextOffset != 10 || got.OldestOffset != 0 || got.Segments != 1 || got.Bytes == 0 {
		t.Fatalf("Stats = %+v", got)
	}
}

func TestConcurrentAppenders(t *testing.T) {
	const writers, each = 64, 200
	j := openT(t, t.TempDir(), Options{})
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := j.Append(context.Background(), fmt.Appendf(nil, "w%02d-%03d", w, i), []byte("cdr")); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	c := consumerT(t, j, "cdr")
	seen := make(map[string]bool, writers*each)
	last := make(map[int]int) // per writer, records must keep their order
	for i, m := range fetchN(t, c, writers*each) {
		if m.Offset != int64(i) {
			t.Fatalf("message %d has offset %d", i, m.Offset)
		}
		if seen[string(m.Key)] {
			t.Fatalf("key %s delivered twice", m.Key)
		}
		seen[string(m.Key)] = true
		var w, n int
		if _, err := fmt.Sscanf(string(m.Key), "w%02d-%03d", &w, &n); err != nil {
			t.Fatalf("key %q: %v", m.Key, err)
		}
		if prev, ok := last[w]; ok && n != prev+1 {
			t.Fatalf("writer %d: record %d after %d", w, n, prev)
		}
		last[w] = n
	}
}

// Appenders that arrive while an fsync is in progress share the next one.
func TestGroupCommitSharesFsync(t *testing.T) {
	const waiters = 63
	g := newGate()
	var segSyncs atomic.Int32
	hook := func(f *os.File) error {
		if strings.HasSuffix(f.Name(), segSuffix) {
			segSyncs.Add(1)
			g.wait()
		}
		return f.Sync()
	}
	var commits []int // OnCommit runs before the batch's appenders are answered
	var commitsMu sync.Mutex
	onCommit := func(n int, took time.Duration) {
		commitsMu.Lock()
		defer commitsMu.Unlock()
		if took <= 0 {
			t.Errorf("a commit of %d records took %v", n, took)
		}
		commits = append(commits, n)
	}
	j := openT(t, t.TempDir(), Options{syncFile: hook, OnCommit: onCommit})
	g.arm()
	errs := make(chan error, waiters+1)
	go func() { errs <- j.Append(context.Background(), key(0), value(0)) }()
	<-g.entered
	for i := range waiters {
		go func() { errs <- j.Append(context.Background(), key(i+1), value(i+1)) }()
	}
	waitQueued(j, waiters)
	close(g.release)
	for range waiters + 1 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := segSyncs.Load(); got != 2 {
		t.Fatalf("%d segment fsyncs for %d appends, want 2 (the first alone, then one batch)", got, waiters+1)
	}
	commitsMu.Lock()
	if !slices.Equal(commits, []int{1, waiters}) {
		t.Errorf("OnCommit saw batches of %v records, want [1 %d]", commits, waiters)
	}
	commitsMu.Unlock()
	if got := j.Stats().NextOffset; got != waiters+1 {
		t.Fatalf("NextOffset = %d, want %d", got, waiters+1)
	}
}

func TestReopenSeesAcknowledged(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{SegmentBytes: 4 << 10})
	appendRange(t, j, 0, 300)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = openT(t, dir, Options{SegmentBytes: 4 << 10})
	if j.Recovered() != 0 {
		t.Fatalf("clean reopen recovered %d bytes", j.Recovered())
	}
	appendRange(t, j, 300, 310)
	checkRange(t, fetchN(t, consumerT(t, j, "cdr"), 310), 0)
}

func TestAppendAfterClose(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Append(context.Background(), nil, []byte("x")); !errors.Is(err, acctlog.ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}
	if _, err := j.Consumer("cdr"); !errors.Is(err, acctlog.ErrClosed) {
		t.Fatalf("Consumer after Close = %v, want ErrClosed", err)
	}
	if err := j.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

func TestCloseFlushesQueuedAppends(t *testing.T) {
	g := newGate()
	hook := func(f *os.File) error {
		if strings.HasSuffix(f.Name(), segSuffix) {
			g.wait()
		}
		return f.Sync()
	}
	dir := t.TempDir()
	j := openT(t, dir, Options{syncFile: hook})
	g.arm()
	first := make(chan error, 1)
	go func() { first <- j.Append(context.Background(), key(0), value(0)) }()
	<-g.entered
	queued := make(chan error, 1)
	go func() { queued <- j.Append(context.Background(), key(1), value(1)) }()
	waitQueued(j, 1)
	closed := make(chan error, 1)
	go func() { closed <- j.Close() }()
	close(g.release)
	for _, ch := range []chan error{first, queued, closed} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	j = openT(t, dir, Options{})
	checkRange(t, fetchN(t, consumerT(t, j, "cdr"), 2), 0)
}

// A caller whose context ends while its record waits in the queue is told
// so, and the record is never written.
func TestAppendCancelledWhileQueued(t *testing.T) {
	g := newGate()
	hook := func(f *os.File) error {
		if strings.HasSuffix(f.Name(), segSuffix) {
			g.wait()
		}
		return f.Sync()
	}
	j := openT(t, t.TempDir(), Options{syncFile: hook})
	g.arm()
	first := make(chan error, 1)
	go func() { first <- j.Append(context.Background(), key(0), value(0)) }()
	<-g.entered

	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan error, 1)
	go func() { cancelled <- j.Append(ctx, []byte("abandoned"), []byte("x")) }()
	waitQueued(j, 1)
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Append = %v, want context.Canceled", err)
	}
	close(g.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	appendRange(t, j, 1, 2)
	checkRange(t, fetchN(t, consumerT(t, j, "cdr"), 2), 0)
	if got := j.Stats().NextOffset; got != 2 {
		t.Fatalf("NextOffset = %d, want 2: the cancelled record was written", got)
	}

	done, stop := context.WithCancel(context.Background())
	stop()
	if err := j.Append(done, nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a done context = %v", err)
	}
}

func TestLockPreventsSecondOpen(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second Open = %v, want ErrLocked naming %s", err, dir)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	openT(t, dir, Options{})
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
		seg     int64
		ret     int64
	}{
		{"defaults", Options{}, false, 64 << 20, 1 << 30},
		{"explicit", Options{SegmentBytes: 1 << 10, RetentionBytes: 1 << 20}, false, 1 << 10, 1 << 20},
		{"negative segment", Options{SegmentBytes: -1}, true, 0, 0},
		{"negative retention", Options{RetentionBytes: -1}, true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := tt.opts.withDefaults()
			if (err != nil) != tt.wantErr {
				t.Fatalf("withDefaults() error = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && (o.SegmentBytes != tt.seg || o.RetentionBytes != tt.ret || o.Logf == nil || o.syncFile == nil) {
				t.Fatalf("withDefaults() = %+v", o)
			}
		})
	}
}

func TestAppendTooLarge(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	if err := j.Append(context.Background(), nil, make([]byte, maxBody)); err == nil {
		t.Fatal("Append of an oversized record succeeded")
	}
	appendRange(t, j, 0, 1)
}
