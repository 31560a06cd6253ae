package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kradius.dev/services/eventually"
)

// double answers n with 2n, and fails odd numbers above 100 on their own.
func double(_ context.Context, reqs []int) ([]int, []error, error) {
	res := make([]int, len(reqs))
	errs := make([]error, len(reqs))
	for i, n := range reqs {
		if n > 100 && n%2 == 1 {
			errs[i] = fmt.Errorf("odd %d", n)
			continue
		}
		res[i] = 2 * n
	}
	return res, errs, nil
}

// recorder wraps a Func, recording the batch sizes, contexts and the most
// calls that ran at once. If gate is set, each call waits for a value from it
// (or for it to be closed).
type recorder struct {
	flush Func[int, int]
	gate  chan struct{}

	mu       sync.Mutex
	sizes    []int
	running  int
	maxSeen  int
	contexts []context.Context
	entered  chan struct{} // one send per call, if set
}

func (r *recorder) Flush(ctx context.Context, reqs []int) ([]int, []error, error) {
	r.mu.Lock()
	r.sizes = append(r.sizes, len(reqs))
	r.contexts = append(r.contexts, ctx)
	r.running++
	r.maxSeen = max(r.maxSeen, r.running)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running--
		r.mu.Unlock()
	}()
	if r.entered != nil {
		r.entered <- struct{}{}
	}
	if r.gate != nil {
		<-r.gate
	}
	return r.flush(ctx, reqs)
}

func (r *recorder) Sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sizes)
}

// waitIdle waits until b runs no call, which is also the check that no
// goroutine of b outlives its work.
func waitIdle[Req, Res any](t *testing.T, b *Batcher[Req, Res]) {
	t.Helper()
	eventually.NoError(t, "the batcher idle", func() error {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.inFlight != 0 || len(b.queue) != 0 {
			return fmt.Errorf("%d calls in flight and %d requests queued", b.inFlight, len(b.queue))
		}
		return nil
	})
}

// waitQueued waits until n requests are queued in b.
func waitQueued[Req, Res any](t *testing.T, b *Batcher[Req, Res], n int) {
	t.Helper()
	eventually.NoError(t, fmt.Sprintf("%d requests queued", n), func() error {
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.queue) != n {
			return fmt.Errorf("%d queued", len(b.queue))
		}
		return nil
	})
}

func TestIdleSendsAtOnce(t *testing.T) {
	r := &recorder{flush: double}
	b := New(r.Flush, 128, 4)
	got, err := b.Do(t.Context(), 21)
	if err != nil || got != 42 {
		t.Fatalf("Do(21) = %d, %v; want 42", got, err)
	}
	if sizes := r.Sizes(); !slices.Equal(sizes, []int{1}) {
		t.Errorf("flush called with batches of %v, want one batch of 1", sizes)
	}
	waitIdle(t, b)
}

func TestConcurrentCallersGetTheirOwnAnswers(t *testing.T) {
	r := &recorder{flush: double}
	b := New(r.Flush, 8, 2)
	const callers = 500
	var wg sync.WaitGroup
	for n := range callers {
		wg.Go(func() {
			got, err := b.Do(t.Context(), n)
			switch {
			case n > 100 && n%2 == 1:
				if err == nil || err.Error() != fmt.Sprintf("odd %d", n) {
					t.Errorf("Do(%d) = %d, %v; want its own error", n, got, err)
				}
			case err != nil || got != 2*n:
				t.Errorf("Do(%d) = %d, %v; want %d", n, got, err, 2*n)
			}
		})
	}
	wg.Wait()
	waitIdle(t, b)
	total := 0
	for _, s := range r.Sizes() {
		total += s
	}
	if total != callers {
		t.Errorf("flush saw %d requests, want %d", total, callers)
	}
}

func TestItemErrorsStayPerItem(t *testing.T) {
	r := &recorder{flush: double, gate: make(chan struct{}), entered: make(chan struct{}, 10)}
	b := New(r.Flush, 10, 1)
	// Hold the first call so that the others share the second.
	first := make(chan error, 1)
	go func() { _, err := b.Do(t.Context(), 0); first <- err }()
	<-r.entered
	var wg sync.WaitGroup
	for n := 101; n <= 106; n++ {
		wg.Go(func() {
			got, err := b.Do(t.Context(), n)
			if n%2 == 1 {
				if err == nil || err.Error() != fmt.Sprintf("odd %d", n) {
					t.Errorf("Do(%d) = %d, %v; want its own error", n, got, err)
				}
			} else if err != nil || got != 2*n {
				t.Errorf("Do(%d) = %d, %v; want %d", n, got, err, 2*n)
			}
		})
	}
	waitQueued(t, b, 6)
	close(r.gate)
	wg.Wait()
	if err := <-first; err != nil {
		t.Errorf("first Do: %v", err)
	}
	if sizes := r.Sizes(); !slices.Equal(sizes, []int{1, 6}) {
		t.Errorf("batches %v, want [1 6]: the errors must have shared a call with successes", sizes)
	}
	waitIdle(t, b)
}

func TestCallErrorReachesEveryItem(t *testing.T) {
	down := errors.New("backend down")
	r := &recorder{
		flush:   func(context.Context, []int) ([]int, []error, error) { return nil, nil, down },
		gate:    make(chan struct{}),
		entered: make(chan struct{}, 10),
	}
	b := New(r.Flush, 10, 1)
	errs := make(chan error, 5)
	go func() { _, err := b.Do(t.Context(), 0); errs <- err }()
	<-r.entered
	for n := range 4 {
		go func() { _, err := b.Do(t.Context(), n+1); errs <- err }()
	}
	waitQueued(t, b, 4)
	close(r.gate)
	for range 5 {
		if err := <-errs; !errors.Is(err, down) {
			t.Errorf("Do = %v, want %v", err, down)
		}
	}
	waitIdle(t, b)
}

func TestMalformedAnswerFailsEveryItem(t *testing.T) {
	for name, flush := range map[string]Func[int, int]{
		"too few results": func(_ context.Context, reqs []int) ([]int, []error, error) {
			return make([]int, len(reqs)-1), nil, nil
		},
		"too few errors": func(_ context.Context, reqs []int) ([]int, []error, error) {
			return make([]int, len(reqs)), make([]error, len(reqs)-1), nil
		},
	} {
		b := New(flush, 10, 1)
		if got, err := b.Do(t.Context(), 1); err == nil {
			t.Errorf("%s: Do = %d, nil; want an error", name, got)
		}
		waitIdle(t, b)
	}
}

func TestMaxBatch(t *testing.T) {
	r := &recorder{flush: double, gate: make(chan struct{}), entered: make(chan struct{}, 10)}
	b := New(r.Flush, 3, 1)
	var wg sync.WaitGroup
	wg.Go(func() { b.Do(t.Context(), 0) })
	<-r.entered
	for n := range 10 {
		wg.Go(func() { b.Do(t.Context(), n+1) })
	}
	waitQueued(t, b, 10)
	close(r.gate)
	wg.Wait()
	if sizes := r.Sizes(); !slices.Equal(sizes, []int{1, 3, 3, 3, 1}) {
		t.Errorf("batches %v, want [1 3 3 3 1]", sizes)
	}
	waitIdle(t, b)
}

func TestMaxInFlight(t *testing.T) {
	const maxInFlight = 3
	r := &recorder{flush: double, gate: make(chan struct{}), entered: make(chan struct{}, 100)}
	b := New(r.Flush, 100, maxInFlight)
	var wg sync.WaitGroup
	for n := range maxInFlight {
		wg.Go(func() { b.Do(t.Context(), n) })
		<-r.entered
	}
	// Every slot is taken: the rest queue instead of starting calls.
	for n := range 20 {
		wg.Go(func() { b.Do(t.Context(), 10+n) })
	}
	waitQueued(t, b, 20)
	close(r.gate)
	wg.Wait()
	waitIdle(t, b)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.maxSeen != maxInFlight {
		t.Errorf("%d calls ran at once, want %d", r.maxSeen, maxInFlight)
	}
	if n := len(r.sizes); n != maxInFlight+1 {
		t.Errorf("%d calls (batches %v), want %d: the queue should have left in one batch", n, r.sizes, maxInFlight+1)
	}
}

func TestCancelledCallerLeavesPromptly(t *testing.T) {
	r := &recorder{flush: double, gate: make(chan struct{}), entered: make(chan struct{}, 10)}
	b := New(r.Flush, 10, 1)
	var wg sync.WaitGroup
	wg.Go(func() { b.Do(t.Context(), 0) })
	<-r.entered
	// 1 and 2 queue behind the held call, and share the next one.
	ctx, cancel := context.WithCancel(t.Context())
	left := make(chan error, 1)
	go func() { _, err := b.Do(ctx, 1); left <- err }()
	stays := make(chan error, 1)
	go func() {
		got, err := b.Do(t.Context(), 2)
		if err == nil && got != 4 {
			err = fmt.Errorf("got %d, want 4", got)
		}
		stays <- err
	}()
	waitQueued(t, b, 2)
	r.gate <- struct{}{}
	<-r.entered
	// The call carrying 1 and 2 is held: 1's caller leaves anyway.
	cancel()
	select {
	case err := <-left:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Do = %v, want context.Canceled", err)
		}
	case <-time.After(eventually.Limit):
		t.Fatal("cancelled Do did not return while its call was in flight")
	}
	r.mu.Lock()
	shared := r.contexts[1]
	r.mu.Unlock()
	if err := shared.Err(); err != nil {
		t.Errorf("one caller leaving ended the call the other waits on: %v", err)
	}
	close(r.gate)
	if err := <-stays; err != nil {
		t.Errorf("the other caller: %v", err)
	}
	wg.Wait()
	waitIdle(t, b)
}

// TestLoneCallerOwnsItsCall: a call carrying one caller ends when it leaves;
// nobody else waits for it.
func TestLoneCallerOwnsItsCall(t *testing.T) {
	r := &recorder{flush: func(ctx context.Context, reqs []int) ([]int, []error, error) {
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}}
	b := New(r.Flush, 10, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := b.Do(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Do = %v, want context.DeadlineExceeded", err)
	}
	waitIdle(t, b)
}

func TestCallerAlreadyGoneIsNotSent(t *testing.T) {
	r := &recorder{flush: double}
	b := New(r.Flush, 10, 1)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := b.Do(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Do with a cancelled ctx = %v, want context.Canceled", err)
	}
	if sizes := r.Sizes(); len(sizes) != 0 {
		t.Errorf("flush called with %v for a caller that had left", sizes)
	}
}

func TestCallGetsTheLatestDeadline(t *testing.T) {
	r := &recorder{flush: double, gate: make(chan struct{}), entered: make(chan struct{}, 10)}
	b := New(r.Flush, 10, 1)
	var wg sync.WaitGroup
	wg.Go(func() { b.Do(t.Context(), 0) })
	<-r.entered
	soon, cancelSoon := context.WithTimeout(t.Context(), time.Minute)
	defer cancelSoon()
	later, cancelLater := context.WithTimeout(t.Context(), time.Hour)
	defer cancelLater()
	wg.Go(func() { b.Do(soon, 1) })
	wg.Go(func() { b.Do(later, 2) })
	waitQueued(t, b, 2)
	close(r.gate)
	wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.contexts[0].Deadline(); ok {
		t.Error("the call of a caller without a deadline has one")
	}
	want, _ := later.Deadline()
	if got, ok := r.contexts[1].Deadline(); !ok || !got.Equal(want) {
		t.Errorf("call deadline = %v, %t; want the later caller's %v", got, ok, want)
	}
}

func TestEach(t *testing.T) {
	// Each call waits for all of them to have started: Each must run them
	// concurrently or never return.
	const n = 5
	var started sync.WaitGroup
	started.Add(n)
	var calls atomic.Int32
	flush := Each(func(_ context.Context, req int) (int, error) {
		calls.Add(1)
		started.Done()
		started.Wait()
		if req == 3 {
			return 0, errors.New("three")
		}
		return req * 2, nil
	})
	res, errs, err := flush(t.Context(), []int{0, 1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if i == 3 {
			if errs[i] == nil {
				t.Errorf("item 3: no error")
			}
			continue
		}
		if errs[i] != nil || res[i] != 2*i {
			t.Errorf("item %d = %d, %v; want %d", i, res[i], errs[i], 2*i)
		}
	}
}

// BenchmarkDoAlone is one caller at a time: the batcher's own overhead on
// the path every request takes at low load.
func BenchmarkDoAlone(b *testing.B) {
	bt := New(double, 128, 4)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bt.Do(ctx, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGoAnswersThroughThen: Go returns at once, even with every call in
// flight; what it queued meanwhile leaves in one call when a call ends;
// each then gets its own answer, in the goroutine that made the call,
// which has no deadline.
func TestGoAnswersThroughThen(t *testing.T) {
	r := &recorder{flush: double, gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	b := New(r.Flush, 8, 1)
	type answer struct {
		n   int
		err error
	}
	answers := make(chan answer, 8)
	send := func(n int) { b.Go(n, func(got int, err error) { answers <- answer{got, err} }) }
	send(1) // takes the one call
	<-r.entered
	send(2)
	send(103) // an odd number above 100: its own error
	waitQueued(t, b, 2)
	r.gate <- struct{}{}
	r.gate <- struct{}{}
	got := map[int]string{}
	for range 3 {
		a := <-answers
		got[a.n] = fmt.Sprint(a.err)
	}
	if want := map[int]string{2: "<nil>", 4: "<nil>", 0: "odd 103"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("answers %v, want %v", got, want)
	}
	if sizes := r.Sizes(); !slices.Equal(sizes, []int{1, 2}) {
		t.Errorf("flush called with batches of %v, want 1 then 2", sizes)
	}
	for i, ctx := range r.contexts {
		if _, ok := ctx.Deadline(); ok {
			t.Errorf("call %d has a deadline: nobody waits on a Go", i)
		}
	}
	waitIdle(t, b)
}
