package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"kradius.dev/services/acctlog"
	"kradius.dev/services/acctlog/acctlogtest"
	"kradius.dev/services/acctlog/kafkalog/kafkatest"
	"kradius.dev/services/eventually"
)

// Many concurrent appenders share produce requests, and every record comes
// back exactly once.
func TestGroupCommit(t *testing.T) {
	_, cfg := startBroker(t, kafkatest.Options{}, 4)
	a := newAppender(t, cfg)
	const appenders, each = 64, 20
	var wg sync.WaitGroup
	errs := make(chan error, appenders)
	for g := range appenders {
		wg.Go(func() {
			for i := range each {
				if err := a.Append(testContext(t), fmt.Appendf(nil, "k%d", g), fmt.Appendf(nil, "v%d.%d", g, i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Append: %v", err)
	}
	s := a.Stats()
	t.Logf("%d records in %d produce requests", s.Records, s.Produces)
	if s.Records != appenders*each || s.Errors != 0 {
		t.Errorf("Stats = %+v, want %d records and no errors", s, appenders*each)
	}
	if s.Produces == 0 || float64(s.Records)/float64(s.Produces) <= 1 {
		t.Errorf("%d records in %d produce requests: no group commit", s.Records, s.Produces)
	}

	c := newConsumer(t, cfg)
	seen := map[string]int{}
	for _, m := range fetchN(t, c, appenders*each) {
		seen[string(m.Value)]++
	}
	for g := range appenders {
		for i := range each {
			if v := fmt.Sprintf("v%d.%d", g, i); seen[v] != 1 {
				t.Errorf("%s read %d times", v, seen[v])
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*maxWait)
	defer cancel()
	if m, err := c.Fetch(ctx); err == nil {
		t.Errorf("extra record %s=%s at %d/%d", m.Key, m.Value, m.Partition, m.Offset)
	}

	// The senders exit once their partitions are idle.
	eventually.True(t, "every sender gone with nothing to send", func() bool { return a.sendersRunning() == 0 })
}

// sendersRunning counts the partitions with a sender goroutine.
func (a *Appender) sendersRunning() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, q := range a.queues {
		if q.sending {
			n++
		}
	}
	return n
}

// A session's records, appended one after the other while other sessions
// share the partitions, come back in order from the partition kafka.Hash
// picks for the key, as kafka-go's Writer placed them.
func TestKeyPicksHashPartitionInOrder(t *testing.T) {
	const partitions, sessions, perSession = 5, 24, 15
	_, cfg := startBroker(t, kafkatest.Options{}, partitions)
	a := newAppender(t, cfg)
	var wg sync.WaitGroup
	for s := range sessions {
		wg.Go(func() { appendAll(t, a, session(s, perSession)) })
	}
	wg.Wait()

	byKey := map[string][]acctlog.Message{}
	for _, m := range fetchN(t, newConsumer(t, cfg), sessions*perSession) {
		byKey[string(m.Key)] = append(byKey[string(m.Key)], m)
	}
	ids := []int{0, 1, 2, 3, 4}
	for s := range sessions {
		want := session(s, perSession)
		key := want[0].key
		msgs := byKey[key]
		sort.Slice(msgs, func(i, j int) bool { return msgs[i].Offset < msgs[j].Offset })
		if got := values(msgs); !slices.Equal(got, valuesOf(want)) {
			t.Errorf("key %s: %v, want %v", key, got, valuesOf(want))
		}
		wantPartition := (&kafka.Hash{}).Balance(kafka.Message{Key: []byte(key)}, ids...)
		for _, m := range msgs {
			if m.Partition != wantPartition {
				t.Errorf("key %s in partition %d, kafka.Hash picks %d", key, m.Partition, wantPartition)
				break
			}
		}
	}
}

// An append whose context ends while the broker is down is told at once,
// and once, that the record was not acknowledged; once the broker is back,
// appends succeed on the same Appender. Append and AppendAsync alike.
func TestAppendCancelledWhileBrokerDown(t *testing.T) {
	for name, appendTwo := range map[string]func(ctx context.Context, a *Appender) map[string]error{
		"Append": func(ctx context.Context, a *Appender) map[string]error {
			type outcome struct {
				v   string
				err error
			}
			done := make(chan outcome, 2)
			for i := range 2 {
				v := fmt.Sprintf("maybe%d", i)
				go func() { done <- outcome{v, a.Append(ctx, []byte("down"), []byte(v))} }()
			}
			errs := map[string]error{}
			for range 2 {
				o := <-done
				errs[o.v] = o.err
			}
			return errs
		},
		"AppendAsync": func(ctx context.Context, a *Appender) map[string]error {
			o := acctlogtest.NewOutcomes(2)
			for i := range 2 {
				v := fmt.Sprintf("maybe%d", i)
				a.AppendAsync(ctx, []byte("down"), []byte(v), o.Done(v))
			}
			return o.Wait(t)
		},
	} {
		t.Run(name, func(t *testing.T) {
			b, cfg := startBroker(t, kafkatest.Options{}, 1)
			a := newAppender(t, cfg)
			appendAll(t, a, records(1, 1))

			b.Stop()
			ctx, cancel := context.WithCancel(context.Background())
			// Two appends to the one partition: one is in flight
			// (retrying), the other may be queued behind it.
			outcomes := make(chan map[string]error, 1)
			go func() { outcomes <- appendTwo(ctx, a) }()
			eventually.True(t, "a produce failed, its records waiting on a retry", func() bool { return a.stats.errors.Load() > 0 })
			cancelled := time.Now()
			cancel()
			for v, err := range <-outcomes {
				if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "not acknowledged") {
					t.Errorf("%s: %v, want a context.Canceled saying it was not acknowledged", v, err)
				}
			}
			// At once: long before the sender's retries would have ended.
			if took := time.Since(cancelled); took >= retrying() {
				t.Errorf("told %s after the context was cancelled", took)
			}

			b.Restart()
			after := records(3, 2)
			appendAll(t, a, after)
			fetchUntil(t, newConsumer(t, cfg), after)
		})
	}
}

// retrying is how long a sender retries a batch against a broker that is
// down before it gives up.
func retrying() time.Duration {
	var d time.Duration
	for attempt := 1; attempt < maxAttempts; attempt++ {
		d += backoff(attempt)
	}
	return d
}

// An Append to a topic that does not exist fails, naming the topic.
func TestAppendToMissingTopic(t *testing.T) {
	_, cfg := startBroker(t, kafkatest.Options{}, 1)
	a, err := NewAppender(cfg, "no.such.topic")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	err = a.Append(testContext(t), []byte("k"), []byte("v"))
	if !errors.Is(err, kafka.UnknownTopicOrPartition) || !strings.Contains(err.Error(), "no.such.topic") {
		t.Errorf("Append = %v, want an unknown topic error naming no.such.topic", err)
	}
}

// Close with appends in flight lets them finish or fail, returns, and
// stops every sender; later appends fail with ErrClosed. Every Append that
// returned nil is in the log.
func TestCloseWithAppendsInFlight(t *testing.T) {
	for _, tt := range []struct {
		name       string
		brokerDown bool
	}{
		{"broker up", false},
		{"broker down", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, cfg := startBroker(t, kafkatest.Options{}, 3)
			a := newAppender(t, cfg)
			appendAll(t, a, records(3, 1)) // partitions known before the broker stops
			if tt.brokerDown {
				b.Stop()
			}

			const appenders = 64
			var (
				acked   sync.Map
				nAcked  atomic.Int64
				wg      sync.WaitGroup
				lastErr = make(chan error, appenders)
			)
			for g := range appenders {
				wg.Go(func() {
					for i := 0; ; i++ {
						v := fmt.Sprintf("v%d.%d", g, i)
						if err := a.Append(testContext(t), fmt.Appendf(nil, "k%d", g), []byte(v)); err != nil {
							lastErr <- err
							return
						}
						acked.Store(v, true)
						nAcked.Add(1)
					}
				})
			}
			if tt.brokerDown {
				eventually.True(t, "a produce failed, its records waiting on a retry", func() bool { return a.stats.errors.Load() > 0 })
			} else {
				eventually.True(t, "200 appends acknowledged", func() bool { return nAcked.Load() >= 200 })
			}

			// Close fails if it had to give up on the requests in flight
			// after closeTimeout: that, not the time it took, says whether
			// it ended them.
			if err := a.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if n := a.sendersRunning(); n > 0 {
				t.Errorf("%d senders still running after Close", n)
			}
			// Everything that was queued or in flight has its answer now.
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(eventually.Limit):
				t.Fatal("Appends still blocked after Close returned")
			}
			close(lastErr)
			for err := range lastErr {
				if !errors.Is(err, acctlog.ErrClosed) {
					t.Errorf("Append ended with %v, want ErrClosed", err)
				}
			}
			if err := a.Append(testContext(t), []byte("k"), []byte("late")); !errors.Is(err, acctlog.ErrClosed) {
				t.Errorf("Append after Close = %v, want ErrClosed", err)
			}

			if tt.brokerDown {
				b.Restart()
			}
			var want []record
			acked.Range(func(v, _ any) bool {
				want = append(want, record{value: v.(string)})
				return true
			})
			t.Logf("%d appends acknowledged before Close", len(want))
			fetchUntil(t, newConsumer(t, cfg), want)
		})
	}
}
