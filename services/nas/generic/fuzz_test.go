package generic

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	"kradius.dev/services/nas"
)

// FuzzDecode feeds arbitrary packets to a generic client's Access-Request
// path, on a real store, and to its accounting encoder: nothing may panic;
// a request is answered, with a reply that encodes, an Accept only for a
// user who exists, or dropped as malformed or with a bad authenticator
// (the store is up, so never as a backend error); an Accounting-Request
// becomes a record of its Acct-Session-Id, or is dropped with a reason.
func FuzzDecode(f *testing.F) {
	challenge := []byte("a challenge of 21 oct")
	for _, req := range []*nas.Request{
		request(user("alice"), pap("wonderland")),
		request(user("alice"), pap("guess")),
		request(user("bob"), chap(9, "builder", challenge)),
		request(user("Bob"), chap(200, "builder", nil)),
		request(pap("wonderland")),
	} {
		f.Add(fuzzEncode(f, req.Packet))
	}
	stop := radius.New(radius.CodeAccountingRequest, []byte(secret))
	rfc2866.AcctStatusType_Set(stop, rfc2866.AcctStatusType_Value_Stop)
	rfc2866.AcctSessionID_SetString(stop, "s-1")
	rfc2865.UserName_SetString(stop, "alice")
	rfc2866.AcctSessionTime_Set(stop, 42)
	f.Add(fuzzEncode(f, stop))

	p := newTestProfile(f, usersStore(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		if pkt, err := radius.Parse(b, []byte(secret)); err == nil && pkt.Code == radius.CodeAccessRequest {
			fuzzAccess(t, p, pkt)
		}
		fuzzAccounting(t, p, b)
	})
}

func fuzzAccess(t *testing.T, p *profile, pkt *radius.Packet) {
	t.Helper()
	reply, err := p.ServeAccess(context.Background(), &nas.Request{Packet: pkt, Client: "fuzz"})
	if (reply == nil) == (err == nil) {
		t.Fatalf("reply %v with err %v: want exactly one", reply, err)
	}
	if err != nil {
		if r := nas.DropReason(err); r != nas.ReasonMalformed && r != nas.ReasonBadAuthenticator {
			t.Fatalf("dropped as %s: %v", r, err)
		}
		return
	}
	if _, err := reply.Encode(); err != nil {
		t.Fatalf("unencodable reply: %v", err)
	}
	switch name := strings.ToLower(rfc2865.UserName_GetString(pkt)); {
	case reply.Code == radius.CodeAccessReject:
	case reply.Code != radius.CodeAccessAccept:
		t.Fatalf("a %v", reply.Code)
	case name != "alice" && name != "bob":
		t.Fatalf("an Accept for %q, who is no user", name)
	}
}

func fuzzAccounting(t *testing.T, p *profile, b []byte) {
	t.Helper()
	rec, err := p.ServeAccounting(context.Background(), &nas.AccountingRequest{
		Raw: b, Client: "fuzz", Source: netip.MustParseAddrPort("192.0.2.1:1646"), Received: time.Unix(1_800_000_000, 0)}, nil)
	if err != nil {
		if d := (*nas.Drop)(nil); !errors.As(err, &d) {
			t.Fatalf("accounting error that is no drop: %v", err)
		}
		return
	}
	var r accountingv1.Record
	if err := proto.Unmarshal(rec.Wire, &r); err != nil {
		t.Fatalf("the record does not decode: %v", err)
	}
	if r.GetProfile() != Plugin.Name || r.GetSessionId() != string(rec.SessionID) {
		t.Fatalf("record of profile %q, session %q; returned with session %q", r.GetProfile(), r.GetSessionId(), rec.SessionID)
	}
}

func fuzzEncode(f *testing.F, p *radius.Packet) []byte {
	b, err := p.Encode()
	if err != nil {
		f.Fatal(err)
	}
	return b
}
