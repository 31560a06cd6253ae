package carrier

import (
	"net/netip"
	"testing"

	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
)

func TestTable(t *testing.T) {
	a := &carrierv1.Carrier{Name: "PartnerA", Trunks: []*carrierv1.Trunk{{Img: "10.0.0.1", TrunkId: "7"}, {Img: "10.0.0.2", TrunkId: "SS7-1"}}}
	b := &carrierv1.Carrier{Name: "PartnerB", SourceCidrs: []string{"198.51.100.0/24"}}
	bSub := &carrierv1.Carrier{Name: "PartnerBSub", SourceCidrs: []string{"198.51.100.128/25"}}
	primary := &carrierv1.Carrier{Name: "Primary", Primary: true, SourceCidrs: []string{"10.0.0.0/8", "2001:db8::/32"}}
	dupA := &carrierv1.Carrier{Name: "Dup1", Trunks: []*carrierv1.Trunk{{Img: "10.0.0.9", TrunkId: "1"}}, SourceCidrs: []string{"203.0.113.0/24"}}
	dupB := &carrierv1.Carrier{Name: "Dup2", Trunks: []*carrierv1.Trunk{{Img: "10.0.0.9", TrunkId: "1"}}, SourceCidrs: []string{"203.0.113.0/24"}}
	tab := NewTable([]*carrierv1.Carrier{a, b, bSub, primary, dupA, dupB})

	for _, tc := range []struct {
		img, id string
		want    string
	}{
		{"10.0.0.1", "7", "PartnerA"},
		{"::ffff:10.0.0.1", "7", "PartnerA"},
		{"10.0.0.2", "7", ""},  // a trunk id known on another IMG only
		{"10.0.0.1", "70", ""}, // an unknown trunk
		{"10.0.0.9", "1", ""},  // claimed by two carriers
	} {
		c, ok := tab.ByTrunk(netip.MustParseAddr(tc.img), tc.id)
		if got := c.GetName(); ok != (tc.want != "") || got != tc.want {
			t.Errorf("ByTrunk(%s, %s) = %q %v, want %q", tc.img, tc.id, got, ok, tc.want)
		}
	}
	for addr, want := range map[string]string{
		"198.51.100.1":   "PartnerB",
		"198.51.100.200": "PartnerBSub", // the longest prefix
		"198.51.101.1":   "",            // just outside the CIDR
		"198.51.99.255":  "",
		"10.20.30.40":    "Primary",
		"2001:db8::5":    "Primary",
		"203.0.113.7":    "", // a network two carriers claim
	} {
		c, ok := tab.ByAddress(netip.MustParseAddr(addr))
		if got := c.GetName(); ok != (want != "") || got != want {
			t.Errorf("ByAddress(%s) = %q %v, want %q", addr, got, ok, want)
		}
	}
	if _, ok := tab.ByAddress(netip.Addr{}); ok {
		t.Error("no address found a carrier")
	}
	if p, ok := tab.Primary(); !ok || p != primary {
		t.Errorf("Primary = %v", p)
	}
	if c, ok := tab.ByName("partnera"); !ok || c != a {
		t.Errorf("ByName = %v", c)
	}
	if len(tab.Conflicts) != 2 {
		t.Errorf("conflicts %q, want the trunk and the network", tab.Conflicts)
	}
}

func TestReaches(t *testing.T) {
	domestic := &carrierv1.Carrier{Name: "b", AllowedPrefixes: []string{"0", "+44"}}
	for number, want := range map[string]bool{"01632960001": true, "+441632960001": true, "0033123": true, "+33123": false, "001": true} {
		if got := Reaches(domestic, number); got != want {
			t.Errorf("Reaches(%s) = %v, want %v", number, got, want)
		}
	}
	if !Reaches(&carrierv1.Carrier{Name: "any"}, "+1555") {
		t.Error("a carrier without prefixes refused a number")
	}
}
