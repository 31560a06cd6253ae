package edge

import (
	"testing"
	"time"
)

func TestTokenBucket(t *testing.T) {
	if newTokenBucket(RateLimit{}) != nil {
		t.Fatal("the zero RateLimit limits")
	}
	b := newTokenBucket(RateLimit{Rate: 10, Burst: 5})
	at := time.Unix(1000, 0)
	allowed := 0
	for range 20 {
		if b.allow(at) {
			allowed++
		}
	}
	if allowed != 5 {
		t.Errorf("a burst of 20 at once let %d through, want the burst, 5", allowed)
	}
	// 10 a second: a tenth of a second later, one more.
	if !b.allow(at.Add(100 * time.Millisecond)) {
		t.Error("no token after 100 ms at 10/s")
	}
	if b.allow(at.Add(100 * time.Millisecond)) {
		t.Error("two tokens after 100 ms at 10/s")
	}
	// A long pause refills to the burst, no more.
	allowed = 0
	for range 20 {
		if b.allow(at.Add(time.Hour)) {
			allowed++
		}
	}
	if allowed != 5 {
		t.Errorf("after an hour, %d through, want the burst, 5", allowed)
	}
	// A clock that steps back takes nothing and gives nothing.
	if b.allow(at) {
		t.Error("a token from a clock stepping back")
	}
}
