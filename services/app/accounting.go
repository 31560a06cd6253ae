package app

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"kradius.dev/services/acctlog"
	"kradius.dev/services/acctlog/journal"
	"kradius.dev/services/acctlog/kafkalog"
	"kradius.dev/services/cdr"
	"kradius.dev/services/config"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/profiles"
	"kradius.dev/services/settlement"
)

// embeddedAccounting is -target=all's accounting path: the records journal
// the edge appends to, and the in-process consumer that applies them,
// writes CDRs to a second journal and counts settlement records in the
// period totals.
type embeddedAccounting struct {
	records, cdrs *journal.Journal
	ledger        *cdr.BoltLedger
	settlement    *settlement.Bolt
	sink          *cdr.JournalSink
	processor     *cdr.Processor
	// sessions are the profiles' parts of the consumer; run keeps those
	// with work of their own (a table of carriers) running beside it.
	sessions map[string]nas.Sessions
}

// openEmbeddedAccounting opens the journals, the ledger and the settlement
// totals, and builds the consumer: its profiles read their kinds from recs.
func openEmbeddedAccounting(a config.AccountingConfig, st fbdata.Store, recs nas.Records, reg prometheus.Registerer, log *slog.Logger) (*embeddedAccounting, error) {
	c := a.Journal
	forced := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kradius_journal_forced_deleted_records_total",
		Help: "Records deleted by a journal's hard cap (max_bytes, cdr_max_bytes) before the consumer furthest behind had read them: lost to it. Each is also logged as an error.",
	}, []string{"journal"})
	reg.MustRegister(forced)
	opts := func(name string, retention, maxBytes int64) journal.Options {
		forced.WithLabelValues(name)
		return journal.Options{
			SegmentBytes: c.SegmentBytes, RetentionBytes: retention, MaxBytes: maxBytes,
			OnForcedDelete: func(n int64) { forced.WithLabelValues(name).Add(float64(n)) },
			Logf: func(format string, args ...any) {
				log.Warn(fmt.Sprintf(format, args...), "component", "journal", "journal", name)
			},
			Errorf: func(format string, args ...any) {
				log.Error(fmt.Sprintf(format, args...), "component", "journal", "journal", name)
			},
		}
	}
	e := &embeddedAccounting{}
	var err error
	recordOpts := opts("records", c.RetentionBytes, c.MaxBytes)
	recordOpts.OnCommit = journalCommitMetrics(reg)
	if e.records, err = journal.Open(c.Dir, recordOpts); err != nil {
		return nil, fmt.Errorf("accounting journal: %w", err)
	}
	if e.cdrs, err = journal.Open(c.CDRDir, opts("cdr", c.CDRRetentionBytes, c.CDRMaxBytes)); err != nil {
		e.close()
		return nil, fmt.Errorf("CDR journal: %w", err)
	}
	if e.ledger, err = cdr.OpenBoltLedger(c.Ledger, time.Duration(a.DedupeTTL)); err != nil {
		e.close()
		return nil, err
	}
	// Its guards last as long as the ledger's done-marks: a Stop the
	// consumer would apply again is counted again.
	if e.settlement, err = settlement.OpenBolt(c.Settlement, time.Duration(a.DedupeTTL)); err != nil {
		e.close()
		return nil, err
	}
	if e.sink, err = cdr.NewJournalSink(e.cdrs, e.ledger); err != nil {
		e.close()
		return nil, err
	}
	// A crash between a CDR and its done-mark left the CDR in the journal:
	// marked now, before the records it came from are applied again.
	n, err := e.sink.Recover(context.Background())
	if err != nil {
		e.close()
		return nil, fmt.Errorf("recovering the CDRs' done-marks: %w", err)
	}
	if n > 0 {
		log.Warn("CDRs published before a crash, but not marked done, marked now: they are not published again", "cdrs", n, "component", "cdr")
	}
	cdrLog := log.With("component", "cdr")
	e.sessions = profiles.Sessions(nas.SessionDeps{Store: st, Records: recs, Metrics: reg, Log: cdrLog})
	e.processor = cdr.New(e.ledger, e.sink, e.sessions, reg, cdrLog)
	e.processor.SetSettlement(e.settlement)
	e.processor.SetDrainTimeout(time.Duration(a.DrainTimeout))
	reg.MustRegister(cdr.JournalLag(func() int64 {
		lag, _ := e.records.Lag("cdr")
		return lag
	}))
	return e, nil
}

// journalCommitMetrics observes the records journal's group commits: how
// long the disk takes to make a batch durable, and how many records share
// each fdatasync.
func journalCommitMetrics(reg prometheus.Registerer) func(int, time.Duration) {
	took := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kradius_journal_commit_seconds",
		Help:    "Time to write and fdatasync one group commit of the accounting journal: the disk's share of every Accounting-Response.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 12),
	})
	records := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kradius_journal_commit_records",
		Help:    "Accounting records made durable by one group commit (one fdatasync).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 13),
	})
	reg.MustRegister(took, records)
	return func(n int, d time.Duration) {
		took.Observe(d.Seconds())
		records.Observe(float64(n))
	}
}

// consumerLoadFactor is the share of its time the in-process consumer may
// spend applying records while the edge is busy: on one box, billing
// effects wait for the quiet moments rather than slow down live requests,
// the journal holding them meanwhile (retention never deletes what the
// consumer has not committed).
const consumerLoadFactor = 0.1

// busyRequests is the rate, datagrams a second of either port, above which
// the edge counts as busy.
const busyRequests = 1000

// busyOver reports, each time it is called, whether count (the edge's
// datagrams received) has grown faster than busyRequests a second since the
// call before, by the clock now. Logins count as much as Stops: after a
// burst of accounting, the consumer catching up must not slow the logins
// that follow.
func busyOver(count func() int64, now func() time.Time) func() bool {
	var last int64
	var at time.Time
	return func() bool {
		next, t := count(), now()
		busy := !at.IsZero() && float64(next-last) > busyRequests*t.Sub(at).Seconds()
		last, at = next, t
		return busy
	}
}

// run consumes the records journal until ctx ends, at consumerLoadFactor
// while received (the edge's datagrams) says the edge is busy, with the
// sessions' own work running beside it.
func (e *embeddedAccounting) run(ctx context.Context, received func() int64) error {
	e.processor.SetLoadFactor(consumerLoadFactor, busyOver(received, time.Now))
	c, err := e.records.Consumer("cdr")
	if err != nil {
		return fmt.Errorf("accounting journal: %w", err)
	}
	defer c.Close()
	return runWithSessions(ctx, e.sessions, func(ctx context.Context) error { return e.processor.Run(ctx, c) })
}

// runWithSessions runs consume, and the sessions that are nas.Runners (a
// Dialogic carriers' table, without which its Stops wait), until consume
// returns.
func runWithSessions(ctx context.Context, sessions map[string]nas.Sessions, consume func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return profiles.RunAll(ctx, slices.Collect(maps.Values(sessions))...) })
	g.Go(func() error {
		defer cancel()
		return consume(ctx)
	})
	return g.Wait()
}

func (e *embeddedAccounting) close() {
	// Each checked on its own: a nil pointer in an interface is not nil.
	if e.sink != nil {
		_ = e.sink.Close()
	}
	if e.records != nil {
		_ = e.records.Close()
	}
	if e.cdrs != nil {
		_ = e.cdrs.Close()
	}
	if e.ledger != nil {
		_ = e.ledger.Close()
	}
	if e.settlement != nil {
		_ = e.settlement.Close()
	}
}

// kafkaAppender connects to Kafka and checks (or creates) the topics.
func kafkaAppender(ctx context.Context, c kafkalog.Config, topic string) (acctlog.Appender, error) {
	if err := kafkalog.EnsureTopics(ctx, c); err != nil {
		return nil, fmt.Errorf("kafka topics: %w", err)
	}
	a, err := kafkalog.NewAppender(c, topic)
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	return a, nil
}
