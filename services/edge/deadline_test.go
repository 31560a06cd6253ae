package edge

import (
	"testing"
	"time"

	"kradius.dev/services/eventually"
)

func TestSharedDeadlines(t *testing.T) {
	d := newSharedDeadlines(time.Second)
	start := time.Now()
	first := d.at(start)
	if dl, ok := first.Deadline(); !ok || dl.Before(start.Add(time.Second)) || dl.After(start.Add(time.Second+deadlineGrain)) {
		t.Fatalf("deadline %v, want within [%v, %v]", dl, start.Add(time.Second), start.Add(time.Second+deadlineGrain))
	}
	if d.at(start.Add(deadlineGrain/2)) != first {
		t.Fatal("a decision within the grain got its own context")
	}
	later := start.Add(2 * deadlineGrain)
	next := d.at(later)
	if next == first {
		t.Fatal("a decision past the grain shares a context that ends too early for it")
	}
	if dl, _ := next.Deadline(); dl.Before(later.Add(time.Second)) {
		t.Fatalf("deadline %v is short of the budget from %v", dl, later)
	}
}

func TestSharedDeadlinesExpire(t *testing.T) {
	d := newSharedDeadlines(20 * time.Millisecond)
	ctx := d.at(time.Now())
	select {
	case <-ctx.Done():
	case <-time.After(eventually.Limit):
		t.Fatal("the shared context never ended")
	}
}

// TestBudgetRunsFromReceipt: a decision's deadline counts from when its
// datagram was read, so time spent waiting for a worker is spent from the
// budget, as it is from the NAS's retransmit timer.
func TestBudgetRunsFromReceipt(t *testing.T) {
	profile := &stubProfile{}
	d := newDirect(t, profile, Config{RequestTimeout: time.Second})
	received := time.Now().Add(-10 * time.Second)
	d.handle(d.loginRequest(t, 1), received)
	got := time.Unix(0, profile.deadline.Load())
	if earliest, latest := received.Add(time.Second), received.Add(time.Second+deadlineGrain); got.Before(earliest) || got.After(latest) {
		t.Fatalf("deadline %v after receipt, want between 1s and 1s+%v", got.Sub(received), deadlineGrain)
	}
}
