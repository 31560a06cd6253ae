package firebrick

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/proto"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc4372"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/carrier"
	"kradius.dev/services/nas/firebrick/digest"
	"kradius.dev/services/nas/firebrick/sipattr"
	"kradius.dev/services/recordsvc"
)

func newClient(t testing.TB) (*client, *profile) {
	t.Helper()
	s := service(t)
	if err := s.Put(context.Background(), []recordsvc.Write{
		{Kind: KindUsers, Value: &firebrickv1.User{Name: "office1", Extension: "201", Ha1: map[string]string{realm: digest.HA1("office1", realm, "s3cret")}}},
		{Kind: KindRoutes, Value: &firebrickv1.Route{Pattern: "201", Legs: []*firebrickv1.Leg{{Target: "tel:201"}}}},
		{Kind: carrier.KindName, Value: &carrierv1.Carrier{Name: "carrierA"}},
		{Kind: carrier.KindName, Value: &carrierv1.Carrier{Name: "carrierB", Cui: "cust-b", SourceCidrs: []string{"192.0.2.0/24"}, RejectMessage: "call barred"}},
	}); err != nil {
		t.Fatal(err)
	}
	built, err := Plugin.New(nas.Deps{Records: s, Metrics: prometheus.NewRegistry(), Host: "edge-1"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := built.Client(nil)
	if err != nil {
		t.Fatal(err)
	}
	return h.(*client), built.(*profile)
}

func invite(user, password string, local bool) *radius.Packet {
	p := sipRequest(user, "INVITE", "fb-nonce", password, 0)
	rfc2865.CalledStationID_SetString(p, "201")
	if local {
		rfc4372.ChargeableUserIdentity_Set(p, []byte("cust-9"))
	}
	return p
}

func carrierInvite(name, from string) *radius.Packet {
	p := invite(name, "", false)
	rfc2865.NASIPAddress_Set(p, net.ParseIP(from))
	return p
}

// TestCarrierCall: a carrier's CUI goes to the originating leg, before the
// first SIP-AOR, and its message into a Reject.
func TestCarrierCall(t *testing.T) {
	c, _ := newClient(t)
	got, err := c.ServeAccess(context.Background(), &nas.Request{Packet: carrierInvite("@carrierB", "192.0.2.9")})
	if err != nil || got.Code != radius.CodeAccessAccept {
		t.Fatalf("%v %v", got, err)
	}
	if a := got.Attributes; len(a) < 2 || a[0].Type != rfc4372.ChargeableUserIdentity_Type || string(a[0].Attribute) != "cust-b" || a[1].Type != 121 {
		t.Errorf("attributes %v: want the carrier's CUI, then the legs", a)
	}
	got, err = c.ServeAccess(context.Background(), &nas.Request{Packet: carrierInvite("@carrierB", "198.51.100.1")})
	if err != nil || got.Code != radius.CodeAccessReject || rfc2865.ReplyMessage_GetString(got) != "call barred" {
		t.Errorf("from elsewhere: %v %v, want a Reject with the carrier's message", got, err)
	}
}

func TestServeAccess(t *testing.T) {
	c, p := newClient(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  *radius.Packet
		code radius.Code
	}{
		{"REGISTER", sipRequest("office1", "REGISTER", "fb-nonce", "s3cret", 0), radius.CodeAccessAccept},
		{"INVITE from a carrier", invite("@carrierA", "", false), radius.CodeAccessAccept},
		{"INVITE from a carrier at its address", carrierInvite("@carrierB", "192.0.2.9"), radius.CodeAccessAccept},
		{"INVITE from an unknown carrier", invite("@carrierZ", "", false), radius.CodeAccessReject},
		{"INVITE from a carrier at another address", carrierInvite("@carrierB", "198.51.100.1"), radius.CodeAccessReject},
		{"INVITE from a local phone", invite("reception", "", true), radius.CodeAccessAccept},
		{"INVITE without a digest", invite("office1", "", false), radius.CodeAccessChallenge},
		{"INVITE with a digest", invite("office1", "s3cret", false), radius.CodeAccessAccept},
		{"INVITE with a wrong digest", invite("office1", "guess", false), radius.CodeAccessReject},
	} {
		got, err := c.ServeAccess(ctx, &nas.Request{Packet: tc.req, Client: "fb"})
		if err != nil || got.Code != tc.code {
			t.Errorf("%s: %v %v, want %v", tc.name, got, err, tc.code)
			continue
		}
		if tc.code == radius.CodeAccessAccept && tc.req != nil && sipattr.DigestMethod_GetString(tc.req) == "INVITE" {
			if aor, ok := got.Attributes.Lookup(121); !ok || string(aor) != "tel:201" {
				t.Errorf("%s: SIP-AOR %q, want the route's leg", tc.name, aor)
			}
		}
	}
	none := radius.New(radius.CodeAccessRequest, []byte("secret"))
	rfc2865.UserName_SetString(none, "office1")
	if got, err := c.ServeAccess(ctx, &nas.Request{Packet: none}); got != nil || nas.DropReason(err) != nas.ReasonMalformed {
		t.Errorf("no Digest-Method: %v %v, want a malformed drop", got, err)
	}
	for labels, want := range map[[2]string]float64{
		{"register", resultAccept}: 1, {"invite", resultRouted}: 4, {"invite", resultChallenge}: 1,
		{"invite", resultReject}: 1, {kindNone, "dropped"}: 1,
		{"invite", resultCarrier}: 1, {"invite", resultCarrierSource}: 1,
	} {
		if got := testutil.ToFloat64(p.requests.WithLabelValues(labels[0], labels[1])); got != want {
			t.Errorf("requests%v = %v, want %v", labels, got, want)
		}
	}
}

// TestRedirect: a 3xx from a telephone leg asks again, with the raw SIP
// code as Acct-Terminate-Cause and the new number dialled: it is routed,
// and counted apart.
func TestRedirect(t *testing.T) {
	c, p := newClient(t)
	req := invite("reception", "", true)
	rfc2865.CalledStationID_SetString(req, "201")
	rfc2866.AcctTerminateCause_Set(req, 302)
	got, err := c.ServeAccess(context.Background(), &nas.Request{Packet: req})
	if err != nil || got.Code != radius.CodeAccessAccept {
		t.Fatalf("302: %v %v, want the route's Accept", got, err)
	}
	if aor, _ := got.Attributes.Lookup(121); string(aor) != "tel:201" {
		t.Errorf("SIP-AOR %q, want the new route's leg", aor)
	}
	if n := testutil.ToFloat64(p.requests.WithLabelValues(kindRedirect, resultRouted)); n != 1 {
		t.Errorf("redirect routed = %v, want 1", n)
	}
	rfc2865.CalledStationID_SetString(req, "999")
	if got, err := c.ServeAccess(context.Background(), &nas.Request{Packet: req}); err != nil || got.Code != radius.CodeAccessReject {
		t.Errorf("301 to a number without a route: %v %v, want a Reject", got, err)
	}

	// Only a call has legs to redirect: a REGISTER carrying the attribute
	// (found by FuzzServeAccess) is approved by its digest, never routed.
	reg := sipRequest("reception", "REGISTER", "", "", 0)
	rfc4372.ChargeableUserIdentity_Set(reg, []byte("cust-9")) // as the local phone's INVITE above
	rfc2865.CalledStationID_SetString(reg, "201")
	rfc2866.AcctTerminateCause_Set(reg, 302)
	if got, err := c.ServeAccess(context.Background(), &nas.Request{Packet: reg}); err != nil || got.Code == radius.CodeAccessAccept {
		t.Errorf("a local phone's REGISTER without a digest, with Acct-Terminate-Cause: %v %v, want no Accept", got, err)
	}
	if n := testutil.ToFloat64(p.requests.WithLabelValues(kindRedirect, resultRouted)); n != 1 {
		t.Errorf("redirect routed = %v after the REGISTER, want still 1", n)
	}
}

func TestServeAccounting(t *testing.T) {
	c, _ := newClient(t)
	pkt := radius.New(radius.CodeAccountingRequest, []byte("secret"))
	rfc2866.AcctStatusType_Set(pkt, rfc2866.AcctStatusType_Value_Start)
	rfc2866.AcctSessionID_SetString(pkt, "leg-1")
	rfc2866.AcctMultiSessionID_SetString(pkt, "call-id-1@fb")
	rfc2865.CalledStationID_SetString(pkt, "201")
	rfc2866.AcctTerminateCause_Set(pkt, 302) // a raw SIP code, not an RFC 2866 value
	raw, err := pkt.Encode()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := c.ServeAccounting(context.Background(), &nas.AccountingRequest{Raw: raw, Client: "fb", Source: netip.MustParseAddrPort("192.0.2.7:1646"), Received: time.Unix(1_800_000_000, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got accountingv1.Record
	if err := proto.Unmarshal(rec.Wire, &got); err != nil {
		t.Fatal(err)
	}
	if got.GetProfile() != "firebrick" || got.GetSessionId() != "leg-1" || got.GetStatusType() != accountingv1.StatusType_STATUS_TYPE_START {
		t.Errorf("record %v", &got)
	}
	if string(rec.LogKey()) != "call-id-1@fb" {
		t.Errorf("log key %q: a leg is keyed by its call", rec.LogKey())
	}
	for _, a := range got.GetAttributes() {
		if a.GetName() == "Acct-Terminate-Cause" && a.GetInteger() != 302 {
			t.Errorf("Acct-Terminate-Cause %v, want the integer 302", a)
		}
	}
}
