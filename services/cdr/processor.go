// Package cdr is the consumer of the accounting log (-target=cdr, and inside
// -target=all): it applies each record's effects — one CDR per finished
// session on kradius.cdr.v1, and the effects its NAS profile declares (the
// FaxBack called-numbers database) — and commits its position only once they
// are done.
//
// The log may hold a record more than once: the NAS resends a Stop until
// answered, possibly to another edge, and the Kafka producer may retry. So
// every effect is keyed on (Acct-Session-Id, Acct-Status-Type) in a ledger,
// and skipped when already done.
package cdr

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	settlementv1 "kradius.dev/proto/kradius/settlement/v1"
	"kradius.dev/services/accounting"
	"kradius.dev/services/acctlog"
	"kradius.dev/services/nas"
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

// Processor applies records.
type Processor struct {
	ledger   Ledger
	cdrs     acctlog.Appender
	sessions map[string]nas.Sessions
	// calls are the profiles whose CDR is a call's, and callStore where
	// their calls wait for their last leg; without one (a ledger that
	// keeps no calls), each leg gets its own CDR.
	calls     map[string]nas.Calls
	callStore CallStore
	// settlement keeps the period totals of settlement records.
	settlement nas.Settlement
	log        *slog.Logger
	records    *prometheus.CounterVec
	effects    *prometheus.CounterVec
	// transactions counts RunTransactional's transactions by outcome.
	transactions *prometheus.CounterVec
	batchSize    prometheus.Histogram
	// tracer, when set, gives each batch a span (SetTracer); system names
	// the log (kafka, journal).
	tracer trace.Tracer
	system string

	loadFactor float64
	busy       func() bool
	// drain bounds the finishing of the batch in hand once Run is told to
	// stop (SetDrainTimeout).
	drain time.Duration
}

// New builds a processor; sessions are the profiles' parts, keyed by
// profile name. A record of a profile not among them gets a CDR of the
// common fields, and no other effect.
func New(ledger Ledger, cdrs acctlog.Appender, sessions map[string]nas.Sessions, reg prometheus.Registerer, log *slog.Logger) *Processor {
	p := &Processor{
		ledger: ledger, cdrs: cdrs, sessions: sessions, log: log, loadFactor: 1, calls: callsOf(sessions),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_cdr_records_total", Help: "Accounting records consumed, by status type and result.",
		}, []string{"status", "result"}),
		effects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_cdr_effects_total", Help: "Effects applied, or skipped as already done (duplicates), by effect.",
		}, []string{"effect", "result"}),
	}
	p.transactions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kradius_cdr_transactions_total", Help: "Kafka transactions of the cdr consumer, by outcome: committed, aborted (a failed batch or a group rebalance; its records come again), failed (the session ended).",
	}, []string{"result"})
	for _, r := range []string{"committed", "aborted", "failed"} {
		p.transactions.WithLabelValues(r)
	}
	p.batchSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kradius_cdr_batch_records",
		Help:    "Accounting records the cdr consumer applies together (one ledger round, and with Kafka one transaction).",
		Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000},
	})
	reg.MustRegister(p.records, p.effects, p.transactions, p.batchSize)
	p.callStore, _ = ledger.(CallStore)
	if p.callStore == nil && len(p.calls) > 0 {
		log.Warn("the ledger keeps no calls: each call leg gets its own CDR")
	}
	kinds := []string{"cdr", "settlement"}
	for _, s := range sessions {
		kinds = append(kinds, s.EffectKinds()...)
	}
	for _, effect := range kinds {
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
	kind string // "cdr", or a profile's effect kind
	key  string
	run  func(context.Context) error
}

// effectWidth bounds the effects of a batch applied at once.
const effectWidth = 256

// applyBatch applies the effects of batch's records, each at most once, in
// phases: one ledger check for the lot, every profile effect (the FaxBack
// called-number updates), marks for those, every CDR, marks for those. Each phase's writes run
// concurrently, and the stores group concurrent writes into one transaction
// and one fsync (bbolt's Batch, the journal's group commit, a Kafka produce
// per partition), so a batch costs a few round trips whatever its size.
// Effects that succeeded are marked even when others failed, so a retry of
// the batch repeats only what did not happen.
func (p *Processor) applyBatch(ctx context.Context, batch []acctlog.Message) error {
	stops, profileEffects, dups, legs := p.stopsOf(batch)
	p.effects.WithLabelValues("cdr", "duplicate").Add(float64(dups))
	settlements, err := p.settle(stops)
	if err != nil {
		return err
	}
	profileEffects = append(profileEffects, settlements...)
	calls, err := p.callStops(ctx, batch)
	if err != nil {
		return err
	}
	cdrs := make([]effect, 0, len(stops)+len(calls))
	for _, st := range append(stops, calls...) {
		cdrs = append(cdrs, p.publishCDR(st))
	}
	for _, phase := range [][]effect{profileEffects, cdrs} {
		if err := p.applyOnce(ctx, phase); err != nil {
			return err
		}
	}
	if m, ok := p.cdrs.(interface{ marked(context.Context) error }); ok && len(cdrs) > 0 {
		// Every CDR of the batch is appended and marked: the sink may
		// forget the ones it kept as their marks.
		if err := m.marked(ctx); err != nil {
			return fmt.Errorf("CDR journal: %w", err)
		}
	}
	p.records.WithLabelValues(accountingv1.StatusType_STATUS_TYPE_STOP.String(), "applied").Add(float64(len(stops) + dups + legs))
	return nil
}

// batchStop is a Stop of a batch, with its profile's part of the consumer.
type batchStop struct {
	m        acctlog.Message
	rec      *accountingv1.Record
	sessions nas.Sessions
	// call, for the Stop that completes a call of a nas.Calls profile: the
	// CDR is the call's, of legs.
	call  string
	legs  []*accountingv1.Record
	calls nas.Calls
	// settled is the Stop's settlement record, for a nas.Settler profile.
	settled *settlementv1.Record
}

// key names the CDR of st in the ledger: the call's, as if it were a
// session's, for a call.
func (st batchStop) key() string {
	if st.call != "" {
		return cdrKey(st.call)
	}
	return effectKey("cdr", st.rec)
}

// logKey is the CDR's key on kradius.cdr.v1.
func (st batchStop) logKey() string {
	return cmp.Or(st.call, st.rec.GetSessionId())
}

// stopsOf decodes the Stops of batch, counting the other records, and
// returns the first Stop of each (session, status) in the batch with its
// profile's effects. A later copy (a retransmission appended again) is a
// duplicate before the ledger is even asked: its profile's effects are
// counted as such here, and dups counts the copies, whose CDRs the caller
// counts when it counts them. legs counts the Stops of call legs, whose
// CDRs are their calls' (callStops).
func (p *Processor) stopsOf(batch []acctlog.Message) (stops []batchStop, effects []effect, dups, legs int) {
	seen := map[string]bool{}
	for _, m := range batch {
		rec, ok := p.stop(m)
		if !ok {
			continue
		}
		sessions := p.sessions[rec.GetProfile()]
		var own []nas.Effect
		if sessions != nil {
			own = sessions.Effects(rec)
		}
		key := effectKey("cdr", rec)
		if seen[key] {
			for _, e := range own {
				p.effects.WithLabelValues(e.Kind, "duplicate").Inc()
			}
			dups++
			continue
		}
		seen[key] = true
		for _, e := range own {
			effects = append(effects, effect{kind: e.Kind, key: effectKey(e.Kind, rec), run: e.Run})
		}
		if p.callLeg(rec) {
			// Its CDR is its call's (callStops).
			legs++
			continue
		}
		stops = append(stops, batchStop{m: m, rec: rec, sessions: sessions})
	}
	return stops, effects, dups, legs
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

// publishCDR is the effect of appending the CDR of st, a session's or a
// call's, to kradius.cdr.v1.
func (p *Processor) publishCDR(st batchStop) effect {
	return effect{kind: "cdr", key: st.key(), run: func(ctx context.Context) error {
		value, err := cdrValue(st)
		if err != nil {
			return err
		}
		if err := p.cdrs.Append(ctx, []byte(st.logKey()), value); err != nil {
			return fmt.Errorf("publishing CDR of %q: %w", st.logKey(), err)
		}
		return nil
	}}
}

// cdrValue is the encoded CDR of st: for a session's Stop the common
// fields then the profile's block, for a call the call's (callCDR).
func cdrValue(st batchStop) ([]byte, error) {
	var c *accountingv1.CDR
	if st.call != "" {
		c = callCDR(st)
	} else {
		c = CommonCDR(st.rec)
		if st.sessions != nil {
			st.sessions.CDR(st.rec, c)
		}
	}
	if st.settled != nil {
		c.Block = &accountingv1.CDR_Settlement{Settlement: st.settled}
	}
	value, err := proto.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encoding CDR: %w", err)
	}
	return value, nil
}

// effectKey names an effect of a record's (session, status) in the ledger.
func effectKey(kind string, rec *accountingv1.Record) string {
	return fmt.Sprintf("%s/%d/%s", kind, rec.GetStatusTypeValue(), rec.GetSessionId())
}

// CommonCDR is the part of a Stop's CDR that every NAS family has: the
// session, the account, the NAS, the RFC 2866 counters, and every attribute.
func CommonCDR(rec *accountingv1.Record) *accountingv1.CDR {
	c := &accountingv1.CDR{
		SessionId: rec.GetSessionId(), Account: rec.GetUserName(), NasClient: rec.GetNasClient(),
		NasAddress: rec.GetNasAddress(), Profile: rec.GetProfile(),
		StopReceived: rec.GetReceived(), Attributes: rec.GetAttributes(),
	}
	var inGiga, outGiga uint64
	for _, a := range rec.GetAttributes() {
		if a.GetVendor() != 0 {
			continue
		}
		switch a.GetName() {
		case "Acct-Session-Time":
			c.SessionTime = uint32(a.GetInteger())
		case "Calling-Station-Id":
			c.CallingStationId = accounting.Text(a)
		case "Called-Station-Id":
			c.CalledStationId = accounting.Text(a)
		case "Acct-Terminate-Cause":
			c.TerminateCause = uint32(a.GetInteger())
		case "Acct-Input-Octets":
			c.InputOctets += a.GetInteger()
		case "Acct-Output-Octets":
			c.OutputOctets += a.GetInteger()
		case "Acct-Input-Gigawords":
			inGiga = a.GetInteger()
		case "Acct-Output-Gigawords":
			outGiga = a.GetInteger()
		}
	}
	c.InputOctets += inGiga << 32
	c.OutputOctets += outGiga << 32
	return c
}
