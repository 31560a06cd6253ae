package password

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"kradius.dev/services/eventually"
)

// entrant is a check at a gate: done closes once its enter returned err.
type entrant struct {
	name string
	done chan struct{}
	err  error
}

func enter(ctx context.Context, g *gate, name string) *entrant {
	e := &entrant{name: name, done: make(chan struct{})}
	go func() {
		e.err = g.enter(ctx)
		close(e.done)
	}()
	return e
}

// wait starts a check at g with ctx and returns once it is waiting.
func wait(t *testing.T, ctx context.Context, g *gate, name string) *entrant {
	t.Helper()
	n := waiting(g)
	e := enter(ctx, g, name)
	eventually.True(t, name+" waiting", func() bool { return waiting(g) == n+1 })
	return e
}

func waiting(g *gate) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.waiting)
}

func (e *entrant) pending() bool {
	select {
	case <-e.done:
		return false
	default:
		return true
	}
}

// outcome waits for e's enter to return.
func (e *entrant) outcome() error {
	<-e.done
	return e.err
}

// order ends a run as long as es are waiting, each run having lasted ran,
// and returns the names of those let in, in order.
func order(t *testing.T, g *gate, ran time.Duration, es ...*entrant) []string {
	t.Helper()
	var got []string
	for range es {
		g.leave(ran)
		eventually.True(t, "a check let in", func() bool {
			for _, e := range es {
				if !e.pending() && !slices.Contains(got, e.name) {
					return true
				}
			}
			return false
		})
		for _, e := range es {
			if !e.pending() && !slices.Contains(got, e.name) {
				if err := e.outcome(); err != nil {
					t.Fatalf("%s: enter = %v, want its turn", e.name, err)
				}
				got = append(got, e.name)
			}
		}
	}
	return got
}

// busyGate is a gate of runs, each taken as by a check in progress, and
// the clock it reads.
func busyGate(t *testing.T, runs, maxWaiting int) (*gate, *clock) {
	t.Helper()
	c := newClock()
	g := newGate(runs, maxWaiting)
	g.now = c.now
	for i := range runs {
		if err := g.enter(t.Context()); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	return g, c
}

func TestGateLetsInAtMostItsRuns(t *testing.T) {
	g, _ := busyGate(t, 2, -1)
	ctx := t.Context()
	e := wait(t, ctx, g, "third")
	if !e.pending() {
		t.Fatalf("a third run started beside two: %v", e.outcome())
	}
	if got := order(t, g, 0, e); fmt.Sprint(got) != "[third]" {
		t.Fatalf("let in %v", got)
	}
	g.leave(0)
	g.leave(0)
	if g.free != 2 || waiting(g) != 0 {
		t.Fatalf("after every run left: %d free, %d waiting; want 2 and 0", g.free, waiting(g))
	}
}

// TestGateServesTheNewestFirst: with a bound on the waiting, the check
// that came last is let in first, since it has the most time left; a burst
// that fits the waiting list is served whole, however long it waits.
func TestGateServesTheNewestFirst(t *testing.T) {
	g, clock := busyGate(t, 1, 3)
	ctx := t.Context()
	a, b, c := wait(t, ctx, g, "a"), wait(t, ctx, g, "b"), wait(t, ctx, g, "c")
	clock.advance(time.Hour)
	if got := order(t, g, time.Millisecond, a, b, c); fmt.Sprint(got) != "[c b a]" {
		t.Fatalf("let in %v, want [c b a]", got)
	}
}

// TestGateWithoutBoundIsFirstComeFirstServed: nobody is turned away, so
// nobody may be passed over for ever either.
func TestGateWithoutBoundIsFirstComeFirstServed(t *testing.T) {
	g, _ := busyGate(t, 1, -1)
	ctx := t.Context()
	a, b, c := wait(t, ctx, g, "a"), wait(t, ctx, g, "b"), wait(t, ctx, g, "c")
	if got := order(t, g, 0, a, b, c); fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("let in %v, want [a b c]", got)
	}
}

// TestGatePushesOutTheOldest: one check more than may wait turns away the
// one that has waited longest, at once.
func TestGatePushesOutTheOldest(t *testing.T) {
	g, _ := busyGate(t, 1, 2)
	ctx := t.Context()
	a, b := wait(t, ctx, g, "a"), wait(t, ctx, g, "b")
	c := enter(ctx, g, "c")
	if err := a.outcome(); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("the oldest waiter: enter = %v, want ErrOverloaded", err)
	}
	eventually.True(t, "c waiting", func() bool { return waiting(g) == 2 })
	// The clock stands still: nobody has waited through a run.
	if got := order(t, g, time.Millisecond, b, c); fmt.Sprint(got) != "[c b]" {
		t.Fatalf("let in %v, want [c b]", got)
	}
}

// TestGateOverloadedStartsNobodyLate: once the gate has turned a check
// away, a check that waited through the whole run that just ended is
// turned away too, not started late; once nobody is waiting, a burst is
// served whole again.
func TestGateOverloadedStartsNobodyLate(t *testing.T) {
	g, clock := busyGate(t, 1, 2)
	ctx := t.Context()
	a, b := wait(t, ctx, g, "a"), wait(t, ctx, g, "b")
	clock.advance(10 * time.Millisecond)
	c := enter(ctx, g, "c") // pushes a out
	if err := a.outcome(); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("a: enter = %v, want ErrOverloaded", err)
	}
	eventually.True(t, "c waiting", func() bool { return waiting(g) == 2 })
	clock.advance(5 * time.Millisecond)
	// The run that ends began before b came and after c did.
	g.leave(10 * time.Millisecond)
	if err := b.outcome(); !errors.Is(err, ErrOverloaded) {
		t.Errorf("b, waiting through the whole run: enter = %v, want ErrOverloaded", err)
	}
	if err := c.outcome(); err != nil {
		t.Errorf("c, come during the run: enter = %v, want its turn", err)
	}

	// Nobody waits now: a burst is served whole, however long it waits.
	d, e := wait(t, ctx, g, "d"), wait(t, ctx, g, "e")
	clock.advance(time.Hour)
	if got := order(t, g, time.Millisecond, d, e); fmt.Sprint(got) != "[e d]" {
		t.Fatalf("after the overload, let in %v, want [e d]", got)
	}
}

func TestGateWithNoWaitingRefusesAtOnce(t *testing.T) {
	g := newGate(1, 0)
	if err := g.enter(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := g.enter(t.Context()); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("enter with the run taken = %v, want ErrOverloaded", err)
	}
	g.leave(0)
	if err := g.enter(t.Context()); err != nil {
		t.Fatalf("enter once the run is free = %v", err)
	}
}

// TestGateContextEndsTheWait: a check whose context ends stops waiting, as
// overloaded, and takes no run, whether or not a run was being handed to it
// just then.
func TestGateContextEndsTheWait(t *testing.T) {
	g, _ := busyGate(t, 1, 4)
	ctx, cancel := context.WithCancel(t.Context())
	e := wait(t, ctx, g, "e")
	cancel()
	if err := e.outcome(); !errors.Is(err, ErrOverloaded) || !errors.Is(err, context.Canceled) {
		t.Fatalf("enter after cancel = %v, want ErrOverloaded wrapping context.Canceled", err)
	}
	if n := waiting(g); n != 0 {
		t.Fatalf("%d still waiting after the only waiter gave up", n)
	}

	// The turn and the cancellation at once, either first: the run must
	// end up free whichever the waiter saw.
	for i := range 200 {
		ctx, cancel := context.WithCancel(t.Context())
		e := wait(t, ctx, g, fmt.Sprint("race ", i))
		cancel()
		g.leave(time.Hour)
		if err := e.outcome(); err == nil {
			g.leave(time.Hour) // it got the turn: its run ends
		}
		if err := g.enter(t.Context()); err != nil {
			t.Fatalf("round %d: the run was lost: %v", i, err)
		}
		g.mu.Lock()
		free, n := g.free, len(g.waiting)
		g.mu.Unlock()
		if free != 0 || n != 0 {
			t.Fatalf("round %d: %d free, %d waiting with the one run taken; want 0 and 0", i, free, n)
		}
	}
}
