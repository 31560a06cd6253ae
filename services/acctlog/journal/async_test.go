package journal

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"kradius.dev/services/acctlog"
)

var _ acctlog.AsyncAppender = (*Journal)(nil)

// asyncResults collects AppendAsync outcomes and catches a done called twice.
type asyncResults struct {
	mu    sync.Mutex
	calls map[int]int
	errs  map[int]error
	wg    sync.WaitGroup
}

func newAsyncResults(n int) *asyncResults {
	r := &asyncResults{calls: map[int]int{}, errs: map[int]error{}}
	r.wg.Add(n)
	return r
}

func (r *asyncResults) done(i int) func(error) {
	return func(err error) {
		r.mu.Lock()
		r.calls[i]++
		r.errs[i] = err
		first := r.calls[i] == 1
		r.mu.Unlock()
		if first {
			r.wg.Done()
		}
	}
}

func (r *asyncResults) check(t *testing.T, want func(i int, err error) bool) {
	t.Helper()
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, n := range r.calls {
		if n != 1 {
			t.Errorf("record %d: done called %d times", i, n)
		}
		if !want(i, r.errs[i]) {
			t.Errorf("record %d: done(%v)", i, r.errs[i])
		}
	}
}

// AppendAsync reports each record once, after it is durable: every record
// acknowledged is there after a reopen.
func TestAppendAsync(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	const n = 200
	r := newAsyncResults(n)
	for i := range n {
		go j.AppendAsync(context.Background(), key(i), value(i), r.done(i))
	}
	r.check(t, func(_ int, err error) bool { return err == nil })
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = openT(t, dir, Options{})
	if got := j.Stats().NextOffset; got != n {
		t.Fatalf("%d records after reopening, %d acknowledged", got, n)
	}
	// Refused at once, on the caller's goroutine: closed, or too large.
	_ = j.Close()
	var refused error
	j.AppendAsync(context.Background(), key(0), value(0), func(err error) { refused = err })
	if !errors.Is(refused, acctlog.ErrClosed) {
		t.Errorf("AppendAsync on a closed journal: done(%v) before returning, want ErrClosed", refused)
	}
}

// A failed fsync reaches every done of its batch, once.
func TestAppendAsyncFsyncFailure(t *testing.T) {
	var failing atomic.Bool
	hook := func(f *os.File) error {
		if failing.Load() && strings.HasSuffix(f.Name(), segSuffix) {
			return errInjected
		}
		return f.Sync()
	}
	j := openT(t, t.TempDir(), Options{syncFile: hook, Logf: func(string, ...any) {}})
	failing.Store(true)
	const n = 20
	r := newAsyncResults(n)
	for i := range n {
		go j.AppendAsync(context.Background(), key(i), value(i), r.done(i))
	}
	r.check(t, func(_ int, err error) bool { return errors.Is(err, errInjected) })
}

// A record whose context ended before the writer took it is not written,
// and done says so.
func TestAppendAsyncCancelled(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := newAsyncResults(1)
	j.AppendAsync(ctx, key(0), value(0), r.done(0))
	r.check(t, func(_ int, err error) bool { return errors.Is(err, context.Canceled) })
	if got := j.Stats().NextOffset; got != 0 {
		t.Errorf("a cancelled record was written: NextOffset %d", got)
	}
}
