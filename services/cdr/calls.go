package cdr

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	"kradius.dev/services/accounting"
	"kradius.dev/services/acctlog"
	"kradius.dev/services/nas"
)

// CallStore keeps the records of the calls of nas.Calls profiles until
// each leg has stopped, for as long as a done-mark lives: a call's legs
// span batches, and consumers.
type CallStore interface {
	// AddCallRecords writes records to their calls, in one round trip.
	AddCallRecords(ctx context.Context, recs []CallRecord) error
	// CallRecords reads the records of each call, in one round trip.
	CallRecords(ctx context.Context, calls []string) ([][][]byte, error)
}

// CallRecord is one record of a call's leg.
type CallRecord struct {
	Call string
	// Leg names the record within the call, "<status>/<session>": a copy
	// of a record (a retransmission) overwrites itself.
	Leg  string
	Wire []byte
}

// callsOf are the profiles whose CDR is a call's.
func callsOf(sessions map[string]nas.Sessions) map[string]nas.Calls {
	out := map[string]nas.Calls{}
	for name, s := range sessions {
		if c, ok := s.(nas.Calls); ok {
			out[name] = c
		}
	}
	return out
}

// callLeg says whether rec is a leg of a call, whose Stop publishes no CDR
// of its own.
func (p *Processor) callLeg(rec *accountingv1.Record) bool {
	c, ok := p.calls[rec.GetProfile()]
	return ok && p.callStore != nil && c.CallOf(rec) != ""
}

// callStops writes the batch's records of calls to the call store, then
// returns each call that has a Stop in the batch and whose legs, every one
// that began, have now all stopped: its CDR is published, as from the
// call's last Stop in the batch. A call's legs share a log key, so they
// come in order, and a leg that begins does so while the call's first leg
// is up: the call is complete when the last of them stops.
func (p *Processor) callStops(ctx context.Context, batch []acctlog.Message) ([]batchStop, error) {
	if p.callStore == nil || len(p.calls) == 0 {
		return nil, nil
	}
	var (
		recs  []CallRecord
		order []string                       // calls with a Stop, by first Stop
		last  = map[string]acctlog.Message{} // a call's last Stop
		owner = map[string]nas.Calls{}       // a call's profile
		names = map[string]nas.Sessions{}    // for the CDR
	)
	for _, m := range batch {
		profile, ok := accounting.ProfileOf(m.Value)
		calls := p.calls[profile]
		if !ok || calls == nil {
			continue
		}
		rec := new(accountingv1.Record)
		if err := proto.Unmarshal(m.Value, rec); err != nil {
			continue // stopsOf counts and logs it
		}
		call := calls.CallOf(rec)
		if call == "" {
			continue
		}
		recs = append(recs, CallRecord{Call: call, Leg: fmt.Sprintf("%d/%s", rec.GetStatusTypeValue(), rec.GetSessionId()), Wire: m.Value})
		if rec.GetStatusType() == accountingv1.StatusType_STATUS_TYPE_STOP {
			if _, seen := last[call]; !seen {
				order = append(order, call)
			}
			last[call], owner[call], names[call] = m, calls, p.sessions[profile]
		}
	}
	if len(recs) == 0 {
		return nil, nil
	}
	if err := p.callStore.AddCallRecords(ctx, recs); err != nil {
		return nil, fmt.Errorf("calls: %w", err)
	}
	if len(order) == 0 {
		return nil, nil
	}
	stored, err := p.callStore.CallRecords(ctx, order)
	if err != nil {
		return nil, fmt.Errorf("calls: %w", err)
	}
	var out []batchStop
	for i, call := range order {
		legs, final, ok := completeCall(stored[i])
		if !ok {
			continue
		}
		out = append(out, batchStop{m: last[call], rec: final, sessions: names[call], call: call, legs: legs, calls: owner[call]})
	}
	return out, nil
}

// completeCall decodes a call's records in the order its legs began and
// says whether every leg that began has stopped; final is the last Stop.
func completeCall(wires [][]byte) (legs []*accountingv1.Record, final *accountingv1.Record, ok bool) {
	began, stopped := map[string]bool{}, map[string]bool{}
	for _, w := range wires {
		rec := new(accountingv1.Record)
		if err := proto.Unmarshal(w, rec); err != nil {
			continue // written by callStops from a record that decoded
		}
		legs = append(legs, rec)
		switch rec.GetStatusType() {
		case accountingv1.StatusType_STATUS_TYPE_STOP:
			stopped[rec.GetSessionId()] = true
			if final == nil || rec.GetReceived().AsTime().After(final.GetReceived().AsTime()) {
				final = rec
			}
		default:
			began[rec.GetSessionId()] = true
		}
	}
	for session := range began {
		if !stopped[session] {
			return nil, nil, false
		}
	}
	return sortLegs(legs), final, final != nil
}

// sortLegs orders a call's records by leg, the legs in the order they
// began (their first record received), and a leg's Start, Interim-Update
// and Stop in that order whatever the clocks of the edges that received
// them say.
func sortLegs(legs []*accountingv1.Record) []*accountingv1.Record {
	rank := func(r *accountingv1.Record) int {
		switch r.GetStatusType() {
		case accountingv1.StatusType_STATUS_TYPE_START:
			return 0
		case accountingv1.StatusType_STATUS_TYPE_STOP:
			return 2
		}
		return 1
	}
	began := map[string]time.Time{}
	for _, r := range legs {
		t, ok := began[r.GetSessionId()]
		if at := r.GetReceived().AsTime(); !ok || at.Before(t) {
			began[r.GetSessionId()] = at
		}
	}
	slices.SortStableFunc(legs, func(a, b *accountingv1.Record) int {
		return cmp.Or(
			began[a.GetSessionId()].Compare(began[b.GetSessionId()]),
			cmp.Compare(a.GetSessionId(), b.GetSessionId()),
			cmp.Compare(rank(a), rank(b)),
		)
	})
	return legs
}

// callCDR is the CDR of a complete call: the common fields of its last
// Stop, the call as its session, and the profile's block of every leg.
func callCDR(st batchStop) *accountingv1.CDR {
	c := CommonCDR(st.rec)
	c.SessionId = st.call
	st.calls.CallCDR(st.call, st.legs, c)
	return c
}
