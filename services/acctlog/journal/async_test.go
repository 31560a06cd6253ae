package journal

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"kradius.dev/services/acctlog"
	"kradius.dev/services/acctlog/acctlogtest"
)

var _ acctlog.AsyncAppender = (*Journal)(nil)

// AppendAsync reports each record once, after it is durable: every record
// acknowledged is there after a reopen.
func TestAppendAsync(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	const n = 200
	o := acctlogtest.NewOutcomes(n)
	for i := range n {
		go j.AppendAsync(context.Background(), key(i), value(i), o.Done(string(key(i))))
	}
	for id, err := range o.Wait(t) {
		if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
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
	o := acctlogtest.NewOutcomes(n)
	for i := range n {
		go j.AppendAsync(context.Background(), key(i), value(i), o.Done(string(key(i))))
	}
	for id, err := range o.Wait(t) {
		if !errors.Is(err, errInjected) {
			t.Errorf("%s: done(%v), want the fsync error", id, err)
		}
	}
}

// A record whose context ended before the writer took it is not written,
// and done says so.
func TestAppendAsyncCancelled(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := acctlogtest.NewOutcomes(1)
	j.AppendAsync(ctx, key(0), value(0), o.Done("cancelled"))
	if err := o.Wait(t)["cancelled"]; !errors.Is(err, context.Canceled) {
		t.Errorf("done(%v), want context.Canceled", err)
	}
	if got := j.Stats().NextOffset; got != 0 {
		t.Errorf("a cancelled record was written: NextOffset %d", got)
	}
}
