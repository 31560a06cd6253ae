package fbdatatest

import (
	"context"
	"testing"
	"time"

	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbdata"
)

// Watching is a change watch (fbdata.ChangeWatcher.WatchChanges, or a client
// of the same shape) running in the background, for tests to read.
type Watching struct {
	notices chan fbdata.Change
	done    chan error
}

// Watch runs watch with ctx until it returns, keeping its notices.
func Watch(ctx context.Context, watch func(context.Context, func(fbdata.Change)) error) *Watching {
	w := &Watching{notices: make(chan fbdata.Change, 1000), done: make(chan error, 1)}
	go func() { w.done <- watch(ctx, func(c fbdata.Change) { w.notices <- c }) }()
	return w
}

// Next returns the next notice, failing t if none comes within
// eventually.Limit, the bound on a hang.
func (w *Watching) Next(t testing.TB) fbdata.Change {
	t.Helper()
	select {
	case c := <-w.notices:
		return c
	case <-time.After(eventually.Limit):
		t.Fatalf("no change notice within %s", eventually.Limit)
		return fbdata.Change{}
	}
}

// Live reads the first notice, failing t unless it is All.
func (w *Watching) Live(t testing.TB) {
	t.Helper()
	if c := w.Next(t); !c.All {
		t.Fatalf("first notice = %+v, want All", c)
	}
}

// End returns why the watch ended, failing t if it still runs after within
// or ended without saying why.
func (w *Watching) End(t testing.TB, within time.Duration) error {
	t.Helper()
	select {
	case err := <-w.done:
		if err == nil {
			t.Fatal("the watch returned nil, want why it ended")
		}
		return err
	case <-time.After(within):
		t.Fatalf("the watch still runs %s later", within)
		return nil
	}
}
