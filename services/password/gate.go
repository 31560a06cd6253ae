package password

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ErrOverloaded means a password check got no turn at argon2 in time: more
// checks were waiting than the Verifier lets wait (MaxWaiting), or its
// context ended first. It says nothing about the password. A RADIUS server
// must then send no reply, so that the NAS retransmits, and never a Reject.
var ErrOverloaded = errors.New("password checks overloaded: no argon2 run in time")

// gate lets at most a fixed number of argon2 runs go at once. A check that
// finds them all taken waits its turn; with a bound on the waiting, the
// newest checks wait and the oldest are turned away.
//
// Under overload, serving the newest first is what keeps the latency of the
// checks that are served near one argon2 run: a check that has waited
// longest is the nearest to its NAS's retransmission, and the one least
// worth a run. Once the gate has had to turn one away, and until nobody is
// left waiting, a check that has waited longer than the run that just
// ended is turned away too rather than started late: when a flood stops,
// the checks it left waiting would otherwise each wait for all the runs
// of those above them. A burst that fits the waiting list is served
// whole. Without a bound nobody is turned away, and the turns go oldest
// first so that none waits for ever.
type gate struct {
	mu   sync.Mutex
	free int // runs that may start now
	// max is the most checks that may wait; < 0: no bound.
	max int
	// waiting holds the checks waiting for a run, oldest first.
	waiting []*waiter
	// shedding is set when a check is turned away for the bound, and
	// cleared when nobody is left waiting.
	shedding bool
	now      func() time.Time // tests replace it
}

// waiter is a check waiting for a run. turn receives once: nil for a run,
// ErrOverloaded when the check is turned away.
type waiter struct {
	turn  chan error
	since time.Time
}

func newGate(runs, maxWaiting int) *gate {
	return &gate{free: runs, max: maxWaiting, now: time.Now}
}

// enter returns once the caller may run argon2, and it must then call
// leave; or with ErrOverloaded, and it must not. A wait that ctx ends is
// overload too, since the check never got a run: the error wraps both.
func (g *gate) enter(ctx context.Context) error {
	g.mu.Lock()
	if g.free > 0 {
		g.free--
		g.mu.Unlock()
		return nil
	}
	if g.max == 0 {
		g.mu.Unlock()
		return ErrOverloaded
	}
	if len(g.waiting) == g.max {
		g.turnAway(0)
		g.shedding = true
	}
	w := &waiter{turn: make(chan error, 1), since: g.now()}
	g.waiting = append(g.waiting, w)
	g.mu.Unlock()

	select {
	case err := <-w.turn:
		return err
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.remove(w) && <-w.turn == nil {
		g.handOver() // the turn came as ctx ended: pass it on
	}
	return fmt.Errorf("%w: %w", ErrOverloaded, ctx.Err())
}

// leave ends a run that took ran: the next waiting check starts, or the
// run is free.
func (g *gate) leave(ran time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shedding {
		started := g.now().Add(-ran)
		for len(g.waiting) > 0 && g.waiting[0].since.Before(started) {
			g.turnAway(0)
		}
	}
	g.handOver()
}

// handOver gives a run that ended to the next waiting check, or frees it.
func (g *gate) handOver() {
	n := len(g.waiting)
	if n == 0 {
		g.free++
		g.shedding = false
		return
	}
	next := n - 1 // the newest
	if g.max < 0 {
		next = 0
	}
	g.waiting[next].turn <- nil
	g.waiting = slices.Delete(g.waiting, next, next+1)
	if len(g.waiting) == 0 {
		g.shedding = false
	}
}

// turnAway refuses the waiting check i.
func (g *gate) turnAway(i int) {
	g.waiting[i].turn <- ErrOverloaded
	g.waiting = slices.Delete(g.waiting, i, i+1)
}

// remove takes w off the waiting list and reports whether it was there.
func (g *gate) remove(w *waiter) bool {
	i := slices.Index(g.waiting, w)
	if i < 0 {
		return false
	}
	g.waiting = slices.Delete(g.waiting, i, i+1)
	if len(g.waiting) == 0 {
		g.shedding = false
	}
	return true
}
