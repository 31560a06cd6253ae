package cdr

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	settlementv1 "kradius.dev/proto/kradius/settlement/v1"
	"kradius.dev/services/nas"
)

// SettlementLog is a TxnLog that also carries settlement records, on
// kradius.settlement.v1, in the same transaction as the CDRs.
type SettlementLog interface {
	ProduceSettlement(ctx context.Context, key, value []byte, done func(error))
}

// SetSettlement gives the processor the period totals it counts each
// Stop's settlement record in (nas.Settler profiles). Without it the
// records are still made, for the CDRs, but not counted.
func (p *Processor) SetSettlement(s nas.Settlement) { p.settlement = s }

// settle makes the settlement record of each Stop of a nas.Settler
// profile, once, for everything that carries it: the period totals (the
// effect returned, at most once per session), the Stop's CDR and the
// settlement topic. An error (the carriers' table not live) holds the
// batch: a settlement is never made without its carriers.
func (p *Processor) settle(stops []batchStop) ([]effect, error) {
	var effects []effect
	for i := range stops {
		s, ok := stops[i].sessions.(nas.Settler)
		if !ok {
			continue
		}
		r, err := s.Settle(stops[i].rec)
		if err != nil {
			return nil, fmt.Errorf("settlement of %q: %w", stops[i].rec.GetSessionId(), err)
		}
		stops[i].settled = r
		if p.settlement != nil {
			effects = append(effects, effect{kind: "settlement", key: effectKey("settlement", stops[i].rec), run: func(ctx context.Context) error {
				return p.settlement.Add(ctx, []*settlementv1.Record{r})
			}})
		}
	}
	return effects, nil
}

// settlementKey names a settlement record's claim on the settlement
// topic.
func settlementKey(rec *accountingv1.Record) string { return effectKey("settlement-record", rec) }

func settlementValue(r *settlementv1.Record) ([]byte, error) {
	b, err := proto.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding settlement record: %w", err)
	}
	return b, nil
}
