package carrier

import (
	"net/netip"
	"strings"
	"testing"

	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
)

func TestIndex(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *carrierv1.Carrier
		key  string
		err  string
	}{
		{"ok", &carrierv1.Carrier{Name: "BT-Wholesale", SourceCidrs: []string{"192.0.2.0/24", "2001:db8::/32"}}, "bt-wholesale", ""},
		{"no name", &carrierv1.Carrier{}, "", "name: required"},
		{"at sign", &carrierv1.Carrier{Name: "@bt"}, "", "not a carrier name"},
		{"bad cidr", &carrierv1.Carrier{Name: "bt", SourceCidrs: []string{"10.0.0.0/33"}}, "", "sourceCidrs[0]"},
		{"host bits", &carrierv1.Carrier{Name: "bt", SourceCidrs: []string{"10.0.0.1/8"}}, "", "did you mean 10.0.0.0/8"},
		{"long message", &carrierv1.Carrier{Name: "bt", RejectMessage: strings.Repeat("x", 254)}, "", "rejectMessage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := index(tc.c)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || r.Key != tc.key {
				t.Fatalf("index = %q, %v; want %q", r.Key, err, tc.key)
			}
		})
	}
}

func TestFrom(t *testing.T) {
	c := &carrierv1.Carrier{Name: "bt", SourceCidrs: []string{"192.0.2.0/24", "2001:db8::/32"}}
	for addr, want := range map[string]bool{
		"192.0.2.7": true, "::ffff:192.0.2.7": true, "2001:db8::1": true,
		"198.51.100.1": false, "2001:db9::1": false,
	} {
		if got := From(c, netip.MustParseAddr(addr)); got != want {
			t.Errorf("From(%s) = %v, want %v", addr, got, want)
		}
	}
	if From(c, netip.Addr{}) {
		t.Error("no address matched a carrier with networks")
	}
	if !From(&carrierv1.Carrier{Name: "any"}, netip.Addr{}) {
		t.Error("a carrier without networks refused a request without an address")
	}
}
