package carrier

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/proto"

	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/store/records/embedded"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestLiveFollowsWrites(t *testing.T) {
	kinds := recordsvc.Kinds([]nas.Plugin{{Name: "test", Kinds: []nas.Kind{Kind}}})
	rs, err := embedded.Open(filepath.Join(t.TempDir(), "records.db"), recordsvc.StoreKinds(kinds))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	s := recordsvc.New(rs, kinds, password.NewVerifier(1, time.Minute), password.Params{Memory: 64, Time: 1, Threads: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, err := NewLive(s, quiet(), prometheus.NewRegistry(), "kradius_test")
	if err != nil {
		t.Fatal(err)
	}
	if _, live := l.Table(); live {
		t.Fatal("live before it ran")
	}
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	eventually.True(t, "the table live", func() bool { _, live := l.Table(); return live })
	if err := s.Put(ctx, []recordsvc.Write{{Kind: KindName, Value: &carrierv1.Carrier{Name: "PartnerB", SourceCidrs: []string{"198.51.100.0/24"}}}}); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "the new carrier in the table", func() bool {
		tab, live := l.Table()
		c, ok := tab.ByAddress(netip.MustParseAddr("198.51.100.9"))
		return live && ok && c.GetName() == "PartnerB"
	})
	if err := s.Delete(ctx, KindName, "partnerb"); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "the carrier gone", func() bool {
		tab, _ := l.Table()
		_, ok := tab.ByName("PartnerB")
		return !ok
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// brokenWatch is a records service whose first watch goes live and then
// breaks; the next ones hold.
type brokenWatch struct {
	nas.Records
	watches chan struct{}
	broken  *atomic.Bool
}

func (b brokenWatch) ListAll(context.Context, string) ([]proto.Message, error) {
	return []proto.Message{&carrierv1.Carrier{Name: "a"}}, nil
}

func (b brokenWatch) Watch(ctx context.Context, _ string, changed func()) error {
	changed()
	b.watches <- struct{}{}
	if b.broken.CompareAndSwap(false, true) {
		return errors.New("stream reset")
	}
	<-ctx.Done()
	return nil
}

// A broken watch makes the table untrusted until the next is live.
func TestLiveBreaks(t *testing.T) {
	b := brokenWatch{watches: make(chan struct{}), broken: new(atomic.Bool)}
	reg := prometheus.NewRegistry()
	l, err := NewLive(b, quiet(), reg, "kradius_test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx)
	<-b.watches // the first watch, which breaks
	eventually.True(t, "the break counted", func() bool { return testutil.ToFloat64(l.breaks) == 1 })
	<-b.watches // the retry, which holds
	eventually.True(t, "live again after the retry's reload", func() bool { _, live := l.Table(); return live })
}
