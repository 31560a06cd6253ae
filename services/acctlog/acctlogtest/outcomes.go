// Package acctlogtest helps test implementations of the acctlog contract.
package acctlogtest

import (
	"maps"
	"sync"
	"testing"
)

// Outcomes collects what AppendAsync tells its callbacks, by record, and
// notices a callback called more than once.
type Outcomes struct {
	mu       sync.Mutex
	calls    map[string]int
	errs     map[string]error
	reported map[string]bool // second calls already failed t
	first    sync.WaitGroup
}

// NewOutcomes expects n records.
func NewOutcomes(n int) *Outcomes {
	o := &Outcomes{calls: map[string]int{}, errs: map[string]error{}, reported: map[string]bool{}}
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

// Wait waits for every record's outcome and returns the outcomes. A second
// call to a callback fails t: one made so far, or one made before the test
// ends, when it looks again.
func (o *Outcomes) Wait(t testing.TB) map[string]error {
	t.Helper()
	o.first.Wait()
	o.checkOnce(t)
	t.Cleanup(func() { o.checkOnce(t) })
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.errs)
}

func (o *Outcomes) checkOnce(t testing.TB) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	for id, n := range o.calls {
		if n != 1 && !o.reported[id] {
			o.reported[id] = true
			t.Errorf("%s: done called %d times", id, n)
		}
	}
}
