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
	deadline := time.Now().Add(5 * time.Second)
	for a.sendersRunning() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d senders still running with nothing to send", a.sendersRunning())
		}
		time.Sleep(10 * time.Millisecond)
	}
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
			const cancelAfter = 300 * time.Millisecond
			time.AfterFunc(cancelAfter, cancel)
			// Two appends to the one partition: one is in flight
			// (retrying), the other may be queued behind it.
			start := time.Now()
			for v, err := range appendTwo(ctx, a) {
				if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "not acknowledged") {
					t.Errorf("%s: %v, want a context.Canceled saying it was not acknowledged", v, err)
				}
			}
			if took := time.Since(start); took > cancelAfter+time.Second {
				t.Errorf("told %s after the context was cancelled", took-cancelAfter)
			}

			b.Restart()
			after := records(3, 2)
			appendAll(t, a, after)
			fetchUntil(t, newConsumer(t, cfg), after)
		})
	}
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
				time.Sleep(300 * time.Millisecond) // all of them retrying or queued
			} else {
				for nAcked.Load() < 200 {
					time.Sleep(time.Millisecond)
				}
			}

			start := time.Now()
			if err := a.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if took := time.Since(start); took >= closeTimeout {
				t.Errorf("Close took %s", took)
			}
			if n := a.sendersRunning(); n > 0 {
				t.Errorf("%d senders still running after Close", n)
			}
			// Everything that was queued or in flight has its answer now.
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(time.Second):
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
