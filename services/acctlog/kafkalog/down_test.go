package kafkalog

import (
	"context"
	"slices"
	"testing"
	"time"

	"kradius.dev/services/acctlog/kafkalog/kafkatest"
)

// A broker that is down must make Append fail, not hang and not succeed;
// once it is back, appends succeed and every record it acknowledged before
// is still there.
func TestAppendWhileBrokerDown(t *testing.T) {
	b, cfg := startBroker(t, kafkatest.Options{}, 3)
	a := newAppender(t, cfg)
	before := records(4, 2)
	appendAll(t, a, before)

	b.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := a.Append(ctx, []byte("down"), []byte("maybe"))
	if err == nil {
		t.Fatal("Append succeeded with the broker down")
	}
	t.Logf("Append with the broker down: %v", err)

	b.Restart()
	after := records(4, 1)
	for i := range after {
		after[i].value = "after." + after[i].value
	}
	appendAll(t, a, after)

	// The record appended while the broker was down is normally not
	// there (its retries stop once its Append has given up), but a request
	// sent just before could have landed. Either is allowed.
	want := slices.Concat(before, after)
	got := fetchUntil(t, newConsumer(t, cfg), want)
	t.Logf("record appended while down was written later: %v", got["maybe"])
}
