package firebrick

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	"kradius.dev/services/recordsvc"
)

func TestRouteKeys(t *testing.T) {
	if got := strings.Join(routeKeys("4412"), " "); got != "4412 4412* 441* 44* 4* *" {
		t.Errorf("routeKeys = %s", got)
	}
}

// attrs lists a reply's attributes in order, as "type=value".
func attrs(p *radius.Packet) string {
	var out []string
	for _, a := range p.Attributes {
		out = append(out, fmt.Sprintf("%03d=%s", a.Type, a.Attribute))
	}
	return strings.Join(out, " ")
}

func call(dialled string) *radius.Packet {
	p := radius.New(radius.CodeAccessRequest, []byte("secret"))
	rfc2865.UserName_SetString(p, "office1")
	rfc2865.CalledStationID_SetString(p, dialled)
	return p
}

func TestRoute(t *testing.T) {
	ctx := context.Background()
	s := service(t)
	if err := s.Put(ctx, []recordsvc.Write{
		{Kind: KindRoutes, Value: &firebrickv1.Route{Pattern: "441632960001", Legs: []*firebrickv1.Leg{
			{Target: "tel:201", Cui: "cust-1"},
			{Target: "sip:voicemail@vm.example", DelaySeconds: 20, Cli: "Anonymous", DisplayName: "Office", RecordingEmails: []string{"rec@example.com"}},
		}}},
		{Kind: KindRoutes, Value: &firebrickv1.Route{Pattern: "44163296*", Legs: []*firebrickv1.Leg{{Target: "@carrierA", Dialled: "01632960000"}}}},
		{Kind: KindRoutes, Value: &firebrickv1.Route{Pattern: "4490*", RejectMessage: "premium rate barred"}},
		{Kind: KindRoutes, Value: &firebrickv1.Route{Pattern: "*", Legs: []*firebrickv1.Leg{{Target: "N@carrierB"}}}},
	}); err == nil {
		t.Fatal("a leg target N@carrier with N not a number was accepted")
	}
	if err := s.Put(ctx, []recordsvc.Write{
		{Kind: KindRoutes, Value: &firebrickv1.Route{Pattern: "441632960001", Legs: []*firebrickv1.Leg{
			{Target: "tel:201", Cui: "cust-1"},
			{Target: "sip:voicemail@vm.example", DelaySeconds: 20, Cli: "Anonymous", DisplayName: "Office", RecordingEmails: []string{"rec@example.com"}},
		}}},
		{Kind: KindRoutes, Value: &firebrickv1.Route{Pattern: "44163296*", Legs: []*firebrickv1.Leg{{Target: "@carrierA", Dialled: "01632960000"}}}},
		{Kind: KindRoutes, Value: &firebrickv1.Route{Pattern: "4490*", RejectMessage: "premium rate barred"}},
	}); err != nil {
		t.Fatal(err)
	}
	o, _ := options(t, "")
	r := &router{o: o, records: s}
	for _, tc := range []struct {
		name, dialled string
		code          radius.Code
		attrs         string
	}{
		{"exact, two legs in order", "441632960001", radius.CodeAccessAccept,
			"121=tel:201 089=cust-1 121=20+sip:voicemail@vm.example 031=Anonymous 001=Office 011=rec@example.com"},
		{"longest prefix", "441632960555", radius.CodeAccessAccept, "121=@carrierA 030=01632960000"},
		{"a route that rejects, with its message", "449012345", radius.CodeAccessReject, "018=premium rate barred"},
		{"no route, no catch-all", "33123", radius.CodeAccessReject, ""},
		{"not a number", "reception", radius.CodeAccessReject, ""},
	} {
		got, _, err := r.route(ctx, call(tc.dialled))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got.Code != tc.code || attrs(got) != tc.attrs {
			t.Errorf("%s: %v %q, want %v %q", tc.name, got.Code, attrs(got), tc.code, tc.attrs)
		}
	}
	// The catch-all, and SIP-AOR as RFC 5090 numbers it.
	if err := s.Put(ctx, []recordsvc.Write{{Kind: KindRoutes, Value: &firebrickv1.Route{Pattern: "*", Legs: []*firebrickv1.Leg{{Target: "@carrierB"}}}}}); err != nil {
		t.Fatal(err)
	}
	o122, _ := options(t, "sip_aor_attribute: 122\n")
	r = &router{o: o122, records: s}
	if got, _, err := r.route(ctx, call("33123")); err != nil || attrs(got) != "122=@carrierB" {
		t.Errorf("catch-all with SIP-AOR 122: %q %v", attrs(got), err)
	}
}

func TestRouteRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *firebrickv1.Route
		want string
	}{
		{"a pattern not a number", &firebrickv1.Route{Pattern: "44x*"}, "pattern"},
		{"a star inside", &firebrickv1.Route{Pattern: "4*4"}, "pattern"},
		{"legs and a reject message", &firebrickv1.Route{Pattern: "1", RejectMessage: "no", Legs: []*firebrickv1.Leg{{Target: "tel:1"}}}, "rejectMessage"},
		{"an unknown target", &firebrickv1.Route{Pattern: "1", Legs: []*firebrickv1.Leg{{Target: "mailto:x"}}}, "legs[0]: target"},
		{"a bad CLI", &firebrickv1.Route{Pattern: "1", Legs: []*firebrickv1.Leg{{Target: "tel:1", Cli: "Withheld"}}}, "legs[0]: cli"},
		{"a bad recording address", &firebrickv1.Route{Pattern: "1", Legs: []*firebrickv1.Leg{{Target: "tel:1", RecordingEmails: []string{"nobody"}}}}, "recordingEmails[0]"},
	} {
		if _, err := indexRoute(tc.r); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
