package edgecache

import (
	"context"
	"testing"
	"time"
)

// BenchmarkHits is a login and a route answered from the cache: what a
// distributed edge spends per request instead of a gRPC call.
func BenchmarkHits(b *testing.B) {
	c, _, _ := newLive(b, Options{MaxEntries: 100, TTL: time.Hour})
	ctx := context.Background()
	if _, err := c.accounts.Authenticate(ctx, "alice", "secret"); err != nil {
		b.Fatal(err)
	}
	if _, err := c.dids.Route(ctx, "100"); err != nil {
		b.Fatal(err)
	}
	b.Run("login", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.accounts.Authenticate(ctx, "alice", "secret"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("route", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.dids.Route(ctx, "100"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
