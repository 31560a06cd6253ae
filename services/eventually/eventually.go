// Package eventually is how tests wait for what another goroutine or
// process does: they poll for it instead of sleeping, so that a slow or busy
// machine makes a test slower, never wrong. It is meant for any module's
// tests, the end-to-end suite and the operator's included.
package eventually

import (
	"errors"
	"testing"
	"time"
)

// Limit bounds every wait. It guards against a hang and is not a budget:
// no test expects to come near it, however busy the machine.
const Limit = time.Minute

// True polls cond until it holds, and fails t if it does not within Limit.
func True(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, Limit, what, cond)
}

// Within is True with a shorter bound, for a test whose scenario has a
// clock of its own that a hang bound must not outlast (a pace, a TTL). The
// bound should still be many times what a busy machine needs.
func Within(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	poll(t, limit, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
}

// NoError polls check until it returns nil, and fails t with its last error
// if it does not within Limit.
func NoError(t testing.TB, what string, check func() error) {
	t.Helper()
	poll(t, Limit, what, check)
}

func poll(t testing.TB, limit time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	// Quick at first, for what takes a moment; then gentle, for what takes
	// a process start or a broker's timeout.
	for pause := time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			if err == errNotYet {
				t.Fatalf("%s: not within %s", what, limit)
			}
			t.Fatalf("%s: not within %s: %v", what, limit, err)
		}
		time.Sleep(pause)
	}
}

var errNotYet = errors.New("not yet")
