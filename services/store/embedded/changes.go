package embedded

import (
	"context"
	"errors"
	"sync"

	"kradius.dev/services/store"
)

var _ store.AccountWatcher = (*Store)(nil)

// errClosed ends the watches of a closed store.
var errClosed = errors.New("embedded store closed")

// watchers are the store's account watches. Writes to this store are few
// (an operator's edits, an import) and all come through this process, so
// every committed write is reported as "all": exact names would buy the
// watchers little and cost every write path a list of what it touched.
type watchers struct {
	mu        sync.Mutex
	set       map[chan struct{}]struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func newWatchers() *watchers {
	return &watchers{set: make(map[chan struct{}]struct{}), closed: make(chan struct{})}
}

// changed wakes every watch. A watch already woken stays so once: its next
// notice covers both writes.
func (w *watchers) changed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.set {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (w *watchers) close() { w.closeOnce.Do(func() { close(w.closed) }) }

// WatchAccounts implements store.AccountWatcher.
func (s *Store) WatchAccounts(ctx context.Context, fn func(store.AccountChange)) error {
	ch := make(chan struct{}, 1)
	s.watchers.mu.Lock()
	s.watchers.set[ch] = struct{}{}
	s.watchers.mu.Unlock()
	defer func() {
		s.watchers.mu.Lock()
		delete(s.watchers.set, ch)
		s.watchers.mu.Unlock()
	}()
	for {
		fn(store.AccountChange{All: true})
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.watchers.closed:
			return errClosed
		}
	}
}
