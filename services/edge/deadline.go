package edge

import (
	"context"
	"sync/atomic"
	"time"
)

// deadlineGrain is how much later than its budget a decision's deadline may
// fall: requests decided within one grain share a context.
const deadlineGrain = 10 * time.Millisecond

// sharedDeadlines hands out contexts that end a request's budget after the
// decision starts, give or take deadlineGrain. A context per request would
// start and stop a runtime timer per packet, a few percent of the edge's CPU
// at tens of thousands of requests a second, to enforce a budget of a second
// to within microseconds that nobody needs.
type sharedDeadlines struct {
	budget time.Duration
	cur    atomic.Pointer[deadlineContext]
}

type deadlineContext struct {
	ctx    context.Context
	cancel context.CancelFunc // never called early: the context ends at its deadline
	until  time.Time          // the last start this context may serve
}

func newSharedDeadlines(budget time.Duration) *sharedDeadlines {
	return &sharedDeadlines{budget: budget}
}

// at returns a context whose deadline is between budget and budget +
// deadlineGrain after now.
func (d *sharedDeadlines) at(now time.Time) context.Context {
	cur := d.cur.Load()
	if cur != nil && !now.After(cur.until) {
		return cur.ctx
	}
	// Two decisions racing here both make one; either is as good.
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(d.budget+deadlineGrain))
	d.cur.Store(&deadlineContext{ctx: ctx, cancel: cancel, until: now.Add(deadlineGrain)})
	return ctx
}
