package edge

import (
	"net/netip"
	"testing"
)

func TestClientTableLookup(t *testing.T) {
	wide := &Client{Name: "wide", Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Handler: &stubProfile{}}
	narrow := &Client{Name: "narrow", Prefixes: []netip.Prefix{netip.MustParsePrefix("10.1.2.0/24"), netip.MustParsePrefix("2001:db8::/32")}, Handler: &stubProfile{}}
	host := &Client{Name: "host", Prefixes: []netip.Prefix{netip.MustParsePrefix("10.1.2.3/32")}, Handler: &stubProfile{}}
	table, err := NewClientTable([]*Client{wide, narrow, host})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr string
		want string
	}{
		{"10.9.9.9", "wide"},
		{"10.1.2.4", "narrow"},
		{"10.1.2.3", "host"},
		{"::ffff:10.1.2.3", "host"},
		{"2001:db8::1", "narrow"},
		{"192.0.2.1", ""},
		{"2001:db9::1", ""},
	} {
		got := ""
		if c := table.Lookup(netip.MustParseAddr(tc.addr)); c != nil {
			got = c.Name
		}
		if got != tc.want {
			t.Errorf("Lookup(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

func TestClientTableRejectsOverlap(t *testing.T) {
	a := &Client{Name: "a", Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, Handler: &stubProfile{}}
	b := &Client{Name: "b", Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.7/24")}, Handler: &stubProfile{}}
	if _, err := NewClientTable([]*Client{a, b}); err == nil {
		t.Fatal("two clients claiming 192.0.2.0/24: no error")
	}
}

func TestPolicy(t *testing.T) {
	c := &Client{Policy: PolicyAuto}
	if c.requiresMessageAuthenticator() {
		t.Fatal("auto requires before seen")
	}
	c.sawMessageAuthenticator.Store(true)
	if !c.requiresMessageAuthenticator() {
		t.Fatal("auto does not require after seen")
	}
	if (&Client{Policy: PolicyOff}).requiresMessageAuthenticator() {
		t.Fatal("off requires")
	}
	if !(&Client{Policy: PolicyRequire}).requiresMessageAuthenticator() {
		t.Fatal("require does not require")
	}
	if _, err := ParsePolicy("sometimes"); err == nil {
		t.Fatal("ParsePolicy accepted nonsense")
	}
}
