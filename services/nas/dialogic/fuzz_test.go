package dialogic

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"layeh.com/radius"
	"layeh.com/radius/rfc2866"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	"kradius.dev/services/nas"
)

// FuzzDecode feeds arbitrary packets to a Dialogic client's Access-Request
// path (on a live carriers' table) and to its accounting encoder, and the
// records to the consumer's Settle: nothing may panic; a request is
// answered with a reply that encodes, or dropped with a reason; a record
// decodes, with any derived field well formed.
func FuzzDecode(f *testing.F) {
	for _, b := range [][]byte{
		mustEncode(f, authRequest("10.0.0.1", "7", "10.0.0.1", "01632960002")),
		mustEncode(f, authRequest("10.0.0.1", "", "198.51.100.9", "+33123")),
		call{status: rfc2866.AcctStatusType_Value_Start, session: "s", img: "10.0.0.1", direction: "O", trunkIn: "7", remote: "10.0.0.2", startType: 2, startTime: 1}.packet(),
		call{status: rfc2866.AcctStatusType_Value_Stop, session: "s", img: "10.0.0.2", direction: "I", originate: "10.0.0.1", remote: "203.0.113.5", stringAddrs: true}.packet(),
	} {
		f.Add(b)
	}
	rs := records(f, tandem)
	p := runningF(f, rs)
	h, err := p.Client(nil)
	if err != nil {
		f.Fatal(err)
	}
	s := newSessions(nas.SessionDeps{Records: rs}).(*sessions)
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	go s.Run(ctx)
	waitLive(f, s.live.Table)
	f.Fuzz(func(t *testing.T, b []byte) {
		if pkt, err := radius.Parse(b, []byte("secret")); err == nil && pkt.Code == radius.CodeAccessRequest {
			reply, err := h.ServeAccess(ctx, &nas.Request{Packet: pkt, Client: "fuzz"})
			if (reply == nil) == (err == nil) {
				t.Fatalf("reply %v with err %v: want exactly one", reply, err)
			}
			if reply != nil {
				if _, err := reply.Encode(); err != nil {
					t.Fatalf("unencodable reply: %v", err)
				}
			}
		}
		rec, err := h.(nas.AccountingHandler).ServeAccounting(ctx, &nas.AccountingRequest{
			Raw: b, Client: "fuzz", Source: netip.MustParseAddrPort("192.0.2.1:1646"), Received: time.Unix(1_800_000_000, 0)}, nil)
		if err != nil {
			if nas.DropReason(err) == "" {
				t.Fatalf("accounting error without a reason: %v", err)
			}
			return
		}
		var r accountingv1.Record
		if err := proto.Unmarshal(rec.Wire, &r); err != nil {
			t.Fatalf("the record does not decode: %v", err)
		}
		if r.GetStatusType() == accountingv1.StatusType_STATUS_TYPE_STOP {
			if _, err := s.Settle(&r); err != nil {
				t.Fatalf("Settle on a live table: %v", err)
			}
		}
	})
}

func mustEncode(f *testing.F, p *radius.Packet) []byte {
	b, err := p.Encode()
	if err != nil {
		f.Fatal(err)
	}
	return b
}
