package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/trace"

	"kradius.dev/services/acctlog"
)

var _ acctlog.Consumer = (*Consumer)(nil)

// maxWait bounds how long the broker holds an empty fetch. A record that
// arrives ends the wait at once, so this costs no latency; shorter would
// only poll more.
const maxWait = 500 * time.Millisecond

// Consumer reads one topic as a member of the configured consumer group.
type Consumer struct {
	topic string
	r     *kafka.Reader
	// closed is checked before calling the Reader: once closed, its
	// CommitMessages may queue the commit where nothing will take it and
	// wait for the context instead of failing.
	closed atomic.Bool
}

// NewConsumer joins cfg.GroupID on topic at the first Fetch. A group with
// no committed offset starts at the oldest record.
func NewConsumer(cfg Config, topic string) (*Consumer, error) {
	if err := checkTopic(topic); err != nil {
		return nil, err
	}
	c, err := newConnector(cfg)
	if err != nil {
		return nil, err
	}
	rc := kafka.ReaderConfig{
		Brokers: c.cfg.Brokers,
		GroupID: c.cfg.GroupID,
		Topic:   topic,
		Dialer:  c.dialer,
		// Zero commits synchronously: Commit returns once the broker has
		// stored the offset, which is what lets the caller forget.
		CommitInterval: 0,
		StartOffset:    kafka.FirstOffset,
		MinBytes:       1,
		// Above the broker's default message.max.bytes, so that any
		// record it accepted can be fetched.
		MaxBytes:          10 << 20,
		MaxWait:           maxWait,
		SessionTimeout:    c.cfg.SessionTimeout,
		HeartbeatInterval: c.cfg.SessionTimeout / 3,
		// A rebalance waits this long for members to rejoin; a killed
		// member never does, so it is bounded like the session.
		RebalanceTimeout: c.cfg.SessionTimeout,
	}
	// NewReader panics on a bad config; say it as an error instead.
	if err := rc.Validate(); err != nil {
		return nil, fmt.Errorf("kafka consumer %s: %w", topic, err)
	}
	return &Consumer{topic: topic, r: kafka.NewReader(rc)}, nil
}

// Fetch returns the next message without committing it.
func (c *Consumer) Fetch(ctx context.Context) (acctlog.Message, error) {
	if c.closed.Load() {
		return acctlog.Message{}, c.wrap("fetch", nil, acctlog.ErrClosed)
	}
	m, err := c.r.FetchMessage(ctx)
	if err != nil {
		return acctlog.Message{}, c.wrap("fetch", io.EOF, err)
	}
	return acctlog.Message{
		Key:       m.Key,
		Value:     m.Value,
		Partition: m.Partition,
		Offset:    m.Offset,
		Time:      m.Time,
		Trace:     traceOf(m.Headers, func(h kafka.Header) (string, []byte) { return h.Key, h.Value }),
	}, nil
}

// Commit stores, for each partition, the offset after the last of msgs.
func (c *Consumer) Commit(ctx context.Context, msgs ...acctlog.Message) error {
	if c.closed.Load() {
		return c.wrap("commit", nil, acctlog.ErrClosed)
	}
	if len(msgs) == 0 {
		return nil
	}
	km := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		km[i] = kafka.Message{Topic: c.topic, Partition: m.Partition, Offset: m.Offset}
	}
	return c.wrap("commit", io.ErrClosedPipe, c.r.CommitMessages(ctx, km...))
}

// wrap names the operation and replaces closed, kafka-go's error for a
// closed Reader (io.EOF from a fetch, io.ErrClosedPipe from a commit; a
// commit's io.EOF is a dropped connection), with acctlog.ErrClosed.
func (c *Consumer) wrap(op string, closed, err error) error {
	if err == nil {
		return nil
	}
	if closed != nil && errors.Is(err, closed) {
		err = acctlog.ErrClosed
	}
	return fmt.Errorf("kafka %s from %s: %w", op, c.topic, err)
}

// Close leaves the group, so that another member takes the partitions over
// at once rather than after the session timeout.
func (c *Consumer) Close() error {
	c.closed.Store(true)
	if err := c.r.Close(); err != nil {
		return fmt.Errorf("kafka consumer %s: close: %w", c.topic, err)
	}
	return nil
}

// Stats are the Reader's counters since the previous call, for metrics.
func (c *Consumer) Stats() kafka.ReaderStats { return c.r.Stats() }

// traceOf reads the trace context a record's headers carry, of either
// client's header type.
func traceOf[H any](headers []H, kv func(H) (string, []byte)) trace.SpanContext {
	for _, h := range headers {
		if k, v := kv(h); k == acctlog.TraceHeader {
			return acctlog.ParseTraceParent(string(v))
		}
	}
	return trace.SpanContext{}
}
