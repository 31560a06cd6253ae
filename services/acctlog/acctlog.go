// Package acctlog is the accounting log: the edge appends every accounting
// record to it and answers the NAS only once the append is durable; the cdr
// target consumes it. Two implementations meet this contract: kafkalog
// (Kafka, RequiredAcks=all) for the distributed shape, and journal (segment
// files, fsync before the acknowledgement) for -target=all.
package acctlog

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// ErrClosed is returned by calls on a closed log.
var ErrClosed = errors.New("accounting log closed")

// Appender appends records. Implementations are safe for concurrent use, and
// batch concurrent appends together (one fsync, one produce request).
type Appender interface {
	// Append returns nil only once the record is durable: acknowledged by all
	// in-sync replicas, or fsynced. Any error means it may not be, and the
	// caller must not acknowledge it to the NAS. A duplicate append (a retry
	// after an ambiguous error) is allowed: consumers are idempotent.
	// Append keeps no reference to key or value once it returns: the edge
	// reuses its buffers.
	Append(ctx context.Context, key, value []byte) error
	Close() error
}

// AsyncAppender is an Appender that can also tell of durability by callback,
// so that a caller need not park a goroutine per record while the disk
// syncs: the edge answers the NAS from done.
type AsyncAppender interface {
	Appender
	// AppendAsync calls done exactly once, with what Append would have
	// returned, except that a ctx ending after the record was taken up
	// does not cut the wait short: done then reports the write's outcome.
	// done runs on the log's goroutine, so it must be quick and must not
	// call into the log; a record refused at once gets done before
	// AppendAsync returns, on the caller's goroutine. Like Append, it keeps
	// no reference to key or value once it returns.
	AppendAsync(ctx context.Context, key, value []byte, done func(error))
}

// Message is one record read back.
type Message struct {
	Key, Value []byte
	// Partition and Offset place the message in the log (Partition is 0 for
	// the journal); Commit uses them.
	Partition int
	Offset    int64
	// Time is when the log stored it.
	Time time.Time
	// Trace is the span of the request that appended it, when that
	// request was traced (the context given to Append carried a span).
	Trace trace.SpanContext
}

// Consumer reads the log as a member of a consumer group, from the last
// committed position. Safe for use by one goroutine.
type Consumer interface {
	// Fetch blocks until the next message or ctx ends.
	Fetch(ctx context.Context) (Message, error)
	// Commit records msgs (and everything before them in their partitions)
	// as processed, durably. After a restart, Fetch resumes after the last
	// commit: messages fetched but not committed are delivered again.
	Commit(ctx context.Context, msgs ...Message) error
	Close() error
}
