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
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	"kradius.dev/services/accounting"
	"kradius.dev/services/acctlog"
	"kradius.dev/services/store"
)

// Ledger remembers which effects are done, for long enough to outlast any
// retransmission (a TTL).
type Ledger interface {
	Done(ctx context.Context, key string) (bool, error)
	MarkDone(ctx context.Context, key string) error
}

// BatchLedger is a Ledger that checks and marks many keys in one round trip
// (one transaction, one pipeline); the processor uses it when it can.
type BatchLedger interface {
	DoneMany(ctx context.Context, keys []string) ([]bool, error)
	MarkDoneMany(ctx context.Context, keys []string) error
}

func doneMany(ctx context.Context, l Ledger, keys []string) ([]bool, error) {
	if b, ok := l.(BatchLedger); ok {
		return b.DoneMany(ctx, keys)
	}
	done := make([]bool, len(keys))
	for i, k := range keys {
		var err error
		if done[i], err = l.Done(ctx, k); err != nil {
			return nil, err
		}
	}
	return done, nil
}

func markDoneMany(ctx context.Context, l Ledger, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if b, ok := l.(BatchLedger); ok {
		return b.MarkDoneMany(ctx, keys)
	}
	for _, k := range keys {
		if err := l.MarkDone(ctx, k); err != nil {
			return err
		}
	}
	return nil
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
	return p.applyBatch(ctx, []acctlog.Message{m})
}

// effect is one thing a record makes happen, at most once: key names it in
// the ledger.
type effect struct {
	kind string // "called-number" or "cdr"
	key  string
	run  func(context.Context) error
}

// effectWidth bounds the effects of a batch applied at once.
const effectWidth = 256

// applyBatch applies the effects of batch's records, each at most once, in
// phases: one ledger check for the lot, every called-number update, marks
// for those, every CDR, marks for those. Each phase's writes run
// concurrently, and the stores group concurrent writes into one transaction
// and one fsync (bbolt's Batch, the journal's group commit, a Kafka produce
// per partition), so a batch costs a few round trips whatever its size.
// Effects that succeeded are marked even when others failed, so a retry of
// the batch repeats only what did not happen.
func (p *Processor) applyBatch(ctx context.Context, batch []acctlog.Message) error {
	var called, cdrs []effect
	seen := map[string]bool{}
	stops := 0
	for _, m := range batch {
		// Only Stops have effects: the others are counted without the cost
		// of decoding their attributes.
		if st, ok := accounting.StatusTypeOf(m.Value); ok && st != accountingv1.StatusType_STATUS_TYPE_STOP {
			p.records.WithLabelValues(st.String(), "no_effect").Inc()
			continue
		}
		rec := new(accountingv1.Record)
		if err := proto.Unmarshal(m.Value, rec); err != nil {
			// It can never decode; holding the log on it would stop all
			// billing. It stays in the log for inspection.
			p.records.WithLabelValues("unknown", "undecodable").Inc()
			p.log.Error("undecodable accounting record skipped", "offset", m.Offset, "partition", m.Partition, "err", err)
			continue
		}
		if rec.GetStatusType() != accountingv1.StatusType_STATUS_TYPE_STOP {
			p.records.WithLabelValues(rec.GetStatusType().String(), "no_effect").Inc()
			continue
		}
		stops++
		// The same Stop twice in one batch (a retransmission appended
		// again) is a duplicate before the ledger is even asked.
		add := func(effects *[]effect, e effect) {
			if seen[e.key] {
				p.effects.WithLabelValues(e.kind, "duplicate").Inc()
				return
			}
			seen[e.key] = true
			*effects = append(*effects, e)
		}
		if e, ok := p.calledNumber(rec); ok {
			add(&called, e)
		}
		add(&cdrs, p.publishCDR(rec))
	}
	for _, phase := range [][]effect{called, cdrs} {
		if err := p.applyOnce(ctx, phase); err != nil {
			return err
		}
	}
	p.records.WithLabelValues(accountingv1.StatusType_STATUS_TYPE_STOP.String(), "applied").Add(float64(stops))
	return nil
}

// applyOnce runs the effects the ledger does not know as done, then marks
// those that succeeded, and returns the first failure.
func (p *Processor) applyOnce(ctx context.Context, effects []effect) error {
	if len(effects) == 0 {
		return nil
	}
	keys := make([]string, len(effects))
	for i, e := range effects {
		keys[i] = e.key
	}
	done, err := doneMany(ctx, p.ledger, keys)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	errs := make([]error, len(effects))
	slots := make(chan struct{}, effectWidth)
	var wg sync.WaitGroup
	for i, e := range effects {
		if done[i] {
			p.effects.WithLabelValues(e.kind, "duplicate").Inc()
			continue
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			errs[i] = e.run(ctx)
		})
	}
	wg.Wait()
	var applied []string
	var first error
	for i, e := range effects {
		switch {
		case done[i]:
		case errs[i] != nil:
			first = cmp.Or(first, errs[i])
		default:
			applied = append(applied, e.key)
			p.effects.WithLabelValues(e.kind, "applied").Inc()
		}
	}
	if err := markDoneMany(ctx, p.ledger, applied); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return first
}

// calledNumber is the effect of FB-Called-Number-Result on the
// called-numbers database (seed: "Fax ATA Call-Ahead"). The update itself
// only ever sets flags, so even the narrow window between applying it and
// marking it done cannot make it count twice.
func (p *Processor) calledNumber(rec *accountingv1.Record) (effect, bool) {
	result, dial, ok := calledNumberResult(rec)
	if !ok {
		return effect{}, false
	}
	return effect{kind: "called-number", key: effectKey("called-number", rec), run: func(ctx context.Context) error {
		if err := p.numbers.RecordCalledNumber(ctx, dial, result); err != nil && !errors.Is(err, store.ErrInvalid) {
			return fmt.Errorf("called number %q: %w", dial, err)
		}
		return nil
	}}, true
}

// publishCDR is the effect of appending the session's CDR to
// kradius.cdr.v1.
func (p *Processor) publishCDR(rec *accountingv1.Record) effect {
	return effect{kind: "cdr", key: effectKey("cdr", rec), run: func(ctx context.Context) error {
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
	}}
}

// effectKey names an effect of a record's (session, status) in the ledger.
func effectKey(kind string, rec *accountingv1.Record) string {
	return fmt.Sprintf("%s/%d/%s", kind, rec.GetStatusTypeValue(), rec.GetSessionId())
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
			dial = accounting.Text(a)
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
