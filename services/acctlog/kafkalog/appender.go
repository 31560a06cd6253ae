package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

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
	lastErr   lastError
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
	a := &Appender{topic: topic, transport: c.transport}
	a.w = &kafka.Writer{
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
		ErrorLogger:            &a.lastErr,
	}
	return a, nil
}

// Append writes one record and returns nil once it is acknowledged with
// acks=all. On an error the record may or may not have been written: the
// Writer keeps retrying a batch in the background after ctx ends, so a
// retried Append can duplicate it.
func (a *Appender) Append(ctx context.Context, key, value []byte) error {
	// The background retries still read the record after Append returns,
	// so it must not share the caller's buffers.
	msg := kafka.Message{Key: clone(key), Value: clone(value)}
	start := time.Now()
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
		return fmt.Errorf("kafka append to %s: not acknowledged before the context ended%s: %w", a.topic, a.lastErr.since(start), err)
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
//
// kafka-go retries unacknowledged batches before Close returns, which takes
// minutes against an unreachable cluster; Close gives up after closeTimeout
// so that a pod can stop. Those records were never acknowledged to a NAS,
// which resends them.
func (a *Appender) Close() error {
	done := make(chan error, 1)
	go func() { done <- a.w.Close() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(closeTimeout):
		err = fmt.Errorf("records still unacknowledged after %s", closeTimeout)
	}
	a.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("kafka appender %s: close: %w", a.topic, err)
	}
	return nil
}

// closeTimeout bounds Close.
const closeTimeout = 5 * time.Second

// Stats are the Writer's counters since the previous call, for metrics.
func (a *Appender) Stats() kafka.WriterStats { return a.w.Stats() }

// lastError keeps the Writer's latest logged failure. While it retries a
// batch the Writer only logs, so an Append whose context ends would
// otherwise report no more than "context deadline exceeded".
type lastError struct {
	mu  sync.Mutex
	msg string
	at  time.Time
}

// Printf is the Writer's ErrorLogger.
func (l *lastError) Printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msg, l.at = msg, time.Now()
}

// since returns " (last error: ...)" if the Writer failed after start.
func (l *lastError) since(start time.Time) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.msg == "" || l.at.Before(start) {
		return ""
	}
	return " (last error: " + l.msg + ")"
}
