package carrier

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/rewatch"
)

// Live keeps the carriers' Table current, in memory, for the lookups a
// request or a settlement makes by trunk and by longest prefix: it reads
// every carrier when its watch of the kind goes live and again after each
// change. A Table is trusted only while the watch is live: after a break
// it may miss a change, and Table says so until the next one is.
type Live struct {
	records nas.Records
	log     *slog.Logger
	table   atomic.Pointer[Table]
	live    atomic.Bool
	// Metrics.
	reloads   prometheus.Counter
	breaks    prometheus.Counter
	conflicts prometheus.Gauge
	size      prometheus.Gauge
}

// NewLive keeps the table of the carriers in rs; call Run. Its metrics,
// prefixed by prefix ("kradius_dialogic"), go to reg.
func NewLive(rs nas.Records, log *slog.Logger, reg prometheus.Registerer, prefix string) (*Live, error) {
	l := &Live{records: rs, log: log,
		reloads:   prometheus.NewCounter(prometheus.CounterOpts{Name: prefix + "_carrier_table_reloads_total", Help: "Reads of every carrier: one when the watch goes live, one after each change."}),
		breaks:    prometheus.NewCounter(prometheus.CounterOpts{Name: prefix + "_carrier_table_watch_breaks_total", Help: "Watches of the carriers that broke or failed to start; the table is not trusted until the next is live."}),
		conflicts: prometheus.NewGauge(prometheus.GaugeOpts{Name: prefix + "_carrier_table_conflicts", Help: "Trunks and networks two carriers claim, which match neither (a provisioning error)."}),
		size:      prometheus.NewGauge(prometheus.GaugeOpts{Name: prefix + "_carrier_table_carriers", Help: "Carriers in the table."}),
	}
	for _, c := range []prometheus.Collector{l.reloads, l.breaks, l.conflicts, l.size} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Table is the current table, and whether it is live (read since the
// watch that still runs went live).
func (l *Live) Table() (*Table, bool) {
	t := l.table.Load()
	return t, t != nil && l.live.Load()
}

// Run watches the carriers until ctx ends, and returns nil then.
func (l *Live) Run(ctx context.Context) error {
	rewatch.Run(ctx, l.watch, func(err error, wait time.Duration) {
		l.breaks.Inc()
		l.log.Warn("carrier table: watch broken; carrier lookups wait for the next", "err", err, "retry_in", wait.String())
	})
	return nil
}

// watch runs one watch: each notice asks for a reload, done here and not
// in the notice's callback, which may run inside the store's feed.
func (l *Live) watch(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Whatever ends the watch, a change may be missed from here.
	defer l.live.Store(false)
	notices := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- l.records.Watch(ctx, KindName, func() {
			select {
			case notices <- struct{}{}:
			default:
			}
		})
	}()
	for {
		select {
		case err := <-done:
			return err
		case <-notices:
			if err := l.reload(ctx); err != nil {
				return err
			}
		}
	}
}

func (l *Live) reload(ctx context.Context) error {
	all, err := l.records.ListAll(ctx, KindName)
	if err != nil {
		return err
	}
	carriers := make([]*carrierv1.Carrier, len(all))
	for i, m := range all {
		carriers[i] = m.(*carrierv1.Carrier)
	}
	t := NewTable(carriers)
	for _, c := range t.Conflicts {
		l.log.Error("carrier table: claimed by two carriers, matched by neither", "conflict", c)
	}
	l.table.Store(t)
	l.live.Store(true)
	l.reloads.Inc()
	l.conflicts.Set(float64(len(t.Conflicts)))
	l.size.Set(float64(t.Len()))
	return nil
}
