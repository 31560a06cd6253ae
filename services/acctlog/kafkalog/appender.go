package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"kradius.dev/services/acctlog"
)

var _ acctlog.Appender = (*Appender)(nil)

const (
	// maxBatchBytes bounds one produce request's records, below the
	// broker's default message.max.bytes (1 MiB + 12) with room for the
	// batch and request headers.
	maxBatchBytes = 1000 << 10
	// recordOverhead is a generous estimate of a record's framing (length,
	// attributes, timestamp and offset deltas, key and value lengths).
	recordOverhead = 32
	// metadataRefresh is how long the partition list is trusted. Partitions
	// are only ever added, by an operator, so this need not be short; a
	// failed produce refreshes it sooner.
	metadataRefresh = 30 * time.Second
	// maxAttempts, minBackoff and maxBackoff are kafka-go's Writer defaults:
	// a leader election or a broker restart is absorbed within an Append's
	// deadline, while a dead cluster fails the batch after about 6 s.
	maxAttempts = 10
	minBackoff  = 100 * time.Millisecond
	maxBackoff  = time.Second
	// closeTimeout bounds Close.
	closeTimeout = 5 * time.Second
)

// Appender appends to one topic, answering only once every in-sync replica
// has the record. Safe for concurrent use.
//
// Each partition has at most one produce request in flight. Appends that
// arrive meanwhile queue, and the next request carries all of them (up to
// batch_size records and maxBatchBytes): group commit, as the journal does
// with fsync. An idle partition sends a record at once; a busy one sends
// batches as large as what arrived during the previous round trip. No timer
// is involved unless batch_timeout asks for one.
type Appender struct {
	topic     string
	where     string // brokers and SASL user, for errors
	client    *kafka.Client
	transport *kafka.Transport
	balancer  kafka.Hash
	batchSize int
	linger    time.Duration

	// ctx ends in-flight requests once Close has waited closeTimeout;
	// closing (closed by Close) ends lingers and retry backoffs.
	ctx     context.Context
	cancel  context.CancelFunc
	closing chan struct{}
	// wg counts the partition senders and metadata fetches, started only
	// under mu while open, so that Close can wait for all of them.
	wg sync.WaitGroup

	mu     sync.Mutex
	closed bool
	queues map[int]*queue
	// The topic's partition IDs, sorted, for the balancer; nil until the
	// first fetch succeeds.
	partitions []int
	fetchedAt  time.Time
	stale      bool          // a produce failed: refetch at the next Append
	fetching   chan struct{} // closed when the fetch in progress ends
	fetchErr   error         // why the last fetch failed

	stats counters
}

// queue is one partition's records waiting for the next produce request.
type queue struct {
	partition int
	records   []*pending
	sending   bool // a sender goroutine runs for this partition
}

// pending is one Append's record on its way.
type pending struct {
	key, value []byte
	// traceParent is the appending request's trace context, a header.
	traceParent string
	time        time.Time
	done        chan struct{} // closed once err is final (Append)
	cb          func(error)   // given err once it is final (AppendAsync)

	// Guarded by Appender.mu.
	state   pendingState
	lastErr error // of the latest failed attempt, for an Append that gives up
	err     error // the outcome, set before done is closed
}

type pendingState int

const (
	queued    pendingState = iota
	inFlight               // taken into a produce request
	abandoned              // its Append returned early: drop it
	finished
)

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
	ctx, cancel := context.WithCancel(context.Background())
	return &Appender{
		topic: topic,
		where: fmt.Sprintf("%v%s", c.cfg.Brokers, c.identity()),
		client: &kafka.Client{
			Addr:      kafka.TCP(c.cfg.Brokers...),
			Transport: c.transport,
			// Bounds each request; the broker is given half of it to
			// gather the replicas' acknowledgements.
			Timeout: c.cfg.WriteTimeout,
		},
		transport: c.transport,
		batchSize: c.cfg.BatchSize,
		linger:    c.cfg.BatchTimeout,
		ctx:       ctx,
		cancel:    cancel,
		closing:   make(chan struct{}),
		queues:    map[int]*queue{},
	}, nil
}

// Append writes one record and returns nil once it is acknowledged with
// acks=all. On an error the record may or may not have been written (a
// request already sent may still succeed), so a retried Append can
// duplicate it.
func (a *Appender) Append(ctx context.Context, key, value []byte) error {
	partitions, err := a.partitionList(ctx)
	if err != nil {
		return fmt.Errorf("kafka append to %s: %w", a.topic, err)
	}
	// The record outlives this call in a request that is retried or still
	// in flight, so it must not share the caller's buffers.
	p := &pending{key: clone(key), value: clone(value), traceParent: acctlog.TraceParent(ctx), time: time.Now(), done: make(chan struct{})}
	// The key (Acct-Session-Id) picks the partition exactly as kafka-go's
	// Writer did, so one session's records stay in one partition, in order.
	partition := a.balancer.Balance(kafka.Message{Key: p.key}, partitions...)
	if err := a.enqueue(partition, p); err != nil {
		return fmt.Errorf("kafka append to %s: %w", a.topic, err)
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		a.abandon(p, ctx.Err())
	}
	if p.err != nil {
		return fmt.Errorf("kafka append to %s partition %d: %w", a.topic, partition, p.err)
	}
	return nil
}

// AppendAsync implements acctlog.AsyncAppender: Append, with the outcome
// given to done by the partition's sender once the broker has answered, so
// that no goroutine waits per record. When ctx ends first, done is told at
// once, exactly as Append would return.
func (a *Appender) AppendAsync(ctx context.Context, key, value []byte, done func(error)) {
	partitions, err := a.partitionList(ctx)
	if err != nil {
		done(fmt.Errorf("kafka append to %s: %w", a.topic, err))
		return
	}
	p := &pending{key: clone(key), value: clone(value), traceParent: acctlog.TraceParent(ctx), time: time.Now()}
	partition := a.balancer.Balance(kafka.Message{Key: p.key}, partitions...)
	stop := context.AfterFunc(ctx, func() { a.abandon(p, ctx.Err()) })
	p.cb = func(err error) {
		stop()
		if err != nil {
			err = fmt.Errorf("kafka append to %s partition %d: %w", a.topic, partition, err)
		}
		done(err)
	}
	if err := a.enqueue(partition, p); err != nil && stop() {
		// Not queued, and the context's end has not told done already.
		done(fmt.Errorf("kafka append to %s: %w", a.topic, err))
	}
}

// settle gives p its outcome; a.mu must be held. An AppendAsync's callback
// comes back, to be called once a.mu is released.
func (p *pending) settle(err error) func() {
	p.state, p.err = finished, err
	if p.cb == nil {
		close(p.done)
		return nil
	}
	return func() { p.cb(err) }
}

// call runs the callbacks collected under a.mu.
func call(callbacks []func()) {
	for _, cb := range callbacks {
		cb()
	}
}

// clone keeps nil as nil: the Hash balancer spreads nil keys round-robin.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func (a *Appender) enqueue(partition int, p *pending) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return acctlog.ErrClosed
	}
	q := a.queues[partition]
	if q == nil {
		q = &queue{partition: partition}
		a.queues[partition] = q
	}
	q.records = append(q.records, p)
	if !q.sending {
		q.sending = true
		a.wg.Add(1)
		go a.send(q)
	}
	return nil
}

// abandon settles p for an Append whose context ended. A record still
// queued is dropped and certainly not written; one in flight may still be.
// An AppendAsync is told here.
func (a *Appender) abandon(p *pending, cause error) {
	a.mu.Lock()
	switch p.state {
	case finished, abandoned: // the answer came anyway
		a.mu.Unlock()
		return
	case queued:
		p.err = fmt.Errorf("not acknowledged: the context ended before it was sent: %w", cause)
	default:
		detail := ""
		if p.lastErr != nil {
			detail = " (last error: " + p.lastErr.Error() + ")"
		}
		p.err = fmt.Errorf("not acknowledged before the context ended, though it may still be written%s: %w", detail, cause)
	}
	p.state = abandoned
	cb, err := p.cb, p.err
	a.mu.Unlock()
	if cb != nil {
		cb(err)
	}
}

// send produces q's records, one request at a time, until q is empty.
func (a *Appender) send(q *queue) {
	defer a.wg.Done()
	for {
		a.lingerFor(q)
		batch := a.take(q)
		if batch == nil {
			return
		}
		a.produce(q.partition, batch)
	}
}

// lingerFor waits batch_timeout for company before a batch that is not
// already full.
func (a *Appender) lingerFor(q *queue) {
	if a.linger <= 0 {
		return
	}
	a.mu.Lock()
	n := len(q.records)
	a.mu.Unlock()
	if n == 0 || n >= a.batchSize {
		return
	}
	t := time.NewTimer(a.linger)
	defer t.Stop()
	select {
	case <-t.C:
	case <-a.closing:
	}
}

// take removes the next batch from q: its oldest records, in order, up to
// batch_size and maxBatchBytes (a larger record goes alone, for the broker
// to judge). With nothing left it returns nil and marks q idle, so the
// next enqueue starts a new sender.
func (a *Appender) take(q *queue) []*pending {
	a.mu.Lock()
	defer a.mu.Unlock()
	var batch []*pending
	bytes, n := 0, 0
	for ; n < len(q.records) && len(batch) < a.batchSize; n++ {
		p := q.records[n]
		if p.state == abandoned {
			continue
		}
		size := len(p.key) + len(p.value) + recordOverhead
		if len(batch) > 0 && bytes+size > maxBatchBytes {
			break
		}
		p.state = inFlight
		batch = append(batch, p)
		bytes += size
	}
	clear(q.records[:n]) // for the garbage collector
	q.records = q.records[n:]
	if batch == nil {
		q.sending = false
		q.records = nil
	}
	return batch
}

// produce sends batch, retrying what Kafka calls temporary (a leader
// election, too few in-sync replicas) and connection failures with
// kafka-go's backoff, for as long as some of its Appends still wait.
// Retrying a whole batch before the next one keeps the partition in
// enqueue order.
func (a *Appender) produce(partition int, batch []*pending) {
	var err error
	for attempt := 1; ; attempt++ {
		err = a.produceOnce(partition, batch)
		if err == nil {
			break
		}
		a.markStale()
		if attempt == maxAttempts || !retriable(err) || a.ctx.Err() != nil {
			break
		}
		if batch = a.retrying(batch, err); len(batch) == 0 {
			return
		}
		if !a.sleep(backoff(attempt)) {
			err = fmt.Errorf("%w before the broker acknowledged (last error: %v)", acctlog.ErrClosed, err)
			break
		}
	}
	a.finish(batch, err)
}

func (a *Appender) produceOnce(partition int, batch []*pending) error {
	records := make([]kafka.Record, len(batch))
	for i, p := range batch {
		// A RecordReader is consumed as it is sent: each attempt needs
		// its own.
		records[i] = kafka.Record{Time: p.time, Key: kafka.NewBytes(p.key), Value: kafka.NewBytes(p.value)}
		if p.traceParent != "" {
			records[i].Headers = []kafka.Header{{Key: acctlog.TraceHeader, Value: []byte(p.traceParent)}}
		}
	}
	a.stats.produces.Add(1)
	res, err := a.client.Produce(a.ctx, &kafka.ProduceRequest{
		Topic:        a.topic,
		Partition:    partition,
		RequiredAcks: kafka.RequireAll,
		Records:      kafka.NewRecordReader(records...),
	})
	switch {
	case err != nil && a.ctx.Err() != nil:
		err = fmt.Errorf("%w before the broker acknowledged: %w", acctlog.ErrClosed, err)
	case err != nil:
	case res.Error != nil:
		err = res.Error
		if len(res.RecordErrors) > 0 {
			err = fmt.Errorf("%w: %w", err, recordErrors(res.RecordErrors))
		}
	case len(res.RecordErrors) > 0:
		// Kafka rejects the whole batch for one bad record (KIP-467) and
		// sets the partition error too; without it, trust nothing.
		err = fmt.Errorf("batch rejected: %w", recordErrors(res.RecordErrors))
	}
	if err != nil {
		a.stats.errors.Add(1)
		return err
	}
	a.stats.records.Add(int64(len(batch)))
	return nil
}

// recordErrors names the records the broker rejected by their index in the
// batch, which callers cannot map to their own Append: each gets the lot.
func recordErrors(errs map[int]error) error {
	indexes := make([]int, 0, len(errs))
	for i := range errs {
		indexes = append(indexes, i)
	}
	slices.Sort(indexes)
	joined := make([]error, len(indexes))
	for j, i := range indexes {
		joined[j] = fmt.Errorf("record %d: %w", i, errs[i])
	}
	return errors.Join(joined...)
}

// retriable reports whether a failed produce may succeed if sent again.
// Kafka's error codes say so themselves; anything else is a connection or
// routing failure (refused, reset, timed out, no leader known yet), which a
// retry with fresh connections and metadata may overcome.
func retriable(err error) bool {
	var kerr kafka.Error
	if errors.As(err, &kerr) {
		return kerr.Temporary()
	}
	return true
}

// retrying records err for the Appends of batch that still wait and
// returns them, dropping those that gave up.
func (a *Appender) retrying(batch []*pending, err error) []*pending {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.DeleteFunc(batch, func(p *pending) bool {
		p.lastErr = err
		return p.state == abandoned
	})
}

// finish gives batch its outcome.
func (a *Appender) finish(batch []*pending, err error) {
	var callbacks []func()
	a.mu.Lock()
	for _, p := range batch {
		if p.state == abandoned {
			continue // its Append already returned its own error
		}
		if cb := p.settle(err); cb != nil {
			callbacks = append(callbacks, cb)
		}
	}
	a.mu.Unlock()
	call(callbacks)
}

// backoff doubles from minBackoff to maxBackoff.
func backoff(attempt int) time.Duration {
	return min(minBackoff<<(attempt-1), maxBackoff)
}

// sleep waits d, or returns false at once if the Appender is closing.
func (a *Appender) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-a.closing:
		return false
	}
}

// partitionList returns the topic's partition IDs, fetching them at the
// first Append and refreshing them in the background every metadataRefresh
// or after a failed produce. Only the first fetch is waited for: until a
// refresh succeeds, the previous list serves.
func (a *Appender) partitionList(ctx context.Context) ([]int, error) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, acctlog.ErrClosed
	}
	if (a.partitions == nil || a.stale || time.Since(a.fetchedAt) >= metadataRefresh) && a.fetching == nil {
		a.fetching = make(chan struct{})
		a.wg.Add(1)
		go a.fetchPartitions(a.fetching)
	}
	partitions, fetching := a.partitions, a.fetching
	a.mu.Unlock()
	if partitions != nil {
		return partitions, nil
	}
	select {
	case <-fetching:
	case <-ctx.Done():
		return nil, fmt.Errorf("reading its partitions from %s: %w", a.where, ctx.Err())
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.partitions == nil {
		// Named here, since a broker that rejects the credentials may
		// just close the connection, leaving only an EOF to report.
		return nil, fmt.Errorf("reading its partitions from %s: %w", a.where, a.fetchErr)
	}
	return a.partitions, nil
}

func (a *Appender) fetchPartitions(done chan struct{}) {
	defer a.wg.Done()
	partitions, err := a.readPartitions()
	a.mu.Lock()
	defer a.mu.Unlock()
	if err == nil {
		a.partitions, a.fetchedAt, a.stale = partitions, time.Now(), false
	}
	a.fetchErr, a.fetching = err, nil
	close(done)
}

// readPartitions asks for the topic's metadata. The Transport answers from
// its own cache, which it refreshes every few seconds, so this is cheap.
func (a *Appender) readPartitions() ([]int, error) {
	meta, err := a.client.Metadata(a.ctx, &kafka.MetadataRequest{Topics: []string{a.topic}})
	if err != nil {
		return nil, err
	}
	for _, t := range meta.Topics {
		if t.Name != a.topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("topic %s: %w", a.topic, t.Error)
		}
		if len(t.Partitions) == 0 {
			return nil, fmt.Errorf("topic %s has no partitions", a.topic)
		}
		ids := make([]int, len(t.Partitions))
		for i, p := range t.Partitions {
			ids[i] = p.ID
		}
		slices.Sort(ids)
		return ids, nil
	}
	return nil, fmt.Errorf("topic %s: %w", a.topic, kafka.UnknownTopicOrPartition)
}

func (a *Appender) markStale() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stale = true
}

// Ping asks the cluster for its API versions over the Appender's own
// connections, writing nothing: a round trip that fails while no broker
// answers, for a health check (the edge's Status-Server).
func (a *Appender) Ping(ctx context.Context) error {
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if closed {
		return acctlog.ErrClosed
	}
	res, err := a.client.ApiVersions(ctx, &kafka.ApiVersionsRequest{})
	if err == nil {
		err = res.Error
	}
	if err != nil {
		return fmt.Errorf("kafka %s: %w", a.where, err)
	}
	return nil
}

// Close stops accepting appends, fails those still queued (never sent, so
// certainly not written), waits for the requests in flight, then closes the
// connections.
//
// Against an unreachable cluster a request can take write_timeout, so
// Close gives up after closeTimeout, so that a pod can stop: those Appends
// fail, their records never acknowledged to a NAS, which resends them.
func (a *Appender) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	var callbacks []func()
	for _, q := range a.queues {
		for _, p := range q.records {
			if p.state == queued {
				if cb := p.settle(fmt.Errorf("not sent: %w", acctlog.ErrClosed)); cb != nil {
					callbacks = append(callbacks, cb)
				}
			}
		}
		q.records = nil
	}
	a.mu.Unlock()
	call(callbacks)
	close(a.closing)

	done := make(chan struct{})
	go func() {
		a.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-time.After(closeTimeout):
		err = fmt.Errorf("kafka appender %s: close: records still unacknowledged after %s", a.topic, closeTimeout)
		// Cancelling ends the requests at once, and with them the senders.
		a.cancel()
		<-done
	}
	a.cancel()
	a.transport.CloseIdleConnections()
	return err
}

// AppenderStats are the Appender's counters since the previous call to
// Stats, for metrics.
type AppenderStats struct {
	// Produces counts produce requests, retries included.
	Produces int64
	// Records counts records acknowledged.
	Records int64
	// Errors counts failed produce requests.
	Errors int64
}

type counters struct{ produces, records, errors atomic.Int64 }

// Stats returns the counters since the previous call and resets them.
func (a *Appender) Stats() AppenderStats {
	return AppenderStats{
		Produces: a.stats.produces.Swap(0),
		Records:  a.stats.records.Swap(0),
		Errors:   a.stats.errors.Swap(0),
	}
}
