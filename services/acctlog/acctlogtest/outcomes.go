// Package acctlogtest helps test implementations of the acctlog contract.
package acctlogtest

import (
	"sync"
	"testing"
	"time"
)

// Outcomes collects what AppendAsync tells its callbacks, by record, and
// notices a callback called more than once.
type Outcomes struct {
	mu    sync.Mutex
	calls map[string]int
	errs  map[string]error
	first sync.WaitGroup
}

// NewOutcomes expects n records.
func NewOutcomes(n int) *Outcomes {
	o := &Outcomes{calls: map[string]int{}, errs: map[string]error{}}
	o.first.Add(n)
	return o
}

// Done is the callback for record id.
func (o *Outcomes) Done(id string) func(error) {
	return func(err error) {
		o.mu.Lock()
		o.calls[id]++
		o.errs[id] = err
		first := o.calls[id] == 1
		o.mu.Unlock()
		if first {
			o.first.Done()
		}
	}
}

// Wait waits for every record's outcome, then a moment longer for any
// second call, which fails t, and returns the outcomes.
func (o *Outcomes) Wait(t testing.TB) map[string]error {
	t.Helper()
	o.first.Wait()
	time.Sleep(50 * time.Millisecond)
	o.mu.Lock()
	defer o.mu.Unlock()
	for id, n := range o.calls {
		if n != 1 {
			t.Errorf("%s: done called %d times", id, n)
		}
	}
	return o.errs
}
