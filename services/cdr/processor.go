// Package cdr is the consumer of the accounting log (-target=cdr, and inside
// -target=all): it applies each record's effects — the called-numbers
// database, and one CDR per finished session on kradius.cdr.v1 — and commits
// its position only once they are done.
//
// The log may hold a record more than once: the NAS resends a Stop until
// answered, possibly to another edge, and the Kafka producer may retry. So
// every effect is keyed on (Acct-Session-Id, Acct-Status-Type) in a ledger,
// and skipped when already done.
package cdr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	"kradius.dev/services/acctlog"
	"kradius.dev/services/store"
)

// Ledger remembers which effects are done, for long enough to outlast any
// retransmission (a TTL).
type Ledger interface {
	Done(ctx context.Context, key string) (bool, error)
	MarkDone(ctx context.Context, key string) error
}

// CalledNumbers is the called-numbers database.
type CalledNumbers interface {
	RecordCalledNumber(ctx context.Context, number string, result store.CallResult) error
}

// Mapper turns a Stop into the CDR of its profile.
type Mapper func(*accountingv1.Record) *accountingv1.CDR

// Processor applies records.
type Processor struct {
	ledger  Ledger
	numbers CalledNumbers
	cdrs    acctlog.Appender
	mappers map[string]Mapper
	log     *slog.Logger
	records *prometheus.CounterVec
	effects *prometheus.CounterVec

	loadFactor float64
	busy       func() bool
}

// New builds a processor; mappers are keyed by profile name.
func New(ledger Ledger, numbers CalledNumbers, cdrs acctlog.Appender, mappers map[string]Mapper, reg prometheus.Registerer, log *slog.Logger) *Processor {
	p := &Processor{
		ledger: ledger, numbers: numbers, cdrs: cdrs, mappers: mappers, log: log, loadFactor: 1,
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_cdr_records_total", Help: "Accounting records consumed, by status type and result.",
		}, []string{"status", "result"}),
		effects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_cdr_effects_total", Help: "Effects applied, or skipped as already done (duplicates), by effect.",
		}, []string{"effect", "result"}),
	}
	reg.MustRegister(p.records, p.effects)
	for _, effect := range []string{"cdr", "called-number"} {
		for _, result := range []string{"applied", "duplicate"} {
			p.effects.WithLabelValues(effect, result)
		}
	}
	return p
}

// SetLoadFactor makes Run spend at most f (0 < f <= 1) of its time
// applying records while busy reports true, pausing the rest: a consumer
// sharing its cores and disk with an edge (-target=all) must not take them
// from live requests, as FreeRADIUS's detail reader has a load_factor for.
// While busy reports false (the edge is quiet) it catches up at full speed.
// Without a call it never pauses a full batch.
func (p *Processor) SetLoadFactor(f float64, busy func() bool) {
	p.loadFactor = min(max(f, 0.01), 1)
	p.busy = busy
}

// Handle applies one record's effects, each at most once.
func (p *Processor) Handle(ctx context.Context, m acctlog.Message) error {
	var rec accountingv1.Record
	if err := proto.Unmarshal(m.Value, &rec); err != nil {
		// It can never decode; holding the log on it would stop all billing.
		// It stays in the log for inspection.
		p.records.WithLabelValues("unknown", "undecodable").Inc()
		p.log.Error("undecodable accounting record skipped", "offset", m.Offset, "partition", m.Partition, "err", err)
		return nil
	}
	status := rec.GetStatusType().String()
	if rec.GetStatusType() != accountingv1.StatusType_STATUS_TYPE_STOP {
		p.records.WithLabelValues(status, "no_effect").Inc()
		return nil
	}
	if err := p.calledNumber(ctx, &rec); err != nil {
		return err
	}
	if err := p.publishCDR(ctx, &rec); err != nil {
		return err
	}
	p.records.WithLabelValues(status, "applied").Inc()
	return nil
}

// calledNumber applies FB-Called-Number-Result to the called-numbers
// database (seed: "Fax ATA Call-Ahead"). The update itself only ever sets
// flags, so even the narrow window between applying it and marking it done
// cannot make it count twice.
func (p *Processor) calledNumber(ctx context.Context, rec *accountingv1.Record) error {
	result, dial, ok := calledNumberResult(rec)
	if !ok {
		return nil
	}
	return p.once(ctx, "called-number", rec, func() error {
		if err := p.numbers.RecordCalledNumber(ctx, dial, result); err != nil && !errors.Is(err, store.ErrInvalid) {
			return fmt.Errorf("called number %q: %w", dial, err)
		}
		return nil
	})
}

// publishCDR appends the session's CDR to kradius.cdr.v1, once.
func (p *Processor) publishCDR(ctx context.Context, rec *accountingv1.Record) error {
	return p.once(ctx, "cdr", rec, func() error {
		mapper, ok := p.mappers[rec.GetProfile()]
		if !ok {
			mapper = GenericCDR
		}
		value, err := proto.Marshal(mapper(rec))
		if err != nil {
			return fmt.Errorf("encoding CDR: %w", err)
		}
		if err := p.cdrs.Append(ctx, []byte(rec.GetSessionId()), value); err != nil {
			return fmt.Errorf("publishing CDR of %q: %w", rec.GetSessionId(), err)
		}
		return nil
	})
}

// once runs effect unless the ledger says it is done for this record's
// (session, status), and marks it done after.
func (p *Processor) once(ctx context.Context, effect string, rec *accountingv1.Record, run func() error) error {
	key := fmt.Sprintf("%s/%d/%s", effect, rec.GetStatusTypeValue(), rec.GetSessionId())
	done, err := p.ledger.Done(ctx, key)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	if done {
		p.effects.WithLabelValues(effect, "duplicate").Inc()
		return nil
	}
	if err := run(); err != nil {
		return err
	}
	if err := p.ledger.MarkDone(ctx, key); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	p.effects.WithLabelValues(effect, "applied").Inc()
	return nil
}

// calledNumberResult finds FB-Called-Number-Result and FB-Dial-Number.
func calledNumberResult(rec *accountingv1.Record) (store.CallResult, string, bool) {
	var result uint64
	var dial string
	var found bool
	for _, a := range rec.GetAttributes() {
		switch a.GetName() {
		case "FB-Called-Number-Result":
			result, found = a.GetInteger(), true
		case "FB-Dial-Number":
			dial = a.GetText()
		}
	}
	// Send on-behalf-of puts the billing account in front: "other;5551231234".
	if i := strings.LastIndexByte(dial, ';'); i >= 0 {
		dial = dial[i+1:]
	}
	return store.CallResult(result), dial, found && dial != ""
}

// GenericCDR is the CDR of a profile without its own mapping: the session,
// the account and every attribute.
func GenericCDR(rec *accountingv1.Record) *accountingv1.CDR {
	return &accountingv1.CDR{
		SessionId: rec.GetSessionId(), Account: rec.GetUserName(), NasClient: rec.GetNasClient(),
		StopReceived: rec.GetReceived(), Attributes: rec.GetAttributes(),
	}
}
