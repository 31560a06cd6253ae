package edgecache

import "github.com/prometheus/client_golang/prometheus"

// The kinds of record kept, the values of the kind label.
const (
	kindAccount = "account"
	kindDID     = "did"
)

type metrics struct {
	// hits and misses by kind.
	hits, misses map[string]prometheus.Counter
	watchEnds    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, c *Cache) *metrics {
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kradius_edge_cache_lookups_total",
		Help: "Lookups of accounts (logins, reads by name) and DIDs by the edge, by kind and result: hit, answered from its cache, or miss, asked of the service.",
	}, []string{"kind", "result"})
	m := &metrics{
		hits:   map[string]prometheus.Counter{},
		misses: map[string]prometheus.Counter{},
		watchEnds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kradius_edge_cache_watch_ends_total",
			Help: "Change watches that ended or failed to start; each empties the cache until a new one is live.",
		}),
	}
	entries := prometheus.NewDesc("kradius_edge_cache_entries", "Records kept in the edge's cache, by kind.", []string{"kind"}, nil)
	for _, kind := range []string{kindAccount, kindDID} {
		m.hits[kind] = lookups.WithLabelValues(kind, "hit")
		m.misses[kind] = lookups.WithLabelValues(kind, "miss")
	}
	reg.MustRegister(lookups, m.watchEnds, sizeCollector{c, entries},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kradius_edge_cache_live", Help: "1 while a change watch is live and the edge's cache serves, else 0.",
		}, func() float64 {
			if c.isLive() {
				return 1
			}
			return 0
		}))
	return m
}

func (m *metrics) lookup(kind string, hit bool) {
	if hit {
		m.hits[kind].Inc()
	} else {
		m.misses[kind].Inc()
	}
}

// sizeCollector reports both tables' sizes from one read of the cache.
type sizeCollector struct {
	c    *Cache
	desc *prometheus.Desc
}

func (s sizeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

func (s sizeCollector) Collect(ch chan<- prometheus.Metric) {
	accounts, dids := s.c.sizes()
	ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, float64(accounts), kindAccount)
	ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, float64(dids), kindDID)
}
