package faxback

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"kradius.dev/services/nas"
)

func BenchmarkDecode(b *testing.B) {
	t := &testing.T{}
	p := seedPacket(t, "account-login.hex", "s3cret", "password")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeAccessLogin is the FaxBack dispatch of an Account-Login,
// PAP decode included, against an in-memory accounts fake.
func BenchmarkServeAccessLogin(b *testing.B) {
	t := &testing.T{}
	p := seedPacket(t, "account-login.hex", "s3cret", "password")
	h := New(fakeAccounts{}, prometheus.NewRegistry())
	req := &nas.Request{Packet: p, Client: "bench"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.ServeAccess(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
