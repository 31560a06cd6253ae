package faxback

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kradius.dev/services/accounts"
	"kradius.dev/services/dids"
	"kradius.dev/services/nas"
	"kradius.dev/services/password"
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
	_, _, st := testHandler(b, Options{})
	h := NewProfile(accounts.New(st, password.NewVerifier(1000, time.Hour)), dids.New(st), prometheus.NewRegistry()).ForClient(Options{})
	req := &nas.Request{Packet: seedPacket(b, "account-login", secret, "password"), Client: "bench"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.ServeAccess(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
