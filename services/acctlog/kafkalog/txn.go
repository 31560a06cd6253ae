package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	franzscram "github.com/twmb/franz-go/pkg/sasl/scram"

	"kradius.dev/services/acctlog"
)

// TxnConsumer is the cdr target's side of Kafka: a member of the consumer
// group on the accounting topic that writes the CDR topic in transactions,
// each committing the CDRs of a batch with the batch's consumed offsets, so
// that a CDR is on the topic, for read_committed readers, exactly when its
// record is consumed. It is franz-go's GroupTransactSession: kafka-go, which
// the edge's producer uses, has neither transactions nor an idempotent
// producer.
type TxnConsumer struct {
	sess       *kgo.GroupTransactSession
	in         string
	out        string
	settlement string
	lag        LagReporter
}

// TransactionTimeout is how long the broker keeps a transaction of a
// consumer that went silent (a killed pod) open before aborting it. Until
// then read_committed readers of the CDR topic wait at the open
// transaction, so it is short; a batch's transaction takes a fraction of a
// second. A restarted consumer with the same transactional id aborts it at
// once.
const TransactionTimeout = 10 * time.Second

// NewTxnConsumer joins cfg.GroupID on in, writing CDRs to out as
// transactional id txnID, which must be unique to this process and stable
// across its restarts (the pod's name). A group with no committed offset
// starts at the oldest record. log gets franz-go's warnings and the
// group's assignments and revocations; lag, when not nil, each owned
// partition's lag.
func NewTxnConsumer(cfg Config, in, out, txnID string, log *slog.Logger, lag LagReporter) (*TxnConsumer, error) {
	if lag == nil {
		lag = noLag{}
	}
	for _, t := range []string{in, out} {
		if err := checkTopic(t); err != nil {
			return nil, err
		}
	}
	if txnID == "" {
		return nil, errors.New("kafka: the cdr consumer needs a transactional id")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(clientID),
		kgo.DialTimeout(dialTimeout),
		kgo.ConsumerGroup(cfg.GroupID),
		kgo.ConsumeTopics(in),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Cooperative-sticky moves only the partitions that change owner:
		// a member joining or leaving does not stop the others.
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.SessionTimeout(cfg.SessionTimeout),
		kgo.HeartbeatInterval(cfg.SessionTimeout / 5),
		kgo.RebalanceTimeout(cfg.SessionTimeout),
		kgo.TransactionalID(txnID),
		kgo.TransactionTimeout(TransactionTimeout),
		kgo.DefaultProduceTopic(out),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.WithLogger(warnLogger{log}),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			log.Info("kafka partitions assigned", "topic", in, "partitions", partitions(m, in), "group", cfg.GroupID)
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			if len(m) > 0 {
				log.Info("kafka partitions revoked", "topic", in, "partitions", partitions(m, in), "group", cfg.GroupID)
				lag.Forget(partitions(m, in))
			}
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			lag.Forget(partitions(m, in))
			log.Warn("kafka partitions lost (the group moved on without this member)", "topic", in, "partitions", partitions(m, in), "group", cfg.GroupID)
		}),
	}
	tc, err := newTLS(cfg.TLS)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	mech, err := franzSASL(cfg.SASL)
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka cdr consumer: %w", err)
	}
	return &TxnConsumer{sess: sess, in: in, out: out, settlement: cfg.Topics.Settlement, lag: lag}, nil
}

// LagReporter is told each owned partition's lag: the records behind the
// last one polled.
type LagReporter interface {
	Set(partition int32, records int64)
	// Forget drops partitions this consumer no longer owns, whose lag
	// another member reports now.
	Forget(partitions []int32)
}

type noLag struct{}

func (noLag) Set(int32, int64) {}
func (noLag) Forget([]int32)   {}

func partitions(m map[string][]int32, topic string) []int32 {
	p := slices.Clone(m[topic])
	slices.Sort(p)
	return p
}

// franzSASL is newSASL for franz-go.
func franzSASL(c SASL) (sasl.Mechanism, error) {
	if c.Mechanism == "" {
		return nil, nil
	}
	password, err := readPassword(c.PasswordFile)
	if err != nil {
		return nil, err
	}
	switch c.Mechanism {
	case MechanismPlain:
		return plain.Auth{User: c.Username, Pass: password}.AsMechanism(), nil
	case MechanismSCRAMSHA256:
		return franzscram.Auth{User: c.Username, Pass: password}.AsSha256Mechanism(), nil
	case MechanismSCRAMSHA512:
		return franzscram.Auth{User: c.Username, Pass: password}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism: %q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.Mechanism)
}

// Poll waits for records, until ctx ends, and returns up to limit of them.
// An error with no records is the log unreachable, or ctx's.
func (c *TxnConsumer) Poll(ctx context.Context, limit int) ([]acctlog.Message, error) {
	fetches := c.sess.PollRecords(ctx, limit)
	var errs []error
	fetches.EachError(func(topic string, partition int32, err error) {
		errs = append(errs, fmt.Errorf("kafka fetch from %s partition %d: %w", topic, partition, err))
	})
	if fetches.IsClientClosed() {
		return nil, acctlog.ErrClosed
	}
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if n := len(p.Records); n > 0 {
			c.lag.Set(p.Partition, max(0, p.HighWatermark-p.Records[n-1].Offset-1))
		}
	})
	var out []acctlog.Message
	fetches.EachRecord(func(r *kgo.Record) {
		out = append(out, acctlog.Message{Key: r.Key, Value: r.Value, Partition: int(r.Partition), Offset: r.Offset, Time: r.Timestamp,
			Trace: traceOf(r.Headers, func(h kgo.RecordHeader) (string, []byte) { return h.Key, h.Value })})
	})
	if len(out) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Begin starts the transaction of a batch.
func (c *TxnConsumer) Begin() error {
	if err := c.sess.Begin(); err != nil {
		return fmt.Errorf("kafka begin transaction: %w", err)
	}
	return nil
}

// Produce adds a CDR to the transaction; done is called once the broker has
// it, or with the error.
func (c *TxnConsumer) Produce(ctx context.Context, key, value []byte, done func(error)) {
	c.sess.Produce(ctx, &kgo.Record{Key: key, Value: value}, func(_ *kgo.Record, err error) {
		if err != nil {
			err = fmt.Errorf("kafka produce to %s: %w", c.out, err)
		}
		done(err)
	})
}

// ProduceSettlement adds a settlement record to the transaction, on the
// settlement topic (cdr.SettlementLog).
func (c *TxnConsumer) ProduceSettlement(ctx context.Context, key, value []byte, done func(error)) {
	c.sess.Produce(ctx, &kgo.Record{Topic: c.settlement, Key: key, Value: value}, func(_ *kgo.Record, err error) {
		if err != nil {
			err = fmt.Errorf("kafka produce to %s: %w", c.settlement, err)
		}
		done(err)
	})
}

// End ends the transaction: with commit, it commits the CDRs produced and
// the offsets of the records polled since Begin, unless the group
// rebalanced meanwhile or a write failed, when it aborts. An abort rewinds
// the consumer to the last committed offsets, so the batch comes again.
// An error means the session is unusable: close it and start another.
func (c *TxnConsumer) End(ctx context.Context, commit bool) (committed bool, err error) {
	committed, err = c.sess.End(ctx, kgo.TransactionEndTry(commit))
	if err != nil {
		return false, fmt.Errorf("kafka end transaction: %w", err)
	}
	return committed, nil
}

// Close leaves the group, so that another member takes the partitions over
// at once rather than after the session timeout, and aborts a transaction
// left open.
func (c *TxnConsumer) Close() { c.sess.Close() }

// warnLogger passes franz-go's warnings and errors to slog: its info level
// logs every transaction.
type warnLogger struct{ log *slog.Logger }

func (l warnLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (l warnLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	lvl := slog.LevelWarn
	if level == kgo.LogLevelError {
		lvl = slog.LevelError
	}
	l.log.Log(context.Background(), lvl, "kafka client: "+msg, keyvals...)
}
