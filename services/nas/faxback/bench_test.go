package faxback

import (
	"context"
	"testing"

	"kradius.dev/services/nas"
)

func BenchmarkDecode(b *testing.B) {
	p := seedPacket(b, "account-login", secret, "password")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeAccessLogin is the FaxBack dispatch of an Account-Login,
// PAP decode included, against the embedded store with a warm password cache.
func BenchmarkServeAccessLogin(b *testing.B) {
	h, _, _ := testHandler(b, Options{})
	req := &nas.Request{Packet: seedPacket(b, "account-login", secret, "password"), Client: "bench"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.ServeAccess(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
