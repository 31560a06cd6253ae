package eventually

import (
	"errors"
	"sync/atomic"
	"testing"
)

func TestTrueWaitsForTheCondition(t *testing.T) {
	var calls atomic.Int32
	True(t, "the third call", func() bool { return calls.Add(1) == 3 })
	if n := calls.Load(); n != 3 {
		t.Fatalf("cond called %d times, want 3", n)
	}
}

func TestNoErrorWaitsForNil(t *testing.T) {
	var calls atomic.Int32
	NoError(t, "the third call", func() error {
		if calls.Add(1) < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if n := calls.Load(); n != 3 {
		t.Fatalf("check called %d times, want 3", n)
	}
}
