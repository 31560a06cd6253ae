package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"kradius.dev/services/acctlog/kafkalog"
	"kradius.dev/services/cdr"
	"kradius.dev/services/config"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/profiles"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/settlement"
)

// runCDR is -target=cdr: a member of the consumer group on the accounting
// topic that writes each batch's CDRs and consumed offsets in one Kafka
// transaction. Several run side by side; Kafka shares the partitions among
// them.
func runCDR(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	b, err := startBase(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer b.close()
	rs, ok := b.st.(*redisStore)
	if !ok {
		return fmt.Errorf("-target=cdr needs the redis store")
	}
	k := cfg.Accounting.Kafka
	if err := kafkalog.EnsureTopics(ctx, k); err != nil {
		return fmt.Errorf("kafka topics: %w", err)
	}
	txnID := k.TransactionalID
	if txnID == "" {
		// The pod's name and the process id, 1 in a container: unique
		// among the consumers of one host, and kept by a restarted pod of
		// a StatefulSet, whose first transaction then fences the one it
		// left open. Any other restart leaves that to the transaction
		// timeout.
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("accounting.kafka.transactional_id is empty and the host name unknown: %w", err)
		}
		txnID = fmt.Sprintf("kradius-cdr-%s-%d", host, os.Getpid())
	}
	k = k.WithDefaults()
	ttl := time.Duration(cfg.Accounting.DedupeTTL)
	ledger := cdr.NewRedisLedger(rs.client, rs.prefix, ttl)
	// The settlement totals, beside the done-marks, which -target=accounts
	// reports; their guards last as long as the done-marks.
	settle := settlement.NewRedis(rs.client, rs.prefix, ttl)
	// The profiles read their kinds (the carriers) from the records store.
	recs := recordsvc.New(b.rs, schemaKinds, newVerifier(cfg.Password), passwordParams(cfg.Password))
	sessions := profiles.Sessions(nas.SessionDeps{Store: b.st, Records: recs, Metrics: b.reg, Log: log})
	// CDRs go out through the consumer's transactions, never an appender.
	p := cdr.New(ledger, nil, sessions, b.reg, log)
	p.SetSettlement(settle)
	p.SetDrainTimeout(time.Duration(cfg.Accounting.DrainTimeout))
	p.SetTracer(b.consumerTracer(), "kafka")
	lag := cdr.NewLag(b.reg)
	log.Info("cdr consumer started", "topic", k.Topics.Accounting, "group", k.GroupID, "cdr_topic", k.Topics.CDR, "transactional_id", txnID)
	b.ops.ready.Store(true)
	return runWithSessions(ctx, sessions, func(ctx context.Context) error { return consumeTransactional(ctx, k, txnID, p, ledger, lag, log) })
}

// consumeTransactional runs the consumer's Kafka transaction sessions
// until ctx ends. A session whose transaction cannot end (a broker gone
// for longer than the client's retries) is done for; a new one rejoins the
// group and starts from the last commit.
func consumeTransactional(ctx context.Context, k kafkalog.Config, txnID string, p *cdr.Processor, ledger *cdr.RedisLedger, lag *cdr.Lag, log *slog.Logger) error {
	for pause := time.Second; ; pause = min(2*pause, 30*time.Second) {
		consumer, err := kafkalog.NewTxnConsumer(k, k.Topics.Accounting, k.Topics.CDR, txnID, log.With("component", "kafka"), lag)
		if err != nil {
			return err
		}
		err = p.RunTransactional(ctx, consumer, ledger)
		consumer.Close()
		if ctx.Err() != nil {
			return nil
		}
		log.Error("kafka transaction session failed; starting another", "err", err, "pause", pause.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
	}
}
