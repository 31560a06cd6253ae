package password

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"kradius.dev/services/eventually"
)

// check is a VerifyContext call on its own goroutine.
type check struct {
	done chan struct{}
	ok   bool
	err  error
}

func verifyAsync(ctx context.Context, v *Verifier, encoded, pw string) *check {
	c := &check{done: make(chan struct{})}
	go func() {
		c.ok, c.err = v.VerifyContext(ctx, encoded, pw)
		close(c.done)
	}()
	return c
}

func (c *check) result() (bool, error) {
	<-c.done
	return c.ok, c.err
}

// takeRuns holds every argon2 run of v, as checks in progress would, and
// returns what gives them back.
func takeRuns(t *testing.T, v *Verifier) (release func()) {
	t.Helper()
	v.runs.mu.Lock()
	n := v.runs.free
	v.runs.mu.Unlock()
	for range n {
		if err := v.runs.enter(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		for range n {
			v.runs.leave(time.Hour) // long runs: nobody waited through one
		}
	}
}

// TestVerifierShedsTheOldestWaiting: past MaxWaiting the check that has
// waited longest fails with ErrOverloaded, which is not cached: the NAS's
// retransmission gets a real answer.
func TestVerifierShedsTheOldestWaiting(t *testing.T) {
	h := mustHash(t, "pw", cheap)
	v := NewVerifier(16, time.Minute, MaxWaiting(1))
	release := takeRuns(t, v)
	old := verifyAsync(t.Context(), v, h, "pw")
	eventually.True(t, "the first check waiting", func() bool { return waiting(v.runs) == 1 })
	newer := verifyAsync(t.Context(), v, h, "wrong")
	if ok, err := old.result(); ok || !errors.Is(err, ErrOverloaded) {
		t.Fatalf("the check pushed out: %v, %v; want false, ErrOverloaded", ok, err)
	}
	if _, err := v.Cached(h, "pw"); !errors.Is(err, ErrNotCached) {
		t.Errorf("Cached after an overloaded check = %v, want ErrNotCached", err)
	}
	release()
	if ok, err := newer.result(); ok || err != nil {
		t.Fatalf("the check that waited: %v, %v; want false, nil", ok, err)
	}
	if ok, err := v.Verify(h, "pw"); !ok || err != nil {
		t.Fatalf("the shed password again, with runs free: %v, %v; want true, nil", ok, err)
	}
}

func TestVerifierWithNoWaitingShedsAtOnce(t *testing.T) {
	h := mustHash(t, "pw", cheap)
	v := NewVerifier(16, time.Minute, MaxWaiting(0))
	release := takeRuns(t, v)
	defer release()
	if _, err := v.Verify(h, "pw"); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("Verify with every run taken = %v, want ErrOverloaded", err)
	}
}

// TestVerifierWaitEndsWithContext: a check waiting for a run, or for an
// identical one in progress, stops when its context does, as overloaded:
// it got no run in time. The run in progress goes on, and its answer is
// cached.
func TestVerifierWaitEndsWithContext(t *testing.T) {
	h := mustHash(t, "pw", cheap)
	v := NewVerifier(16, time.Minute)
	release := takeRuns(t, v)
	leader := verifyAsync(t.Context(), v, h, "pw")
	eventually.True(t, "the check waiting", func() bool { return waiting(v.runs) == 1 })

	ctx, cancel := context.WithCancel(t.Context())
	follower := verifyAsync(ctx, v, h, "pw")
	alone := verifyAsync(ctx, v, h, "other")
	eventually.True(t, "the other check waiting", func() bool { return waiting(v.runs) == 2 })
	cancel()
	for name, c := range map[string]*check{"sharing a run": follower, "waiting for a run": alone} {
		if ok, err := c.result(); ok || !errors.Is(err, ErrOverloaded) || !errors.Is(err, context.Canceled) {
			t.Errorf("%s, cancelled: %v, %v; want false and ErrOverloaded wrapping context.Canceled", name, ok, err)
		}
	}
	if _, err := v.Cached(h, "other"); !errors.Is(err, ErrNotCached) {
		t.Errorf("Cached after a cancelled check = %v, want ErrNotCached", err)
	}

	release()
	if ok, err := leader.result(); !ok || err != nil {
		t.Fatalf("the check both waited on: %v, %v; want true, nil", ok, err)
	}
	if ok, err := v.Cached(h, "pw"); !ok || err != nil {
		t.Errorf("Cached after the run = %v, %v; want true, nil", ok, err)
	}
}

// TestVerifierLeavesACPU: by default one CPU is left to what needs no
// argon2, unless there is only one.
func TestVerifierLeavesACPU(t *testing.T) {
	want := max(1, runtime.GOMAXPROCS(0)-1)
	if got := NewVerifier(16, time.Minute).runs.free; got != want {
		t.Errorf("default runs %d, want %d with GOMAXPROCS %d", got, want, runtime.GOMAXPROCS(0))
	}
	if got := NewVerifier(16, time.Minute, MaxRunning(5)).runs.free; got != 5 {
		t.Errorf("MaxRunning(5): %d runs", got)
	}
}
