package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"kradius.dev/services/acctlog/kafkalog"
	"kradius.dev/services/cdr"
	"kradius.dev/services/config"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/profiles"
)

// runCDR is -target=cdr: a member of the consumer group on the accounting
// topic. Several run side by side; Kafka shares the partitions among them.
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
	cdrs, err := kafkaAppender(ctx, k, k.Topics.CDR)
	if err != nil {
		return err
	}
	defer cdrs.Close()
	consumer, err := kafkalog.NewConsumer(k, k.Topics.Accounting)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	defer consumer.Close()
	ledger := cdr.NewRedisLedger(rs.client, rs.prefix, time.Duration(cfg.Accounting.DedupeTTL))
	p := cdr.New(ledger, cdrs, profiles.Sessions(nas.SessionDeps{Store: b.st}), b.reg, log)
	p.SetDrainTimeout(time.Duration(cfg.Accounting.DrainTimeout))
	log.Info("cdr consumer started", "topic", k.Topics.Accounting, "group", k.GroupID, "cdr_topic", k.Topics.CDR)
	b.ops.ready.Store(true)
	return p.Run(ctx, consumer)
}
