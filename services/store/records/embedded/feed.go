package embedded

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"kradius.dev/services/store/records"
)

// watchBuffer is how many notices a watch may fall behind before it misses
// some: a write never waits for a slow watcher.
const watchBuffer = 1024

var errClosed = errors.New("store closed")

// feed hands each committed change to every watch, in process.
type feed struct {
	mu     sync.Mutex
	buffer int
	subs   map[*sub]bool
	closed chan struct{}
}

type sub struct {
	notices chan records.Change
	// lost says a notice was dropped because notices was full; the watch
	// then sends Change{All: true} and carries on.
	lost atomic.Bool
}

func (f *feed) init(buffer int) {
	f.buffer = buffer
	f.subs = map[*sub]bool{}
	f.closed = make(chan struct{})
}

func (f *feed) publish(c records.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		select {
		case s.notices <- c:
		default:
			s.lost.Store(true)
		}
	}
}

func (f *feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.closed:
	default:
		close(f.closed)
	}
}

func (f *feed) subscribe() *sub {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &sub{notices: make(chan records.Change, f.buffer)}
	f.subs[s] = true
	return s
}

func (f *feed) unsubscribe(s *sub) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.subs, s)
}

// WatchChanges calls fn for each change this process commits after the watch
// starts, in commit order, after a first Change{All: true} sent once it has
// subscribed, so that a caller caching records starts clean. A watch that
// falls watchBuffer notices behind misses notices until it catches up, and
// is sent Change{All: true} as soon as it has taken the notice in hand when
// it fell behind; it does not end.
// It ends when ctx does (with ctx's error) or the store closes.
func (s *Store) WatchChanges(ctx context.Context, fn func(records.Change)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("watch changes: %w", err)
	}
	w := s.feed.subscribe()
	defer s.feed.unsubscribe(w)
	fn(records.Change{All: true})
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("watch changes: %w", ctx.Err())
		case <-s.feed.closed:
			return fmt.Errorf("watch changes: %w", errClosed)
		case c := <-w.notices:
			fn(c)
		}
		// Set only when notices was full, so there is always a notice
		// to wake the loop for it.
		if w.lost.Swap(false) {
			fn(records.Change{All: true})
		}
	}
}
