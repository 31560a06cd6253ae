package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/segmentio/kafka-go"

	"kradius.dev/services/acctlog"
)

var _ acctlog.Appender = (*Appender)(nil)

// Appender appends to one topic, answering only once every in-sync replica
// has the record. Safe for concurrent use: concurrent appends to a
// partition share one produce request.
type Appender struct {
	topic     string
	w         *kafka.Writer
	transport *kafka.Transport
}

// NewAppender returns an Appender for topic. It does not connect: the first
// Append does, and EnsureTopics is the check at start that the brokers
// answer and the credentials work.
func NewAppender(cfg Config, topic string) (*Appender, error) {
	if err := checkTopic(topic); err != nil {
		return nil, err
	}
	c, err := newConnector(cfg)
	if err != nil {
		return nil, err
	}
	return &Appender{
		topic:     topic,
		transport: c.transport,
		w: &kafka.Writer{
			Addr:  kafka.TCP(c.cfg.Brokers...),
			Topic: topic,
			// The key (Acct-Session-Id) picks the partition, so one
			// session's records stay in order.
			Balancer:     &kafka.Hash{},
			RequiredAcks: kafka.RequireAll,
			Async:        false,
			BatchTimeout: c.cfg.BatchTimeout,
			BatchSize:    c.cfg.BatchSize,
			WriteTimeout: c.cfg.WriteTimeout,
			// A typo in a topic name must fail, not create a topic with
			// the broker's defaults (often one replica).
			AllowAutoTopicCreation: false,
			Transport:              c.transport,
		},
	}, nil
}

// Append writes one record and returns nil once it is acknowledged with
// acks=all. On an error the record may or may not have been written: the
// Writer keeps retrying a batch in the background after ctx ends, so a
// retried Append can duplicate it.
func (a *Appender) Append(ctx context.Context, key, value []byte) error {
	// The background retries still read the record after Append returns,
	// so it must not share the caller's buffers.
	msg := kafka.Message{Key: clone(key), Value: clone(value)}
	err := a.w.WriteMessages(ctx, msg)
	if err == nil {
		return nil
	}
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) && len(werrs) == 1 && werrs[0] != nil {
		err = werrs[0]
	}
	switch {
	case errors.Is(err, io.ErrClosedPipe):
		return fmt.Errorf("kafka append to %s: %w", a.topic, acctlog.ErrClosed)
	case ctx.Err() != nil:
		return fmt.Errorf("kafka append to %s: not acknowledged before the context ended: %w", a.topic, err)
	}
	return fmt.Errorf("kafka append to %s: %w", a.topic, err)
}

// clone keeps nil as nil: the Hash balancer spreads nil keys round-robin.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// Close flushes pending batches, waiting for their acknowledgement (or for
// the Writer to give up on them), then closes the connections.
func (a *Appender) Close() error {
	err := a.w.Close()
	a.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("kafka appender %s: close: %w", a.topic, err)
	}
	return nil
}

// Stats are the Writer's counters since the previous call, for metrics.
func (a *Appender) Stats() kafka.WriterStats { return a.w.Stats() }
