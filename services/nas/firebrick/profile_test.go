package firebrick

import (
	"context"
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
	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	"kradius.dev/services/nas"
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
		{"register", resultAccept}: 1, {"invite", resultRouted}: 3, {"invite", resultChallenge}: 1,
		{"invite", resultReject}: 1, {kindNone, "dropped"}: 1,
	} {
		if got := testutil.ToFloat64(p.requests.WithLabelValues(labels[0], labels[1])); got != want {
			t.Errorf("requests%v = %v, want %v", labels, got, want)
		}
	}
}

func TestServeAccounting(t *testing.T) {
	c, _ := newClient(t)
	pkt := radius.New(radius.CodeAccountingRequest, []byte("secret"))
	rfc2866.AcctStatusType_Set(pkt, rfc2866.AcctStatusType_Value_Start)
	rfc2866.AcctSessionID_SetString(pkt, "leg-1")
	rfc2866.AcctMultiSessionID_SetString(pkt, "call-id-1@fb")
	rfc2865.CalledStationID_SetString(pkt, "201")
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
}
