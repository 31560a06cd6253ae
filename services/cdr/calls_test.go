package cdr

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	"kradius.dev/services/acctlog"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
	"kradius.dev/services/nas/firebrick"
)

// leg is one FireBrick accounting record of a call's leg, received at
// second at of the call.
func leg(call, session string, status accountingv1.StatusType, at int, attrs ...*accountingv1.Attribute) acctlog.Message {
	start := time.Unix(1_800_000_000, 0)
	rec := &accountingv1.Record{
		SessionId: session, StatusType: status, StatusTypeValue: uint32(status), Profile: "firebrick",
		Received: timestamppb.New(start.Add(time.Duration(at) * time.Second)),
		Attributes: append([]*accountingv1.Attribute{
			{Name: "Acct-Multi-Session-Id", Type: 50, Value: &accountingv1.Attribute_Text{Text: call}},
			{Name: "Event-Timestamp", Type: 55, Value: &accountingv1.Attribute_Time{Time: timestamppb.New(start)}},
		}, attrs...),
	}
	b, _ := proto.Marshal(rec)
	return acctlog.Message{Key: []byte(call), Value: b}
}

func text(name string, v string) *accountingv1.Attribute {
	return &accountingv1.Attribute{Name: name, Value: &accountingv1.Attribute_Text{Text: v}}
}

func seconds(n uint64) *accountingv1.Attribute {
	return &accountingv1.Attribute{Name: "Acct-Session-Time", Type: 46, Value: &accountingv1.Attribute_Integer{Integer: n}}
}

const (
	start   = accountingv1.StatusType_STATUS_TYPE_START
	interim = accountingv1.StatusType_STATUS_TYPE_INTERIM_UPDATE
	stopped = accountingv1.StatusType_STATUS_TYPE_STOP
)

// threeLegs is a call from a phone to a route of two legs: the first rings
// out unanswered, the second answers after 5 s and talks for 60 s.
func threeLegs(call string) [][]acctlog.Message {
	a := []*accountingv1.Attribute{text("Calling-Station-Id", "01632960001"), text("Called-Station-Id", "201"), text("User-Name", "sip:office1@fb"), text("Chargeable-User-Identity", "cust-9")}
	return [][]acctlog.Message{
		{leg(call, "A", start, 0, a...), leg(call, "B1", start, 0, text("Called-Station-Id", "201"), text("Callback-Id", "sip:201@desk"))},
		{leg(call, "B1", stopped, 20, seconds(0)), leg(call, "B2", start, 20, text("Callback-Id", "sip:mobile@far"))},
		{leg(call, "B2", interim, 25, seconds(5)), leg(call, "A", interim, 25, seconds(25))},
		{leg(call, "B2", stopped, 85, seconds(60))},
		{leg(call, "A", stopped, 85, seconds(60))},
	}
}

func TestThreeLegsOneCDR(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { client.Close() })
	bolt, err := OpenBoltLedger(filepath.Join(t.TempDir(), "l.db"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bolt.Close() })
	ctx := context.Background()
	for name, ledger := range map[string]Ledger{"redis": NewRedisLedger(client, "{kradius}", time.Hour), "bolt": bolt} {
		t.Run(name, func(t *testing.T) {
			cdrs := &sink{}
			sessions := map[string]nas.Sessions{"firebrick": firebrick.Plugin.Sessions(nas.SessionDeps{})}
			p := New(ledger, cdrs, sessions, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
			batches := threeLegs("call-" + name + "@fb")
			for i, b := range batches {
				if err := p.applyBatch(ctx, b); err != nil {
					t.Fatal(err)
				}
				if want := i / (len(batches) - 1); cdrs.count() != want {
					t.Fatalf("after batch %d: %d CDRs, want %d", i, cdrs.count(), want)
				}
			}
			// The log delivers it all again (a consumer restarted before
			// committing): the call's CDR is done.
			for _, b := range batches {
				if err := p.applyBatch(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			if cdrs.count() != 1 {
				t.Fatalf("%d CDRs after a redelivery, want 1", cdrs.count())
			}
			c := cdrs.cdrs[0]
			b := c.GetFirebrick()
			if c.GetSessionId() != "call-"+name+"@fb" || b.GetCallId() != c.GetSessionId() || len(b.GetLegs()) != 3 {
				t.Fatalf("CDR %v", c)
			}
			if b.GetRingSeconds() != 25 || b.GetConnectedSeconds() != 60 || b.GetCli() != "01632960001" || b.GetDialled() != "201" || b.GetCui() != "cust-9" || c.GetSessionTime() != 60 {
				t.Errorf("call fields %v", b)
			}
			for i, want := range []struct {
				id         string
				ring, conn uint32
				connected  bool
			}{{"A", 25, 60, true}, {"B1", 0, 0, false}, {"B2", 5, 60, true}} {
				l := b.GetLegs()[i]
				if l.GetSessionId() != want.id || l.GetRingSeconds() != want.ring || l.GetConnectedSeconds() != want.conn || l.GetConnected() != want.connected || !l.GetStopped() {
					t.Errorf("legs[%d] = %v, want %+v", i, l, want)
				}
			}
			if b.GetLegs()[2].GetRemote() != "sip:mobile@far" || !b.GetStart().AsTime().Equal(time.Unix(1_800_000_000, 0)) {
				t.Errorf("leg B2 %v, start %v", b.GetLegs()[2], b.GetStart())
			}
		})
	}
}

// A call's legs all in one batch, and a leg's Stop twice: one CDR.
func TestCallInOneBatch(t *testing.T) {
	f := newFixture(t)
	f.p.calls = callsOf(map[string]nas.Sessions{"firebrick": firebrick.Plugin.Sessions(nas.SessionDeps{})})
	f.p.sessions["firebrick"] = firebrick.Plugin.Sessions(nas.SessionDeps{})
	var all []acctlog.Message
	for _, b := range threeLegs("one-batch@fb") {
		all = append(all, b...)
	}
	all = append(all, all[len(all)-1])
	if err := f.p.applyBatch(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	if f.cdrs.count() != 1 || len(f.cdrs.cdrs[0].GetFirebrick().GetLegs()) != 3 {
		t.Fatalf("%d CDRs (%v), want one of 3 legs", f.cdrs.count(), f.cdrs.cdrs)
	}
}

// TestTransactionalCalls: on the transactional path, with its first
// transactions aborted after their CDRs were produced, each call's CDR is
// on the topic once, for a read_committed reader.
func TestTransactionalCalls(t *testing.T) {
	f := newTxnFixture(t)
	f.p.calls = callsOf(map[string]nas.Sessions{"firebrick": firebrick.Plugin.Sessions(nas.SessionDeps{})})
	f.p.sessions["firebrick"] = firebrick.Plugin.Sessions(nas.SessionDeps{})
	const calls = 30
	var msgs []acctlog.Message
	for i := range calls {
		for _, b := range threeLegs(fmt.Sprintf("s-%03d", i)) {
			msgs = append(msgs, b...)
		}
		// The last Stop twice: a NAS's retransmission to another edge.
		msgs = append(msgs, msgs[len(msgs)-1])
	}
	f.append(t, msgs)
	c := f.consumer(t)
	defer c.Close()
	log := &abortingLog{TxnLog: c, aborts: 2}
	f.runUntil(t, log, calls*4)
	checkOnce(t, f.committedCDRs(t), calls)
}
