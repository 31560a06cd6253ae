// Package batch sends many callers' requests in one call, by natural
// batching: a request goes out at once while fewer than maxInFlight calls are
// running, and waits only when they all are, to leave with whatever else
// queued meanwhile when one of them returns. There is no timer, so an idle
// batcher adds no latency, and batches grow only as fast as load does.
//
// A Batcher needs no Close: it holds a goroutine only while a call is in
// flight, and that goroutine exits once the queue is empty. A call ends by
// the latest deadline among its callers, or as flush itself bounds it when
// one of them has none (see Do), so nothing outlives the last caller for long.
package batch

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Func sends reqs in one call. It answers either per item, res[i] and errs[i]
// for reqs[i] (errs may be nil when nothing failed; res[i] is ignored where
// errs[i] is set), or with one error for the whole call, which every item
// then gets.
type Func[Req, Res any] func(ctx context.Context, reqs []Req) (res []Res, errs []error, err error)

// Batcher batches the requests of concurrent Do calls into calls of flush.
// It is safe for concurrent use.
type Batcher[Req, Res any] struct {
	flush       Func[Req, Res]
	maxBatch    int
	maxInFlight int

	mu       sync.Mutex
	queue    []*item[Req, Res]
	inFlight int // calls of flush running or about to
}

// item is one Do waiting for its answer.
type item[Req, Res any] struct {
	ctx  context.Context
	req  Req
	done chan result[Res] // buffered: an answer never waits for a caller that left
	// then takes the answer instead of done, for a request sent by Go.
	then func(Res, error)
}

type result[Res any] struct {
	res Res
	err error
}

// New returns a Batcher sending at most maxBatch requests per call of flush
// and running at most maxInFlight calls at once. Values below 1 count as 1.
func New[Req, Res any](flush Func[Req, Res], maxBatch, maxInFlight int) *Batcher[Req, Res] {
	return &Batcher[Req, Res]{flush: flush, maxBatch: max(maxBatch, 1), maxInFlight: max(maxInFlight, 1)}
}

// Do sends req, in a batch with others' if some are waiting, and returns its
// answer, or ctx's error as soon as ctx is done; an answer arriving later is
// dropped. The call carrying req is not cancelled when ctx is if it carries
// others too, but it gets the latest deadline of its callers. If one of them
// has none, the call has none either, and flush must bound itself (the gRPC
// clients' RetryOnce interceptor does).
func (b *Batcher[Req, Res]) Do(ctx context.Context, req Req) (Res, error) {
	var zero Res
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	it := &item[Req, Res]{ctx: ctx, req: req, done: make(chan result[Res], 1)}
	batch := b.enqueue(it)
	switch {
	case len(batch) == 1 && batch[0] == it:
		// Alone, the usual case at low load: the call is the caller's own
		// and ends with its ctx, so it can run right here, sparing a
		// goroutine hand-off each way on every request.
		b.send(batch)
		b.next()
	case len(batch) > 0:
		// Not in this goroutine: the caller must be free to leave when its
		// ctx is done, and the call must go on for the others.
		go b.run(batch)
	}
	select {
	case r := <-it.done:
		return r.res, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// Go sends req as Do does, without waiting for the answer: then is called
// with it, in the goroutine that made the call. Nobody waits on req, so
// the call carrying it has no deadline, and flush must bound itself. For
// requests whose answer only needs counting (a write off the request
// path), Go costs no goroutine of its own, and a call in flight takes it
// with the others that queued meanwhile.
func (b *Batcher[Req, Res]) Go(req Req, then func(Res, error)) {
	it := &item[Req, Res]{ctx: context.Background(), req: req, then: then}
	batch := b.enqueue(it)
	if len(batch) > 0 {
		go b.run(batch)
	}
}

// enqueue queues it and returns the batch the caller is to send when a
// call may start now (the front of the queue, it too if there is room);
// nil when every call is in flight, and one of them will take it.
func (b *Batcher[Req, Res]) enqueue(it *item[Req, Res]) []*item[Req, Res] {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.queue = append(b.queue, it)
	if b.inFlight >= b.maxInFlight {
		return nil
	}
	batch := b.take()
	if len(batch) > 0 {
		b.inFlight++
	}
	return batch
}

// next hands what queued during a call made in the caller's goroutine to a
// goroutine of its own, or gives up the call's slot.
func (b *Batcher[Req, Res]) next() {
	b.mu.Lock()
	batch := b.take()
	if len(batch) == 0 {
		b.inFlight--
	}
	b.mu.Unlock()
	if len(batch) > 0 {
		go b.run(batch)
	}
}

// run sends batch, then whatever queued meanwhile, until the queue is empty.
// Taking the queue and giving up the in-flight slot happen under one lock,
// so that a request never queues behind a call that has just ended.
func (b *Batcher[Req, Res]) run(batch []*item[Req, Res]) {
	for {
		b.send(batch)
		b.mu.Lock()
		batch = b.take()
		if len(batch) == 0 {
			b.inFlight--
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
	}
}

// take removes up to maxBatch requests from the front of the queue, dropping
// those whose caller has already left: nobody would read their answers.
// b.mu must be held.
func (b *Batcher[Req, Res]) take() []*item[Req, Res] {
	var batch []*item[Req, Res]
	n := 0
	for ; n < len(b.queue) && len(batch) < b.maxBatch; n++ {
		if it := b.queue[n]; it.ctx.Err() == nil {
			batch = append(batch, it)
		}
	}
	// Delete also clears the vacated tail, so the queue's array does not
	// keep answered items alive.
	b.queue = slices.Delete(b.queue, 0, n)
	return batch
}

// send makes one call of flush and hands each item its answer.
func (b *Batcher[Req, Res]) send(batch []*item[Req, Res]) {
	ctx, cancel := callContext(batch)
	defer cancel()
	reqs := make([]Req, len(batch))
	for i, it := range batch {
		reqs[i] = it.req
	}
	res, errs, err := b.flush(ctx, reqs)
	if err == nil && (len(res) != len(reqs) || errs != nil && len(errs) != len(reqs)) {
		err = fmt.Errorf("batch: %d requests answered with %d results and %d errors", len(reqs), len(res), len(errs))
	}
	for i, it := range batch {
		var r result[Res]
		switch {
		case err != nil:
			r.err = err
		case errs != nil && errs[i] != nil:
			r.err = errs[i]
		default:
			r.res = res[i]
		}
		if it.then != nil {
			it.then(r.res, r.err)
			continue
		}
		it.done <- r
	}
}

// callContext is the context of the call carrying batch: cancelled by no one
// caller, since the others still want their answers, but ending with the
// latest of their deadlines, when nobody is left to answer. A call carrying
// one caller is that caller's alone, and simply ends when it leaves: the
// common case at low load, which so needs no timer of its own.
func callContext[Req, Res any](batch []*item[Req, Res]) (context.Context, context.CancelFunc) {
	if len(batch) == 1 {
		return batch[0].ctx, func() {}
	}
	var latest time.Time
	for _, it := range batch {
		d, ok := it.ctx.Deadline()
		if !ok {
			return context.WithCancel(context.Background())
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.Background(), latest)
}

// Each is a Func making one call of one per request, concurrently: the
// unbatched way to answer a batch, for a server that lacks the batch call.
func Each[Req, Res any](one func(context.Context, Req) (Res, error)) Func[Req, Res] {
	return func(ctx context.Context, reqs []Req) ([]Res, []error, error) {
		res := make([]Res, len(reqs))
		errs := make([]error, len(reqs))
		var wg sync.WaitGroup
		for i, req := range reqs {
			wg.Go(func() { res[i], errs[i] = one(ctx, req) })
		}
		wg.Wait()
		return res, errs, nil
	}
}
