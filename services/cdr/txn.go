package cdr

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	"kradius.dev/services/accounting"
	"kradius.dev/services/acctlog"
)

// TxnLog is an accounting log consumed in transactions: the CDRs produced
// between Begin and End, and the offsets of the records polled meanwhile,
// commit together or not at all (kafkalog.TxnConsumer).
type TxnLog interface {
	// Poll waits for records until ctx ends and returns up to max.
	Poll(ctx context.Context, max int) ([]acctlog.Message, error)
	Begin() error
	// Produce adds a CDR to the transaction; done reports the broker's
	// answer.
	Produce(ctx context.Context, key, value []byte, done func(error))
	// End commits (or, with commit false, aborts) the transaction.
	// Committed false means aborted, and the log rewinds to the last
	// commit; an error means the log is unusable.
	End(ctx context.Context, commit bool) (committed bool, err error)
}

// Claim names the accounting record a CDR was published from: its
// partition and offset in the accounting topic.
type Claim struct {
	Partition int
	Offset    int64
}

// Claims keep, for each published CDR, the record it was published from:
// the transactional consumer's defence against the same Stop appended twice
// (RunTransactional says how it is read).
type Claims interface {
	// Claims reads the claims of keys: ok[i] false means none. A CDR that
	// the consumer before transactions published (its done-mark) reads as
	// a claim from partition -1.
	Claims(ctx context.Context, keys []string) (claims []Claim, ok []bool, err error)
	// SetClaims writes claims, one per key.
	SetClaims(ctx context.Context, keys []string, claims []Claim) error
}

// published says whether a CDR whose claim is c (ok: there is one) was
// published by a record other than the one at offset o of partition p, and
// so must not be published again. The claim is written in the transaction
// that publishes the CDR, before it commits, so it may come from a
// transaction that aborted; reading it against the consumer's position
// tells which:
//   - from another partition (or the consumer before transactions): that
//     record was consumed and its CDR is out;
//   - from an earlier offset of the same partition: consumed, since this
//     consumer is past it, in a committed transaction or in its own;
//   - from this very record: the transaction that wrote it aborted, and the
//     record came again;
//   - from a later offset: written by an aborted transaction that had got
//     further; that record will come again, see this claim and skip.
func published(c Claim, ok bool, p int, o int64) bool {
	if !ok {
		return false
	}
	return c.Partition != p || c.Offset < o
}

// RunTransactional consumes log until ctx ends, a batch per transaction:
// the profiles' effects (the called-numbers database, at most once through
// the ledger, as in Run), then the batch's CDRs, produced in the
// transaction with their claims written, then End, which commits the CDRs
// with the batch's offsets. A crash or a rebalance at any point before the
// commit aborts the transaction: the batch comes again, its effects are
// skipped as done, and its CDRs are published again, once, in the
// transaction that commits. Readers of the CDR topic read committed.
//
// When ctx ends, the batch in hand is finished and committed under a
// context the signal does not cancel, for up to the drain timeout, as Run
// does. An error from End ends the run: the log cannot go on.
func (p *Processor) RunTransactional(ctx context.Context, log TxnLog, claims Claims) error {
	var fetchPause, failPause time.Duration
	for {
		started := time.Now()
		batch, err := log.Poll(ctx, maxBatch)
		switch {
		case ctx.Err() != nil:
			// Records polled as ctx ended were not applied; uncommitted,
			// they come again.
			return nil
		case errors.Is(err, acctlog.ErrClosed):
			return fmt.Errorf("polling the accounting log: %w", err)
		case err != nil:
			fetchPause = min(max(2*fetchPause, 100*time.Millisecond), 5*time.Second)
			p.log.Warn("polling the accounting log failed; will retry", "err", err, "pause", fetchPause)
			if !sleepCtx(ctx, fetchPause) {
				return nil
			}
			continue
		}
		fetchPause = 0
		if len(batch) == 0 {
			continue
		}
		spanCtx, endSpan := p.batchSpan(ctx, batch)
		committed, applyErr, err := p.transact(spanCtx, log, claims, batch)
		endSpan(cmp.Or(err, applyErr))
		if err != nil {
			return err
		}
		switch {
		case applyErr != nil:
			// Aborted: the batch comes again, after a pause that grows
			// while the failure lasts (a Redis restarting, say).
			failPause = min(max(2*failPause, 100*time.Millisecond), 10*time.Second)
			first, last := batch[0], batch[len(batch)-1]
			p.log.Warn("records not applied; transaction aborted, they come again", "records", len(batch), "first_offset", first.Offset, "last_offset", last.Offset, "partition", first.Partition, "err", applyErr, "pause", failPause)
			if !sleepCtx(ctx, failPause) {
				return nil
			}
			continue
		case !committed:
			p.log.Info("transaction aborted by a group rebalance; its records come again to their new owner", "records", len(batch))
		}
		failPause = 0
		if !p.pause(ctx, started, len(batch)) {
			return nil
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// transact applies batch in one transaction and ends it: committed says
// whether it committed, applyErr why it was aborted if the batch failed,
// err that the log is unusable.
func (p *Processor) transact(ctx context.Context, log TxnLog, claims Claims, batch []acctlog.Message) (committed bool, applyErr, err error) {
	drainCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		p.log.Info("stopping: finishing the transaction in hand", "records", len(batch), "drain_timeout", p.drainTimeout().String())
		t := time.NewTimer(p.drainTimeout())
		defer t.Stop()
		select {
		case <-t.C:
			p.log.Warn("drain timeout: the transaction in hand is cut off and aborts; its records come again", "records", len(batch))
			cancel()
		case <-drainCtx.Done():
		}
	})
	defer stop()
	if err := log.Begin(); err != nil {
		return false, nil, err
	}
	var n txnCounts
	n, applyErr = p.applyTxn(drainCtx, log, claims, batch)
	committed, err = log.End(drainCtx, applyErr == nil)
	if err != nil {
		p.transactions.WithLabelValues("failed").Inc()
		return false, applyErr, err
	}
	if !committed {
		p.transactions.WithLabelValues("aborted").Inc()
		return false, applyErr, nil
	}
	// Counted once committed: an aborted batch comes again.
	p.transactions.WithLabelValues("committed").Inc()
	p.effects.WithLabelValues("cdr", "applied").Add(float64(n.published))
	p.effects.WithLabelValues("cdr", "duplicate").Add(float64(n.duplicates))
	p.records.WithLabelValues(accountingv1.StatusType_STATUS_TYPE_STOP.String(), "applied").Add(float64(n.stops))
	return true, nil, nil
}

// txnCounts are what a transaction did, for the metrics once it commits.
type txnCounts struct {
	stops, published, duplicates int
}

// txnCDR is one CDR to publish in a transaction.
type txnCDR struct {
	key    string
	logKey string
	from   Claim
	value  []byte
	// settlement: a settlement record, for kradius.settlement.v1.
	settlement bool
}

// applyTxn applies a batch inside the transaction: the profiles' effects
// through the ledger, then the CDRs not published before, produced with
// their claims written.
func (p *Processor) applyTxn(ctx context.Context, log TxnLog, claims Claims, batch []acctlog.Message) (txnCounts, error) {
	stops, profileEffects, dups, legs := p.stopsOf(batch)
	// The same Stop twice in one batch: the first, at the lower offset,
	// publishes.
	n := txnCounts{stops: len(stops) + dups + legs, duplicates: dups}
	settlements, err := p.settle(stops)
	if err != nil {
		return n, err
	}
	profileEffects = append(profileEffects, settlements...)
	calls, err := p.callStops(ctx, batch)
	if err != nil {
		return n, err
	}
	settlementLog, _ := log.(SettlementLog)
	cdrs := make([]txnCDR, 0, len(stops)+len(calls))
	for _, st := range append(stops, calls...) {
		from := Claim{Partition: st.m.Partition, Offset: st.m.Offset}
		value, err := cdrValue(st)
		if err != nil {
			return n, err
		}
		cdrs = append(cdrs, txnCDR{key: st.key(), logKey: st.logKey(), from: from, value: value})
		if st.settled != nil && settlementLog != nil {
			value, err := settlementValue(st.settled)
			if err != nil {
				return n, err
			}
			cdrs = append(cdrs, txnCDR{key: settlementKey(st.rec), logKey: st.rec.GetSessionId(), from: from, value: value, settlement: true})
		}
	}
	if err := p.applyOnce(ctx, profileEffects); err != nil {
		return n, err
	}
	if len(cdrs) == 0 {
		return n, nil
	}
	keys := make([]string, len(cdrs))
	for i, c := range cdrs {
		keys[i] = c.key
	}
	held, ok, err := claims.Claims(ctx, keys)
	if err != nil {
		return n, fmt.Errorf("claims: %w", err)
	}
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		first     error
		claimKeys []string
		claimed   []Claim
	)
	cdrsPublished := 0
	for i, c := range cdrs {
		if published(held[i], ok[i], c.from.Partition, c.from.Offset) {
			if !c.settlement {
				n.duplicates++
			}
			continue
		}
		if !c.settlement {
			cdrsPublished++
		}
		claimKeys, claimed = append(claimKeys, c.key), append(claimed, c.from)
		wg.Add(1)
		produce := log.Produce
		if c.settlement {
			produce = settlementLog.ProduceSettlement
		}
		produce(ctx, []byte(c.logKey), c.value, func(err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				first = cmp.Or(first, fmt.Errorf("publishing CDR of %q: %w", c.logKey, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != nil {
		return n, first
	}
	if err := claims.SetClaims(ctx, claimKeys, claimed); err != nil {
		return n, fmt.Errorf("claims: %w", err)
	}
	n.published = cdrsPublished
	return n, nil
}

// stop decodes m if it is a Stop, counting it otherwise.
func (p *Processor) stop(m acctlog.Message) (*accountingv1.Record, bool) {
	// Only Stops have effects: the others are counted without the cost of
	// decoding their attributes.
	if st, ok := accounting.StatusTypeOf(m.Value); ok && st != accountingv1.StatusType_STATUS_TYPE_STOP {
		p.records.WithLabelValues(st.String(), "no_effect").Inc()
		return nil, false
	}
	rec := new(accountingv1.Record)
	if err := proto.Unmarshal(m.Value, rec); err != nil {
		// It can never decode; holding the log on it would stop all
		// billing. It stays in the log for inspection.
		p.records.WithLabelValues("unknown", "undecodable").Inc()
		p.log.Error("undecodable accounting record skipped", "offset", m.Offset, "partition", m.Partition, "err", err)
		return nil, false
	}
	if rec.GetStatusType() != accountingv1.StatusType_STATUS_TYPE_STOP {
		p.records.WithLabelValues(rec.GetStatusType().String(), "no_effect").Inc()
		return nil, false
	}
	return rec, true
}
