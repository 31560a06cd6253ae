package carrier

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/store/records"
	"kradius.dev/services/store/records/embedded"
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
		{"control character", &carrierv1.Carrier{Name: "b\x1ft"}, "", "not a carrier name"},
		{"bad cidr", &carrierv1.Carrier{Name: "bt", SourceCidrs: []string{"10.0.0.0/33"}}, "", "sourceCidrs[0]"},
		{"host bits", &carrierv1.Carrier{Name: "bt", SourceCidrs: []string{"10.0.0.1/8"}}, "", "did you mean 10.0.0.0/8"},
		{"long message", &carrierv1.Carrier{Name: "bt", RejectMessage: strings.Repeat("x", 254)}, "", "rejectMessage"},
		{"trunk img", &carrierv1.Carrier{Name: "bt", Trunks: []*carrierv1.Trunk{{Img: "img1", TrunkId: "7"}}}, "", "trunks[0]: img"},
		{"trunk id", &carrierv1.Carrier{Name: "bt", Trunks: []*carrierv1.Trunk{{Img: "10.0.0.1"}}}, "", "trunks[0]: trunkId"},
		{"prefix", &carrierv1.Carrier{Name: "bt", AllowedPrefixes: []string{"44x"}}, "", "allowedPrefixes[0]"},
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
			if r.Unique != nil {
				t.Fatalf("a carrier not primary has unique values %v", r.Unique)
			}
		})
	}
}

func TestOnePrimary(t *testing.T) {
	r, err := index(&carrierv1.Carrier{Name: "owner", Primary: true})
	if err != nil || r.Unique["primary"] != "true" {
		t.Fatalf("primary carrier indexed %v %v: want the primary index, which the store keeps unique", r, err)
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

// The store keeps the primary index unique: a second Primary Carrier is a
// conflict.
func TestSecondPrimaryRefused(t *testing.T) {
	kinds := recordsvc.Kinds([]nas.Plugin{{Name: "test", Kinds: []nas.Kind{Kind}}})
	rs, err := embedded.Open(filepath.Join(t.TempDir(), "records.db"), recordsvc.StoreKinds(kinds))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	s := recordsvc.New(rs, kinds, password.NewVerifier(1, time.Minute), password.Params{Memory: 64, Time: 1, Threads: 1})
	ctx := context.Background()
	if err := s.Put(ctx, []recordsvc.Write{{Kind: KindName, Value: &carrierv1.Carrier{Name: "owner", Primary: true}}}); err != nil {
		t.Fatal(err)
	}
	err = s.Put(ctx, []recordsvc.Write{{Kind: KindName, Value: &carrierv1.Carrier{Name: "usurper", Primary: true}}})
	if !errors.Is(err, records.ErrConflict) {
		t.Errorf("a second primary: %v, want a conflict", err)
	}
}
