package recordcache

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/proto"

	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/firebrick"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/store/records"
	"kradius.dev/services/store/records/embedded"
)

func service(t *testing.T) *recordsvc.Service {
	t.Helper()
	kinds := recordsvc.Kinds([]nas.Plugin{firebrick.Plugin})
	rs, err := embedded.Open(filepath.Join(t.TempDir(), "records.db"), recordsvc.StoreKinds(kinds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	return recordsvc.New(rs, kinds, password.NewVerifier(1, time.Minute), password.Params{Memory: 64, Time: 1, Threads: 1})
}

func route(pattern, target string) recordsvc.Write {
	return recordsvc.Write{Kind: firebrick.KindRoutes, Value: &firebrickv1.Route{Pattern: pattern, Legs: []*firebrickv1.Leg{{Target: target}}}}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (c *Cache) count(kind, result string) float64 {
	return testutil.ToFloat64(c.lookups.WithLabelValues(kind, result))
}

func TestRoutesKeptWhileLive(t *testing.T) {
	s := service(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Put(ctx, []recordsvc.Write{route("44*", "tel:1"), route("*", "@carrierA")}); err != nil {
		t.Fatal(err)
	}
	c := New(s, []string{firebrick.KindRoutes}, 1000, prometheus.NewRegistry(), quiet())
	keys := []string{"4412", "4412*", "441*", "44*", "4*", "*"}
	// Not live yet: every lookup is the service's, and nothing is kept.
	if key, _, err := c.GetFirst(ctx, firebrick.KindRoutes, keys); err != nil || key != "44*" {
		t.Fatalf("GetFirst = %q %v", key, err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	eventually.True(t, "the watch live", func() bool {
		k := c.kinds[firebrick.KindRoutes]
		k.mu.RLock()
		defer k.mu.RUnlock()
		return k.live
	})
	for range 3 {
		key, m, err := c.GetFirst(ctx, firebrick.KindRoutes, keys)
		if err != nil || key != "44*" || m.(*firebrickv1.Route).GetLegs()[0].GetTarget() != "tel:1" {
			t.Fatalf("GetFirst = %q %v %v", key, m, err)
		}
	}
	if hits, misses := c.count(firebrick.KindRoutes, "hit"), c.count(firebrick.KindRoutes, "miss"); hits != 2 || misses != 2 {
		t.Errorf("hits %v, misses %v: want the first lookup after live to miss and the next two to hit", hits, misses)
	}
	// A miss of every key is kept too.
	none := []string{"33", "33*", "3*"}
	for range 2 {
		if _, _, err := c.GetFirst(ctx, firebrick.KindRoutes, none); !errors.Is(err, records.ErrNotFound) {
			t.Fatalf("no route: %v, want ErrNotFound", err)
		}
	}
	if hits := c.count(firebrick.KindRoutes, "hit"); hits != 3 {
		t.Errorf("hits %v, want the second miss answered here", hits)
	}
	// A write forgets the kind's answers: the next lookup sees it.
	if err := s.Put(ctx, []recordsvc.Write{route("4412", "sip:new@example")}); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "the new route seen", func() bool {
		key, _, err := c.GetFirst(ctx, firebrick.KindRoutes, keys)
		return err == nil && key == "4412"
	})
	// Kinds not cached go through.
	if _, err := c.Get(ctx, firebrick.KindUsers, "nobody"); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("a user: %v", err)
	}
	cancel()
	<-done
}

// An answer fetched while a notice came is passed on, not kept.
func TestStaleAnswerNotKept(t *testing.T) {
	c := New(nil, []string{"k"}, 10, prometheus.NewRegistry(), quiet())
	k := c.kinds["k"]
	k.forget(true)
	_, _, gen := k.lookup("a")
	k.forget(true) // a notice meanwhile
	c.keep(k, gen, map[string]proto.Message{"a": &firebrickv1.Route{Pattern: "a"}})
	if _, ok, _ := k.lookup("a"); ok {
		t.Error("an answer older than a notice was kept")
	}
	_, _, gen = k.lookup("a")
	c.keep(k, gen, map[string]proto.Message{"a": &firebrickv1.Route{Pattern: "a"}})
	if _, ok, _ := k.lookup("a"); !ok {
		t.Error("a fresh answer was not kept")
	}
	// Past maxEntries the kind starts afresh.
	_, _, gen = k.lookup("a")
	many := map[string]proto.Message{}
	for _, key := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"} {
		many[key] = nil
	}
	c.keep(k, gen, many)
	if _, ok, _ := k.lookup("a"); ok || len(k.entries) != 10 {
		t.Errorf("%d entries, a kept: want the kind dropped and the 10 new ones kept", len(k.entries))
	}
}

// brokenWatch is a records service whose watches fail at once.
type brokenWatch struct{ nas.Records }

func (brokenWatch) Watch(context.Context, string, func()) error { return errors.New("unavailable") }

func (brokenWatch) GetFirst(context.Context, string, []string) (string, proto.Message, error) {
	return "*", &firebrickv1.Route{Pattern: "*"}, nil
}

// While no watch is live, nothing is answered here.
func TestNoWatchNoCache(t *testing.T) {
	c := New(brokenWatch{}, []string{"k"}, 10, prometheus.NewRegistry(), quiet())
	ctx, cancel := context.WithCancel(context.Background())
	go c.Run(ctx)
	defer cancel()
	for range 3 {
		if _, _, err := c.GetFirst(ctx, "k", []string{"1", "*"}); err != nil {
			t.Fatal(err)
		}
	}
	if hits := c.count("k", "hit"); hits != 0 {
		t.Errorf("hits %v without a live watch", hits)
	}
}
