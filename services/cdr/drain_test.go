package cdr

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
)

// heldSink holds every CDR append until released, and says when the first
// one is waiting: a produce in flight when the process is told to stop.
type heldSink struct {
	sink
	waiting  chan struct{}
	released chan struct{}
}

func (s *heldSink) Append(ctx context.Context, key, value []byte) error {
	select {
	case s.waiting <- struct{}{}:
	default:
	}
	select {
	case <-s.released:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.sink.Append(ctx, key, value)
}

// drainFixture is a processor whose done-marks are in Redis, as in
// -target=cdr: a write there on a cancelled context fails.
func drainFixture(t *testing.T, drain time.Duration) (fixture, *heldSink, Ledger, *memConsumer) {
	t.Helper()
	f := newFixture(t)
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { client.Close() })
	ledger := NewRedisLedger(client, "{kradius}", time.Hour)
	f.p.ledger = ledger
	held := &heldSink{waiting: make(chan struct{}, 1), released: make(chan struct{})}
	f.p.cdrs = held
	f.p.SetDrainTimeout(drain)
	c := &memConsumer{}
	for i := range 20 {
		m := stop(fmt.Sprintf("s-%d", i), "", nil)
		m.Offset = int64(i)
		c.msgs = append(c.msgs, m)
	}
	return f, held, ledger, c
}

// TestShutdownDrainsTheBatch: told to stop while a batch's CDRs are being
// published, the consumer finishes the batch, marks its effects done and
// commits it, so that its successor publishes none of them again.
func TestShutdownDrainsTheBatch(t *testing.T) {
	f, held, ledger, c := drainFixture(t, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.p.Run(ctx, c) }()
	<-held.waiting
	cancel() // SIGTERM, with the batch's produces in flight
	close(held.released)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(eventually.Limit):
		t.Fatal("Run did not return after its batch")
	}
	if n := held.count(); n != len(c.msgs) {
		t.Errorf("%d CDRs published, want the whole batch (%d)", n, len(c.msgs))
	}
	for _, m := range c.msgs {
		key := fmt.Sprintf("cdr/2/%s", m.Key)
		if ok, err := ledger.Done(context.Background(), key); err != nil || !ok {
			t.Errorf("%s: not marked done (%v): a successor would publish it again", key, err)
		}
	}
	if got, want := c.last(), c.msgs[len(c.msgs)-1].Offset; got != want {
		t.Errorf("committed up to %d, want %d", got, want)
	}
}

// TestShutdownDrainIsBounded: a batch that cannot finish within the drain
// timeout is given up, uncommitted, to come again.
func TestShutdownDrainIsBounded(t *testing.T) {
	f, held, _, c := drainFixture(t, 10*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.p.Run(ctx, c) }()
	<-held.waiting
	cancel() // and the produces never finish
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(eventually.Limit):
		t.Fatal("Run outlived its drain timeout")
	}
	if got := c.last(); got != -1 {
		t.Errorf("committed offset %d of a batch whose CDRs were not published", got)
	}
}
