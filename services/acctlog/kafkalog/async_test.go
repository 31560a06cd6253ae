package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"kradius.dev/services/acctlog"
	"kradius.dev/services/acctlog/kafkalog/kafkatest"
)

var _ acctlog.AsyncAppender = (*Appender)(nil)

// outcomes collects AppendAsync results by record and catches a done
// called twice.
type outcomes struct {
	mu    sync.Mutex
	calls map[string]int
	errs  map[string]error
	wg    sync.WaitGroup
}

func newOutcomes(n int) *outcomes {
	o := &outcomes{calls: map[string]int{}, errs: map[string]error{}}
	o.wg.Add(n)
	return o
}

func (o *outcomes) done(v string) func(error) {
	return func(err error) {
		o.mu.Lock()
		o.calls[v]++
		o.errs[v] = err
		first := o.calls[v] == 1
		o.mu.Unlock()
		if first {
			o.wg.Done()
		}
	}
}

// wait waits for every outcome, then for a while for any second call.
func (o *outcomes) wait(t *testing.T) map[string]error {
	t.Helper()
	o.wg.Wait()
	time.Sleep(50 * time.Millisecond)
	o.mu.Lock()
	defer o.mu.Unlock()
	for v, n := range o.calls {
		if n != 1 {
			t.Errorf("%s: done called %d times", v, n)
		}
	}
	return o.errs
}

// AppendAsync records are acknowledged each once, and are in the log.
func TestAppendAsync(t *testing.T) {
	_, cfg := startBroker(t, kafkatest.Options{}, 4)
	a := newAppender(t, cfg)
	const n = 500
	o := newOutcomes(n)
	for i := range n {
		v := fmt.Sprintf("v%d", i)
		a.AppendAsync(testContext(t), fmt.Appendf(nil, "k%d", i%37), []byte(v), o.done(v))
	}
	for v, err := range o.wait(t) {
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
	}
	seen := map[string]int{}
	for _, m := range fetchN(t, newConsumer(t, cfg), n) {
		seen[string(m.Value)]++
	}
	for i := range n {
		if v := fmt.Sprintf("v%d", i); seen[v] != 1 {
			t.Errorf("%s in the log %d times", v, seen[v])
		}
	}
}

// With the broker down, a record whose context ends is told so at once, as
// Append would be, and only once.
func TestAppendAsyncCancelledWhileBrokerDown(t *testing.T) {
	b, cfg := startBroker(t, kafkatest.Options{}, 1)
	a := newAppender(t, cfg)
	appendAll(t, a, records(1, 1))
	b.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	const cancelAfter = 300 * time.Millisecond
	time.AfterFunc(cancelAfter, cancel)
	start := time.Now()
	o := newOutcomes(2)
	for i := range 2 { // one in flight, retrying; one queued behind it
		v := fmt.Sprintf("maybe%d", i)
		a.AppendAsync(ctx, []byte("down"), []byte(v), o.done(v))
	}
	for v, err := range o.wait(t) {
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "not acknowledged") {
			t.Errorf("%s: done(%v), want a context.Canceled saying it was not acknowledged", v, err)
		}
	}
	if took := time.Since(start); took > cancelAfter+time.Second {
		t.Errorf("told %s after the context was cancelled", took-cancelAfter)
	}
	b.Restart()
	after := records(3, 2)
	appendAll(t, a, after)
	fetchUntil(t, newConsumer(t, cfg), after)
}

// Close tells every AppendAsync still waiting, once; later ones are refused
// at once.
func TestAppendAsyncClose(t *testing.T) {
	b, cfg := startBroker(t, kafkatest.Options{}, 2)
	a := newAppender(t, cfg)
	appendAll(t, a, records(2, 1))
	b.Stop()
	const n = 20
	o := newOutcomes(n)
	for i := range n {
		v := fmt.Sprintf("v%d", i)
		a.AppendAsync(testContext(t), fmt.Appendf(nil, "k%d", i), []byte(v), o.done(v))
	}
	time.Sleep(100 * time.Millisecond)
	if err := a.Close(); err != nil {
		t.Logf("Close: %v", err)
	}
	for v, err := range o.wait(t) {
		if err == nil {
			t.Errorf("%s acknowledged with the broker down", v)
		}
	}
	var refused error
	a.AppendAsync(testContext(t), []byte("k"), []byte("late"), func(err error) { refused = err })
	if !errors.Is(refused, acctlog.ErrClosed) {
		t.Errorf("AppendAsync after Close: done(%v) before returning, want ErrClosed", refused)
	}
}
