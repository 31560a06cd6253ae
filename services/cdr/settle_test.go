package cdr

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	settlementv1 "kradius.dev/proto/kradius/settlement/v1"
	"kradius.dev/services/acctlog"
	"kradius.dev/services/nas"
	"kradius.dev/services/settlement"
)

// settler settles every Stop between two carriers, or fails while down.
type settler struct {
	nas.Sessions
	down bool
}

func (s *settler) Settle(rec *accountingv1.Record) (*settlementv1.Record, error) {
	if s.down {
		return nil, errors.New("carriers' table not live")
	}
	return &settlementv1.Record{SessionId: rec.GetSessionId(), OriginatingCarrier: "a", TerminatingCarrier: "b", Seconds: 61,
		Start: rec.GetReceived(), Side: settlementv1.Side_SIDE_ORIGINATING}, nil
}

func dialogicStop(session string) acctlog.Message {
	rec := &accountingv1.Record{SessionId: session, StatusType: accountingv1.StatusType_STATUS_TYPE_STOP, StatusTypeValue: 2, Profile: "dialogic",
		Received: timestamppb.New(time.Date(2027, 1, 15, 8, 30, 0, 0, time.UTC))}
	b, _ := proto.Marshal(rec)
	return acctlog.Message{Key: []byte(session), Value: b}
}

// Each Stop of a Settler profile is settled once: counted once in the
// totals, its record in its CDR; a settlement that cannot be made holds
// the batch, and nothing of it is published.
func TestSettleOnce(t *testing.T) {
	f := newFixture(t)
	totals, err := settlement.OpenBolt(filepath.Join(t.TempDir(), "settlement.db"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer totals.Close()
	s := &settler{Sessions: f.p.sessions["faxback"], down: true}
	f.p.sessions["dialogic"] = s
	f.p.SetSettlement(totals)
	ctx := context.Background()
	batch := []acctlog.Message{dialogicStop("d-1"), dialogicStop("d-2"), dialogicStop("d-1")}
	if err := f.p.applyBatch(ctx, batch); err == nil || f.cdrs.count() != 0 {
		t.Fatalf("a settlement that cannot be made: err %v, %d CDRs; want an error and none", err, f.cdrs.count())
	}
	s.down = false
	for range 2 { // the batch comes again, and again
		if err := f.p.applyBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := totals.Report(ctx, time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 16, 0, 0, 0, 0, time.UTC), settlement.Day)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Calls != 2 || rows[0].Seconds != 122 {
		t.Errorf("rows %+v, want one row of 2 calls, 122 s", rows)
	}
	if f.cdrs.count() != 2 {
		t.Fatalf("%d CDRs, want 2", f.cdrs.count())
	}
	for _, c := range f.cdrs.cdrs {
		if c.GetSettlement().GetSessionId() != c.GetSessionId() || c.GetSettlement().GetOriginatingCarrier() != "a" {
			t.Errorf("CDR %v: want its settlement record", c)
		}
	}
}
