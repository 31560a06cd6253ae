package kafkalog

import (
	"errors"
	"slices"
	"sort"
	"testing"

	"kradius.dev/services/acctlog"
	"kradius.dev/services/acctlog/kafkalog/kafkatest"
)

func TestAppendConsumeCommit(t *testing.T) {
	_, cfg := startBroker(t, kafkatest.Options{}, 1)
	a := newAppender(t, cfg)
	rs := records(3, 2)
	appendAll(t, a, rs)

	c := newConsumer(t, cfg)
	msgs := fetchN(t, c, len(rs))
	for i, m := range msgs {
		if string(m.Key) != rs[i].key || string(m.Value) != rs[i].value {
			t.Errorf("message %d = %s=%s, want %s=%s", i, m.Key, m.Value, rs[i].key, rs[i].value)
		}
		if m.Offset != int64(i) || m.Partition != 0 || m.Time.IsZero() {
			t.Errorf("message %d at partition %d offset %d time %v", i, m.Partition, m.Offset, m.Time)
		}
	}
	if err := c.Commit(testContext(t), msgs...); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := c.Commit(testContext(t)); err != nil {
		t.Errorf("Commit of nothing: %v", err)
	}
}

// The contract: after a restart, of the consumer or of the broker, Fetch
// resumes after the last commit and redelivers what was fetched but not
// committed.
func TestConsumerResumesAfterCommit(t *testing.T) {
	for _, tt := range []struct {
		name          string
		restartBroker bool
	}{
		{"consumer restart", false},
		{"consumer and broker restart", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, cfg := startBroker(t, kafkatest.Options{}, 1)
			rs := records(1, 10)
			appendAll(t, newAppender(t, cfg), rs)

			c := newConsumer(t, cfg)
			msgs := fetchN(t, c, 8)
			if err := c.Commit(testContext(t), msgs[4]); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if tt.restartBroker {
				b.Restart()
			}

			got := values(fetchN(t, newConsumer(t, cfg), 5))
			if want := valuesOf(rs[5:]); !slices.Equal(got, want) {
				t.Errorf("after restart fetched %v, want %v", got, want)
			}
		})
	}
}

func TestClosed(t *testing.T) {
	_, cfg := startBroker(t, kafkatest.Options{}, 1)
	a := newAppender(t, cfg)
	c := newConsumer(t, cfg)
	if err := a.Close(); err != nil {
		t.Fatalf("Appender.Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Consumer.Close: %v", err)
	}
	ctx := testContext(t)
	if err := a.Append(ctx, []byte("k"), []byte("v")); !errors.Is(err, acctlog.ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if _, err := c.Fetch(ctx); !errors.Is(err, acctlog.ErrClosed) {
		t.Errorf("Fetch after Close = %v, want ErrClosed", err)
	}
	if err := c.Commit(ctx, acctlog.Message{}); !errors.Is(err, acctlog.ErrClosed) {
		t.Errorf("Commit after Close = %v, want ErrClosed", err)
	}
}

// The key picks the partition: one session's records share one and keep
// their order, while sessions spread over several.
func TestKeyKeepsOrderInOnePartition(t *testing.T) {
	_, cfg := startBroker(t, kafkatest.Options{}, 6)
	a := newAppender(t, cfg)
	const sessions, perSession = 16, 10
	// Sessions append concurrently, as NASes do; each session's records
	// one after the other, as a NAS sends Start, Interim and Stop.
	errs := make(chan error, sessions)
	for s := range sessions {
		go func() {
			for _, r := range session(s, perSession) {
				if err := a.Append(testContext(t), []byte(r.key), []byte(r.value)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range sessions {
		if err := <-errs; err != nil {
			t.Fatalf("Append: %v", err)
		}
	}

	byKey := map[string][]acctlog.Message{}
	for _, m := range fetchN(t, newConsumer(t, cfg), sessions*perSession) {
		byKey[string(m.Key)] = append(byKey[string(m.Key)], m)
	}
	partitions := map[int]bool{}
	for s := range sessions {
		want := session(s, perSession)
		msgs := byKey[want[0].key]
		// Fetch order across partitions is the consumer's choice; within a
		// partition it is offset order, which is what must match.
		sort.Slice(msgs, func(i, j int) bool { return msgs[i].Offset < msgs[j].Offset })
		if got := values(msgs); !slices.Equal(got, valuesOf(want)) {
			t.Errorf("key %s: %v, want %v", want[0].key, got, valuesOf(want))
		}
		for _, m := range msgs {
			if m.Partition != msgs[0].Partition {
				t.Errorf("key %s in partitions %d and %d", want[0].key, msgs[0].Partition, m.Partition)
			}
		}
		if len(msgs) > 0 {
			partitions[msgs[0].Partition] = true
		}
	}
	if len(partitions) < 2 {
		t.Errorf("%d sessions all in partitions %v", sessions, partitions)
	}
}
