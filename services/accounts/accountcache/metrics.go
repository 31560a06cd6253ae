package accountcache

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	hits, misses prometheus.Counter
	watchEnds    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, c *Cache) *metrics {
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kradius_edge_account_cache_lookups_total",
		Help: "Account lookups (logins and reads by name) by result: hit, answered from the edge's cache, or miss, asked of the accounts service.",
	}, []string{"result"})
	m := &metrics{
		hits:   lookups.WithLabelValues("hit"),
		misses: lookups.WithLabelValues("miss"),
		watchEnds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kradius_edge_account_watch_ends_total",
			Help: "Account-change watches that ended or failed to start; each empties the cache until a new one is live.",
		}),
	}
	reg.MustRegister(lookups, m.watchEnds,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kradius_edge_account_cache_entries", Help: "Accounts kept in the edge's cache.",
		}, func() float64 { return float64(c.size()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kradius_edge_account_cache_live", Help: "1 while an account-change watch is live and the cache serves, else 0.",
		}, func() float64 {
			if c.isLive() {
				return 1
			}
			return 0
		}))
	return m
}
