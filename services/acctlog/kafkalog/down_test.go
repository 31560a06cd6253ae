package kafkalog

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"kradius.dev/services/acctlog"
	"kradius.dev/services/acctlog/kafkalog/kafkatest"
	"kradius.dev/services/eventually"
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

// Ping fails while the broker is down, and answers again once it is back,
// over the same Appender.
func TestPingFollowsBroker(t *testing.T) {
	b, cfg := startBroker(t, kafkatest.Options{}, 1)
	a := newAppender(t, cfg)
	if err := a.Ping(testContext(t)); err != nil {
		t.Fatalf("Ping with the broker up: %v", err)
	}
	b.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded with the broker down")
	}
	b.Restart()
	eventually.NoError(t, "Ping after the restart", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return a.Ping(ctx)
	})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Ping(testContext(t)); !errors.Is(err, acctlog.ErrClosed) {
		t.Fatalf("Ping after Close = %v, want ErrClosed", err)
	}
}
