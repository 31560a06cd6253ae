// Package rewatch keeps a change watch running: the caches and tables that
// serve only while a watch of their source is live (the records cache, the
// carriers' table) start a new one whenever the last ends, backing off
// while they keep failing.
package rewatch

import (
	"context"
	"time"
)

// Backoff of a watch that ended.
const (
	First = 100 * time.Millisecond
	Max   = 10 * time.Second
)

// Run runs watch until ctx ends. After each watch that ends while ctx is
// live, ended hears why and how long until the next, which waits from
// First, doubling to Max; a watch that ran longer than Max was healthy,
// and the wait starts over.
func Run(ctx context.Context, watch func(context.Context) error, ended func(err error, retryIn time.Duration)) {
	wait := First
	for {
		start := time.Now()
		err := watch(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > Max {
			wait = First
		}
		ended(err, wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, Max)
	}
}
