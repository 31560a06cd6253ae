package app

import (
	"testing"
	"time"
)

// TestBusyOver: the in-process consumer's sense of a busy edge is the
// journal's append rate since it last asked.
func TestBusyOver(t *testing.T) {
	var offset int64
	clock := time.Unix(1000, 0)
	busy := busyOver(func() int64 { return offset }, func() time.Time { return clock })
	step := func(appends int64, d time.Duration) bool {
		offset += appends
		clock = clock.Add(d)
		return busy()
	}
	if step(5000, 0) {
		t.Fatal("busy before anything was measured")
	}
	if step(0, time.Second) {
		t.Fatal("busy with no appends")
	}
	if !step(busyRequests*2/10, 100*time.Millisecond) {
		t.Fatal("not busy at twice busyRequests")
	}
	if step(busyRequests/2/10, 100*time.Millisecond) {
		t.Fatal("busy at half busyRequests")
	}
}
