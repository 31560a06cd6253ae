package rewatch

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Each ended watch is reported with a wait that doubles, and Run returns
// once ctx ends, without reporting the watch ctx ended.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var waits []time.Duration
	calls := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, func(ctx context.Context) error {
			calls++
			if calls == 3 {
				cancel()
				<-ctx.Done()
				return ctx.Err()
			}
			return errors.New("broken")
		}, func(err error, wait time.Duration) {
			if err == nil {
				t.Error("ended without its error")
			}
			waits = append(waits, wait)
		})
	}()
	<-done
	if calls != 3 || len(waits) != 2 || waits[0] != First || waits[1] != 2*First {
		t.Errorf("calls %d, waits %v: want 3 watches, 2 ends reported, waits %v then %v", calls, waits, First, 2*First)
	}
}
